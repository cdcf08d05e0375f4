"""Map the mentions an answer gives to character offsets in the input text.

A mention whose position the format already knows is taken as is when its characters
match. Any other mention is searched in the text: exact, then case-insensitive, then
normalised (case, whitespace, hyphens and curly quotes ignored), then the most similar
window of tokens (difflib ratio >= ``fuzzy_threshold``). The n-th mention of a string
maps to its n-th occurrence; overlaps are resolved earlier-then-longer. Parsing never
raises: what is dropped, and why, is counted in the stats (:mod:`.stats`).
"""

from bisect import bisect_left
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .stats import empty_stats
from .text import LabelsArg, SnapFn, Span3, TOKEN_RE, label_key, label_lookup, lower_same_length, normalise

DEFAULT_FUZZY_THRESHOLD = 0.85


@dataclass
class Mention:
    """One mention as the model gave it (before alignment)."""

    text: str
    label: str
    #: Character offsets into the input text when the format located the mention.
    offsets: Optional[Tuple[int, int]] = None
    #: Match type for located mentions ("exact" or "case").
    match: str = "exact"
    #: The answer started this mention but broke it (it will be dropped as malformed).
    malformed: bool = False


class _Aligner:
    """Finds mention strings in one text (see the module docstring for the rules)."""

    def __init__(self, text: str, fuzzy_threshold: float):
        self.text = text
        self.lower = lower_same_length(text)
        self.norm, self.norm_index = normalise(text)
        self.fuzzy_threshold = fuzzy_threshold
        self._tokens: Optional[List[Tuple[int, int]]] = None
        self.taken: List[Tuple[int, int]] = []

    def _boundary(self, start: int, end: int) -> bool:
        t = self.text
        left = start == 0 or not (t[start - 1].isalnum() and t[start].isalnum())
        right = end == len(t) or not (t[end - 1].isalnum() and t[end].isalnum())
        return left and right

    def _overlaps(self, start: int, end: int) -> bool:
        return any(start < e and s < end for s, e in self.taken)

    def _choose(self, cands: List[Tuple[int, int]]) -> Optional[Tuple[int, int]]:
        if not cands:
            return None
        for test in (
            lambda s, e: self._boundary(s, e) and not self._overlaps(s, e),
            lambda s, e: self._boundary(s, e),
            lambda s, e: not self._overlaps(s, e),
        ):
            for s, e in cands:
                if test(s, e):
                    return s, e
        return cands[0]

    @staticmethod
    def _occurrences(hay: str, needle: str, start: int, limit: int = 1000) -> List[int]:
        found: List[int] = []
        pos = hay.find(needle, start)
        while pos != -1 and len(found) < limit:
            found.append(pos)
            pos = hay.find(needle, pos + 1)
        return found

    def find(self, mention: str, cursor: int) -> Optional[Tuple[int, int, str]]:
        n = len(mention)
        hits = self._occurrences(self.text, mention, cursor)
        if hits:
            s, e = self._choose([(p, p + n) for p in hits])  # type: ignore[misc]
            return s, e, "exact"
        hits = self._occurrences(self.lower, lower_same_length(mention), cursor)
        if hits:
            s, e = self._choose([(p, p + n) for p in hits])  # type: ignore[misc]
            return s, e, "case"
        needle, _ = normalise(mention)
        if needle:
            ncursor = bisect_left(self.norm_index, cursor)
            hits = self._occurrences(self.norm, needle, ncursor)
            if hits:
                cands = [(self.norm_index[p], self.norm_index[p + len(needle) - 1] + 1) for p in hits]
                s, e = self._choose(cands)  # type: ignore[misc]
                return s, e, "normalised"
        return self._fuzzy(mention, cursor)

    def _fuzzy(self, mention: str, cursor: int) -> Optional[Tuple[int, int, str]]:
        if not 4 <= len(mention) <= 300 or self.fuzzy_threshold > 1:
            return None
        if self._tokens is None:
            self._tokens = [m.span() for m in TOKEN_RE.finditer(self.text)]
        k = max(1, len(TOKEN_RE.findall(mention)))
        target = lower_same_length(mention)
        matcher = SequenceMatcher(autojunk=False)
        matcher.set_seq2(target)
        best: Optional[Tuple[float, bool, int, int]] = None
        first = bisect_left([s for s, _ in self._tokens], cursor)
        budget = 20000
        for i in range(first, len(self._tokens)):
            for width in range(max(1, k - 2), k + 3):
                j = i + width - 1
                if j >= len(self._tokens):
                    break
                budget -= 1
                if budget < 0:
                    break
                s, e = self._tokens[i][0], self._tokens[j][1]
                matcher.set_seq1(self.lower[s:e])
                if matcher.real_quick_ratio() < self.fuzzy_threshold:
                    continue
                if matcher.quick_ratio() < self.fuzzy_threshold:
                    continue
                ratio = matcher.ratio()
                if ratio < self.fuzzy_threshold:
                    continue
                free = not self._overlaps(s, e)
                key = (ratio, free)
                if best is None or key > best[:2]:
                    best = (ratio, free, s, e)
        if best is None:
            return None
        return best[2], best[3], "fuzzy"


