"""The Prefect flow runs the real stages end to end, and stops at a failed validation gate."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml
from mlflow import MlflowClient
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
from tokfrag_testing.aliases import expected_aliases

from flows.pipeline import pipeline
from flows.runs import flow_run_ids
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
        "ridge_ar_calendar",
    }
    assert metrics["protocol"]["train_snapshots"] == 103
    assert metrics["protocol"]["test_snapshots"] == 414

    champion = _client(root).get_model_version_by_alias("tokfrag-chickenpox", "champion")
    challenger = _client(root).get_model_version_by_alias("tokfrag-chickenpox", "challenger")
    # The verdict's champion (a family, or the best baseline when neither family beats it).
    assert (champion.tags["family"], challenger.tags["family"]) == expected_aliases(metrics)


def test_failed_validation_fails_the_flow_before_training(project: Path) -> None:
    params = yaml.safe_load(project.read_text())
    params["split"]["lags"] = 515  # 521 steps leave 7 snapshots: no room for fit + val + test
    project.write_text(yaml.safe_dump(params))
    with pytest.raises(ValidationFailed, match="expect_table_row_count_to_be_between"):
        pipeline(params_path=str(project))
    root = project.parent
    assert _client(root).search_registered_models() == []

    # As the server saw it: the run failed, and its logs name the failed expectation.
    state = pipeline(params_path=str(project), return_state=True)
    assert state.is_failed()
    text = ""
    with get_client(sync_client=True) as client:
        ids = flow_run_ids(client, state.state_details.flow_run_id)
        for _ in range(60):  # logs reach the API in batches, a moment after the run ends
            logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=ids)))
            text = "\n".join(log.message for log in logs)
            if "expect_table_row_count_to_be_between" in text:
                break
            time.sleep(0.5)
    assert "expect_table_row_count_to_be_between" in text
    # The gate inside ingest refused the data before anything was written.
    assert "ingest wrote nothing" in text
    assert not (root / "data/chickenpox").exists()
    assert not (root / "outputs/chickenpox/prepared").exists()
    assert not (root / "outputs/chickenpox/models").exists()
    assert _client(root).search_registered_models() == []
