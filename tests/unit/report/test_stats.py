"""Paired significance checks: bootstrap interval, Diebold-Mariano (HLN), McNemar."""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pytest
import scipy.stats

from tokfrag.report import stats

# --------------------------------------------------------------------------- paired bootstrap


def test_bootstrap_clear_shift_gives_interval_around_minus_one_excluding_zero():
    rng = np.random.default_rng(1)
    loss_a = rng.gamma(2.0, 1.0, size=200)
    loss_b = loss_a + 1.0 + rng.normal(0.0, 0.1, size=200)
    iv = stats.paired_bootstrap(loss_a, loss_b)
    assert iv.method == "BCa" and iv.n_items == 200 and iv.confidence == 0.95
    assert iv.estimate == pytest.approx(np.mean(loss_a - loss_b), abs=1e-12)
    assert iv.low < iv.estimate < iv.high < 0.0
    assert iv.estimate == pytest.approx(-1.0, abs=0.03)
    assert -1.05 < iv.low and iv.high < -0.95
    # Width ~ 2 * 1.96 * 0.1 / sqrt(200) = 0.028: the pairing removed the gamma noise entirely.
    assert 0.015 < iv.high - iv.low < 0.045
    assert iv.excludes_zero()


def test_bootstrap_same_distribution_gives_interval_containing_zero():
    # A 95% interval misses the true 0 for about 1 seed in 20 (seeds 1 and 7 of 0..9 do).
    rng = np.random.default_rng(0)
    base = rng.gamma(2.0, 1.0, size=200)
    loss_a = base + rng.normal(0.0, 0.3, size=200)
    loss_b = base + rng.normal(0.0, 0.3, size=200)
    iv = stats.paired_bootstrap(loss_a, loss_b)
    assert iv.low < 0.0 < iv.high
    assert not iv.excludes_zero()
    # sd of a - b is 0.3 * sqrt(2); a 95% interval is about 2 * 1.96 * 0.424 / sqrt(200) wide.
    assert 0.08 < iv.high - iv.low < 0.16


def test_bootstrap_matches_one_sample_bootstrap_of_the_differences():
    # Paired mode resamples item indices, so it equals bootstrapping d = a - b directly.
    rng = np.random.default_rng(3)
    loss_a, loss_b = rng.normal(size=60), rng.normal(0.2, 1.0, size=60)
    iv = stats.paired_bootstrap(loss_a, loss_b, n_resamples=500, seed=11)
    direct = scipy.stats.bootstrap(
        (loss_a - loss_b,),
        np.mean,
        n_resamples=500,
        confidence_level=0.95,
        method="BCa",
        rng=np.random.default_rng(11),
    )
    np.testing.assert_allclose([iv.low, iv.high], direct.confidence_interval, rtol=1e-10)


def test_bootstrap_is_reproducible_for_a_seed_and_varies_with_it():
    rng = np.random.default_rng(5)
    loss_a, loss_b = rng.normal(size=100), rng.normal(size=100)
    first = stats.paired_bootstrap(loss_a, loss_b, seed=42)
    again = stats.paired_bootstrap(loss_a, loss_b, seed=42)
    other = stats.paired_bootstrap(loss_a, loss_b, seed=43)
    assert first == again
    assert (other.low, other.high) != (first.low, first.high)
    assert other.estimate == first.estimate


def test_bootstrap_confidence_level_widens_the_interval():
    rng = np.random.default_rng(6)
    loss_a, loss_b = rng.normal(size=100), rng.normal(size=100)
    narrow = stats.paired_bootstrap(loss_a, loss_b, confidence=0.8)
    wide = stats.paired_bootstrap(loss_a, loss_b, confidence=0.99)
    assert wide.low < narrow.low < narrow.high < wide.high
    assert narrow.confidence == 0.8 and wide.confidence == 0.99


def test_bootstrap_identical_losses_fall_back_to_a_zero_percentile_interval_quietly():
    loss = np.random.default_rng(0).gamma(2.0, 1.0, size=50)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # BCa's degenerate-data warnings must not leak
        iv = stats.paired_bootstrap(loss, loss.copy())
    assert (iv.estimate, iv.low, iv.high) == (0.0, 0.0, 0.0)
    assert iv.method == "percentile"
    assert not iv.excludes_zero()


