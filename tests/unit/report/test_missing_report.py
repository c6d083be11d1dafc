"""The forecasting report on series with gaps: the missingness plot, the masked-metrics
sentence, and forecast plots that take NaN targets (real matplotlib, Agg)."""

from __future__ import annotations

import base64
import csv
import warnings
from pathlib import Path

import numpy as np
import pytest

from tokfrag.report import write_report
from tokfrag.report.missingness import _time_axis
from tokfrag.report.table import missing_sentence

LAGS, HORIZON = 4, 3
MASKED = {
    "policy": "mask",
    "missing_share": 0.48,
    "test_windows": 400,
    "test_windows_without_target": 3,
    "observed_test_targets": 7012,
    "test_targets": 8000,
}


def _metrics(missing: dict | None = None) -> dict:
    protocol = {
        "name": "tgcn-chronological",
        "by": "steps",
        "lags": LAGS,
        "horizon": HORIZON,
        "train_ratio": 0.8,
        "val_fraction": 0.1,
        "train_snapshots": 40,
        "test_snapshots": 10,
    }
    if missing is not None:
        protocol["missing"] = missing
    models = {
        "token": {"family": "token", "test_mse": 0.9, "test_mae": 0.7},
        "fragment": {"family": "fragment", "test_mse": 0.8, "test_mae": 0.6},
        "ridge_ar": {"family": "baseline", "test_mse": 1.0, "test_mae": 0.8},
        "zero": {"family": "baseline", "test_mse": 2.0, "test_mae": 1.1},
    }
    return {
        "dataset": "sensors",
        "task": "forecasting",
        "primary_metric": "test_mse",
        "higher_is_better": False,
        "columns": [["test_mse", "test MSE"], ["test_mae", "test MAE"]],
        "protocol": protocol,
        "split_fingerprint": "0123456789abcdef",
        "data_sha256": "f" * 64,
        "tuning": {},
        "models": models,
        "published": [],
    }


