"""Find knowledge-base names in spaCy Docs: one matcher for the dictionary component,
the knowledge features and the prompt retriever.

``KBMatcher.from_kb(kb, tokenizer)`` turns every name, synonym and name variant of the
chosen kinds into a key sequence (:mod:`.names`) and adds it to a spaCy ``PhraseMatcher``
that runs over a Doc of keys, so case, hyphens, whitespace, possessives and plurals do not
matter. ``candidates(doc)`` gives every (span, concept) match; ``resolve`` keeps
non-overlapping ones: the longest span first, then the most specific concept (matched by
its name, then a synonym, then a variant; Orphanet, then OMIM, then HPO; the deeper HPO
term; the lower id). The concept table and the phrase table are what is serialized; the
PhraseMatcher is rebuilt from them when loading, so no knowledge-base folder is needed.
"""

from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import srsly
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span
from spacy.vocab import Vocab

from .kb import HPO_PHENOTYPE, KINDS, OMIM, ORPHANET, KnowledgeBase
from .names import capitalised_keys, doc_keys, name_variants, unique

#: How a phrase names its concept, best first.
NAME, SYNONYM, VARIANT = 0, 1, 2
DEFAULT_KINDS = (ORPHANET, OMIM, HPO_PHENOTYPE)
_KIND_RANK = {kind: i for i, kind in enumerate(KINDS)}
#: Concept fields kept in the matcher (what the type mapping and the features read).
CONCEPT_FIELDS = ("id", "kind", "name", "depth", "skin", "skin_fraction", "categories")
_MATCH_KEY = "RAREDIS_KB"


@dataclass(frozen=True)
class Candidate:
    start: int  # token offsets in the Doc
    end: int
    concept: int  # index into KBMatcher.concepts
    quality: int  # NAME, SYNONYM or VARIANT


def _useful(keys: Sequence[str]) -> bool:
    """Phrases worth matching: not a lone 1-2 character key, not only digits/punctuation."""
    if not keys:
        return False
    if len(keys) == 1 and len(keys[0]) <= 2:
        return False
    return any(any(c.isalpha() for c in key) for key in keys)


