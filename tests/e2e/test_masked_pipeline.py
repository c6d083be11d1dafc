"""A real sensor file with about half of its readings missing, through `dvc repro` to a
registered champion: once with ``data.missing: mask`` (the gaps stay; inputs filled and
flagged, losses and metrics over observed targets) and once with ``interpolate`` (short gaps
filled, the rest masked). Chickenpox's counties lose whole weeks, runs of weeks and a late
start (:func:`tokfrag_testing.gaps.punch_gaps`); the file is made here from the real data,
never committed. The masked metrics are checked against numpy over the observed cells."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from tokfrag_testing.bad_inputs import SERIES_DATASET, SERIES_SOURCE, series_frames
from tokfrag_testing.dvcrepo import dvc_repo, sh
from tokfrag_testing.gaps import punch_gaps
from tokfrag_testing.params import merge

from tokfrag.data.canonical import load_series
from tokfrag.data.splits import chronological_split
from tokfrag.families import load_forecaster
from tokfrag.models.windows import slice_windows

MODEL = f"tokfrag-{SERIES_DATASET}"
OUT = Path("outputs") / SERIES_DATASET


@pytest.fixture(scope="module")
def gappy_files(tmp_path_factory: pytest.TempPathFactory, mirror: Path) -> dict[str, Path]:
    readings, edges = series_frames(mirror)
    folder = tmp_path_factory.mktemp("gappy-files")
    punch_gaps(readings).to_csv(folder / "readings.csv", index=False)
    edges.to_csv(folder / "edges.csv", index=False)
    return {"readings.csv": folder / "readings.csv", "edges.csv": folder / "edges.csv"}


def _repro(
    tmp_path_factory: pytest.TempPathFactory, base: dict, files: dict[str, Path], **data
) -> Path:
    params = merge(
        base,
        {
            "data": {"dataset": SERIES_DATASET, "source": SERIES_SOURCE, **data},
            "train": {"repeats": 1},
            "verdict": {"resamples": 200},
        },
    )
    root = dvc_repo(tmp_path_factory.mktemp(f"gaps-{data['missing']}") / "project", params, files)
    sh("dvc", "repro", cwd=root)
    return root


@pytest.fixture(scope="module")
def masked(tmp_path_factory, shrunk_params: dict, gappy_files) -> Path:
    return _repro(tmp_path_factory, shrunk_params, gappy_files, missing="mask")


@pytest.fixture(scope="module")
def interpolated(tmp_path_factory, shrunk_params: dict, gappy_files) -> Path:
    quick = merge(shrunk_params, {"tune": {"n_trials": 0}})
    return _repro(tmp_path_factory, quick, gappy_files, missing="interpolate", max_gap=2)


def _champion(root: Path):
    uri = f"sqlite:///{root / 'mlruns.db'}"
    return MlflowClient(tracking_uri=uri, registry_uri=uri).get_model_version_by_alias(
        MODEL, "champion"
    )


def _test_part(root: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The scored test windows, cut here with numpy: inputs, targets (NaN where missing) and
    each window's last input time."""
    series = load_series(root / "data" / SERIES_DATASET)
    p = json.loads((root / OUT / "metrics.json").read_text())["protocol"]
    s = chronological_split(
        series.num_steps, p["lags"], p["horizon"], p["train_ratio"], p["val_fraction"], p["by"]
    )
    x, y = slice_windows(series.values, s.lags, s.horizon, s.test)
    keep = np.isfinite(y).reshape(len(y), -1).any(axis=1)
    times = series.time[np.asarray(s.test) + s.lags - 1]
    return x[keep], y[keep], times[keep]


