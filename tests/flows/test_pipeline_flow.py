"""The Prefect flow runs the real stages end to end, and stops at a failed validation gate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from mlflow import MlflowClient

from flows.pipeline import pipeline
from tokfrag.data.validation import ValidationFailed

pytestmark = pytest.mark.usefixtures("prefect_api")


def _client(project_dir: Path) -> MlflowClient:
    uri = f"sqlite:///{project_dir / 'mlruns.db'}"
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def test_flow_registers_a_champion(project: Path) -> None:
    result = pipeline(params_path=str(project))
    root = project.parent
    metrics = json.loads((root / "outputs/chickenpox/metrics.json").read_text())
    assert result["metrics"] == metrics
    assert set(metrics["models"]) == {
        "token",
        "fragment",
        "zero",
        "last_value",
        "historical_average",
        "ridge_ar",
    }
    assert metrics["protocol"]["train_snapshots"] == 103
    assert metrics["protocol"]["test_snapshots"] == 414

    champion = _client(root).get_model_version_by_alias("tokfrag-chickenpox", "champion")
    challenger = _client(root).get_model_version_by_alias("tokfrag-chickenpox", "challenger")
    mse = {f: metrics["models"][f]["test_mse"] for f in ("token", "fragment")}
    assert champion.tags["family"] == min(mse, key=mse.get)
    assert challenger.tags["family"] == max(mse, key=mse.get)


def test_failed_validation_fails_the_flow_before_training(project: Path) -> None:
    params = yaml.safe_load(project.read_text())
    params["split"]["lags"] = 515  # 521 steps leave 7 snapshots: no room for fit + val + test
    project.write_text(yaml.safe_dump(params))
    with pytest.raises(ValidationFailed, match="expect_table_row_count_to_be_between"):
        pipeline(params_path=str(project))
    root = project.parent
    assert (root / "data/chickenpox/values.parquet").is_file()  # ingest ran
    assert not (root / "outputs/chickenpox/prepared").exists()
    assert not (root / "outputs/chickenpox/models").exists()
    assert _client(root).search_registered_models() == []
