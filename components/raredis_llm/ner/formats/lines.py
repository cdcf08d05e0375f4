"""``lines``: one ``LABEL: mention`` line per mention in text order, ``none`` when there is
no mention. Only the mentions are generated, not the whole text: the cheapest answer."""

import re
from typing import Any, Iterable, List, Sequence

from ..text import check_spans, strip_code_fences
from .base import Mention, OutputFormat

NONE = "none"


class LinesFormat(OutputFormat):
    name = "lines"
    answer_sep = "\n"
    _LINE_RE = re.compile(r"^\s*(?:[-*\u2022]\s*)?([A-Za-z][A-Za-z0-9_\- ]{0,40}?)\s*:\s*(.*?)\s*$")

    def render(self, text: str, spans: Iterable[Sequence[Any]]) -> str:
        lines = [f"{label}: {text[s:e]}" for s, e, label in check_spans(text, spans, allow_overlap=True)]
        return "\n".join(lines) if lines else NONE

    def answer_reference(self, text: str) -> str:
        # "none" when nothing is tagged, but the mentions can add up to the whole sentence
        return text

    def constraint_strings(self, labels: Sequence[str]) -> List[str]:
        return [f"{label}: " for label in labels] + ["\n", NONE]

    def extract(self, text: str, answer: str) -> List[Mention]:
        mentions: List[Mention] = []
        for line in strip_code_fences(answer).splitlines():
            if not line.strip() or line.strip().lower().strip(".") == NONE:
                continue
            m = self._LINE_RE.match(line)
            if m is None:
                continue  # prose, not a mention line
            label, mention = m.group(1).strip(), m.group(2)
            if not mention.strip():
                if label.upper() == label:  # "SIGN:" with its mention missing; else prose ("Here it is:")
                    mentions.append(Mention(text="", label=label, malformed=True))
                continue
            mentions.append(Mention(text=mention, label=label))
        return mentions
