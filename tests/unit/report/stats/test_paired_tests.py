"""Paired hypothesis tests: Diebold-Mariano (HLN-corrected) and McNemar."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import scipy.stats

from tokfrag.report.stats import paired_tests

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
    result = paired_tests.diebold_mariano(loss_a, loss_b, horizon=horizon)
    expected_stat, expected_p = dm_hln_reference(loss_a, loss_b, horizon)
    assert result.statistic == pytest.approx(expected_stat, rel=1e-10)
    assert result.p_value == pytest.approx(expected_p, rel=1e-10)
    assert result.n_items == 150 and "Diebold-Mariano" in result.name


def test_dm_horizon_changes_the_statistic_for_autocorrelated_differentials():
    loss_a, loss_b = autocorrelated_losses(seed=12)
    h1 = paired_tests.diebold_mariano(loss_a, loss_b, horizon=1)
    h3 = paired_tests.diebold_mariano(loss_a, loss_b, horizon=3)
    # Positive autocorrelation inflates the long-run variance: a smaller |DM|, a larger p.
    assert abs(h3.statistic) < abs(h1.statistic) and h3.p_value > h1.p_value


def test_dm_identical_losses_give_p_one():
    loss = np.random.default_rng(2).gamma(2.0, 1.0, size=80)
    result = paired_tests.diebold_mariano(loss, loss.copy(), horizon=2)
    assert result.statistic == 0.0 and result.p_value == 1.0
    assert not result.significant()


def test_dm_strong_systematic_difference_is_highly_significant():
    rng = np.random.default_rng(4)
    loss_a = rng.gamma(2.0, 1.0, size=200)
    loss_b = loss_a + 1.0 + rng.normal(0.0, 0.5, size=200)
    result = paired_tests.diebold_mariano(loss_a, loss_b)
    assert result.p_value < 1e-6
    assert result.statistic < 0.0  # model a has the lower loss
    assert result.significant(alpha=1e-6)


@pytest.mark.parametrize("horizon", [0, 10, 11, 1.5])
def test_dm_rejects_horizons_outside_one_to_n(horizon):
    with pytest.raises(ValueError, match="horizon"):
        paired_tests.diebold_mariano(np.arange(10.0), np.arange(10.0) ** 2, horizon=horizon)


def test_dm_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=re.escape("(5,) and (6,)")):
        paired_tests.diebold_mariano(np.zeros(5), np.zeros(6))


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
    result = paired_tests.mcnemar(correct_a, correct_b)
    assert result.name == "McNemar (exact)"
    assert result.statistic == 10.0 and result.n_items == 50
    expected = scipy.stats.binomtest(10, 12, p=0.5, alternative="two-sided").pvalue
    assert result.p_value == pytest.approx(expected, rel=1e-12)
    assert 0.03 < result.p_value < 0.04  # 2 * P(X >= 10), X ~ Bin(12, 1/2) = 0.0386
    # Swapping the models swaps b and c; the two-sided p-value is the same.
    assert paired_tests.mcnemar(correct_b, correct_a).p_value == pytest.approx(result.p_value)


def test_mcnemar_chi_square_with_continuity_correction_for_many_discordant_pairs():
    correct_a, correct_b = paired_outcomes(both=100, only_a=40, only_b=20, neither=40)
    result = paired_tests.mcnemar(correct_a, correct_b)
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
    assert paired_tests.mcnemar(correct_a, correct_b).name == name


def test_mcnemar_no_discordant_pairs_gives_p_one():
    correct_a, correct_b = paired_outcomes(both=20, only_a=0, only_b=0, neither=7)
    result = paired_tests.mcnemar(correct_a, correct_b)
    assert result.statistic == 0.0 and result.p_value == 1.0
    assert not result.significant()


def test_mcnemar_accepts_zero_one_integers_and_rejects_other_values_and_shapes():
    correct_a, correct_b = paired_outcomes(both=3, only_a=6, only_b=1, neither=2)
    as_bool = paired_tests.mcnemar(correct_a, correct_b)
    as_int = paired_tests.mcnemar(correct_a.astype(int), correct_b.astype(int))
    assert as_int == as_bool
    with pytest.raises(ValueError, match="correct_a"):
        paired_tests.mcnemar(np.array([0, 2, 1]), np.array([1, 0, 1]))
    with pytest.raises(ValueError, match=re.escape("(3,) and (2,)")):
        paired_tests.mcnemar(np.ones(3, dtype=bool), np.ones(2, dtype=bool))
