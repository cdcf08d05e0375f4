"""Throughput, memory and LLM usage of a pipeline run.

Words are the non-space tokens of the gold Docs (the same count for every system).
Peak memory is the process's peak resident set size (``ru_maxrss``: it includes the
pipeline loading and everything before), plus torch's CUDA peak when CUDA is in use.
LLM usage and parse statistics are summed from ``doc.user_data`` under the keys of
``corpus/schema.py``.
"""

import resource
import sys
import time
from collections import Counter
from typing import Dict, Iterable, Optional

from spacy.tokens import Doc

from ..corpus import schema

USAGE_FIELDS = ("prompt_tokens", "completion_tokens", "requests", "cache_hits")


class Stopwatch:
    def __enter__(self) -> "Stopwatch":
        self.start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.start


def reset_cuda_peak() -> None:
    torch = sys.modules.get("torch")  # never import torch just to measure
    if torch is not None and torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()


def memory_stats() -> Dict[str, Optional[float]]:
    """``peak_rss_mb`` (process lifetime) and ``cuda_peak_mb`` (None without CUDA)."""
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if sys.platform == "darwin":  # bytes there
        peak_kb /= 1024
    out: Dict[str, Optional[float]] = {"peak_rss_mb": round(peak_kb / 1024, 1), "cuda_peak_mb": None}
    try:
        import psutil

        out["rss_mb"] = round(psutil.Process().memory_info().rss / 2**20, 1)
    except ImportError:  # pragma: no cover - psutil is a dependency
        pass
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        out["cuda_peak_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    return out


def throughput(n_words: int, n_docs: int, seconds: float) -> dict:
    return {
        "wall_s": round(seconds, 3),
        "words": n_words,
        "docs": n_docs,
        "words_per_s": round(n_words / seconds, 2) if seconds > 0 else None,
        "docs_per_s": round(n_docs / seconds, 3) if seconds > 0 else None,
    }


def sum_usage(docs: Iterable[Doc], price_prompt_1k: float = 0.0, price_completion_1k: float = 0.0) -> Optional[dict]:
    """Sum of ``doc.user_data[LLM_USAGE]``; None when no Doc carries it."""
    total: Counter = Counter()
    seen = 0
    for doc in docs:
        usage = doc.user_data.get(schema.LLM_USAGE)
        if not usage:
            continue
        seen += 1
        for key, value in usage.items():
            if isinstance(value, (int, float)):
                total[key] += value
    if not seen:
        return None
    out = {key: total.get(key, 0) for key in USAGE_FIELDS}
    out.update({k: v for k, v in total.items() if k not in out})
    out["docs_with_usage"] = seen
    out["price_per_1k"] = {"prompt": price_prompt_1k, "completion": price_completion_1k}
    out["cost"] = round(
        out["prompt_tokens"] / 1000 * price_prompt_1k + out["completion_tokens"] / 1000 * price_completion_1k, 6
    )
    return out


def sum_parse_stats(docs: Iterable[Doc]) -> Optional[dict]:
    """Sum of ``doc.user_data[PARSE_STATS]``; None when no Doc carries it."""
    given = aligned = seen = 0
    dropped: Counter = Counter()
    for doc in docs:
        stats = doc.user_data.get(schema.PARSE_STATS)
        if not stats:
            continue
        seen += 1
        given += int(stats.get("given", 0))
        aligned += int(stats.get("aligned", 0))
        for reason, n in (stats.get("dropped") or {}).items():
            dropped[reason] += int(n)
    if not seen:
        return None
    return {"given": given, "aligned": aligned, "dropped": dict(sorted(dropped.items())),
            "dropped_total": sum(dropped.values()), "docs_with_stats": seen}