@pytest.mark.parametrize("fixture", ["masked", "interpolated"])
def test_half_missing_file_reaches_a_registered_champion(fixture, request) -> None:
    root = request.getfixturevalue(fixture)
    metrics = json.loads((root / OUT / "metrics.json").read_text())
    registry = json.loads((root / OUT / "registry.json").read_text())
    champion = _champion(root)
    assert champion.tags["family"] == registry["champion"]
    policy = "mask" if fixture == "masked" else "interpolate"
    assert champion.tags["missing_policy"].startswith(policy)
    gaps = metrics["protocol"]["missing"]
    assert gaps["policy"] == policy
    _, y, _ = _test_part(root)
    assert gaps["observed_test_targets"] == int(np.isfinite(y).sum()) < gaps["test_targets"]
    meta = json.loads((root / "data" / SERIES_DATASET / "meta.json").read_text())
    assert 0.45 < meta["missing"]["missing_share"] < 0.55  # the file as read
    assert meta["missing"]["masked_cells"] == int(
        np.isnan(load_series(root / "data" / SERIES_DATASET).values).sum()
    )
    assert (root / "reports" / SERIES_DATASET / "plots" / "missingness.png").is_file()
    assert (
        "missing readings per node and time step"
        in (root / "reports" / SERIES_DATASET / "report.html").read_text()
    )


def test_mask_keeps_every_gap_and_interpolate_fills_the_short_ones(masked, interpolated):
    file = pd.read_csv(masked / "inputs" / "readings.csv")
    nodes = [c for c in file.columns if c != "week"]
    kept = load_series(masked / "data" / SERIES_DATASET)
    np.testing.assert_array_equal(np.isnan(kept.values), file[nodes].isna().to_numpy())
    filled = load_series(interpolated / "data" / SERIES_DATASET)
    meta = json.loads((interpolated / "data" / SERIES_DATASET / "meta.json").read_text())
    left = np.isnan(filled.values)
    assert meta["missing"]["interpolated_cells"] > 0 and left.any()
    assert left.sum() + meta["missing"]["interpolated_cells"] == file[nodes].isna().sum().sum()
    # Every reading of the file is kept as it was.
    seen = file[nodes].notna().to_numpy()
    np.testing.assert_allclose(filled.values[seen], file[nodes].to_numpy()[seen])


@pytest.mark.parametrize("fixture", ["masked", "interpolated"])
def test_masked_metrics_equal_numpy_over_the_observed_cells(fixture, request) -> None:
    root = request.getfixturevalue(fixture)
    metrics = json.loads((root / OUT / "metrics.json").read_text())
    x, y, times = _test_part(root)
    observed = np.isfinite(y)
    baseline = json.loads((root / OUT / "models" / "baseline" / "evaluation.json").read_text())
    names = {"token": "token", "fragment": "fragment", "baseline": baseline["name"]}
    for folder, name in names.items():
        model = load_forecaster(root / OUT / "models" / folder)
        forecasts = model.forecast(x, times=times)
        assert np.isfinite(forecasts).all(), folder
        error = (forecasts - y)[observed]
        entry = metrics["models"][name]
        assert entry["test_mse"] == pytest.approx(float(np.mean(error**2)), rel=1e-5), name
        assert entry["test_mae"] == pytest.approx(float(np.mean(np.abs(error))), rel=1e-5), name
        assert entry["test_rmse"] == pytest.approx(float(np.sqrt(np.mean(error**2))), rel=1e-5)


def test_the_champion_serves_windows_with_empty_readings(masked: Path) -> None:
    import mlflow

    from tokfrag.registry import windows_to_frame

    x, _, times = _test_part(masked)
    gappy = np.isnan(x).reshape(len(x), -1).any(axis=1)
    assert gappy.any()
    series = load_series(masked / "data" / SERIES_DATASET)
    uri = f"sqlite:///{masked / 'mlruns.db'}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    model = mlflow.pyfunc.load_model(f"models:/{MODEL}@champion")
    frame = windows_to_frame(x[gappy][:5], series.node_ids, times=times[gappy][:5])
    assert frame.filter(like="lag_").isna().to_numpy().any()
    forecast = model.predict(frame)
    assert np.isfinite(forecast.filter(like="h").to_numpy(dtype=float)).all()
