"""HistoricalAverageForecaster: T-GCN's rolling window mean, by hand and saved/loaded,
without and with gaps (NaN inputs)."""

from __future__ import annotations

import numpy as np
import pytest

from tokfrag.families import load_forecaster
from tokfrag.families.baselines.series import HistoricalAverageForecaster
from tokfrag.models.forecaster import Forecaster


def _tgcn_ha(window: np.ndarray, horizon: int) -> list[float]:
    """T-GCN's Baselines/baselines.py HA loop for one node, written out plainly."""
    a, out = list(window), []
    for _ in range(horizon):
        a1 = sum(a) / len(a)
        out.append(a1)
        a = a[1:] + [a1]
    return out


def test_hand_made_window():
    windows = np.array([[[1.0, 2.0, 3.0, 4.0], [5.0, 5.0, 5.0, 5.0]]])  # (S=1, N=2, lags=4)
    out = HistoricalAverageForecaster(4, 3).forecast(windows)
    assert out.shape == (1, 2, 3)
    # 2.5 = mean(1, 2, 3, 4); 2.875 = mean(2, 3, 4, 2.5); 3.09375 = mean(3, 4, 2.5, 2.875)
    np.testing.assert_allclose(out[0, 0], [2.5, 2.875, 3.09375], rtol=0, atol=1e-15)
    np.testing.assert_array_equal(out[0, 1], [5.0, 5.0, 5.0])  # a constant stays constant


def test_matches_the_tgcn_loop_on_random_windows():
    rng = np.random.default_rng(0)
    windows = rng.uniform(10, 70, size=(6, 5, 12))
    out = HistoricalAverageForecaster(12, 12).forecast(windows)
    assert out.shape == (6, 5, 12)
    for s in range(6):
        for n in range(5):
            np.testing.assert_allclose(out[s, n], _tgcn_ha(windows[s, n], 12), rtol=1e-12)
    # the first step is the plain window mean; every step stays inside the window's range
    np.testing.assert_allclose(out[..., 0], windows.mean(axis=2), rtol=1e-12)
    assert (out >= windows.min(axis=2, keepdims=True) - 1e-9).all()
    assert (out <= windows.max(axis=2, keepdims=True) + 1e-9).all()


def test_fit_is_a_no_op_and_windows_are_checked():
    model = HistoricalAverageForecaster(4, 2)
    assert isinstance(model, Forecaster)
    assert (model.kind, model.family) == ("historical_average", "baseline")
    assert model.fit(np.zeros((3, 2, 4)), np.zeros((3, 2, 2))) is model
    with pytest.raises(ValueError, match=r"\(S, N, 4\)"):
        model.forecast(np.zeros((3, 2, 5)))


def test_save_load_identity(tmp_path):
    windows = np.random.default_rng(1).normal(size=(4, 3, 6))
    model = HistoricalAverageForecaster(6, 5)
    loaded = load_forecaster(model.save(tmp_path / "ha"))
    assert type(loaded) is HistoricalAverageForecaster
    assert (loaded.lags, loaded.horizon, loaded.family) == (6, 5, "baseline")
    np.testing.assert_array_equal(loaded.forecast(windows), model.forecast(windows))


# --- gaps (data.missing: mask) ------------------------------------------------------------


def _tgcn_ha_with_gaps(window: np.ndarray, horizon: int, fill: float) -> list[float]:
    """The T-GCN loop where each mean skips missing values (None); ``fill`` when none."""
    a = [None if np.isnan(v) else float(v) for v in window]
    out = []
    for _ in range(horizon):
        seen = [v for v in a if v is not None]
        a1 = sum(seen) / len(seen) if seen else fill
        out.append(a1)
        a = a[1:] + [a1]
    return out


def test_hand_made_window_with_gaps():
    nan = np.nan
    windows = np.array(
        [[[1.0, nan, 4.0, nan], [nan, nan, nan, nan], [2.0, 2.0, 2.0, 6.0]]]
    )  # (S=1, N=3, lags=4)
    out = HistoricalAverageForecaster(4, 3, fill=[-1.0, 10.0, -1.0]).forecast(windows)
    # node 0: mean(1, 4) = 2.5; mean(4, 2.5) = 3.25; mean(4, 2.5, 3.25) = 3.25
    np.testing.assert_allclose(out[0, 0], [2.5, 3.25, 3.25], rtol=0, atol=1e-15)
    # node 1: nothing observed -> its fill, which then counts as observed
    np.testing.assert_array_equal(out[0, 1], [10.0, 10.0, 10.0])
    # node 2 has no gap: the plain T-GCN recursion (3.0, then mean(2, 2, 6, 3) = 3.25, ...)
    np.testing.assert_allclose(out[0, 2], _tgcn_ha(windows[0, 2], 3), rtol=1e-15)


def test_matches_the_gap_skipping_loop_on_random_windows():
    rng = np.random.default_rng(2)
    windows = rng.uniform(10, 70, size=(6, 4, 8))
    windows[rng.random(windows.shape) < 0.4] = np.nan
    windows[0, 0] = np.nan
    fill = rng.uniform(10, 70, size=4)
    out = HistoricalAverageForecaster(8, 10, fill=fill).forecast(windows)
    for s in range(6):
        for n in range(4):
            expected = _tgcn_ha_with_gaps(windows[s, n], 10, fill[n])
            np.testing.assert_allclose(out[s, n], expected, rtol=1e-12)


def test_gaps_without_fill_raise():
    windows = np.ones((2, 2, 4))
    windows[1, 0, 3] = np.nan
    with pytest.raises(ValueError, match="built without `fill`"):
        HistoricalAverageForecaster(4, 2).forecast(windows)


def test_save_load_keeps_fill(tmp_path):
    windows = np.random.default_rng(3).normal(size=(4, 3, 6))
    windows[:, 1, :] = np.nan
    model = HistoricalAverageForecaster(6, 5, fill=[1.0, 2.0, 3.0])
    loaded = load_forecaster(model.save(tmp_path / "ha"))
    np.testing.assert_array_equal(loaded.fill, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(loaded.forecast(windows), model.forecast(windows))
    np.testing.assert_array_equal(loaded.forecast(windows)[:, 1], 2.0)
