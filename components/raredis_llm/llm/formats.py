"""Output formats for LLM NER answers: render gold answers, parse model answers.

Stable API (shared with the fine-tuning code)::

    from raredis_llm.llm.formats import get_format

    fmt = get_format("inline")             # or "json", "bio"; see FORMAT_NAMES
    answer = fmt.render(text, spans)       # gold answer: few-shot examples, training targets
    fmt.instructions                       # what a prompt says about the format (plain text)
    spans, stats = fmt.parse(text, answer, labels)

``spans`` are ``(start, end, label)`` character offsets into ``text``, sorted, never
overlapping. ``labels`` is an iterable of allowed labels, or a mapping ``{alias: label}``
(e.g. ``{"RAREDISEASE": "RAREDISEASE", "SKINRAREDISEASE": "RAREDISEASE"}`` for the
4-type view). Labels in answers are matched leniently (case, ``_``/``-``/space ignored).

The three formats
-----------------
``inline``  the text re-emitted with tags: ``The <SIGN>weight loss</SIGN> was ...``
``json``    ``[{"text": "weight loss", "label": "SIGN"}, ...]`` in text order
``bio``     one ``token<TAB>TAG`` line per token, ``B-LABEL`` / ``I-LABEL`` / ``O``
            (tokens: runs of word characters or single other characters, further split
            at mention boundaries; see :func:`bio_tokens`)

How an answer becomes character offsets (:func:`align_mentions`)
------------------------------------------------------------------
Every format first *extracts* the mentions the model gave (text + label, in answer order,
with character positions when the format carries them: ``inline`` through aligning the
re-emitted text to the input, ``bio`` through locating the tokens in order). A mention
whose position is known and whose characters match is taken as is (``exact``). Any other
mention is searched in the text, in this order of match types:

1. ``exact``       the mention string as given;
2. ``case``        case-insensitive;
3. ``normalised``  case-insensitive, ignoring whitespace and hyphens/dashes, with curly
                   quotes made straight;
4. ``fuzzy``       the window of text tokens (the mention's token count +- 2) with the
                   highest case-insensitive ``difflib`` ratio, if at least
                   ``fuzzy_threshold`` (default 0.85; mentions of 4 to 300 characters;
                   ties: the earliest window, preferring one that overlaps no earlier
                   found mention).

Repeated mentions: each search for a string starts after the previous match *of that
string* (compared normalised), so the n-th ``"pain"`` the model gives maps to the n-th
``"pain"`` in the text, whatever the order of other mentions. Among the occurrences
after that point the first one at word boundaries that does not overlap an earlier found
mention is preferred, then the first at word boundaries, then the first.

Overlaps are resolved by **earlier-then-longer**: candidates are sorted by start, then by
length (longer first), then by answer order, and kept greedily when they do not overlap a
kept span. A second mention with the same offsets and label is a ``duplicate``.

Parsing never raises on model output. ``stats`` always has every key::

    {"given": int, "aligned": int,
     "dropped": {"not_found", "bad_label", "malformed", "overlap", "duplicate",
                 "misaligned"}: int,
     "match": {"exact", "case", "normalised", "fuzzy"}: int}

with ``given == aligned + sum(dropped.values())`` and ``sum(match.values()) == aligned``.
``malformed`` counts mentions the answer started but broke (unclosed or mismatched tags,
JSON items without text/label, truncated JSON objects, ``I-`` lines with bad tags).
``misaligned`` counts mentions the optional ``snap`` callback (token alignment) refused.
Lines/characters that are not mentions at all (prose around the answer) are not counted.
"""

import json
import re
from bisect import bisect_left
from dataclasses import dataclass
from difflib import SequenceMatcher
from importlib import resources
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

Span3 = Tuple[int, int, str]
LabelsArg = Union[Iterable[str], Mapping[str, str]]
SnapFn = Callable[[int, int], Optional[Tuple[int, int]]]

