"""Two pipeline runs at once, from two copies of a project that share one MLflow store (SQLite
tracking and registry, one artifact folder) and one Optuna storage: a team on shared stores.

Each copy runs every stage through the CLI's commands (ingest to register) in its own process;
both start together at a barrier, after their imports. The stages are shrunk as in the
bad-input corpus (two epochs, one repeat) with one tuning trial per family, so the runs
share the Optuna studies as well as the registered model. Either both runs succeed, or one
stops with a clear message about the concurrent use (no traceback); either way the registry
is consistent afterwards: unique version numbers, every version READY, fully tagged and
from a finished run, one version per training run, and the aliases on such versions.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from mlflow import MlflowClient
from optuna.trial import TrialState
from tokfrag_testing.bad_inputs import SERIES_DATASET, series_project

MODEL = f"tokfrag-{SERIES_DATASET}"
STAGES = (
    ("ingest",),
    ("validate",),
    ("prepare",),
    ("tune", "token"),
    ("train", "token"),
    ("tune", "fragment"),
    ("train", "fragment"),
    ("evaluate",),
    ("register",),
)
# Every stage of one project through the CLI's own commands, in one process (the imports
# are paid once); it waits at a barrier so that both projects start at the same moment.
CHILD = """
import sys, time
from pathlib import Path
from tokfrag.cli import app
import tokfrag.stages, tokfrag.registry, tokfrag.tuning.study

params, ready, go, stages = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
ready.touch()
while not go.exists():
    time.sleep(0.02)
for stage in stages.split(";"):
    code = app([*stage.split(), "--params", params], standalone_mode=False)
    if code:
        sys.exit(code)
"""
LOCK_WORDS = ("lock", "another tokfrag", "concurrent", "in use")


@pytest.fixture(autouse=True)
def _no_tracking_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # The children must use the params' stores, not a tracking URI from the environment.
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_REGISTRY_URI", raising=False)


def _project(root: Path, shared: Path, mirror: Path, shrunk_params: dict) -> Path:
    return series_project(
        root,
        shrunk_params,
        mirror,
        tune={"n_trials": 1, "storage": f"sqlite:///{shared / 'optuna.db'}"},
        registry={
            "tracking_uri": f"sqlite:///{shared / 'mlruns.db'}",
            "artifact_root": str(shared / "mlartifacts"),
        },
    )


def test_two_projects_run_at_once_on_shared_stores(
    tmp_path: Path, shrunk_params: dict, mirror: Path
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    projects = [
        _project(tmp_path / name, shared, mirror, shrunk_params) for name in ("alice", "bob")
    ]
    go = tmp_path / "go"
    stages = ";".join(" ".join(stage) for stage in STAGES)
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, str(p), str(p.parent / "ready"), str(go), stages],
            cwd=p.parent,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ),
        )
        for p in projects
    ]
    deadline = time.monotonic() + 120
    while not all((p.parent / "ready").exists() for p in projects):
        assert time.monotonic() < deadline and all(c.poll() is None for c in children)
        time.sleep(0.05)
    go.touch()
    try:
        results = [c.communicate(timeout=300) for c in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
    codes = [c.returncode for c in children]
    shown = "\n".join(
        f"--- {p.parent.name}: exit {code}\n{err[-4000:]}"
        for p, code, (_, err) in zip(projects, codes, results, strict=True)
    )

    for code, (_, err) in zip(codes, results, strict=True):
        assert "Traceback" not in err, shown
        if code != 0:  # the only acceptable failure: a clear word about the other run
            assert err.lstrip().startswith("error:"), shown
            assert any(word in err.lower() for word in LOCK_WORDS), shown
    assert 0 in codes, shown

    uri = f"sqlite:///{shared / 'mlruns.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    versions = client.search_model_versions(f"name = '{MODEL}'")
    numbers = [int(mv.version) for mv in versions]
    # Each finished run registers three versions: both families and its best baseline.
    assert len(numbers) == len(set(numbers)) == 3 * codes.count(0), (numbers, shown)
    made_by = [(mv.run_id, mv.tags.get("family")) for mv in versions]
    assert len(made_by) == len(set(made_by)), made_by  # one version per training run
    required = {"family", "kind", "dataset", "data_sha256", "ranked_by", "metric.test_mse"}
    for mv in versions:
        assert mv.status == "READY", mv
        assert required <= set(mv.tags), (mv.version, required - set(mv.tags))
        assert client.get_run(mv.run_id).info.status == "FINISHED", mv.version
        files = Path(
            client.get_model_version_download_uri(MODEL, mv.version).removeprefix("file://")
        )
        assert (files / "MLmodel").is_file(), mv.version
    aliases = dict(client.get_registered_model(MODEL).aliases)
    assert "champion" in aliases and len(set(aliases.values())) == len(aliases), aliases
    assert {int(v) for v in aliases.values()} <= set(numbers), (aliases, numbers)

    # Each successful run's record names versions that exist.
    gates = []
    for params, code in zip(projects, codes, strict=True):
        if code == 0:
            record = json.loads(
                (params.parent / f"outputs/{SERIES_DATASET}/registry.json").read_text()
            )
            assert set(record["versions"].values()) <= set(numbers), (record, numbers)
            assert record["champion_version"] in numbers, record
            gates.append(record["gate"])
    # The registrations took turns (tokfrag.stores.registry_lock): only the first found no
    # champion; the second's promotion gate faced the first one's champion.
    assert [g["reason"] for g in gates].count("no champion yet") == 1, gates

    # Same params, same data: both runs tuned in the same two shared studies, and no run
    # left a trial RUNNING there.
    storage = optuna.storages.RDBStorage(f"sqlite:///{shared / 'optuna.db'}")
    names = sorted(s.study_name for s in optuna.get_all_study_summaries(storage))
    assert len(names) == 2 and "-fragment-" in names[0] and "-token-" in names[1], names
    for name in names:
        trials = optuna.load_study(study_name=name, storage=storage).trials
        assert trials and all(t.state != TrialState.RUNNING for t in trials), name
