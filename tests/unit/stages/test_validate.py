"""The validate stage: GX's HTML data docs per run, on disk when the gate passes and in an
MLflow run named ``validate`` either way; a failure leaves the last good docs alone."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
import yaml
from mlflow import MlflowClient
from tokfrag_testing.params import TEXT_SHRUNK, merge

from tokfrag import stages
from tokfrag.config import load_params
from tokfrag.data.validation import ValidationFailed


def _client(root: Path) -> MlflowClient:
    uri = f"sqlite:///{root / 'mlruns.db'}"
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _validate_runs(root: Path, dataset: str) -> list:
    client = _client(root)
    experiment = client.get_experiment_by_name(f"tokfrag-{dataset}")
    runs = client.search_runs(
        [experiment.experiment_id],
        "attributes.run_name = 'validate'",
        order_by=["attributes.start_time ASC"],
    )
    return runs


def _tree(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _words(page: Path) -> str:
    """A rendered page's text, tags stripped and spaces collapsed."""
    html = page.read_text(encoding="utf-8")
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _logged_docs(root: Path, run_id: str, dest: Path) -> Path:
    return Path(_client(root).download_artifacts(run_id, "data_docs", str(dest)))


@pytest.mark.parametrize(
    ("dataset", "suites"),
    [("chickenpox", ("values", "edges")), ("trec", ("documents", "train", "cross_split"))],
)
def test_a_passing_gate_writes_data_docs_and_logs_them(
    project: Path, dataset: str, suites: tuple[str, ...], tmp_path: Path
) -> None:
    raw = yaml.safe_load(project.read_text())
    raw = merge(raw, {"data": {"dataset": dataset}, **(TEXT_SHRUNK if dataset == "trec" else {})})
    project.write_text(yaml.safe_dump(raw))
    params, root = load_params(project), project.parent
    stages.ingest(params, root)
    report = stages.validate(params, root)

    docs = root / "outputs" / dataset / "data_docs"
    index = (docs / "index.html").read_text(encoding="utf-8")
    for suite in suites:
        # One rendered validation page per suite, under this run's name (the dataset).
        pages = list((docs / "validations" / f"tokfrag_{suite}" / dataset).rglob("*.html"))
        assert len(pages) == 1, (suite, sorted(_tree(docs)))
        assert "Status: Succeeded" in _words(pages[0])
        assert pages[0].relative_to(docs).as_posix() in index
    # GX's bundled fonts and pictures are pruned: the site stays small.
    assert sum(p.stat().st_size for p in docs.rglob("*") if p.is_file()) < 2_000_000

    (run,) = _validate_runs(root, dataset)
    assert run.info.status == "FINISHED"
    assert run.data.tags["validation.success"] == "true"
    assert run.data.metrics["expectations_checked"] == report.checked
    assert run.data.metrics["expectations_failed"] == 0
    logged = _logged_docs(root, run.info.run_id, tmp_path / "logged")
    assert _tree(logged) == _tree(docs)


def test_a_failing_gate_logs_its_docs_and_keeps_the_last_good_ones(
    project: Path, tmp_path: Path
) -> None:
    params, root = load_params(project), project.parent
    stages.ingest(params, root)
    stages.validate(params, root)
    docs = root / "outputs/chickenpox/data_docs"
    good = _tree(docs)

    # A split the series is far too short for: the GX row-count expectation fails.
    raw = yaml.safe_load(project.read_text())
    raw["split"]["lags"] = 600
    project.write_text(yaml.safe_dump(raw))
    with pytest.raises(ValidationFailed) as failed:
        stages.validate(load_params(project), root)

    first, second = _validate_runs(root, "chickenpox")
    assert second.info.status == "FAILED"
    assert second.data.tags["validation.success"] == "false"
    assert second.data.metrics["expectations_failed"] >= 1
    # The message says where this failure's docs are.
    assert second.info.run_id in str(failed.value)
    logged = _logged_docs(root, second.info.run_id, tmp_path / "logged")
    (values_page,) = (logged / "validations/tokfrag_values/chickenpox").rglob("*.html")
    text = _words(values_page)
    assert "Status: Failed" in text and "Unsuccessful Expectations 1 " in text
    assert "greater than or equal to" in text and " rows" in text  # the row-count check

    # On disk: the last good docs, byte for byte, and no staging folder left behind.
    assert _tree(docs) == good
    assert not (root / "outputs/chickenpox/validation.json").exists()
    assert sorted(p.name for p in (root / "outputs/chickenpox").iterdir()) == ["data_docs"]
    assert first.info.status == "FINISHED"


def test_ingest_refuses_data_that_fails_the_gate_and_writes_nothing(project: Path) -> None:
    params, root = load_params(project), project.parent
    stages.ingest(params, root)
    before = _tree(root / "data/chickenpox")

    raw = yaml.safe_load(project.read_text())
    raw["split"]["lags"] = 600
    project.write_text(yaml.safe_dump(raw))
    with pytest.raises(ValidationFailed, match="ingest wrote nothing"):
        stages.ingest(load_params(project), root)
    assert _tree(root / "data/chickenpox") == before
    assert sorted(p.name for p in (root / "data").iterdir()) == ["chickenpox"]
