"""HistoricalAverageForecaster: T-GCN's rolling window mean, by hand and saved/loaded."""

from __future__ import annotations

import numpy as np
import pytest

from tokfrag.models.baselines import HistoricalAverageForecaster
from tokfrag.models.forecaster import Forecaster, load_forecaster


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
