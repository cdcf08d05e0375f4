"""``bio``: one ``token<TAB>TAG`` line per token (``B-LABEL`` / ``I-LABEL`` / ``O``); tokens are
runs of word characters or single other characters, split at mention boundaries."""

import re
from bisect import bisect_left
from typing import Any, Iterable, List, Optional, Sequence, Tuple

from ..text import TOKEN_RE, check_spans, label_key, lower_same_length, strip_code_fences
from .base import Mention, OutputFormat


def bio_tokens(text: str, spans: Iterable[Sequence[Any]] = ()) -> List[Tuple[int, int]]:
    """Token offsets for the BIO format: ``\\w+`` runs and single other non-space chars,
    split further at every span boundary so each span is a whole number of tokens."""
    cuts = sorted({int(p) for s, e, _ in spans for p in (s, e)})
    out: List[Tuple[int, int]] = []
    for m in TOKEN_RE.finditer(text):
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
    answer_sep = "\n"
    _TAG_RE = re.compile(r"^(?:([BIESL])\s*[-_:]\s*(\S+)|(O))$", re.IGNORECASE)
    #: How far ahead (chars) a token is looked for, from the end of the previous one.
    window = 200

    def render(self, text: str, spans: Iterable[Sequence[Any]]) -> str:
        spans = check_spans(text, spans, allow_overlap=False)
        lines = []
        for start, end in bio_tokens(text, spans):
            tag = "O"
            for s, e, label in spans:
                if s <= start and end <= e:
                    tag = f"{'B' if start == s else 'I'}-{label}"
                    break
            lines.append(f"{text[start:end]}\t{tag}")
        return "\n".join(lines)

    def constraint_strings(self, labels: Sequence[str]) -> List[str]:
        tags = ["O"] + [f"{p}-{label}" for label in labels for p in "BI"]
        return ["\t" + tag for tag in tags] + ["\n"]

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
        lower = lower_same_length(text)
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
                pos = lower.find(lower_same_length(token), cursor, cursor + self.window + len(token))
                case_only = pos != -1
            located: Optional[int] = None if pos == -1 else pos
            if located is not None:
                cursor = located + len(token)
            if prefix == "O":
                current = None
                continue
            if prefix == "I" and current is not None and label_key(current[0]) == label_key(label):
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