MATCH_TYPES: Tuple[str, ...] = ("exact", "case", "normalised", "fuzzy")
DROP_REASONS: Tuple[str, ...] = (
    "not_found", "bad_label", "malformed", "overlap", "duplicate", "misaligned"
)
DEFAULT_FUZZY_THRESHOLD = 0.85
_HYPHENS = set("-\u2010\u2011\u2012\u2013\u2014\u2015\u2212")
_QUOTES = {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00b4": "'"}
_TOKEN_RE = re.compile(r"\w+|[^\w\s]")
_FENCE_RE = re.compile(r"^\s*```[\w-]*\s*$")


# --------------------------------------------------------------------------- stats
def empty_stats() -> Dict[str, Any]:
    """A stats dict with every key at zero."""
    return {
        "given": 0,
        "aligned": 0,
        "dropped": {reason: 0 for reason in DROP_REASONS},
        "match": {kind: 0 for kind in MATCH_TYPES},
    }


def add_stats(total: Dict[str, Any], stats: Mapping[str, Any]) -> Dict[str, Any]:
    """Add ``stats`` into ``total`` in place (nested dicts summed key by key); return it."""
    for key, value in stats.items():
        if isinstance(value, Mapping):
            sub = total.setdefault(key, {})
            for k, v in value.items():
                sub[k] = sub.get(k, 0) + v
        else:
            total[key] = total.get(key, 0) + value
    return total


# --------------------------------------------------------------------------- labels
def _label_key(label: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", str(label).upper())


def label_lookup(labels: LabelsArg) -> Dict[str, str]:
    """Map lenient label keys (upper case, only A-Z0-9) to canonical labels."""
    if isinstance(labels, Mapping):
        pairs = list(labels.items()) + [(v, v) for v in labels.values()]
    else:
        pairs = [(label, label) for label in labels]
    lookup: Dict[str, str] = {}
    for alias, label in pairs:
        lookup.setdefault(_label_key(alias), label)
    return lookup


# --------------------------------------------------------------------------- helpers
def strip_code_fences(answer: str) -> str:
    """Drop markdown code fence lines (```json ... ```), keep what is inside."""
    return "\n".join(line for line in str(answer).splitlines() if not _FENCE_RE.match(line))


def _lower_same_length(text: str) -> str:
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def _normalise(text: str) -> Tuple[str, List[int]]:
    """Lower-cased text without whitespace/hyphens, plus the original index of each char."""
    chars: List[str] = []
    index: List[int] = []
    for i, c in enumerate(text):
        if c.isspace() or c in _HYPHENS:
            continue
        c = _QUOTES.get(c, c)
        low = c.lower()
        chars.append(low if len(low) == 1 else c)
        index.append(i)
    return "".join(chars), index


def _check_spans(text: str, spans: Iterable[Sequence[Any]], allow_overlap: bool) -> List[Span3]:
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


# --------------------------------------------------------------------------- alignment
class _Aligner:
    """Finds mention strings in one text (see the module docstring for the rules)."""

    def __init__(self, text: str, fuzzy_threshold: float):
        self.text = text
        self.lower = _lower_same_length(text)
        self.norm, self.norm_index = _normalise(text)
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
        hits = self._occurrences(self.lower, _lower_same_length(mention), cursor)
        if hits:
            s, e = self._choose([(p, p + n) for p in hits])  # type: ignore[misc]
            return s, e, "case"
        needle, _ = _normalise(mention)
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
            self._tokens = [m.span() for m in _TOKEN_RE.finditer(self.text)]
        k = max(1, len(_TOKEN_RE.findall(mention)))
        target = _lower_same_length(mention)
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
        label = lookup.get(_label_key(mention.label))
        if label is None:
            stats["dropped"]["bad_label"] += 1
            continue
        raw = str(mention.text)
        stripped = raw.strip()
        if not stripped:
            stats["dropped"]["malformed"] += 1
            continue
        key = _normalise(stripped)[0] or stripped
        hit: Optional[Tuple[int, int, str]] = None
        if mention.offsets is not None:
            s, e = mention.offsets
            s += len(raw) - len(raw.lstrip())
            e -= len(raw) - len(raw.rstrip())
            if 0 <= s < e <= len(text) and _lower_same_length(text[s:e]) == _lower_same_length(stripped):
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


# --------------------------------------------------------------------------- formats
class OutputFormat:
    """Base class: ``render`` gold spans, ``extract`` mentions, ``parse`` to offsets."""

    name: str = ""

    @property
    def instructions(self) -> str:
        """What the prompt says about the format (``templates/formats/<name>.txt``)."""
        path = resources.files("raredis_llm") / "templates" / "formats" / f"{self.name}.txt"
        return path.read_text(encoding="utf8").strip()

    def render(self, text: str, spans: Iterable[Sequence[Any]]) -> str:
        """The gold answer for ``text`` with ``spans`` ``(start, end, label)``."""
        raise NotImplementedError

    def extract(self, text: str, answer: str) -> List[Mention]:
        """The mentions an answer gives, in answer order (never raises)."""
        raise NotImplementedError

    def answer_reference(self, text: str) -> str:
        """A complete answer's size without its tags: sizes the generation budget
        (:mod:`raredis_llm.llm.budget`). Default: the answer when nothing is tagged."""
        return self.render(text, [])

    def parse(
        self,
        text: str,
        answer: Any,
        labels: LabelsArg,
        *,
        snap: Optional[SnapFn] = None,
        fuzzy_threshold: float = DEFAULT_FUZZY_THRESHOLD,
    ) -> Tuple[List[Span3], Dict[str, Any]]:
        """Parse a model answer into sorted, non-overlapping ``(start, end, label)`` spans.

        text: the input text the answer is about. answer: the model output (any ``str``;
        ``None`` counts as empty). labels: allowed labels or ``{alias: label}``.
        snap: optional ``(start, end) -> (start, end) | None`` applied to each match
        before overlap resolution (e.g. token alignment via ``Doc.char_span``).
        Returns ``(spans, stats)``; stats as in the module docstring.
        """
        answer = "" if answer is None else str(answer)
        try:
            mentions = self.extract(text, answer)
        except Exception:  # pragma: no cover - extract is written not to raise
            mentions = [Mention(text="", label="", malformed=True)]
        return align_mentions(text, mentions, labels, snap=snap, fuzzy_threshold=fuzzy_threshold)


class InlineFormat(OutputFormat):
    """``The <SIGN>weight loss</SIGN> was ...``: the text re-emitted with XML-like tags."""

    name = "inline"
    _TAG_RE = re.compile(r"<\s*(/?)\s*([A-Za-z][A-Za-z0-9_\-]{0,40})\s*>")

    def render(self, text: str, spans: Iterable[Sequence[Any]]) -> str:
        out: List[str] = []
        pos = 0
        for start, end, label in _check_spans(text, spans, allow_overlap=False):
            out.append(text[pos:start])
            out.append(f"<{label}>{text[start:end]}</{label}>")
            pos = end
        out.append(text[pos:])
        return "".join(out)

    def extract(self, text: str, answer: str) -> List[Mention]:
        answer = strip_code_fences(answer)
        plain: List[str] = []
        plain_len = 0
        stack: List[Tuple[str, int]] = []  # (label as written, start in plain text)
        raw: List[Tuple[int, int, str, bool]] = []  # plain start, end, label, malformed
        pos = 0
        for m in self._TAG_RE.finditer(answer):
            piece = answer[pos:m.start()]
            plain.append(piece)
            plain_len += len(piece)
            pos = m.end()
            closing, name = m.group(1) == "/", m.group(2)
            if not closing:
                stack.append((name, plain_len))
                continue
            depth = next((i for i in range(len(stack) - 1, -1, -1)
                          if _label_key(stack[i][0]) == _label_key(name)), None)
            if depth is None:
                if stack:  # mismatched close: it ends the innermost open mention
                    label, start = stack.pop()
                    raw.append((start, plain_len, label, True))
                else:  # stray closing tag
                    raw.append((plain_len, plain_len, name, True))
                continue
            while len(stack) > depth + 1:  # tags left open inside this mention
                label, start = stack.pop()
                raw.append((start, plain_len, label, True))
            label, start = stack.pop()
            raw.append((start, plain_len, label, False))
        tail = answer[pos:]
        plain.append(tail)
        plain_len += len(tail)
        for label, start in stack:  # unclosed at the end (truncated answer)
            raw.append((start, plain_len, label, True))
        stripped = "".join(plain)
        to_text = _char_map(stripped, text)
        raw.sort(key=lambda r: (r[0], -(r[1] - r[0])))
        mentions = []
        for start, end, label, bad in raw:
            mention = Mention(text=stripped[start:end], label=label, malformed=bad)
            if not bad and end > start:
                s, e = to_text[start], to_text[end - 1]
                if s is not None and e is not None and e + 1 - s == end - start:
                    mention.offsets = (s, e + 1)
            mentions.append(mention)
        return mentions


def _char_map(source: str, target: str) -> List[Optional[int]]:
    """For each char of ``source``, its index in ``target`` where they align exactly."""
    if source == target:
        return list(range(len(source)))
    out: List[Optional[int]] = [None] * len(source)
    matcher = SequenceMatcher(None, source, target, autojunk=False)
    for a, b, size in matcher.get_matching_blocks():
        for i in range(size):
            out[a + i] = b + i
    return out


class JSONFormat(OutputFormat):
    """``[{"text": "weight loss", "label": "SIGN"}, ...]`` in text order."""

    name = "json"
    _TEXT_KEYS = ("text", "mention", "entity", "span", "name", "value")
    _LABEL_KEYS = ("label", "type", "entity_type", "category", "tag", "class")
    _OBJECT_RE = re.compile(r"\{[^{}\[\]]*\}")

    def render(self, text: str, spans: Iterable[Sequence[Any]]) -> str:
        items = [{"text": text[s:e], "label": label}
                 for s, e, label in _check_spans(text, spans, allow_overlap=True)]
        return json.dumps(items, ensure_ascii=False)

    def answer_reference(self, text: str) -> str:
        # "[]" when nothing is tagged, but the mentions can add up to the whole sentence
        return text

    def _item(self, item: Any) -> Mention:
        if isinstance(item, Mapping):
            lowered = {str(k).lower(): v for k, v in item.items()}
            mtext = next((lowered[k] for k in self._TEXT_KEYS if k in lowered), None)
            label = next((lowered[k] for k in self._LABEL_KEYS if k in lowered), None)
        elif isinstance(item, (list, tuple)) and len(item) == 2:
            mtext, label = item
        else:
            mtext = label = None
        if not isinstance(mtext, str) or not isinstance(label, str):
            return Mention(text="", label="", malformed=True)
        return Mention(text=mtext, label=label)

    def _from_value(self, value: Any) -> Optional[List[Mention]]:
        if isinstance(value, list):
            return [self._item(item) for item in value]
        if isinstance(value, Mapping):
            lowered = {str(k).lower(): v for k, v in value.items()}
            for key in ("entities", "mentions", "spans", "ents"):
                if isinstance(lowered.get(key), list):
                    return [self._item(item) for item in lowered[key]]
            if any(k in lowered for k in self._TEXT_KEYS):
                return [self._item(value)]
            out: List[Mention] = []  # {"SIGN": ["fever", ...], ...}
            for label, texts in value.items():
                for mtext in texts if isinstance(texts, list) else [texts]:
                    out.append(Mention(text=mtext, label=str(label)) if isinstance(mtext, str)
                               else Mention(text="", label="", malformed=True))
            return out
        return None

    def extract(self, text: str, answer: str) -> List[Mention]:
        answer = strip_code_fences(answer).strip()
        if not answer:
            return []
        candidates = [answer]
        start = min((i for i in (answer.find("["), answer.find("{")) if i != -1), default=-1)
        if start != -1:
            end = max(answer.rfind("]"), answer.rfind("}"))
            if end > start:
                candidates.append(answer[start:end + 1])
        for candidate in candidates:
            try:
                value = json.loads(candidate)
            except (ValueError, RecursionError):
                continue
            mentions = self._from_value(value)
            if mentions is not None:
                return mentions
        # Broken JSON (truncated, trailing commas, prose in between): salvage objects.
        mentions = []
        last = 0
        for m in self._OBJECT_RE.finditer(answer):
            last = m.end()
            try:
                value = json.loads(m.group(0))
            except ValueError:
                mentions.append(Mention(text="", label="", malformed=True))
                continue
            mentions.append(self._item(value))
        if "{" in answer[last:]:  # an object cut off by the end of the answer
            mentions.append(Mention(text="", label="", malformed=True))
        return mentions


def bio_tokens(text: str, spans: Iterable[Sequence[Any]] = ()) -> List[Tuple[int, int]]:
    """Token offsets for the BIO format: ``\\w+`` runs and single other non-space chars,
    split further at every span boundary so each span is a whole number of tokens."""
    cuts = sorted({int(p) for s, e, _ in spans for p in (s, e)})
    out: List[Tuple[int, int]] = []
    for m in _TOKEN_RE.finditer(text):
        start, end = m.span()
        i = bisect_left(cuts, start + 1)
        while i < len(cuts) and cuts[i] < end:
            out.append((start, cuts[i]))
            start = cuts[i]
            i += 1
        out.append((start, end))
    return out


class BIOFormat(OutputFormat):
    """One ``token<TAB>TAG`` line per token (``B-LABEL``, ``I-LABEL``, ``O``)."""

    name = "bio"
    _TAG_RE = re.compile(r"^(?:([BIESL])\s*[-_:]\s*(\S+)|(O))$", re.IGNORECASE)
    #: How far ahead (chars) a token is looked for, from the end of the previous one.
    window = 200

    def render(self, text: str, spans: Iterable[Sequence[Any]]) -> str:
        spans = _check_spans(text, spans, allow_overlap=False)
        lines = []
        for start, end in bio_tokens(text, spans):
            tag = "O"
            for s, e, label in spans:
                if s <= start and end <= e:
                    tag = f"{'B' if start == s else 'I'}-{label}"
                    break
            lines.append(f"{text[start:end]}\t{tag}")
        return "\n".join(lines)

    def _split(self, line: str) -> Optional[Tuple[str, Optional[str], Optional[str]]]:
        """(token, prefix, label) where prefix is B/I/O; None when the line is no token line."""
        if "\t" in line:
            token, _, tag = line.rstrip().rpartition("\t")
        else:
            parts = line.strip().rsplit(None, 1)
            if len(parts) != 2:
                return None
            token, tag = parts
        token, tag = token.strip(), tag.strip()
        m = self._TAG_RE.match(tag)
        if not token or m is None:
            return None
        if m.group(3):
            return token, "O", None
        prefix = m.group(1).upper()
        prefix = {"S": "B", "E": "I", "L": "I"}.get(prefix, prefix)
        return token, prefix, m.group(2)

    def extract(self, text: str, answer: str) -> List[Mention]:
        lower = _lower_same_length(text)
        cursor = 0
        chunks: List[Tuple[str, List[Tuple[str, Optional[int], bool]]]] = []
        current: Optional[Tuple[str, List[Tuple[str, Optional[int], bool]]]] = None
        for line in strip_code_fences(answer).splitlines():
            if not line.strip():
                continue
            split = self._split(line)
            if split is None:
                continue
            token, prefix, label = split
            pos = text.find(token, cursor, cursor + self.window + len(token))
            case_only = False
            if pos == -1:
                pos = lower.find(_lower_same_length(token), cursor, cursor + self.window + len(token))
                case_only = pos != -1
            located: Optional[int] = None if pos == -1 else pos
            if located is not None:
                cursor = located + len(token)
            if prefix == "O":
                current = None
                continue
            if prefix == "I" and current is not None and _label_key(current[0]) == _label_key(label):
                current[1].append((token, located, case_only))
                continue
            current = (label, [(token, located, case_only)])  # B, or I starting a mention
            chunks.append(current)
        mentions = []
        for label, tokens in chunks:
            mention = Mention(text=" ".join(t for t, _, _ in tokens), label=label)
            starts = [p for _, p, _ in tokens]
            if all(p is not None for p in starts):
                ends = [p + len(t) for (t, p, _) in tokens]  # type: ignore[operator]
                gaps_ok = all(starts[i + 1] >= ends[i] and not text[ends[i]:starts[i + 1]].strip()  # type: ignore[operator,index]
                              for i in range(len(tokens) - 1))
                if gaps_ok:
                    s, e = starts[0], ends[-1]
                    mention.text = text[s:e]  # type: ignore[index]
                    mention.offsets = (s, e)  # type: ignore[assignment]
                    mention.match = "case" if any(c for _, _, c in tokens) else "exact"
            mentions.append(mention)
        return mentions


_FORMATS: Dict[str, OutputFormat] = {}


def register_format(fmt: OutputFormat) -> OutputFormat:
    """Make an :class:`OutputFormat` instance available through :func:`get_format`."""
    _FORMATS[fmt.name] = fmt
    return fmt


for _fmt in (InlineFormat(), JSONFormat(), BIOFormat()):
    register_format(_fmt)

#: Names ``get_format`` accepts (the built-in ones).
FORMAT_NAMES: Tuple[str, ...] = tuple(_FORMATS)


def get_format(name: str) -> OutputFormat:
    """The output format called ``name`` ("inline", "json" or "bio")."""
    try:
        return _FORMATS[name]
    except KeyError:
        raise ValueError(f"Unknown output format '{name}'; choose one of {sorted(_FORMATS)}") from None
