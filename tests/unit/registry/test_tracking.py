"""Tracking against a real SQLite MLflow store in tmp_path."""

from __future__ import annotations

import os

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DVC_NO_ANALYTICS", "1")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402

from tokfrag.config import RegistryConfig  # noqa: E402
from tokfrag.registry import (  # noqa: E402
    Store,
    log_baseline_run,
    log_metrics_to_run,
    open_store,
    training_run,
)
from tokfrag.registry.tracking import resolve_tracking_uri  # noqa: E402


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    return open_store(RegistryConfig(), tmp_path_factory.mktemp("project"), "toy")


def _client(store: Store) -> MlflowClient:
    return MlflowClient(tracking_uri=store.tracking_uri)


def test_open_store_creates_sqlite_file_artifact_root_and_experiment(tmp_path: Path) -> None:
    cfg = RegistryConfig(tracking_uri="sqlite:///db/mlruns.db", artifact_root="art")
    store = open_store(cfg, tmp_path, "toy")

    assert store.tracking_uri == f"sqlite:///{tmp_path.resolve()}/db/mlruns.db"
    assert (tmp_path / "db" / "mlruns.db").is_file()
    assert (tmp_path / "art").is_dir()
    assert store.experiment_name == store.model_name == "tokfrag-toy"
    experiment = _client(store).get_experiment_by_name("tokfrag-toy")
    assert experiment is not None
    assert experiment.experiment_id == store.experiment_id
    assert experiment.artifact_location == (tmp_path / "art").resolve().as_uri()
    # Opening again reuses the experiment instead of failing on the taken name.
    assert open_store(cfg, tmp_path, "toy").experiment_id == store.experiment_id


def test_tracking_uri_resolution_keeps_absolute_and_server_uris(tmp_path: Path) -> None:
    absolute = f"sqlite:///{tmp_path}/elsewhere.db"
    assert resolve_tracking_uri(absolute, Path("/somewhere/else")) == absolute
    assert resolve_tracking_uri("http://mlflow:5000", tmp_path) == "http://mlflow:5000"
    assert resolve_tracking_uri("https://mlflow.example", tmp_path) == "https://mlflow.example"
    with pytest.raises(ValueError, match="no database file"):
        resolve_tracking_uri("sqlite:///:memory:", tmp_path)


def test_training_run_logs_params_tags_and_metrics_per_epoch(store: Store) -> None:
    params = {"lr": 0.01, "model": {"hidden_channels": 32, "K": 2}}
    with training_run(store, "fragment-fit", params=params, tags={"family": "fragment"}) as run:
        for epoch, loss in enumerate([1.0, 0.5, 0.25]):
            run.log_epoch(epoch, {"train_loss": loss, "val_loss": loss + 0.1})
        run.log_metrics({"test_mse": 0.3})

    client = _client(store)
    logged = client.get_run(run.run_id)
    assert logged.info.status == "FINISHED"
    assert logged.info.experiment_id == store.experiment_id
    assert logged.info.run_name == "fragment-fit"
    assert logged.data.params == {"lr": "0.01", "model.hidden_channels": "32", "model.K": "2"}
    assert logged.data.tags["family"] == "fragment"
    history = client.get_metric_history(run.run_id, "train_loss")
    assert [(m.step, m.value) for m in sorted(history, key=lambda m: m.step)] == [
        (0, 1.0),
        (1, 0.5),
        (2, 0.25),
    ]
    assert logged.data.metrics["test_mse"] == 0.3


def test_training_run_that_raises_ends_failed(store: Store) -> None:
    with pytest.raises(RuntimeError, match="diverged"):
        with training_run(store, "doomed", params={"lr": 10.0}, tags={}) as run:
            run.log_epoch(0, {"train_loss": float("nan")})
            raise RuntimeError("loss diverged")

    assert _client(store).get_run(run.run_id).info.status == "FAILED"
    # The failed run is closed: a new one can start in the same process.
    with training_run(store, "after", params={}, tags={}) as after:
        pass
    assert _client(store).get_run(after.run_id).info.status == "FINISHED"


def test_log_metrics_to_finished_run_keeps_its_status(store: Store) -> None:
    with training_run(store, "token-fit", params={}, tags={}) as run:
        run.log_epoch(0, {"train_loss": 1.0})
    end_time = _client(store).get_run(run.run_id).info.end_time

    log_metrics_to_run(store, run.run_id, {"test_mse": 0.42, "test_mae": 0.5})

    logged = _client(store).get_run(run.run_id)
    assert logged.data.metrics["test_mse"] == pytest.approx(0.42)
    assert logged.info.status == "FINISHED"
    assert logged.info.end_time == end_time


def test_log_baseline_run_records_params_metrics_and_tags(store: Store) -> None:
    run_id = log_baseline_run(
        store, "ridge_ar", {"alpha": 1.0}, {"test_mse": 0.9}, {"kind": "ridge_ar"}
    )

    logged = _client(store).get_run(run_id)
    assert logged.info.status == "FINISHED"
    assert logged.info.run_name == "ridge_ar"
    assert logged.data.params == {"alpha": "1.0"}
    assert logged.data.metrics == {"test_mse": 0.9}
    assert logged.data.tags["family"] == "baseline"
    assert logged.data.tags["kind"] == "ridge_ar"