def test_bootstrap_constant_nonzero_difference_is_a_point_interval():
    loss = np.linspace(0.0, 1.0, 40)
    iv = stats.paired_bootstrap(loss, loss + 0.5)
    assert iv.method == "percentile"
    assert iv.low == pytest.approx(-0.5) and iv.high == pytest.approx(-0.5)
    assert iv.excludes_zero()


@pytest.mark.parametrize(
    "shape_a, shape_b",
    [((3,), (4,)), ((3, 2), (3, 2)), ((1,), (1,)), ((0,), (0,)), ((4,), (4, 1))],
)
def test_bootstrap_rejects_bad_shapes_naming_them(shape_a, shape_b):
    with pytest.raises(ValueError, match=re.escape(f"{shape_a} and {shape_b}")):
        stats.paired_bootstrap(np.zeros(shape_a), np.ones(shape_b))


def test_bootstrap_rejects_bad_confidence_and_non_finite_losses():
    with pytest.raises(ValueError, match="confidence"):
        stats.paired_bootstrap(np.zeros(5), np.ones(5), confidence=1.0)
    with pytest.raises(ValueError, match="finite"):
        stats.paired_bootstrap(np.array([0.0, np.nan, 1.0]), np.ones(3))


# --------------------------------------------------------------------------- Diebold-Mariano


def dm_hln_reference(loss_a: np.ndarray, loss_b: np.ndarray, h: int) -> tuple[float, float]:
    """HLN-corrected DM statistic and two-sided p-value, written out term by term."""
    d = [float(x) - float(y) for x, y in zip(loss_a, loss_b, strict=True)]
    n = len(d)
    mean = sum(d) / n

    def gamma(k: int) -> float:
        return sum((d[t] - mean) * (d[t - k] - mean) for t in range(k, n)) / n

    long_run = gamma(0) + 2.0 * sum(gamma(k) for k in range(1, h))
    dm = mean / math.sqrt(long_run / n)
    hln = dm * math.sqrt((n + 1 - 2 * h + h * (h - 1) / n) / n)
    return hln, 2.0 * scipy.stats.t.sf(abs(hln), n - 1)


def autocorrelated_losses(seed: int, n: int = 150) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    # MA(2) noise in the differential, as h = 3 step-ahead errors would have.
    e = rng.normal(size=n + 2)
    loss_a = rng.gamma(2.0, 1.0, size=n)
    loss_b = loss_a + 0.15 + e[2:] + 0.6 * e[1:-1] + 0.3 * e[:-2]
    return loss_a, loss_b


@pytest.mark.parametrize("horizon", [1, 3])
def test_dm_matches_a_direct_computation_of_the_hln_statistic(horizon):
    loss_a, loss_b = autocorrelated_losses(seed=12)
    result = stats.diebold_mariano(loss_a, loss_b, horizon=horizon)
    expected_stat, expected_p = dm_hln_reference(loss_a, loss_b, horizon)
    assert result.statistic == pytest.approx(expected_stat, rel=1e-10)
    assert result.p_value == pytest.approx(expected_p, rel=1e-10)
    assert result.n_items == 150 and "Diebold-Mariano" in result.name


def test_dm_horizon_changes_the_statistic_for_autocorrelated_differentials():
    loss_a, loss_b = autocorrelated_losses(seed=12)
    h1 = stats.diebold_mariano(loss_a, loss_b, horizon=1)
    h3 = stats.diebold_mariano(loss_a, loss_b, horizon=3)
    # Positive autocorrelation inflates the long-run variance: a smaller |DM|, a larger p.
    assert abs(h3.statistic) < abs(h1.statistic) and h3.p_value > h1.p_value


def test_dm_identical_losses_give_p_one():
    loss = np.random.default_rng(2).gamma(2.0, 1.0, size=80)
    result = stats.diebold_mariano(loss, loss.copy(), horizon=2)
    assert result.statistic == 0.0 and result.p_value == 1.0
    assert not result.significant()


