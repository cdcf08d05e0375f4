"""Counters a parsed answer and a model call leave on a Doc.

``doc.user_data[PARSE_STATS]`` (keys in :mod:`raredis_llm.corpus.schema`)::

    {"given": int, "aligned": int,
     "dropped": {"not_found", "bad_label", "malformed", "overlap", "duplicate", "misaligned"},
     "match": {"exact", "case", "normalised", "fuzzy"}}

with ``given == aligned + sum(dropped)`` and ``sum(match) == aligned``;
``doc.user_data[LLM_USAGE]`` holds :data:`USAGE_KEYS`.
"""

from typing import Any, Dict, Iterable, Mapping

from ..models.completion import TOKEN_KEYS

MATCH_TYPES = ("exact", "case", "normalised", "fuzzy")
DROP_REASONS = ("not_found", "bad_label", "malformed", "overlap", "duplicate", "misaligned")
#: What a Doc records: the token counts of ``Completion.usage``, model calls, cache hits.
USAGE_KEYS = TOKEN_KEYS + ("requests", "cache_hits")


def empty_stats() -> Dict[str, Any]:
    """Parse stats with every key at zero."""
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


def empty_usage() -> Dict[str, int]:
    return {key: 0 for key in USAGE_KEYS}


def add_usage(total: Dict[str, int], answers: Iterable[Any]) -> Dict[str, int]:
    """Count each answer as one request, with its token usage and cache hit, into ``total``."""
    for answer in answers:
        total["requests"] += 1
        usage = getattr(answer, "usage", None)
        if isinstance(usage, Mapping):
            for key in TOKEN_KEYS:
                total[key] += int(usage.get(key) or 0)
        if getattr(answer, "cached", False):
            total["cache_hits"] += 1
    return total
