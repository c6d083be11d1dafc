"""The iid paired bootstrap interval: BCa, its percentile fallback, reproducibility, checks."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import scipy.stats

from tokfrag.report.stats import bootstrap

# --------------------------------------------------------------------------- paired bootstrap


def test_bootstrap_clear_shift_gives_interval_around_minus_one_excluding_zero():
    rng = np.random.default_rng(1)
    loss_a = rng.gamma(2.0, 1.0, size=200)
    loss_b = loss_a + 1.0 + rng.normal(0.0, 0.1, size=200)
    iv = bootstrap.paired_bootstrap(loss_a, loss_b)
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
    iv = bootstrap.paired_bootstrap(loss_a, loss_b)
    assert iv.low < 0.0 < iv.high
    assert not iv.excludes_zero()
    # sd of a - b is 0.3 * sqrt(2); a 95% interval is about 2 * 1.96 * 0.424 / sqrt(200) wide.
    assert 0.08 < iv.high - iv.low < 0.16


def test_bootstrap_matches_one_sample_bootstrap_of_the_differences():
    # Paired mode resamples item indices, so it equals bootstrapping d = a - b directly.
    rng = np.random.default_rng(3)
    loss_a, loss_b = rng.normal(size=60), rng.normal(0.2, 1.0, size=60)
    iv = bootstrap.paired_bootstrap(loss_a, loss_b, n_resamples=500, seed=11)
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
    first = bootstrap.paired_bootstrap(loss_a, loss_b, seed=42)
    again = bootstrap.paired_bootstrap(loss_a, loss_b, seed=42)
    other = bootstrap.paired_bootstrap(loss_a, loss_b, seed=43)
    assert first == again
    assert (other.low, other.high) != (first.low, first.high)
    assert other.estimate == first.estimate


def test_bootstrap_confidence_level_widens_the_interval():
    rng = np.random.default_rng(6)
    loss_a, loss_b = rng.normal(size=100), rng.normal(size=100)
    narrow = bootstrap.paired_bootstrap(loss_a, loss_b, confidence=0.8)
    wide = bootstrap.paired_bootstrap(loss_a, loss_b, confidence=0.99)
    assert wide.low < narrow.low < narrow.high < wide.high
    assert narrow.confidence == 0.8 and wide.confidence == 0.99


def test_bootstrap_identical_losses_fall_back_to_a_zero_percentile_interval_quietly():
    loss = np.random.default_rng(0).gamma(2.0, 1.0, size=50)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # BCa's degenerate-data warnings must not leak
        iv = bootstrap.paired_bootstrap(loss, loss.copy())
    assert (iv.estimate, iv.low, iv.high) == (0.0, 0.0, 0.0)
    assert iv.method == "percentile"
    assert not iv.excludes_zero()


def test_bootstrap_constant_nonzero_difference_is_a_point_interval():
    loss = np.linspace(0.0, 1.0, 40)
    iv = bootstrap.paired_bootstrap(loss, loss + 0.5)
    assert iv.method == "percentile"
    assert iv.low == pytest.approx(-0.5) and iv.high == pytest.approx(-0.5)
    assert iv.excludes_zero()


@pytest.mark.parametrize(
    "shape_a, shape_b",
    [((3,), (4,)), ((3, 2), (3, 2)), ((1,), (1,)), ((0,), (0,)), ((4,), (4, 1))],
)
def test_bootstrap_rejects_bad_shapes_naming_them(shape_a, shape_b):
    with pytest.raises(ValueError, match=re.escape(f"{shape_a} and {shape_b}")):
        bootstrap.paired_bootstrap(np.zeros(shape_a), np.ones(shape_b))


def test_bootstrap_rejects_bad_confidence_and_non_finite_losses():
    with pytest.raises(ValueError, match="confidence"):
        bootstrap.paired_bootstrap(np.zeros(5), np.ones(5), confidence=1.0)
    with pytest.raises(ValueError, match="finite"):
        bootstrap.paired_bootstrap(np.array([0.0, np.nan, 1.0]), np.ones(3))
