"""``raredis_boundaries``: markup split off words, line breaks and markup as sentence starts.

Put it first in a pipeline (before ``tok2vec`` / ``transformer``): it splits tokens that
glue a tag to a word (``disease</p><br/><b``), then marks as a sentence start every
token inside a tag, the token after a tag, the line-break token and the token after it,
and a list bullet opening a line and the token after it. spaCy's ``ner`` never lets an
entity cross a sentence start, so these become hard limits for it; for components that
write ``doc.ents`` themselves (LLMs) ``raredis_entity_guard`` applies the same limits
afterwards. Other tokens' sentence starts are left unset, so a ``sentencizer`` placed
after it (``overwrite = false``, its default) still fills them in.
"""

import re
from bisect import bisect_left, bisect_right
from typing import Iterable, Iterator, List, Set, Tuple

import numpy
from spacy.attrs import NORM, SENT_START
from spacy.language import Language
from spacy.tokens import Doc

from .markup import CHAR_REF, MARKUP_TAG, is_bullet, is_line_break

_TAG = re.compile(MARKUP_TAG, flags=re.DOTALL)
_PIECES = re.compile(f"{MARKUP_TAG}|{CHAR_REF}", flags=re.DOTALL)


def markup_char_spans(text: str) -> List[Tuple[int, int]]:
    """Character spans of the markup tags in ``text``."""
    if "<" not in text:
        return []
    return [m.span() for m in _TAG.finditer(text)]


def _cuts(text: str) -> List[int]:
    """The sorted character offsets where a tag or character reference starts or ends."""
    if "<" not in text and "&" not in text:
        return []
    return sorted({pos for m in _PIECES.finditer(text) for pos in m.span()})


def split_glued_markup(doc: Doc) -> Doc:
    """Split every token that a tag or character reference shares with other characters;
    returns the Doc to use from here on.

    Linear in the length of the document: a binary search per token in the sorted cuts,
    then, for a Doc that holds only its tokenization (the usual case: the pipe runs first),
    one new Doc of the split words with the same text, norms, ``user_data`` and ``cats``.
    spaCy's retokenizer moves the whole token array once per split, so a Doc
    already carrying annotations (tags, entities, spans, a tensor) is retokenized in place,
    which keeps them."""
    text = doc.text  # built from the tokens on every access: read it once
    cuts = _cuts(text)
    if not cuts:
        return doc
    plans = {}
    for token in doc:
        start, end = token.idx, token.idx + len(token.text)
        inner = cuts[bisect_right(cuts, start):bisect_left(cuts, end)]
        if inner:
            bounds = [start, *inner, end]
            plans[token.i] = [text[a:b] for a, b in zip(bounds, bounds[1:])]
    if not plans:
        return doc
    if _only_tokenized(doc):
        words: List[str] = []
        spaces: List[bool] = []
        for token in doc:
            pieces = plans.get(token.i, [token.text])
            words.extend(pieces)
            spaces.extend([False] * (len(pieces) - 1) + [bool(token.whitespace_)])
        split = Doc(doc.vocab, words=words, spaces=spaces)
        # a tokenizer sets ORTH and NORM alone; keep the norms of its special cases
        # ("n't" -> "not") on the tokens that were not split, as the retokenizer does
        norms = [n for token in doc for n in ([token.norm] if token.i not in plans else
                                             [split.vocab[p].norm for p in plans[token.i]])]
        split.from_array([NORM], numpy.asarray(norms, dtype="uint64").reshape(-1, 1))
        split.user_data.update(doc.user_data)
        split.cats.update(doc.cats)
        return split
    with doc.retokenize() as retokenizer:
        for i, orths in plans.items():
            token = doc[i]
            retokenizer.split(token, orths, heads=[(token, 0)] * len(orths))
    return doc


def _only_tokenized(doc: Doc) -> bool:
    """Whether ``doc`` holds nothing but its tokens (and ``user_data``)."""
    attrs = ("TAG", "POS", "MORPH", "LEMMA", "DEP", "ENT_IOB", "SENT_START")
    return not len(doc.spans) and not getattr(doc.tensor, "size", 0) and \
        not any(doc.has_annotation(a) for a in attrs)


def barrier_tokens(doc: Doc) -> Set[int]:
    """Indices of the tokens no entity may contain: line breaks, markup, line-opening bullets."""
    barriers: Set[int] = set()
    tags = markup_char_spans(doc.text)  # doc.text is built from the tokens: read once
    if tags:
        # The tags do not overlap and come in text order, so their ends are sorted too: the
        # only tag a token can overlap first is the first one ending after the token starts.
        ends = [b for _, b in tags]
        for token in doc:
            start, end = token.idx, token.idx + len(token.text)
            k = bisect_right(ends, start)
            if k < len(tags) and tags[k][0] < end:
                barriers.add(token.i)
    line_start = True
    for token in doc:
        if is_line_break(token.text):
            barriers.add(token.i)
            line_start = True
        elif line_start and not token.is_space:
            barriers.update(_bullet_at(doc, token.i))
            line_start = False
    return barriers


def _bullet_at(doc: Doc, i: int) -> List[int]:
    """The tokens of a bullet or list number ("-", "1.", "(a)") starting at token ``i``."""
    text = ""
    for j in range(i, min(i + 3, len(doc))):
        text += doc[j].text
        if is_bullet(text):
            return list(range(i, j + 1))
        if doc[j].whitespace_:
            break
    return []


def boundary_tokens(doc: Doc) -> Set[int]:
    """Indices of the tokens ``raredis_boundaries`` marks as sentence starts: every barrier
    token and the token after it."""
    barriers = barrier_tokens(doc)
    return {i for b in barriers for i in (b, b + 1) if i < len(doc)}


def mark_sentence_starts(doc: Doc, indices: List[int]) -> None:
    """Mark the tokens ``indices`` as sentence starts, leaving the others' as they are.

    One array write: ``token.is_sent_start = True`` checks the whole Doc for a parse on every
    call, which made marking quadratic in the document's length. A parsed Doc is refused as
    spaCy refuses it (put the pipe before the parser)."""
    if doc.has_annotation("DEP"):
        doc[indices[0]].is_sent_start = True  # raises spaCy's own error
    starts = doc.to_array([SENT_START])
    starts[indices] = 1
    doc.from_array([SENT_START], starts.reshape(-1, 1))


class TextBoundaries:
    """The ``raredis_boundaries`` pipe."""

    def __init__(self, nlp: Language, name: str = "raredis_boundaries", *, split_markup: bool = True):
        self.name = name
        self.split_markup = split_markup

    def __call__(self, doc: Doc) -> Doc:
        if self.split_markup:
            doc = split_glued_markup(doc)
        marks = sorted(boundary_tokens(doc))
        if marks:
            mark_sentence_starts(doc, marks)
        return doc

    def pipe(self, stream: Iterable[Doc], *, batch_size: int = 128) -> Iterator[Doc]:
        for doc in stream:
            yield self(doc)


@Language.factory(
    "raredis_boundaries",
    default_config={"split_markup": True},
    assigns=["token.is_sent_start"],
)
def make_text_boundaries(nlp: Language, name: str, split_markup: bool) -> TextBoundaries:
    """Line breaks, markup tags and list bullets as sentence starts (put it first).

    split_markup: split tokens that glue a tag or character reference to a word.
    """
    return TextBoundaries(nlp, name, split_markup=split_markup)
