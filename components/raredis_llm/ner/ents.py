"""Turn parsed model answers into ``doc.ents``, with the parse stats and token usage.

The one place where answers become entities, for the spacy-llm task and the fine-tuned
component alike: each answer covers a character range of the Doc (a sentence, or the
whole Doc); its mentions are aligned to that text, snapped to token boundaries, and the
non-overlapping ones (``spacy.util.filter_spans``) replace or fill ``doc.ents``.
"""

from typing import Any, Dict, List, Optional, Sequence, Tuple

from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from ..corpus import schema
from .align import DEFAULT_FUZZY_THRESHOLD
from .formats.base import OutputFormat
from .stats import add_stats, add_usage, empty_stats, empty_usage
from .text import LabelsArg

ALIGNMENT_MODES = ("strict", "contract", "expand")
#: One answer: the character range of the Doc it is about, and the model's answer.
Piece = Tuple[int, int, Any]


def check_alignment_mode(mode: str) -> str:
    if mode not in ALIGNMENT_MODES:
        raise ValueError(f"alignment_mode must be one of {ALIGNMENT_MODES}, not {mode!r}")
    return mode


def parse_answers(doc: Doc, pieces: Sequence[Piece], fmt: OutputFormat, labels: LabelsArg, *,
                  alignment_mode: str = "expand",
                  fuzzy_threshold: float = DEFAULT_FUZZY_THRESHOLD) -> Tuple[List[Span], Dict[str, Any]]:
    """The entity spans the answers give (may overlap across pieces) and their parse stats."""
    stats = empty_stats()
    spans: List[Span] = []
    for start, end, answer in pieces:
        def snap(s: int, e: int, _start: int = start) -> Optional[Tuple[int, int]]:
            span = doc.char_span(_start + s, _start + e, alignment_mode=alignment_mode)
            if span is None or len(span) == 0:
                return None
            return span.start_char - _start, span.end_char - _start

        found, piece_stats = fmt.parse(doc.text[start:end], answer, labels, snap=snap,
                                       fuzzy_threshold=fuzzy_threshold)
        add_stats(stats, piece_stats)
        for s, e, label in found:
            span = doc.char_span(start + s, start + e, label=label, alignment_mode=alignment_mode)
            if span is not None and len(span):
                spans.append(span)
    return spans, stats


def set_entities(doc: Doc, spans: Sequence[Span], overwrite: bool = True) -> None:
    """``overwrite``: the spans replace ``doc.ents``; else they are added only where they
    overlap no existing entity. Overlapping spans: the longest wins (``filter_spans``)."""
    spans = filter_spans(spans)
    if overwrite:
        doc.ents = spans
        return
    taken = {t for ent in doc.ents for t in range(ent.start, ent.end)}
    new = [span for span in spans if not any(t in taken for t in range(span.start, span.end))]
    doc.set_ents(new, default="unmodified")


def annotate(doc: Doc, pieces: Sequence[Piece], fmt: OutputFormat, labels: LabelsArg, *,
             overwrite: bool = True, alignment_mode: str = "expand",
             fuzzy_threshold: float = DEFAULT_FUZZY_THRESHOLD) -> Tuple[Dict[str, Any], Dict[str, int]]:
    """Parse ``pieces`` into ``doc.ents`` and record the stats and usage on the Doc
    (``doc.user_data[PARSE_STATS]`` / ``[LLM_USAGE]``); returns both."""
    spans, stats = parse_answers(doc, pieces, fmt, labels, alignment_mode=alignment_mode,
                                 fuzzy_threshold=fuzzy_threshold)
    set_entities(doc, spans, overwrite=overwrite)
    usage = add_usage(empty_usage(), [answer for _, _, answer in pieces])
    record(doc, stats, usage)
    return stats, usage


def record(doc: Doc, stats: Dict[str, Any], usage: Dict[str, int]) -> None:
    doc.user_data[schema.PARSE_STATS] = stats
    doc.user_data[schema.LLM_USAGE] = usage
