"""The string type every RareDis LLM backend returns.

A :class:`Completion` *is* the generated text (a ``str``, so spacy-llm tasks parse it
unchanged) and also carries what the run needs for accounting:

* ``usage``: ``{"prompt_tokens": int, "completion_tokens": int}`` as reported by the
  server or counted by the tokenizer (zeros when unknown);
* ``cached``: ``True`` when the text came from the response cache, not the model.

Tasks sum ``usage`` into ``doc.user_data``; a cached completion keeps the usage of the
original call, so totals stay comparable between a fresh run and a resumed one.
"""

from typing import Any, Dict, Iterable, Mapping, Optional

USAGE_KEYS = ("prompt_tokens", "completion_tokens")


def empty_usage() -> Dict[str, int]:
    return {key: 0 for key in USAGE_KEYS}


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
        clean = empty_usage()
        for key, value in (usage or {}).items():
            if key in USAGE_KEYS and value is not None:
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


def usage_of(text: Any) -> Dict[str, int]:
    """Usage of a backend answer; zeros for a plain ``str``."""
    usage = getattr(text, "usage", None)
    return dict(usage) if isinstance(usage, dict) else empty_usage()


def sum_usage(texts: Iterable[Any]) -> Dict[str, int]:
    """Sum ``usage`` over completions (plain strings count as zero)."""
    total = empty_usage()
    for text in texts:
        for key, value in usage_of(text).items():
            total[key] += value
    return total
