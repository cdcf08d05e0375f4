"""Bootstrap intervals for F1 from per-unit counts (percentile method, seeded).

A resample draws the units (sentences; documents for the document-level view) with
replacement; its counts are the weighted sum of the units' tp/fp/fn, so one matrix product
per block of resamples replaces re-scoring. ``paired`` applies the same resamples to two
systems scored on the same units and gives the interval of their difference.
"""

from dataclasses import dataclass
from typing import Dict, Iterator, Optional, Sequence, Tuple

import numpy as np

from .counts import macro_f, micro_f, type_f

DEFAULT_N = 1000
DEFAULT_LEVEL = 0.95
#: resamples per block (bounds the memory of the weight matrix)
BLOCK = 250

Interval = Tuple[float, float]


def _weights(n_units: int, n_boot: int, seed: int) -> Iterator[np.ndarray]:
    """Blocks of ``(resamples, units)`` multiplicities; each row sums to ``n_units``."""
    rng = np.random.default_rng(seed)
    p = np.full(n_units, 1.0 / n_units)
    done = 0
    while done < n_boot:
        size = min(BLOCK, n_boot - done)
        yield rng.multinomial(n_units, p, size=size)
        done += size


def resample(counts: np.ndarray, n_boot: int = DEFAULT_N, seed: int = 0) -> np.ndarray:
    """``(units, types, 3)`` -> ``(n_boot, types, 3)`` counts of resampled unit sets."""
    counts = np.asarray(counts)
    n, t = counts.shape[0], counts.shape[1]
    if n == 0:
        return np.zeros((n_boot, t, 3))
    flat = counts.reshape(n, -1).astype(float)
    return np.concatenate([w @ flat for w in _weights(n, n_boot, seed)]).reshape(n_boot, t, 3)


def percentile_interval(values: np.ndarray, level: float = DEFAULT_LEVEL) -> Optional[Interval]:
    """The central ``level`` interval of ``values`` along axis 0 (NaNs ignored; None if all NaN)."""
    values = np.asarray(values, dtype=float)
    if np.all(np.isnan(values)):
        return None
    alpha = (1 - level) / 2
    lo, hi = np.nanquantile(values, [alpha, 1 - alpha])
    return float(lo), float(hi)


@dataclass
class Intervals:
    """Point estimates and intervals of micro, macro and per-type F1."""

    n_units: int
    micro: float
    macro: float
    per_type: Dict[str, float]
    micro_ci: Optional[Interval]
    macro_ci: Optional[Interval]
    per_type_ci: Dict[str, Optional[Interval]]

    def get(self, key: str) -> Tuple[Optional[float], Optional[Interval]]:
        """``(F1, interval)`` of ``"micro"``, ``"macro"`` or a type (None, None if absent)."""
        if key == "micro":
            return self.micro, self.micro_ci
        if key == "macro":
            return self.macro, self.macro_ci
        if key in self.per_type:
            return self.per_type[key], self.per_type_ci.get(key)
        return None, None


def intervals(counts: np.ndarray, types: Sequence[str], n_boot: int = DEFAULT_N, seed: int = 0,
              level: float = DEFAULT_LEVEL) -> Intervals:
    """F1 (micro, macro, per type present) of ``(units, types, 3)`` counts, each with its
    bootstrap interval."""
    counts = np.asarray(counts)
    total = counts.sum(axis=0)
    point_types = type_f(total)
    boot = resample(counts, n_boot, seed) if n_boot > 0 else None
    per_type, per_type_ci = {}, {}
    boot_types = type_f(boot) if boot is not None else None
    for i, t in enumerate(types):
        if np.isnan(point_types[i]):
            continue
        per_type[t] = float(point_types[i])
        per_type_ci[t] = percentile_interval(boot_types[:, i], level) if boot is not None else None
    return Intervals(
        n_units=int(counts.shape[0]),
        micro=float(micro_f(total)), macro=float(macro_f(total)), per_type=per_type,
        micro_ci=percentile_interval(micro_f(boot), level) if boot is not None else None,
        macro_ci=percentile_interval(macro_f(boot), level) if boot is not None else None,
        per_type_ci=per_type_ci,
    )


@dataclass
class Difference:
    """F1 of system A minus F1 of system B on the same units, with its paired interval."""

    n_units: int
    a: float
    b: float
    diff: float
    ci: Optional[Interval]

    @property
    def verdict(self) -> str:
        """``"A"`` / ``"B"`` when the interval excludes 0 on that side, else ``"-"``."""
        if self.ci is None:
            return "-"
        if self.ci[0] > 0:
            return "A"
        if self.ci[1] < 0:
            return "B"
        return "-"


def paired(counts_a: np.ndarray, counts_b: np.ndarray, average: str = "micro", n_boot: int = DEFAULT_N,
           seed: int = 0, level: float = DEFAULT_LEVEL) -> Difference:
    """Paired bootstrap of ``F1(A) - F1(B)``: both ``(units, types, 3)`` on the same units
    and types, resampled with the same draws."""
    counts_a, counts_b = np.asarray(counts_a), np.asarray(counts_b)
    if counts_a.shape != counts_b.shape:
        raise ValueError(f"paired counts must have the same shape, got {counts_a.shape} and {counts_b.shape}")
    score = {"micro": micro_f, "macro": macro_f}[average]
    both = np.concatenate([counts_a, counts_b], axis=1)  # one resample for both systems
    t = counts_a.shape[1]
    a, b = float(score(counts_a.sum(axis=0))), float(score(counts_b.sum(axis=0)))
    ci = None
    if n_boot > 0 and counts_a.shape[0] > 0:
        boot = resample(both, n_boot, seed)
        ci = percentile_interval(score(boot[:, :t]) - score(boot[:, t:]), level)
    return Difference(int(counts_a.shape[0]), a, b, a - b, ci)
