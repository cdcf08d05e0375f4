"""Text helpers the answer formats and the aligner share: label keys, normalisation."""

import re
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

Span3 = Tuple[int, int, str]
LabelsArg = Union[Iterable[str], Mapping[str, str]]
SnapFn = Callable[[int, int], Optional[Tuple[int, int]]]

HYPHENS = set("-\u2010\u2011\u2012\u2013\u2014\u2015\u2212")
QUOTES = {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00b4": "'"}
TOKEN_RE = re.compile(r"\w+|[^\w\s]")
FENCE_RE = re.compile(r"^\s*```[\w-]*\s*$")


def label_key(label: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", str(label).upper())


def label_lookup(labels: LabelsArg) -> Dict[str, str]:
    """Map lenient label keys (upper case, only A-Z0-9) to canonical labels."""
    if isinstance(labels, Mapping):
        pairs = list(labels.items()) + [(v, v) for v in labels.values()]
    else:
        pairs = [(label, label) for label in labels]
    lookup: Dict[str, str] = {}
    for alias, label in pairs:
        lookup.setdefault(label_key(alias), label)
    return lookup


def strip_code_fences(answer: str) -> str:
    """Drop markdown code fence lines (```json ... ```), keep what is inside."""
    return "\n".join(line for line in str(answer).splitlines() if not FENCE_RE.match(line))


def lower_same_length(text: str) -> str:
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def normalise(text: str) -> Tuple[str, List[int]]:
    """Lower-cased text without whitespace/hyphens, plus the original index of each char."""
    chars: List[str] = []
    index: List[int] = []
    for i, c in enumerate(text):
        if c.isspace() or c in HYPHENS:
            continue
        c = QUOTES.get(c, c)
        low = c.lower()
        chars.append(low if len(low) == 1 else c)
        index.append(i)
    return "".join(chars), index


def check_spans(text: str, spans: Iterable[Sequence[Any]], allow_overlap: bool) -> List[Span3]:
    out = sorted((int(s), int(e), str(label)) for s, e, label in spans)
    prev_end = 0
    for start, end, label in out:
        if not 0 <= start < end <= len(text):
            raise ValueError(f"Span {(start, end, label)} is outside the text ({len(text)} chars)")
        if not allow_overlap and start < prev_end:
            raise ValueError(f"Span {(start, end, label)} overlaps an earlier span; this format "
                             "can only render non-overlapping spans (use doc.ents)")
        prev_end = max(prev_end, end)
    return out


