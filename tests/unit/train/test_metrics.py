"""forecast_metrics against scikit-learn and hand-computed values, with and without gaps."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import mean_absolute_error, mean_squared_error

from tokfrag.train import forecast_metrics
from tokfrag.train.metrics import item_losses, observed_windows


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


# --- gaps (data.missing: mask): NaN targets are left out ---------------------------------


def _with_gaps(seed: int, shape: tuple[int, ...], rate: float) -> tuple[np.ndarray, np.ndarray]:
    """Random targets with a share ``rate`` of NaN, and forecasts that are NaN at some gaps
    (a model may forecast anything where nothing was observed)."""
    rng = np.random.default_rng(seed)
    y_true = rng.normal(size=shape) * 5
    y_pred = y_true + rng.normal(size=shape)
    gaps = rng.random(shape) < rate
    y_true[gaps] = np.nan
    y_pred[gaps & (rng.random(shape) < 0.5)] = np.nan
    return y_true, y_pred


def _direct(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """MSE, MAE, RMSE, MAPE over the observed cells, by boolean indexing."""
    seen = ~np.isnan(y_true)
    t, p = y_true[seen], y_pred[seen]
    mse = float(np.mean((t - p) ** 2))
    nonzero = t != 0
    mape = float(np.mean(np.abs(t[nonzero] - p[nonzero]) / np.abs(t[nonzero])))
    return {"mse": mse, "mae": float(np.mean(np.abs(t - p))), "rmse": math.sqrt(mse), "mape": mape}


def test_masked_metrics_equal_a_direct_computation_over_observed_cells():
    y_true, y_pred = _with_gaps(2, (30, 6, 4), rate=0.3)
    assert np.isnan(y_true).sum() > 100  # the gaps are real
    metrics = forecast_metrics(y_true, y_pred)
    for name, value in _direct(y_true, y_pred).items():
        assert metrics[f"test_{name}"] == pytest.approx(value, rel=1e-12)
    for h in range(4):
        for name, value in _direct(y_true[..., h], y_pred[..., h]).items():
            assert metrics[f"test_{name}_h{h + 1}"] == pytest.approx(value, rel=1e-12)
    # pooled over the observed cells, not the mean of the per-step MSEs (counts differ)
    per_step = np.mean([metrics[f"test_mse_h{h}"] for h in range(1, 5)])
    assert metrics["test_mse"] != pytest.approx(per_step, rel=1e-9)
    assert all(type(v) is float and math.isfinite(v) for v in metrics.values())


def test_small_masked_example_by_hand():
    nan = float("nan")
    y_true = np.array([[[1.0, nan]], [[nan, nan]], [[3.0, 2.0]]])  # (S=3, N=1, H=2)
    y_pred = np.array([[[2.0, 9.0]], [[nan, 7.0]], [[1.0, 2.0]]])
    metrics = forecast_metrics(y_true, y_pred)
    # observed: (1 vs 2), (3 vs 1), (2 vs 2): errors 1, -2, 0
    assert metrics["test_mse"] == pytest.approx(5 / 3)
    assert metrics["test_mae"] == pytest.approx(1.0)
    assert metrics["test_rmse"] == pytest.approx(math.sqrt(5 / 3))
    assert metrics["test_mape"] == pytest.approx((1 + 2 / 3 + 0) / 3)
    assert metrics["test_mse_h1"] == pytest.approx(5 / 2)
    assert metrics["test_mse_h2"] == 0.0


def test_a_step_or_everything_unobserved_gives_nan():
    y_true, y_pred = _with_gaps(3, (10, 3, 3), rate=0.2)
    y_true[..., 1] = np.nan
    metrics = forecast_metrics(y_true, y_pred, prefix="val_")
    for name in ("mse", "mae", "rmse", "mape"):
        assert math.isnan(metrics[f"val_{name}_h2"])
        assert math.isfinite(metrics[f"val_{name}_h1"]) and math.isfinite(metrics[f"val_{name}"])
    nothing = forecast_metrics(np.full((4, 2, 3), np.nan), np.zeros((4, 2, 3)))
    assert len(nothing) == 16 and all(math.isnan(v) for v in nothing.values())


def test_forecasts_must_be_finite_where_observed():
    y_true = np.ones((3, 2, 2))
    y_true[0, 0, 0] = np.nan
    y_pred = np.ones((3, 2, 2))
    y_pred[0, 0, 0] = np.nan  # at a gap: fine
    assert forecast_metrics(y_true, y_pred)["test_mse"] == 0.0
    y_pred[1, 1, 1] = np.nan
    y_pred[2, 0, 0] = np.inf
    with pytest.raises(ValueError, match="2 forecasts are NaN or infinite"):
        forecast_metrics(y_true, y_pred)
    with pytest.raises(ValueError, match="2 forecasts are NaN or infinite"):
        item_losses(y_true, y_pred)


def test_infinite_targets_are_refused():
    y_true = np.ones((2, 2, 1))
    y_true[1, 0, 0] = -np.inf
    with pytest.raises(ValueError, match="infinite.*NaN"):
        forecast_metrics(y_true, np.ones((2, 2, 1)))


def test_item_losses_without_gaps_are_window_means_of_the_squared_error():
    rng = np.random.default_rng(4)
    y_true, y_pred = rng.normal(size=(2, 8, 5, 3))
    losses = item_losses(y_true, y_pred)
    assert losses.shape == (8,)
    for s in range(8):
        assert losses[s] == pytest.approx(np.mean((y_true[s] - y_pred[s]) ** 2), rel=1e-12)
    assert losses.mean() == pytest.approx(forecast_metrics(y_true, y_pred)["test_mse"])
    assert observed_windows(y_true).all()


def test_item_losses_with_gaps_and_an_unobserved_window():
    y_true, y_pred = _with_gaps(5, (6, 4, 3), rate=0.4)
    y_true[2] = np.nan  # window 2: nothing observed
    losses = item_losses(y_true, y_pred)
    seen = observed_windows(y_true)
    assert seen.dtype == bool and seen.shape == (6,)
    assert seen.tolist() == [True, True, False, True, True, True]
    assert math.isnan(losses[2])
    for s in np.flatnonzero(seen):
        cells = ~np.isnan(y_true[s])
        expected = np.mean((y_true[s][cells] - y_pred[s][cells]) ** 2)
        assert losses[s] == pytest.approx(expected, rel=1e-12)


def test_item_losses_of_no_windows():
    assert item_losses(np.zeros((0, 3, 2)), np.zeros((0, 3, 2))).shape == (0,)
    assert observed_windows(np.zeros((0, 3, 2))).shape == (0,)
