"""Where the component cuts a Doc into sentences (character spans).

``doc.sents`` when a sentence boundary annotation is present (parser, senter,
sentencizer earlier in the pipeline), else the corpus's own rule
(:func:`raredis_llm.corpus.segment.split_sentences`: spaCy's rule-based sentencizer per
line), so sentences look like the sentence-level training data. Spans are trimmed of
surrounding whitespace; whitespace-only sentences are dropped. A sentence longer than
``window_chars`` is cut into windows at whitespace (never truncated), so a run-on
"sentence" (a table, a list without full stops) stays within the model's context.
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


def windows(text: str, start: int, end: int, window_chars: int) -> List[CharSpan]:
    """``[start, end)`` cut into pieces of at most ``window_chars`` characters, at the last
    whitespace before the limit where there is one."""
    out: List[CharSpan] = []
    while end - start > window_chars:
        cut = text.rfind(" ", start + 1, start + window_chars + 1)
        cut = max(cut, text.rfind("\n", start + 1, start + window_chars + 1))
        if cut <= start:
            cut = start + window_chars
        out.append(_trim(text, start, cut))
        start = _trim(text, cut, end)[0]
    out.append(_trim(text, start, end))
    return [(s, e) for s, e in out if e > s]


def sentence_spans(doc: Doc, use_doc_sents: bool = True, window_chars: int = 0) -> List[CharSpan]:
    """Non-empty ``(start_char, end_char)`` sentence spans of ``doc``, in order (windows of
    at most ``window_chars`` characters when > 0)."""
    text = doc.text
    if use_doc_sents and doc.has_annotation("SENT_START"):
        spans = [_trim(text, s.start_char, s.end_char) for s in doc.sents]
    else:
        spans = split_sentences(_sentencizer(), text)
    spans = [(s, e) for s, e in spans if e > s]
    if window_chars > 0:
        spans = [w for s, e in spans for w in windows(text, s, e, window_chars)]
    return spans