class KBMatcher:
    """PhraseMatcher over knowledge-base names (see the module docstring)."""

    def __init__(self, vocab: Vocab, concepts: Optional[List[Dict[str, Any]]] = None,
                 phrases: Optional[Dict[str, List[List[int]]]] = None):
        self.vocab = vocab
        self.concepts: List[Dict[str, Any]] = concepts or []
        #: key string ("ehler danlos syndrome") -> [[concept index, quality], ...]
        self.phrases: Dict[str, List[List[int]]] = phrases or {}
        self.index = {c["id"]: i for i, c in enumerate(self.concepts)}
        self._matcher: Optional[PhraseMatcher] = None

    # ------------------------------------------------------------------------ building
    @classmethod
    def from_kb(cls, kb: KnowledgeBase, tokenizer: Callable[[str], Doc],
                kinds: Sequence[str] = DEFAULT_KINDS, variants: bool = True) -> "KBMatcher":
        """Phrases for every entry of ``kinds``: its name, synonyms and (``variants``)
        their variants. ``tokenizer``: the pipeline's (``nlp.tokenizer``)."""
        unknown = set(kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"Unknown knowledge-base kind(s) {sorted(unknown)}; known: {list(KINDS)}")
        self = cls(tokenizer.vocab if hasattr(tokenizer, "vocab") else Vocab())
        texts: List[str] = []
        owners: List[Tuple[int, int]] = []
        for entry in kb:
            if entry["kind"] not in kinds:
                continue
            idx = len(self.concepts)
            self.concepts.append({k: entry[k] for k in CONCEPT_FIELDS if k in entry})
            names = [(entry["name"], NAME)] + [(s, SYNONYM) for s in entry.get("synonyms") or []]
            if variants:
                exact = {n for n, _ in names}
                extra = unique(v for n, _ in names for v in name_variants(n))
                names += [(v, VARIANT) for v in extra if v not in exact]
            for text, quality in names:
                texts.append(text)
                owners.append((idx, quality))
        pipe = getattr(tokenizer, "pipe", None)
        docs = pipe(texts, batch_size=1000) if pipe is not None else (tokenizer(t) for t in texts)
        for doc, (idx, quality) in zip(docs, owners):
            keys = doc_keys([t.text for t in doc])[0]
            if _useful(keys):
                self._add_phrase(" ".join(keys), idx, quality)
                upper = capitalised_keys(keys)
                if upper != keys:
                    self._add_phrase(" ".join(upper), idx, quality)
        self.index = {c["id"]: i for i, c in enumerate(self.concepts)}
        return self

    def _add_phrase(self, phrase: str, concept: int, quality: int) -> None:
        owners = self.phrases.setdefault(phrase, [])
        for pair in owners:
            if pair[0] == concept:
                pair[1] = min(pair[1], quality)
                return
        owners.append([concept, quality])

    @property
    def matcher(self) -> PhraseMatcher:
        if self._matcher is None:
            matcher = PhraseMatcher(self.vocab, attr="ORTH")
            matcher.add(_MATCH_KEY, [Doc(self.vocab, words=p.split(" ")) for p in self.phrases])
            self._matcher = matcher
        return self._matcher

    def __len__(self) -> int:
        return len(self.phrases)

    # ------------------------------------------------------------------------ matching
    def candidates(self, doc: Doc) -> List[Candidate]:
        """Every (span, concept) whose phrase occurs in ``doc``, in text order."""
        keys, owner, first, last = doc_keys([t.text for t in doc])
        if not keys or not self.phrases:
            return []
        key_doc = Doc(self.vocab, words=keys)
        out = []
        for _, k_start, k_end in self.matcher(key_doc):
            if not (first[k_start] and last[k_end - 1]):
                continue  # starts or ends inside a token ("COVID" of "COVID-19")
            start, end = owner[k_start], owner[k_end - 1] + 1
            for concept, quality in self.phrases.get(" ".join(keys[k_start:k_end]), []):
                out.append(Candidate(start, end, concept, quality))
        out.sort(key=lambda c: (c.start, c.end, c.concept))
        return out

    def rank(self, cand: Candidate) -> Tuple:
        """Sort key: longest span first, then the most specific concept."""
        concept = self.concepts[cand.concept]
        return (-(cand.end - cand.start), cand.quality, _KIND_RANK.get(concept["kind"], 9),
                -(concept.get("depth") or 0), cand.concept, cand.start)

    def resolve(self, candidates: Iterable[Candidate],
                keep: Optional[Callable[[Candidate], bool]] = None) -> List[Candidate]:
        """Non-overlapping candidates (those ``keep`` accepts), in text order."""
        taken: set = set()
        out = []
        for cand in sorted(candidates, key=self.rank):
            if keep is not None and not keep(cand):
                continue
            tokens = range(cand.start, cand.end)
            if any(i in taken for i in tokens):
                continue
            taken.update(tokens)
            out.append(cand)
        return sorted(out, key=lambda c: c.start)

    def concept(self, cand: Candidate) -> Dict[str, Any]:
        return self.concepts[cand.concept]

    def span(self, doc: Doc, cand: Candidate, label: str) -> Span:
        return Span(doc, cand.start, cand.end, label=label, kb_id=self.concepts[cand.concept]["id"])

    # ------------------------------------------------------------------- serialization
    def to_bytes(self) -> bytes:
        return srsly.msgpack_dumps({"concepts": self.concepts, "phrases": self.phrases})

    def from_bytes(self, data: bytes) -> "KBMatcher":
        msg = srsly.msgpack_loads(data)
        self.concepts = msg["concepts"]
        self.phrases = msg["phrases"]
        self.index = {c["id"]: i for i, c in enumerate(self.concepts)}
        self._matcher = None
        return self

