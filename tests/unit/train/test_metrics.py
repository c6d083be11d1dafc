"""forecast_metrics against scikit-learn and hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import mean_absolute_error, mean_squared_error

from tokfrag.train import forecast_metrics


def test_known_values_one_step():
    y_true = np.array([[[1.0], [2.0]], [[3.0], [4.0]]])  # (S=2, N=2, H=1)
    y_pred = np.array([[[2.0], [2.0]], [[1.0], [4.0]]])  # errors 1, 0, -2, 0
    metrics = forecast_metrics(y_true, y_pred)
    # MAPE over the non-zero targets: |1-2|/1, |2-2|/2, |3-1|/3, |4-4|/4.
    expected = {
        "test_mse": 5 / 4,
        "test_mae": 3 / 4,
        "test_rmse": math.sqrt(5 / 4),
        "test_mape": (1 + 0 + 2 / 3 + 0) / 4,
    }
    assert metrics == pytest.approx(expected)


def test_mape_skips_zero_targets_and_matches_sklearn() -> None:
    from sklearn.metrics import mean_absolute_percentage_error

    y_true = np.array([[[0.0], [2.0]], [[-4.0], [0.0]]])
    y_pred = np.array([[[5.0], [1.0]], [[-2.0], [3.0]]])
    metrics = forecast_metrics(y_true, y_pred)
    assert metrics["test_mape"] == pytest.approx((1 / 2 + 2 / 4) / 2)
    mask = y_true != 0
    assert metrics["test_mape"] == pytest.approx(
        mean_absolute_percentage_error(y_true[mask], y_pred[mask])
    )
    assert math.isnan(forecast_metrics(np.zeros((2, 1, 1)), np.ones((2, 1, 1)))["test_mape"])


def test_per_horizon_keys_and_values():
    y_true = np.arange(24, dtype=float).reshape(4, 2, 3)
    y_pred = y_true + np.array([1.0, -2.0, 3.0])  # constant error per horizon step
    metrics = forecast_metrics(y_true, y_pred, prefix="val_")
    assert set(metrics) == {
        "val_mse", "val_mae", "val_rmse", "val_mape",
        "val_mse_h1", "val_mae_h1", "val_rmse_h1", "val_mape_h1",
        "val_mse_h2", "val_mae_h2", "val_rmse_h2", "val_mape_h2",
        "val_mse_h3", "val_mae_h3", "val_rmse_h3", "val_mape_h3",
    }  # fmt: skip
    assert metrics["val_mse_h1"] == 1.0 and metrics["val_mse_h2"] == 4.0
    assert metrics["val_mse_h3"] == 9.0 and metrics["val_mae_h3"] == 3.0
    assert metrics["val_mse"] == pytest.approx(14 / 3)
    assert metrics["val_mae"] == pytest.approx(2.0)
    assert (metrics["val_rmse_h1"], metrics["val_rmse_h2"], metrics["val_rmse_h3"]) == (1, 2, 3)
    assert metrics["val_rmse"] == pytest.approx(math.sqrt(14 / 3))


def test_equals_sklearn_on_random_arrays():
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.normal(size=(2, 30, 5, 4))
    metrics = forecast_metrics(y_true, y_pred)
    flat_true, flat_pred = y_true.reshape(-1, 4), y_pred.reshape(-1, 4)
    assert metrics["test_mse"] == pytest.approx(mean_squared_error(flat_true, flat_pred))
    assert metrics["test_mae"] == pytest.approx(mean_absolute_error(flat_true, flat_pred))
    assert metrics["test_mse"] == pytest.approx(np.mean((y_true - y_pred) ** 2))
    for h in range(4):
        assert metrics[f"test_mse_h{h + 1}"] == pytest.approx(
            mean_squared_error(y_true[..., h].ravel(), y_pred[..., h].ravel())
        )
        assert metrics[f"test_mae_h{h + 1}"] == pytest.approx(
            np.mean(np.abs(y_true[..., h] - y_pred[..., h]))
        )
    assert all(type(v) is float for v in metrics.values())


def test_rmse_is_sqrt_of_mse_overall_and_per_step():
    rng = np.random.default_rng(1)
    y_true, y_pred = rng.normal(size=(2, 40, 7, 12)) * 10
    metrics = forecast_metrics(y_true, y_pred)
    assert metrics["test_rmse"] == pytest.approx(math.sqrt(metrics["test_mse"]), rel=1e-12)
    assert metrics["test_rmse"] == pytest.approx(np.sqrt(np.mean((y_true - y_pred) ** 2)))
    for k in range(1, 13):
        assert metrics[f"test_rmse_h{k}"] == pytest.approx(
            math.sqrt(metrics[f"test_mse_h{k}"]), rel=1e-12
        )
        assert metrics[f"test_rmse_h{k}"] == pytest.approx(
            np.sqrt(np.mean((y_true[..., k - 1] - y_pred[..., k - 1]) ** 2))
        )
    # pooled, not averaged: the overall RMSE is not the mean of the per-step RMSEs
    per_step = [metrics[f"test_rmse_h{k}"] for k in range(1, 13)]
    assert metrics["test_rmse"] >= np.mean(per_step)


def test_shape_mismatch_raises():
    with pytest.raises(ValueError, match="differ in shape"):
        forecast_metrics(np.zeros((3, 2, 1)), np.zeros((3, 2, 2)))
    with pytest.raises(ValueError, match="differ in shape"):
        forecast_metrics(np.zeros((3, 2, 1)), np.zeros((2, 3, 1)))