def _data(n_steps: int = 60, n_nodes: int = 5, seed: int = 0) -> dict:
    """A series with gaps, its test windows' targets (NaN where missing) and forecasts."""
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(n_steps, n_nodes))
    missing = rng.random((n_steps, n_nodes)) < 0.2
    missing[:, 0] = False  # one complete node, one mostly missing
    missing[: n_steps // 2, 1] = True
    first = n_steps - 12
    n_windows = n_steps - first - HORIZON + 1
    y_test = np.stack(
        [
            np.where(missing, np.nan, values)[first + i : first + i + HORIZON].T
            for i in range(n_windows)
        ]
    )  # (windows, nodes, horizon)
    predictions = {
        name: rng.normal(size=y_test.shape) for name in ("token", "fragment", "ridge_ar")
    }
    return {
        "y_test": y_test,
        "predictions": predictions,
        "node_ids": [f"s{i}" for i in range(n_nodes)],
        "first_target_step": first,
        "missing": missing,
    }


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open() as f:
        return list(csv.DictReader(f))


def test_a_missing_mask_adds_the_heat_map_its_table_and_the_masked_metrics_sentence(
    tmp_path: Path,
) -> None:
    data = _data()
    report = write_report(_metrics(MASKED), tmp_path, **data)

    png, table = tmp_path / "missingness.png", tmp_path / "missingness.csv"
    assert png.stat().st_size > 0 and png.read_bytes().startswith(b"\x89PNG")
    rows = _rows(table)
    assert [r["node"] for r in rows] == data["node_ids"]
    np.testing.assert_allclose(
        [float(r["missing_share"]) for r in rows], data["missing"].mean(axis=0), atol=1e-6
    )
    assert [int(r["missing_steps"]) for r in rows] == data["missing"].sum(axis=0).tolist()

    page = report["html"]
    assert base64.b64encode(png.read_bytes()).decode() in page
    assert "missing readings per node and time step" in page
    assert (
        "Metrics are masked: computed over the 7,012 observed of 8,000 test targets "
        "(data.missing: mask); 3 of 400 test windows with no observed target are left out "
        "of the paired comparison." in page
    )
    assert "48.0% of the series" in page
    # The policy is said in words, not dumped as a dict into the protocol line.
    assert "'policy'" not in page and "policy" not in page.split("Protocol:")[1].split("</p>")[0]
    assert "Metrics are masked" in report["md"] and "plots/missingness.png" in report["md"]


def test_other_nested_protocol_entries_are_spelled_out(tmp_path: Path) -> None:
    metrics = _metrics(MASKED)
    metrics["protocol"]["sentinel"] = {"missing_value": -1, "cells": 12}
    page = write_report(metrics, tmp_path, **_data())["html"]
    assert (
        "sentinel (missing_value -1, cells 12)" in page
        and "{" not in page.split("Protocol:")[1][:400]
    )


@pytest.mark.parametrize("mask", ["absent", "none", "all-false"])
def test_without_missing_cells_no_missingness_plot_is_written(tmp_path: Path, mask: str) -> None:
    data = _data()
    data["y_test"] = np.nan_to_num(data["y_test"])
    if mask == "absent":
        del data["missing"]
    else:
        data["missing"] = None if mask == "none" else np.zeros_like(data["missing"])
    report = write_report(_metrics(), tmp_path, **data)
    assert not (tmp_path / "missingness.png").exists()
    assert not (tmp_path / "missingness.csv").exists()
    assert "missingness" not in report["html"] and "missingness" not in report["md"]
    assert "Metrics are masked" not in report["html"]
    assert (tmp_path / "forecast.png").exists() and (tmp_path / "horizon_error.png").exists()


def test_nan_targets_give_observed_only_errors_and_gaps_not_nan_nonsense(tmp_path: Path) -> None:
    data = _data()
    y_test = data["y_test"]
    y_test[:, 4, :] = np.nan  # a node with no observed test target at all
    assert np.isnan(y_test).any()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no mean-of-empty-slice noise
        write_report(_metrics(MASKED), tmp_path, **data)

    per_step = {
        (r["model"], int(r["step"])): float(r["mse"]) for r in _rows(tmp_path / "horizon_error.csv")
    }
    for name, forecast in data["predictions"].items():
        error = (y_test - forecast) ** 2
        for k in range(HORIZON):
            observed = error[:, :, k][~np.isnan(error[:, :, k])]
            assert per_step[name, k + 1] == pytest.approx(observed.mean(), abs=1e-6)
    assert all(np.isfinite(v) for v in per_step.values())

    forecast = _rows(tmp_path / "forecast.csv")
    shown = {r["node"] for r in forecast}
    assert len(shown) == 3 and "s4" not in shown  # an all-NaN node is never the one shown
    gaps = [r for r in forecast if r["actual"] == ""]
    assert gaps and all(r["token"] != "" for r in gaps)
    assert not any(r["actual"] == "nan" for r in forecast)
    assert (tmp_path / "forecast.png").stat().st_size > 0


def test_many_nodes_with_epoch_times_stay_readable(tmp_path: Path) -> None:
    data = _data(n_steps=3000, n_nodes=150, seed=1)
    start = np.datetime64("2024-01-01T00:00", "ns")
    times = (start + np.arange(3000) * np.timedelta64(5, "m")).astype(np.int64)
    write_report(_metrics(MASKED), tmp_path, times=times, **data)

    import matplotlib.image

    height, width = matplotlib.image.imread(tmp_path / "missingness.png").shape[:2]
    assert height <= 9 * 110 and width > height
    shares = [float(r["missing_share"]) for r in _rows(tmp_path / "missingness.csv")]
    np.testing.assert_allclose(shares, data["missing"].mean(axis=0), atol=1e-6)
    labels, axis = _time_axis(times, np.array([0, 2999]))
    assert axis == "time" and labels == ["2024-01-01 00:00", "2024-01-11 09:55"]
    assert _time_axis(None, np.array([0, 5])) == (["0", "5"], "time step")


def test_interpolation_is_described_and_no_policy_means_no_sentence() -> None:
    interpolated = {**MASKED, "policy": "interpolate", "test_windows_without_target": 0}
    text = missing_sentence(_metrics(interpolated))
    assert "interpolated cells count as readings" in text
    assert "gaps left are masked" in text and "7,012 observed of 8,000" in text
    assert "left out" not in text
    assert missing_sentence(_metrics()) == ""
