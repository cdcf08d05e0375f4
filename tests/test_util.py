import random

import pytest

from raredis_llm.util import seeded_order, seeded_sample


def test_seeded_sample_is_seeded_sorted_and_unique():
    a = seeded_sample(890, 24, seed=0)
    assert a == seeded_sample(890, 24, seed=0)
    assert a == sorted(set(a)) and len(a) == 24 and all(0 <= i < 890 for i in a)
    assert a != seeded_sample(890, 24, seed=1)


@pytest.mark.parametrize("seed", [0, 3])
def test_samples_are_nested(seed):
    small, mid, big = (set(seeded_sample(890, n, seed)) for n in (8, 24, 200))
    assert small <= mid <= big
    assert seeded_sample(890, 8, seed) == sorted(seeded_order(890, seed)[:8])


def test_all_when_n_is_unset_or_too_big():
    for n in (None, 0, -1, 10, 11):
        assert seeded_sample(10, n, seed=5) == list(range(10))
    assert seeded_sample(0, 3) == []
    with pytest.raises(ValueError):
        seeded_sample(-1, 3)


def test_order_is_a_permutation_from_python_random():
    order = seeded_order(50, 7)
    expected = list(range(50))
    random.Random(7).shuffle(expected)
    assert order == expected