def align_mentions(
    text: str,
    mentions: Sequence[Mention],
    labels: LabelsArg,
    *,
    snap: Optional[SnapFn] = None,
    fuzzy_threshold: float = DEFAULT_FUZZY_THRESHOLD,
) -> Tuple[List[Span3], Dict[str, Any]]:
    """Map extracted mentions to non-overlapping character spans (rules: module docstring)."""
    stats = empty_stats()
    stats["given"] = len(mentions)
    lookup = label_lookup(labels)
    aligner = _Aligner(text, fuzzy_threshold)
    cursors: Dict[str, int] = {}
    found: List[Tuple[int, int, str, str, int]] = []  # start, end, label, match, order
    for order, mention in enumerate(mentions):
        if mention.malformed:
            stats["dropped"]["malformed"] += 1
            continue
        label = lookup.get(label_key(mention.label))
        if label is None:
            stats["dropped"]["bad_label"] += 1
            continue
        raw = str(mention.text)
        stripped = raw.strip()
        if not stripped:
            stats["dropped"]["malformed"] += 1
            continue
        key = normalise(stripped)[0] or stripped
        hit: Optional[Tuple[int, int, str]] = None
        if mention.offsets is not None:
            s, e = mention.offsets
            s += len(raw) - len(raw.lstrip())
            e -= len(raw) - len(raw.rstrip())
            if 0 <= s < e <= len(text) and lower_same_length(text[s:e]) == lower_same_length(stripped):
                exact = text[s:e] == stripped and mention.match == "exact"
                hit = (s, e, "exact" if exact else "case")
        if hit is None:
            hit = aligner.find(stripped, cursors.get(key, 0))
        if hit is None:
            stats["dropped"]["not_found"] += 1
            continue
        start, end, match = hit
        cursors[key] = max(cursors.get(key, 0), end)
        if snap is not None:
            snapped = snap(start, end)
            if snapped is None:
                stats["dropped"]["misaligned"] += 1
                continue
            start, end = snapped
        aligner.taken.append((start, end))
        found.append((start, end, label, match, order))

    found.sort(key=lambda f: (f[0], -(f[1] - f[0]), f[4]))
    kept: List[Tuple[int, int, str, str, int]] = []
    seen = set()
    for cand in found:
        start, end, label = cand[:3]
        if (start, end, label) in seen:
            stats["dropped"]["duplicate"] += 1
            continue
        if kept and start < max(k[1] for k in kept):
            stats["dropped"]["overlap"] += 1
            continue
        seen.add((start, end, label))
        kept.append(cand)
    for cand in kept:
        stats["match"][cand[3]] += 1
    stats["aligned"] = len(kept)
    return [(s, e, label) for s, e, label, _, _ in kept], stats

