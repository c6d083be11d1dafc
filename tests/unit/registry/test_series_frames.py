"""The series table conversions, without MLflow: pivot, order and errors that name the fault."""

from __future__ import annotations

import os
from dataclasses import replace

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DVC_NO_ANALYTICS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from tokfrag.registry.contracts import ForecastContract  # noqa: E402
from tokfrag.registry.series_frames import (  # noqa: E402
    forecasts_to_frame,
    frame_to_windows,
    windows_to_frame,
)

NODES = ("a", "b", "c")


@pytest.fixture
def contract() -> ForecastContract:
    return ForecastContract(node_ids=NODES, lags=2, horizon=2, dataset="toy", family="token")


def _windows(s: int = 3) -> np.ndarray:
    return np.arange(s * len(NODES) * 2, dtype=float).reshape(s, len(NODES), 2)  # (S, N, L)


def test_round_trip_in_any_row_order(contract: ForecastContract) -> None:
    windows = _windows()
    frame = windows_to_frame(windows, NODES, window_ids=[10, 11, 12])
    assert list(frame.columns) == ["window", "node", "lag_2", "lag_1"]
    # lag_1 is the most recent step, i.e. the last one of each window.
    assert frame.loc[0, "lag_1"] == windows[0, 0, -1]

    shuffled = frame.sample(frac=1.0, random_state=1)
    ids, back, times = frame_to_windows(shuffled, contract)

    assert ids.tolist() == [10, 11, 12] and times is None
    np.testing.assert_array_equal(back, windows)


@pytest.mark.parametrize("kind", ["steps", "dates"])
def test_times_round_trip_per_window(contract: ForecastContract, kind: str) -> None:
    steps = np.array([520, 7, 99])
    times = (
        steps if kind == "steps" else np.datetime64("2012-03-01") + steps * np.timedelta64(5, "m")
    )
    frame = windows_to_frame(_windows(), NODES, window_ids=[10, 11, 12], times=times)
    assert list(frame.columns) == ["window", "time", "node", "lag_2", "lag_1"]
    if kind == "dates":
        contract = replace(contract, time_unit="ns")
    _, _, back = frame_to_windows(frame.sample(frac=1.0, random_state=2), contract)
    expected = steps if kind == "steps" else times.astype("datetime64[ns]").astype(np.int64)
    np.testing.assert_array_equal(back, expected)


def test_a_time_of_the_wrong_kind_is_refused(contract: ForecastContract) -> None:
    dates = np.datetime64("2012-03-01") + np.arange(2) * np.timedelta64(5, "m")
    with pytest.raises(ValueError, match="counts steps: give the step number"):
        frame_to_windows(windows_to_frame(_windows(2), NODES, times=dates), contract)
    by_dates = replace(contract, time_unit="ns")
    with pytest.raises(ValueError, match="has dates: give the date"):
        frame_to_windows(windows_to_frame(_windows(2), NODES, times=np.array([3, 4])), by_dates)


def test_a_window_with_two_times_is_refused(contract: ForecastContract) -> None:
    frame = windows_to_frame(_windows(2), NODES, times=np.array([3, 4]))
    frame.loc[4, "time"] = 9  # window 1, node b
    with pytest.raises(ValueError, match="window 1: its rows give different times"):
        frame_to_windows(frame, contract)


def test_output_rows_follow_window_then_node_order(contract: ForecastContract) -> None:
    forecasts = np.arange(2 * 3 * 2, dtype=float).reshape(2, 3, 2)  # (S, N, H)
    out = forecasts_to_frame(np.array([5, 9]), forecasts, contract)
    assert list(out.columns) == ["window", "node", "h1", "h2"]
    assert out["window"].tolist() == [5, 5, 5, 9, 9, 9]
    assert out["node"].tolist() == list(NODES) * 2
    np.testing.assert_array_equal(out[["h1", "h2"]].to_numpy(), forecasts.reshape(6, 2))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda f: f[~((f.window == 1) & (f.node == "b"))], r"window 1: missing node\(s\) \['b'\]"),
        (lambda f: f.replace({"node": {"c": "zz"}}), r"window 0: unknown node 'zz'"),
        (lambda f: pd.concat([f, f.iloc[[4]]]), r"window 1: node 'b' appears 2 times"),
        (lambda f: f.drop(columns="lag_2"), r"missing column\(s\) \['lag_2'\]"),
        (lambda f: f.assign(lag_1=np.where(f.index == 2, np.nan, f.lag_1)), r"'c': .*finite"),
        (lambda f: f.iloc[:0], "no rows"),
    ],
    ids=["missing-node", "unknown-node", "duplicate-node", "missing-column", "nan", "empty"],
)
def test_bad_input_names_window_and_node(contract: ForecastContract, edit, message) -> None:
    frame = windows_to_frame(_windows(2), NODES)
    with pytest.raises(ValueError, match=message):
        frame_to_windows(edit(frame), contract)
