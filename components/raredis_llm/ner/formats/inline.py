"""``inline``: the text re-emitted with tags, ``The <SIGN>weight loss</SIGN> was ...``."""

import re
from difflib import SequenceMatcher
from typing import Any, Iterable, List, Optional, Sequence, Tuple

from ..text import check_spans, label_key, strip_code_fences
from .base import Mention, OutputFormat


class InlineFormat(OutputFormat):
    """``The <SIGN>weight loss</SIGN> was ...``: the text re-emitted with XML-like tags."""

    name = "inline"
    _TAG_RE = re.compile(r"<\s*(/?)\s*([A-Za-z][A-Za-z0-9_\-]{0,40})\s*>")

    def render(self, text: str, spans: Iterable[Sequence[Any]]) -> str:
        out: List[str] = []
        pos = 0
        for start, end, label in check_spans(text, spans, allow_overlap=False):
            out.append(text[pos:start])
            out.append(f"<{label}>{text[start:end]}</{label}>")
            pos = end
        out.append(text[pos:])
        return "".join(out)

    def constraint_strings(self, labels: Sequence[str]) -> List[str]:
        return [f"<{label}>" for label in labels] + [f"</{label}>" for label in labels]

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
                          if label_key(stack[i][0]) == label_key(name)), None)
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