def test_dm_strong_systematic_difference_is_highly_significant():
    rng = np.random.default_rng(4)
    loss_a = rng.gamma(2.0, 1.0, size=200)
    loss_b = loss_a + 1.0 + rng.normal(0.0, 0.5, size=200)
    result = stats.diebold_mariano(loss_a, loss_b)
    assert result.p_value < 1e-6
    assert result.statistic < 0.0  # model a has the lower loss
    assert result.significant(alpha=1e-6)


@pytest.mark.parametrize("horizon", [0, 10, 11, 1.5])
def test_dm_rejects_horizons_outside_one_to_n(horizon):
    with pytest.raises(ValueError, match="horizon"):
        stats.diebold_mariano(np.arange(10.0), np.arange(10.0) ** 2, horizon=horizon)


def test_dm_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=re.escape("(5,) and (6,)")):
        stats.diebold_mariano(np.zeros(5), np.zeros(6))


# --------------------------------------------------------------------------- McNemar


def paired_outcomes(
    both: int, only_a: int, only_b: int, neither: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Correctness vectors with the given contingency counts, in shuffled item order."""
    a = [True] * both + [True] * only_a + [False] * only_b + [False] * neither
    b = [True] * both + [False] * only_a + [True] * only_b + [False] * neither
    order = np.random.default_rng(seed).permutation(len(a))
    return np.array(a)[order], np.array(b)[order]


def test_mcnemar_exact_matches_binomtest_on_the_discordant_pairs():
    correct_a, correct_b = paired_outcomes(both=30, only_a=10, only_b=2, neither=8)
    result = stats.mcnemar(correct_a, correct_b)
    assert result.name == "McNemar (exact)"
    assert result.statistic == 10.0 and result.n_items == 50
    expected = scipy.stats.binomtest(10, 12, p=0.5, alternative="two-sided").pvalue
    assert result.p_value == pytest.approx(expected, rel=1e-12)
    assert 0.03 < result.p_value < 0.04  # 2 * P(X >= 10), X ~ Bin(12, 1/2) = 0.0386
    # Swapping the models swaps b and c; the two-sided p-value is the same.
    assert stats.mcnemar(correct_b, correct_a).p_value == pytest.approx(result.p_value)


def test_mcnemar_chi_square_with_continuity_correction_for_many_discordant_pairs():
    correct_a, correct_b = paired_outcomes(both=100, only_a=40, only_b=20, neither=40)
    result = stats.mcnemar(correct_a, correct_b)
    assert result.name == "McNemar (chi-square, continuity-corrected)"
    expected_stat = (abs(40 - 20) - 1) ** 2 / (40 + 20)
    assert result.statistic == pytest.approx(expected_stat, rel=1e-12)
    assert result.p_value == pytest.approx(scipy.stats.chi2.sf(expected_stat, 1), rel=1e-12)
    assert result.significant()


@pytest.mark.parametrize(
    "only_a, only_b, name",
    [(14, 10, "McNemar (exact)"), (15, 10, "McNemar (chi-square, continuity-corrected)")],
)
def test_mcnemar_switches_to_chi_square_at_25_discordant_pairs(only_a, only_b, name):
    correct_a, correct_b = paired_outcomes(both=5, only_a=only_a, only_b=only_b, neither=5)
    assert stats.mcnemar(correct_a, correct_b).name == name


def test_mcnemar_no_discordant_pairs_gives_p_one():
    correct_a, correct_b = paired_outcomes(both=20, only_a=0, only_b=0, neither=7)
    result = stats.mcnemar(correct_a, correct_b)
    assert result.statistic == 0.0 and result.p_value == 1.0
    assert not result.significant()


def test_mcnemar_accepts_zero_one_integers_and_rejects_other_values_and_shapes():
    correct_a, correct_b = paired_outcomes(both=3, only_a=6, only_b=1, neither=2)
    as_bool = stats.mcnemar(correct_a, correct_b)
    as_int = stats.mcnemar(correct_a.astype(int), correct_b.astype(int))
    assert as_int == as_bool
    with pytest.raises(ValueError, match="correct_a"):
        stats.mcnemar(np.array([0, 2, 1]), np.array([1, 0, 1]))
    with pytest.raises(ValueError, match=re.escape("(3,) and (2,)")):
        stats.mcnemar(np.ones(3, dtype=bool), np.ones(2, dtype=bool))
