"""Where the component cuts a Doc into sentences (character spans).

``doc.sents`` when a sentence boundary annotation is present (parser, senter,
sentencizer earlier in the pipeline), else the corpus's own rule
(:func:`raredis_llm.corpus.segment.split_sentences`: spaCy's rule-based sentencizer per
line), so sentences look like the sentence-level training data. Spans are trimmed of
surrounding whitespace; whitespace-only sentences are dropped.
"""

from functools import lru_cache
from typing import List, Tuple

from spacy.tokens import Doc

from ..corpus.segment import make_sentencizer, split_sentences

CharSpan = Tuple[int, int]


@lru_cache(maxsize=1)
def _sentencizer():
    return make_sentencizer()


def _trim(text: str, start: int, end: int) -> CharSpan:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def sentence_spans(doc: Doc, use_doc_sents: bool = True) -> List[CharSpan]:
    """Non-empty ``(start_char, end_char)`` sentence spans of ``doc``, in order."""
    text = doc.text
    if use_doc_sents and doc.has_annotation("SENT_START"):
        spans = [_trim(text, s.start_char, s.end_char) for s in doc.sents]
    else:
        spans = split_sentences(_sentencizer(), text)
    return [(s, e) for s, e in spans if e > s]
