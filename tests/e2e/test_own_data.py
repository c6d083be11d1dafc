"""Your own data through `dvc repro` to a registered champion, changing only params.yaml: a
sensor CSV with an edge list, and a JSONL of labelled texts. The files are made here from the
real datasets (never committed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from mlflow import MlflowClient
from tokfrag_testing.aliases import expected_aliases
from tokfrag_testing.bad_inputs import SERIES_DATASET, SERIES_SOURCE, good_files, write_file
from tokfrag_testing.dvcrepo import dvc_repo, sh
from tokfrag_testing.params import TEXT_SHRUNK, merge

from tokfrag.data.text_loaders import load_textgcn


def _champion(root: Path, model: str):
    uri = f"sqlite:///{root / 'mlruns.db'}"
    return MlflowClient(tracking_uri=uri, registry_uri=uri).get_model_version_by_alias(
        model, "champion"
    )


@pytest.fixture(scope="module")
def sensors(tmp_path_factory: pytest.TempPathFactory, shrunk_params: dict, mirror: Path):
    """Chickenpox as a user would have it: a CSV with a `week` column and one column per
    county, and an edge list with its own column names."""
    files = tmp_path_factory.mktemp("sensor-files")
    inputs = {}
    for name, content in good_files(mirror).items():
        write_file(files / name, content)
        inputs[name] = files / name
    params = merge(shrunk_params, {"data": {"dataset": SERIES_DATASET, "source": SERIES_SOURCE}})
    root = dvc_repo(tmp_path_factory.mktemp("own-series") / "project", params, inputs)
    sh("dvc", "repro", cwd=root)
    return root


def test_sensor_csv_with_edges_reaches_a_champion(sensors: Path) -> None:
    metrics = json.loads((sensors / "outputs/my_sensors/metrics.json").read_text())
    assert metrics["protocol"]["train_snapshots"] == 103  # the same split as the built-in
    champion = _champion(sensors, "tokfrag-my_sensors")
    registry = json.loads((sensors / "outputs/my_sensors/registry.json").read_text())
    assert champion.tags["family"] == registry["champion"] == expected_aliases(metrics)[0]
    meta = json.loads((sensors / "data/my_sensors/meta.json").read_text())
    assert "inputs/readings.csv" in json.dumps(meta)  # the user's file and its sha256


def test_editing_your_file_in_inputs_reruns_ingest(sensors: Path) -> None:
    readings = sensors / "inputs/readings.csv"
    lines = readings.read_text().splitlines()
    lines[5] = lines[5].rsplit(",", 1)[0] + ",999"
    readings.write_text("\n".join(lines) + "\n")
    status = sh("dvc", "status", cwd=sensors).stdout
    assert "ingest" in status and "modified:" in status and "inputs" in status


def test_text_jsonl_reaches_a_champion(
    tmp_path_factory: pytest.TempPathFactory, shrunk_params: dict, mirror: Path
) -> None:
    docs = load_textgcn(
        mirror / "trec" / "TREC.txt", mirror / "trec" / "TREC.meta.txt", strip_first_word=True
    )
    docs = docs.groupby("split").head(800)  # a small corpus keeps the test short
    files = tmp_path_factory.mktemp("text-files")
    with (files / "questions.jsonl").open("w", encoding="utf-8") as out:
        for row in docs.itertuples():
            out.write(json.dumps({"q": row.text, "kind": row.label, "part": row.split}) + "\n")
    params = merge(
        merge(shrunk_params, TEXT_SHRUNK),
        {
            "data": {
                "dataset": "my_questions",
                "source": {
                    "kind": "text",
                    "path": "inputs/questions.jsonl",
                    "text": "q",
                    "label": "kind",
                    "split": "part",
                },
            }
        },
    )
    root = dvc_repo(
        tmp_path_factory.mktemp("own-text") / "project",
        params,
        {"questions.jsonl": files / "questions.jsonl"},
    )
    sh("dvc", "repro", cwd=root)
    metrics = json.loads((root / "outputs/my_questions/metrics.json").read_text())
    assert metrics["task"] == "classification"
    assert set(metrics["models"]) >= {"token", "fragment", "majority", "tfidf_logreg"}
    champion = _champion(root, "tokfrag-my_questions")
    # The verdict's champion: a family, or TF-IDF + LR when neither family beats it.
    assert champion.tags["family"] == expected_aliases(metrics)[0]
    assert yaml.safe_load((root / "params.yaml").read_text())["data"]["source"]["kind"] == "text"
