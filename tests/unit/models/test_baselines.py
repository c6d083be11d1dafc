"""Baselines on the real Chickenpox split reproduce the published figures."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import Ridge

from tokfrag.data.loaders import load_pgt_json
from tokfrag.data.splits import chronological_split
from tokfrag.fragments import slice_windows
from tokfrag.models.baselines import LastValueForecaster, RidgeARForecaster, ZeroForecaster
from tokfrag.models.forecaster import load_forecaster
from tokfrag.train import forecast_metrics


@pytest.fixture(scope="module")
def values(chickenpox_file) -> np.ndarray:
    frame, _ = load_pgt_json(chickenpox_file)
    return frame.drop(columns="t").to_numpy(np.float64)


def _pgt(values: np.ndarray, horizon: int = 1):
    split = chronological_split(len(values), 4, horizon, 0.2, 0.2)
    return (
        slice_windows(values, 4, horizon, split.train),
        slice_windows(values, 4, horizon, split.test),
    )


@pytest.mark.parametrize(
    "make, published",
    [
        (lambda: ZeroForecaster(4, 1), 1.007),
        (lambda: LastValueForecaster(4, 1), 3.018),
        (lambda: RidgeARForecaster(4, 1, alpha=1.0), 0.704),
    ],
    ids=["zero", "last_value", "ridge_ar"],
)
def test_published_test_mse_on_pgt_protocol(values, make, published):
    (x_train, y_train), (x_test, y_test) = _pgt(values)
    assert x_train.shape == (103, 20, 4) and x_test.shape == (414, 20, 4)
    model = make().fit(x_train, y_train)
    metrics = forecast_metrics(y_test, model.forecast(x_test))
    assert round(metrics["test_mse"], 3) == published


def test_ridge_matches_sklearn(values):
    (x_train, y_train), (x_test, _) = _pgt(values, horizon=3)
    model = RidgeARForecaster(4, 3, alpha=2.5).fit(x_train, y_train)
    reference = Ridge(alpha=2.5).fit(x_train.reshape(-1, 4), y_train.reshape(-1, 3))
    np.testing.assert_allclose(model.coef, reference.coef_.T, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(model.intercept, reference.intercept_, rtol=1e-8, atol=1e-10)
    expected = reference.predict(x_test.reshape(-1, 4)).reshape(len(x_test), 20, 3)
    np.testing.assert_allclose(model.forecast(x_test), expected, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("horizon", [1, 3])
def test_baseline_shapes_and_values(values, horizon):
    (x_train, y_train), (x_test, _) = _pgt(values, horizon)
    zero = ZeroForecaster(4, horizon).forecast(x_test)
    last = LastValueForecaster(4, horizon).forecast(x_test)
    ridge = RidgeARForecaster(4, horizon).fit(x_train, y_train).forecast(x_test)
    for out in (zero, last, ridge):
        assert out.shape == (len(x_test), 20, horizon)
    assert not zero.any()
    np.testing.assert_array_equal(last, np.repeat(x_test[:, :, -1:], horizon, axis=2))


@pytest.mark.parametrize(
    "model",
    [ZeroForecaster(4, 2), LastValueForecaster(4, 2), RidgeARForecaster(4, 2, alpha=0.5)],
    ids=lambda m: m.kind,
)
def test_save_load_forecasts_identically(values, tmp_path, model):
    (x_train, y_train), (x_test, _) = _pgt(values, horizon=2)
    model.fit(x_train, y_train)
    loaded = load_forecaster(model.save(tmp_path / model.kind))
    assert type(loaded) is type(model)
    assert (loaded.lags, loaded.horizon, loaded.family) == (4, 2, "baseline")
    np.testing.assert_array_equal(loaded.forecast(x_test), model.forecast(x_test))
    assert [p.name for p in (tmp_path / model.kind).iterdir()] == ["config.json"]


def test_ridge_forecast_before_fit_raises():
    with pytest.raises(RuntimeError, match="before fit"):
        RidgeARForecaster(4, 1).forecast(np.zeros((1, 3, 4)))


def test_baselines_reject_wrong_lags(values):
    (_, _), (x_test, _) = _pgt(values)
    with pytest.raises(ValueError, match=r"\(S, N, 5\)"):
        LastValueForecaster(5, 1).forecast(x_test)


def test_baselines_accept_zero_windows():
    empty = np.zeros((0, 20, 4))
    for model in (ZeroForecaster(4, 2), LastValueForecaster(4, 2)):
        assert model.forecast(empty).shape == (0, 20, 2)
