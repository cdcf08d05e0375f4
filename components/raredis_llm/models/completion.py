"""The string type every engine returns: the generated text (a ``str``, so spacy-llm tasks
parse it unchanged) carrying ``usage`` (prompt/completion tokens, zeros when unknown),
``cached`` (answered from the response cache) and ``meta`` (e.g. ``finish_reason``)."""

from typing import Any, Dict, Mapping, Optional

TOKEN_KEYS = ("prompt_tokens", "completion_tokens")


def _zero_tokens() -> Dict[str, int]:
    return {key: 0 for key in TOKEN_KEYS}


class Completion(str):
    """Generated text with ``.usage`` and ``.cached`` attached."""

    usage: Dict[str, int]
    cached: bool
    meta: Dict[str, Any]

    def __new__(
        cls,
        text: str,
        usage: Optional[Mapping[str, Any]] = None,
        cached: bool = False,
        meta: Optional[Mapping[str, Any]] = None,
    ) -> "Completion":
        obj = super().__new__(cls, "" if text is None else text)
        clean = _zero_tokens()
        for key, value in (usage or {}).items():
            if key in TOKEN_KEYS and value is not None:
                clean[key] = int(value)
        obj.usage = clean
        obj.cached = bool(cached)
        obj.meta = dict(meta or {})
        return obj

    @property
    def text(self) -> str:
        return str.__str__(self)

    @property
    def total_tokens(self) -> int:
        return self.usage["prompt_tokens"] + self.usage["completion_tokens"]

    def with_cached(self, cached: bool = True) -> "Completion":
        return Completion(self.text, self.usage, cached=cached, meta=self.meta)

    def __reduce__(self):  # keep usage/cached through pickling (multiprocessing)
        return (Completion, (self.text, self.usage, self.cached, self.meta))

    def __repr__(self) -> str:
        flag = ", cached" if self.cached else ""
        return f"Completion({self.text!r}, usage={self.usage}{flag})"
