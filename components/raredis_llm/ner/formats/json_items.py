"""``json``: ``[{"text": "weight loss", "label": "SIGN"}, ...]`` in text order; broken
JSON (truncated, prose around it) is salvaged object by object."""

import json
import re
from typing import Any, Iterable, List, Mapping, Optional, Sequence

from ..text import check_spans, strip_code_fences
from .base import Mention, OutputFormat


class JSONFormat(OutputFormat):
    """``[{"text": "weight loss", "label": "SIGN"}, ...]`` in text order."""

    name = "json"
    _TEXT_KEYS = ("text", "mention", "entity", "span", "name", "value")
    _LABEL_KEYS = ("label", "type", "entity_type", "category", "tag", "class")
    _OBJECT_RE = re.compile(r"\{[^{}\[\]]*\}")

    def render(self, text: str, spans: Iterable[Sequence[Any]]) -> str:
        items = [{"text": text[s:e], "label": label}
                 for s, e, label in check_spans(text, spans, allow_overlap=True)]
        return json.dumps(items, ensure_ascii=False)

    def constraint_strings(self, labels: Sequence[str]) -> List[str]:
        return ["[", "]", "[]", '{"text": "', '", "label": "', '"}, ', '"}]'] + list(labels)

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

