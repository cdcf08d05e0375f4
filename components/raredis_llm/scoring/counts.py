"""Precision, recall and F1 from true-positive / false-positive / false-negative counts.

Every metric view of the harness is reduced to count arrays of shape ``(..., types, 3)``
(last axis: tp, fp, fn), per sentence or per document. Point estimates sum them over the
units; the bootstrap sums them over resampled units; both use the functions here, so an
interval and its point estimate are computed the same way.

Conventions are seqeval's: a score with a zero denominator is 0; ``macro`` is the
unweighted mean over the types that occur (in gold or predictions) in the units summed.
"""

from typing import Dict, Sequence

import numpy as np

TP, FP, FN = 0, 1, 2


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    out = np.zeros(np.broadcast(a, b).shape, dtype=float)
    np.divide(a, b, out=out, where=b > 0)
    return out


def prf(counts: np.ndarray) -> np.ndarray:
    """``(..., 3)`` counts -> ``(..., 3)`` precision, recall, F1."""
    counts = np.asarray(counts, dtype=float)
    tp, fp, fn = counts[..., TP], counts[..., FP], counts[..., FN]
    p = _div(tp, tp + fp)
    r = _div(tp, tp + fn)
    f = _div(2 * tp, 2 * tp + fp + fn)
    return np.stack([p, r, f], axis=-1)


def present(counts: np.ndarray) -> np.ndarray:
    """``(..., types, 3)`` -> ``(..., types)``: the type occurs in gold or predictions."""
    return np.asarray(counts).sum(axis=-1) > 0


def micro_f(counts: np.ndarray) -> np.ndarray:
    """``(..., types, 3)`` -> ``(...)`` micro F1."""
    return prf(np.asarray(counts).sum(axis=-2))[..., 2]


def macro_f(counts: np.ndarray) -> np.ndarray:
    """``(..., types, 3)`` -> ``(...)`` macro F1 over the types present (0 if none)."""
    counts = np.asarray(counts)
    mask = present(counts)
    f = prf(counts)[..., 2]
    n = mask.sum(axis=-1)
    return _div((f * mask).sum(axis=-1), n)


def type_f(counts: np.ndarray) -> np.ndarray:
    """``(..., types, 3)`` -> ``(..., types)`` F1 per type, NaN where the type is absent."""
    counts = np.asarray(counts)
    return np.where(present(counts), prf(counts)[..., 2], np.nan)


def summary(total: np.ndarray, types: Sequence[str]) -> Dict[str, dict]:
    """Summed ``(types, 3)`` counts -> ``{"micro", "macro", "per_type"}`` of
    ``{"p", "r", "f", "support"}`` (support = gold entities), as seqeval reports them.

    ``per_type`` holds the types that occur, sorted by name.
    """
    total = np.asarray(total, dtype=float).reshape(len(types), 3)
    scores = prf(total)
    mask = present(total)
    support = total[:, TP] + total[:, FN]

    def row(p: float, r: float, f: float, s: float) -> dict:
        return {"p": float(p), "r": float(r), "f": float(f), "support": int(s)}

    per_type = {t: row(*scores[i], support[i]) for i, t in enumerate(types) if mask[i]}
    micro = prf(total.sum(axis=0))
    n = int(mask.sum())
    macro = scores[mask].mean(axis=0) if n else np.zeros(3)
    return {
        "micro": row(*micro, support.sum()),
        "macro": row(*macro, support.sum()),
        "per_type": dict(sorted(per_type.items())),
    }
