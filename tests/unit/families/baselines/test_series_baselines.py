"""Baselines on the real Chickenpox split reproduce the published figures; baselines on
windows with gaps (NaN inputs and targets)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.linear_model import Ridge

from tokfrag.data.loaders import load_pgt_json
from tokfrag.data.splits import chronological_split
from tokfrag.families import load_forecaster
from tokfrag.families.baselines.series import (
    HistoricalAverageForecaster,
    LastValueForecaster,
    RidgeARForecaster,
    ZeroForecaster,
    fill_missing,
)
from tokfrag.models.forecaster import check_windows
from tokfrag.models.windows import slice_windows
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


# --- gaps (data.missing: mask): NaN inputs and targets -----------------------------------


def _gappy(seed: int, shape: tuple[int, int, int], rate: float) -> np.ndarray:
    """Random windows with a share ``rate`` of NaN."""
    rng = np.random.default_rng(seed)
    out = rng.normal(size=shape)
    out[rng.random(shape) < rate] = np.nan
    return out


def _fill_by_hand(windows: np.ndarray, fill: np.ndarray) -> np.ndarray:
    out = windows.copy()
    for s, n, lag in zip(*np.nonzero(np.isnan(windows)), strict=True):
        out[s, n, lag] = fill[n]
    return out


def test_fill_missing_replaces_nan_by_the_node_fill_and_copies():
    windows = _gappy(0, (5, 3, 4), rate=0.3)
    fill = np.array([10.0, -20.0, 30.0])
    before = windows.copy()
    out = fill_missing(windows, fill)
    np.testing.assert_array_equal(out, _fill_by_hand(windows, fill))
    np.testing.assert_array_equal(windows, before)  # the input keeps its gaps
    with pytest.raises(ValueError, match=r"fill \(N,\)"):
        fill_missing(windows, np.zeros(2))


def test_last_value_skips_trailing_gaps_and_falls_back_to_fill():
    nan = np.nan
    windows = np.array([[[1.0, 2.0, nan, nan], [nan, nan, nan, nan], [5.0, nan, 7.0, 8.0]]])
    out = LastValueForecaster(4, 2, fill=[0.5, 9.0, 0.0]).forecast(windows)
    np.testing.assert_array_equal(out, [[[2.0, 2.0], [9.0, 9.0], [8.0, 8.0]]])


def test_zero_forecaster_ignores_gaps():
    windows = _gappy(1, (3, 2, 4), rate=0.5)
    np.testing.assert_array_equal(ZeroForecaster(4, 2).forecast(windows), np.zeros((3, 2, 2)))


def test_ridge_with_gappy_targets_equals_ridge_on_the_observed_rows():
    rng = np.random.default_rng(2)
    windows = _gappy(3, (40, 5, 4), rate=0.1)
    targets = rng.normal(size=(40, 5, 3))
    targets[rng.random(targets.shape) < 0.25] = np.nan
    fill = rng.normal(size=5)
    model = RidgeARForecaster(4, 3, alpha=1.5, fill=fill).fit(windows, targets)
    filled = _fill_by_hand(windows, fill)
    for h in range(3):
        rows_x, rows_y = [], []
        for s in range(40):
            for n in range(5):
                if not np.isnan(targets[s, n, h]):
                    rows_x.append(filled[s, n])
                    rows_y.append(targets[s, n, h])
        reference = Ridge(alpha=1.5).fit(np.array(rows_x), np.array(rows_y))
        np.testing.assert_allclose(model.coef[:, h], reference.coef_, rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(model.intercept[h], reference.intercept_, rtol=1e-8)
    test = _gappy(4, (6, 5, 4), rate=0.3)
    expected = _fill_by_hand(test, fill) @ model.coef + model.intercept
    np.testing.assert_allclose(model.forecast(test), expected, rtol=1e-12)


def test_ridge_refuses_a_horizon_step_with_no_observed_target():
    targets = np.ones((4, 2, 3))
    targets[..., 1] = np.nan
    with pytest.raises(ValueError, match="horizon step 2"):
        RidgeARForecaster(4, 3).fit(np.ones((4, 2, 4)), targets)


def _all_kinds(fill: np.ndarray | None) -> list:
    return [
        ZeroForecaster(4, 2, fill=fill),
        LastValueForecaster(4, 2, fill=fill),
        HistoricalAverageForecaster(4, 2, fill=fill),
        RidgeARForecaster(4, 2, alpha=0.5, fill=fill),
    ]


@pytest.mark.parametrize("index", range(4), ids=["zero", "last_value", "ha", "ridge_ar"])
def test_save_load_keeps_fill_and_forecasts_on_gaps(tmp_path, index):
    fill = np.array([0.25, -1.5, 3.0])
    model = _all_kinds(fill)[index]
    windows = _gappy(5, (12, 3, 4), rate=0.3)
    windows[0, 1] = np.nan  # a node with no observed input: the fill is used
    model.fit(windows, np.random.default_rng(6).normal(size=(12, 3, 2)))
    loaded = load_forecaster(model.save(tmp_path / model.kind))
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(loaded.fill, fill)
    assert json.loads((tmp_path / model.kind / "config.json").read_text())["fill"] == fill.tolist()
    out = model.forecast(windows)
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(loaded.forecast(windows), out)


def test_old_configs_without_fill_still_load(tmp_path):
    rng = np.random.default_rng(8)
    for model in _all_kinds(None):
        model.fit(rng.normal(size=(6, 2, 4)), rng.normal(size=(6, 2, 2)))
        folder = model.save(tmp_path / model.kind)
        config = json.loads((folder / "config.json").read_text())
        assert config.pop("fill") is None
        (folder / "config.json").write_text(json.dumps(config))
        loaded = load_forecaster(folder)
        assert loaded.fill is None
        windows = np.random.default_rng(7).normal(size=(2, 2, 4))
        np.testing.assert_array_equal(loaded.forecast(windows), model.forecast(windows))


@pytest.mark.parametrize("index", [1, 2, 3], ids=["last_value", "ha", "ridge_ar"])
def test_gaps_without_fill_are_refused(index):
    model = _all_kinds(None)[index]
    windows = np.ones((2, 3, 4))
    model.fit(windows, np.ones((2, 3, 2)))
    windows[1, 2, 0] = np.nan
    with pytest.raises(ValueError, match="gaps.*built without `fill`"):
        model.forecast(windows)
    if isinstance(model, RidgeARForecaster):
        with pytest.raises(ValueError, match="gaps.*built without `fill`"):
            RidgeARForecaster(4, 2).fit(windows, np.ones((2, 3, 2)))


def test_fill_is_checked():
    with pytest.raises(ValueError, match=r"shape \(N,\)"):
        LastValueForecaster(4, 1, fill=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="finite"):
        LastValueForecaster(4, 1, fill=[0.0, np.nan])
    with pytest.raises(ValueError, match="2 values but the windows have 3 nodes"):
        LastValueForecaster(4, 1, fill=[0.0, 1.0]).forecast(np.ones((1, 3, 4)))


def test_gaps_are_allowed_but_infinity_is_not():
    windows = np.ones((1, 2, 4))
    windows[0, 0, 1] = np.nan
    assert np.isnan(check_windows(windows, 4, allow_missing=True)).sum() == 1
    with pytest.raises(ValueError, match="NaN or infinite"):
        check_windows(windows, 4)
    windows[0, 1, 2] = np.inf
    with pytest.raises(ValueError, match="1 infinite values"):
        LastValueForecaster(4, 1, fill=[0.0, 0.0]).forecast(windows)
