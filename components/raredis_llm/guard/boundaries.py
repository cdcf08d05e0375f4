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
from typing import Iterable, Iterator, List, Set, Tuple

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


def _cuts(text: str) -> Set[int]:
    if "<" not in text and "&" not in text:
        return set()
    return {pos for m in _PIECES.finditer(text) for pos in m.span()}


def split_glued_markup(doc: Doc) -> Doc:
    """Split every token that a tag or character reference shares with other characters."""
    cuts = _cuts(doc.text)
    if not cuts:
        return doc
    plans = []
    for token in doc:
        start, end = token.idx, token.idx + len(token.text)
        inner = sorted(c for c in cuts if start < c < end)
        if inner:
            bounds = [start, *inner, end]
            plans.append((token, [doc.text[a:b] for a, b in zip(bounds, bounds[1:])]))
    if plans:
        with doc.retokenize() as retokenizer:
            for token, orths in plans:
                retokenizer.split(token, orths, heads=[(token, 0)] * len(orths))
    return doc


def barrier_tokens(doc: Doc) -> Set[int]:
    """Indices of the tokens no entity may contain: line breaks, markup, line-opening bullets."""
    barriers: Set[int] = set()
    tags = markup_char_spans(doc.text)
    if tags:
        for token in doc:
            start, end = token.idx, token.idx + len(token.text)
            if any(a < end and start < b for a, b in tags):
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


class TextBoundaries:
    """The ``raredis_boundaries`` pipe."""

    def __init__(self, nlp: Language, name: str = "raredis_boundaries", *, split_markup: bool = True):
        self.name = name
        self.split_markup = split_markup

    def __call__(self, doc: Doc) -> Doc:
        if self.split_markup:
            split_glued_markup(doc)
        for i in sorted(boundary_tokens(doc)):
            doc[i].is_sent_start = True
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
