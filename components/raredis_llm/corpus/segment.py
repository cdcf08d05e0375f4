"""Sentence segmentation that never cuts an annotated entity.

Sentences come from spaCy's rule-based ``sentencizer`` over each line of the text
(line breaks always end a sentence), with leading/trailing whitespace trimmed, so a
sentence Doc's text is exactly ``text[start:end]`` of the original ``.txt``.
A boundary that would fall inside an entity (or between the fragments of a
discontinuous one) is removed and reported: the two sentences are merged.
"""

from typing import Iterable, List, Sequence, Tuple

from spacy.language import Language

Span = Tuple[int, int]


def _trim(text: str, start: int, end: int) -> Span:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def split_sentences(nlp: Language, text: str) -> List[Span]:
    """Character spans of the sentences of ``text`` (no protection of entities)."""
    spans: List[Span] = []
    pos = 0
    for line in text.splitlines(keepends=True):
        line_start, pos = pos, pos + len(line)
        if not line.strip():
            continue
        doc = nlp(line)
        for sent in doc.sents:
            start, end = _trim(text, line_start + sent.start_char, line_start + sent.end_char)
            if end > start:
                spans.append((start, end))
    return spans


def protect_entities(sentences: Sequence[Span], entity_extents: Iterable[Span]) -> Tuple[List[Span], List[Tuple[int, Span]]]:
    """Merge sentences so that no extent (start, end) crosses a sentence boundary.

    Returns the new sentence spans and, for each removed boundary, the character
    position of the boundary and the extent that crossed it.
    """
    merged = [list(s) for s in sentences]
    removed: List[Tuple[int, Span]] = []
    for ent_start, ent_end in sorted(entity_extents):
        i = 0
        while i < len(merged) - 1:
            boundary_end, next_start = merged[i][1], merged[i + 1][0]
            # The entity starts before this boundary and ends after the next sentence starts.
            if ent_start < boundary_end and ent_end > next_start:
                removed.append((boundary_end, (ent_start, ent_end)))
                merged[i][1] = merged[i + 1][1]
                del merged[i + 1]
                continue
            i += 1
    return [tuple(s) for s in merged], removed


def make_sentencizer() -> Language:
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return nlp
