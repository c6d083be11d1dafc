"""The same flow on a text dataset (MR): both families train, the baselines are scored, and
the champion classifies raw strings in a fresh process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from tokfrag_testing.aliases import expected_aliases
from tokfrag_testing.params import TEXT_SHRUNK, merge

from flows.pipeline import pipeline

pytestmark = pytest.mark.usefixtures("prefect_api")


@pytest.fixture(scope="module")
def mr_run(tmp_path_factory: pytest.TempPathFactory, shrunk_params: dict, mirror: Path):
    root = tmp_path_factory.mktemp("mr")
    params_path = root / "params.yaml"
    params_path.write_text(
        yaml.safe_dump(
            merge(merge(shrunk_params, TEXT_SHRUNK), {"data": {"dataset": "mr"}}), sort_keys=False
        )
    )
    return root, pipeline(params_path=str(params_path))


def test_text_flow_scores_every_model(mr_run) -> None:
    root, result = mr_run
    metrics = json.loads((root / "outputs/mr/metrics.json").read_text())
    assert result["metrics"] == metrics
    assert metrics["task"] == "classification"
    assert set(metrics["models"]) == {"token", "fragment", "majority", "tfidf_logreg"}
    assert metrics["protocol"]["label_names"] == ["0", "1"]
    # The honest text baseline on MR: TF-IDF + logistic regression reaches about 77%.
    assert metrics["models"]["tfidf_logreg"]["test_accuracy"] > 0.74
    assert 0.45 < metrics["models"]["majority"]["test_accuracy"] < 0.55
    for entry in metrics["models"].values():
        matrix = entry["confusion_matrix"]
        assert sum(map(sum, matrix)) == metrics["protocol"]["test_documents"]
    assert (root / "reports/mr/plots/confusion_token.png").is_file()


def test_text_champion_classifies_strings_in_a_fresh_process(mr_run) -> None:
    root, result = mr_run
    registration = result["registration"]
    assert (registration["champion"], registration["challenger"]) == expected_aliases(
        result["metrics"]
    )

    script = """
import json
import mlflow, pandas as pd
model = mlflow.pyfunc.load_model("models:/tokfrag-mr@champion")
texts = ["a gripping , beautifully acted film", "dull and lifeless"]
out = model.predict(pd.DataFrame({"text": texts}))
print(json.dumps({"columns": list(out.columns), "rows": len(out),
                  "labels": sorted(set(out["label"]) - {"0", "1"})}))
"""
    uri = f"sqlite:///{root / 'mlruns.db'}"
    # Both: MLflow exports the URIs an earlier in-process test set into os.environ.
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "MLFLOW_REGISTRY_URI": uri}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=root, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer == {"columns": ["label", "proba_0", "proba_1"], "rows": 2, "labels": []}
