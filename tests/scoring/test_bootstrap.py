import numpy as np
import pytest

from raredis_llm.scoring.bootstrap import intervals, paired, resample
from raredis_llm.scoring.counts import macro_f, micro_f, summary

TYPES = ["RAREDISEASE", "DISEASE", "SIGN", "SYMPTOM"]


def random_counts(n, seed=0):
    """Per-sentence tp/fp/fn of a middling system: (n, 4 types, 3)."""
    rng = np.random.default_rng(seed)
    gold = rng.poisson([1.0, 0.6, 0.8, 0.3], size=(n, 4))
    tp = rng.binomial(gold, [0.8, 0.5, 0.4, 0.6])
    fp = rng.poisson([0.2, 0.4, 0.5, 0.3], size=(n, 4))
    return np.stack([tp, fp, gold - tp], axis=-1)


def width(ci):
    return ci[1] - ci[0]


@pytest.mark.parametrize("seed", range(4))
def test_intervals_contain_the_point_estimate(seed):
    counts = random_counts(60, seed)
    iv = intervals(counts, TYPES, n_boot=500, seed=seed)
    assert iv.micro == pytest.approx(summary(counts.sum(axis=0), TYPES)["micro"]["f"])
    assert iv.macro == pytest.approx(summary(counts.sum(axis=0), TYPES)["macro"]["f"])
    for key in ["micro", "macro"] + list(iv.per_type):
        f, ci = iv.get(key)
        assert ci[0] <= f <= ci[1], key
        assert 0 <= ci[0] < ci[1] <= 1, key


def test_intervals_shrink_with_more_sentences():
    few = random_counts(40, seed=1)
    many = np.concatenate([few] * 16)  # same point estimate, 16 times the sentences
    a = intervals(few, TYPES, n_boot=1000, seed=0)
    b = intervals(many, TYPES, n_boot=1000, seed=0)
    assert b.micro == pytest.approx(a.micro)
    assert width(b.micro_ci) < 0.4 * width(a.micro_ci)
    assert width(b.macro_ci) < 0.4 * width(a.macro_ci)
    for t in a.per_type:
        assert width(b.per_type_ci[t]) < width(a.per_type_ci[t]), t
    # and the interval of independent, larger samples is narrower too
    assert width(intervals(random_counts(800, 2), TYPES).micro_ci) < width(intervals(random_counts(50, 2), TYPES).micro_ci)


def test_seeded_and_sized():
    counts = random_counts(30)
    assert intervals(counts, TYPES, n_boot=300, seed=4) == intervals(counts, TYPES, n_boot=300, seed=4)
    boot = resample(counts, n_boot=7, seed=0)
    assert boot.shape == (7, 4, 3)
    # every resample draws as many sentences as there are: the gold totals stay near the real one
    same = np.repeat(counts[:1], 30, axis=0)
    assert (resample(same, 50, 0) == same.sum(axis=0)).all()


def test_perfect_and_empty_systems():
    gold_only = np.zeros((20, 4, 3), dtype=int)
    gold_only[:, 0, 0] = 1  # every sentence: one right RAREDISEASE
    iv = intervals(gold_only, TYPES, n_boot=200)
    assert (iv.micro, iv.micro_ci) == (1.0, (1.0, 1.0))
    assert list(iv.per_type) == ["RAREDISEASE"]  # absent types have no score
    empty = intervals(np.zeros((0, 4, 3)), TYPES, n_boot=50)
    assert empty.micro == 0.0 and empty.per_type == {}


def test_macro_is_the_mean_over_types_present():
    total = np.array([[2, 0, 0], [0, 0, 0], [1, 1, 0], [0, 0, 1]])
    assert macro_f(total) == pytest.approx((1.0 + 2 / 3 + 0.0) / 3)
    assert micro_f(total) == pytest.approx(6 / 8)


def test_paired_difference():
    a = random_counts(80, seed=3)
    same = paired(a, a, n_boot=300)
    assert same.diff == 0.0 and same.ci == (0.0, 0.0) and same.verdict == "-"
    worse = a.copy()
    worse[..., 2] += worse[..., 0]  # B misses every entity A finds
    worse[..., 0] = 0
    d = paired(a, worse, n_boot=300)
    assert d.diff == pytest.approx(d.a - d.b) and d.b == 0.0
    assert d.ci[0] > 0 and d.verdict == "A"
    assert paired(worse, a, n_boot=300).verdict == "B"
    # the paired interval contains the observed difference
    c = random_counts(80, seed=4)
    noisy = paired(a[:10], c[:10], n_boot=500)
    assert noisy.ci[0] < noisy.diff < noisy.ci[1]
    with pytest.raises(ValueError, match="same shape"):
        paired(a, a[:5])
