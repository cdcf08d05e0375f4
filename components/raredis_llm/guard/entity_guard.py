"""``raredis_entity_guard``: no entity crosses a line break, a markup tag or a list bullet.

Put it after the last component that writes ``doc.ents`` (and before ``negex``). Each
entity is cut at the barrier tokens of :func:`.boundaries.barrier_tokens`; every piece is
trimmed of whitespace, markup and separators (``, ; : .``) at its edges and of a bullet
at its start, and kept (with the entity's label, KB id and id) if a letter or digit is
left. With
``trim_cues = true`` a leading negation cue (``templates/negation_cues.txt``: "no",
"denies", "without", ...) is trimmed too, so that NegEx sees it before the entity.
``labels`` limits the guard to some labels (null: every entity, also those of another
NER in the pipeline).
"""

from functools import lru_cache
from importlib import resources
from typing import Iterable, Iterator, List, Optional, Sequence, Set, Tuple

from spacy.language import Language
from spacy.tokens import Doc, Span

from .boundaries import barrier_tokens
from .markup import BULLETS

#: Separator tokens trimmed from both edges of a piece; bullets only from its start
#: (RareDis has entities such as "PCH type 2-").
EDGE_PUNCT = frozenset(",;:.")
LEADING_PUNCT = EDGE_PUNCT | BULLETS
CUES_FILE = "negation_cues.txt"


@lru_cache(maxsize=None)
def negation_cues(path: Optional[str] = None) -> Tuple[Tuple[str, ...], ...]:
    """The cue list (one cue a line, ``#`` comments) as lower-cased word tuples, longest first."""
    if path is None:
        text = resources.files("raredis_llm").joinpath("templates", CUES_FILE).read_text(encoding="utf8")
    else:
        with open(path, encoding="utf8") as f:
            text = f.read()
    cues = {tuple(line.lower().split()) for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")}
    return tuple(sorted(cues, key=lambda c: (-len(c), c)))


def _has_word(doc: Doc, start: int, end: int) -> bool:
    return any(ch.isalnum() for token in doc[start:end] for ch in token.text)


def _trim(doc: Doc, start: int, end: int, barriers: Set[int]) -> Tuple[int, int]:
    def junk(i: int, punct: frozenset) -> bool:
        token = doc[i]
        return token.is_space or i in barriers or token.text in punct

    while start < end and junk(start, LEADING_PUNCT):
        start += 1
    while end > start and junk(end - 1, EDGE_PUNCT):
        end -= 1
    return start, end


def _trim_cue(doc: Doc, start: int, end: int, cues: Sequence[Tuple[str, ...]]) -> int:
    words = [t.lower_ for t in doc[start:end]]
    for cue in cues:
        n = len(cue)
        if len(words) > n and tuple(words[:n]) == cue and _has_word(doc, start + n, end):
            return start + n
    return start


def guarded_pieces(doc: Doc, span: Span, barriers: Set[int],
                   cues: Sequence[Tuple[str, ...]] = ()) -> List[Tuple[int, int]]:
    """The ``(start, end)`` token ranges that are left of ``span``."""
    pieces, start = [], span.start
    for i in range(span.start, span.end + 1):
        if i == span.end or i in barriers:
            if i > start:
                pieces.append((start, i))
            start = i + 1
    out = []
    for a, b in pieces:
        a, b = _trim(doc, a, b, barriers)
        if cues and b > a:
            a = _trim_cue(doc, a, b, cues)
            a, b = _trim(doc, a, b, barriers)
        if b > a and _has_word(doc, a, b):
            out.append((a, b))
    return out


class EntityGuard:
    """The ``raredis_entity_guard`` pipe."""

    def __init__(self, nlp: Language, name: str = "raredis_entity_guard", *, trim_cues: bool = False,
                 cues_path: Optional[str] = None, labels: Optional[List[str]] = None):
        self.name = name
        self.trim_cues = trim_cues
        self.cues = negation_cues(cues_path) if trim_cues else ()
        self.only_labels = set(labels) if labels else None

    def __call__(self, doc: Doc) -> Doc:
        if not doc.ents:
            return doc
        barriers = barrier_tokens(doc)
        ents: List[Span] = []
        changed = False
        for ent in doc.ents:
            if self.only_labels is not None and ent.label_ not in self.only_labels:
                ents.append(ent)
                continue
            pieces = guarded_pieces(doc, ent, barriers, self.cues)
            if pieces == [(ent.start, ent.end)]:
                ents.append(ent)
                continue
            changed = True
            ents.extend(Span(doc, a, b, label=ent.label, kb_id=ent.kb_id, span_id=ent.id) for a, b in pieces)
        if changed:
            doc.set_ents(ents, default="outside")
        return doc

    def pipe(self, stream: Iterable[Doc], *, batch_size: int = 128) -> Iterator[Doc]:
        for doc in stream:
            yield self(doc)


@Language.factory(
    "raredis_entity_guard",
    default_config={"trim_cues": False, "cues_path": None, "labels": None},
    assigns=["doc.ents"],
    requires=["doc.ents"],
)
def make_entity_guard(nlp: Language, name: str, trim_cues: bool, cues_path: Optional[str],
                      labels: Optional[List[str]]) -> EntityGuard:
    """Split and trim entities at line breaks, markup and bullets (put it after the last NER).

    trim_cues: also trim a leading negation cue (for NegEx). cues_path: another cue list
    (default: the package's ``templates/negation_cues.txt``). labels: only these labels.
    """
    return EntityGuard(nlp, name, trim_cues=trim_cues, cues_path=cues_path, labels=labels)
