"""Small helpers shared by every stage: seeded sampling.

``seeded_sample`` is the one way the project draws a seeded subset (of test sentences,
validation records, benchmark inputs). Samples are nested: with the same seed and total,
the sample of ``n`` holds the sample of every smaller ``n``, so a system scored on 24
sentences can be paired with one scored on 200.
"""

import random
from typing import List, Optional


def seeded_order(n_total: int, seed: int) -> List[int]:
    """A seeded permutation of ``range(n_total)``: the order in which items join a sample."""
    order = list(range(n_total))
    random.Random(seed).shuffle(order)
    return order


def seeded_sample(n_total: int, n: Optional[int], seed: int = 0) -> List[int]:
    """``n`` indices of ``range(n_total)`` drawn with ``seed``, in corpus order.

    ``n`` of None, 0 or less, or ``n >= n_total`` gives every index. The sample of ``n`` is
    the first ``n`` of :func:`seeded_order`, so it contains the sample of any smaller ``n``.
    """
    if n_total < 0:
        raise ValueError(f"n_total must be >= 0, got {n_total}")
    if n is None or n <= 0 or n >= n_total:
        return list(range(n_total))
    return sorted(seeded_order(n_total, seed)[:n])
