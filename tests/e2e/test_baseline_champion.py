"""Baselines are candidates: on data where the ridge beats both families, the ridge is
registered as `champion` (a real pyfunc model that serves requests), the family winner waits
as `challenger`, and `tokfrag register`, `summary` and `compare` say so in words. Evaluate's
outputs are one unit: an evaluation killed before its last write is refused by `register`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import yaml
from mlflow.tracking import MlflowClient
from tokfrag_testing.stages import cripple_families, until_evaluate

from tokfrag import stages
from tokfrag.config import load_params

TOKFRAG = [sys.executable, "-m", "tokfrag.cli"]
MODEL = "tokfrag-chickenpox"


def _cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TOKFRAG, *args], cwd=cwd, capture_output=True, text=True, env=os.environ
    )


def test_a_ridge_that_beats_both_families_is_champion_and_the_winner_challenger(
    project: Path,
) -> None:
    root = project.parent
    project.write_text(
        yaml.safe_dump(cripple_families(yaml.safe_load(project.read_text())), sort_keys=False)
    )
    until_evaluate(project)
    metrics = json.loads((root / "outputs/chickenpox/metrics.json").read_text())
    verdict = metrics["verdict"]
    best = verdict["strongest_baseline"] or verdict["baseline"]
    assert best["name"].startswith("ridge_ar") and best["worse"], verdict["sentence"]
    assert verdict["champion"] == best["name"]
    assert "So the champion is the baseline" in verdict["sentence"]
    report = (root / "reports/chickenpox/report.html").read_text()
    assert f"So the champion is the baseline {best['name']}" in report

    done = _cli(["register"], root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "champion = baseline" in done.stdout
    assert f"{verdict['chosen']}, the family winner, is challenger" in done.stdout

    client = MlflowClient(tracking_uri=f"sqlite:///{root}/mlruns.db")
    champion = client.get_model_version_by_alias(MODEL, "champion")
    challenger = client.get_model_version_by_alias(MODEL, "challenger")
    assert champion.tags["family"] == "baseline"
    assert champion.tags["baseline"] == best["name"] and champion.tags["model_kind"] == "ridge_ar"
    assert champion.tags["verdict"].startswith("verdict's champion: the baseline")
    assert challenger.tags["family"] == verdict["chosen"]
    assert "not champion" in challenger.tags["verdict"]
    # Its registered test MSE is the figure the evaluation measured for it.
    assert float(champion.tags["metric.test_mse"]) == metrics["models"][best["name"]]["test_mse"]

    summary = _cli(["summary"], root)
    assert summary.returncode == 0, summary.stderr
    assert f"= the baseline {best['name']}" in summary.stdout
    assert f"{verdict['chosen']}, the family winner, is challenger" in summary.stdout
    compare = _cli(["compare"], root)
    assert compare.returncode == 0, compare.stderr
    assert f"champion: version {champion.version}, the baseline {best['name']}" in compare.stdout
    assert f"challenger: version {challenger.version}, {verdict['chosen']}" in compare.stdout

    # The ridge serves requests like any champion, in a fresh process, and forecasts what
    # the evaluation scored: its per-window squared errors are the evaluation's.
    script = f"""
import json
import mlflow, numpy as np
from tokfrag import stages
from tokfrag.config import load_params
from tokfrag.kinds import series
params = load_params("{project}")
layout = stages.Layout.of(params, ".")
model = mlflow.pyfunc.load_model("models:/{MODEL}@champion")
print(json.dumps(series.champion_items(params, layout, model).tolist()))
"""
    env = dict(os.environ)
    env["MLFLOW_TRACKING_URI"] = env["MLFLOW_REGISTRY_URI"] = f"sqlite:///{root / 'mlruns.db'}"
    served = subprocess.run(
        [sys.executable, "-c", script], cwd=root, env=env, capture_output=True, text=True
    )
    assert served.returncode == 0, served.stderr
    with np.load(root / "outputs/chickenpox/item_scores.npz") as items:
        scored = items[best["name"]]
    np.testing.assert_allclose(json.loads(served.stdout.splitlines()[-1]), scored, rtol=1e-9)


def test_an_interrupted_evaluation_is_refused_by_register(project: Path) -> None:
    root = project.parent
    until_evaluate(project)
    metrics = root / "outputs/chickenpox/metrics.json"
    kept = metrics.read_bytes()
    # A second evaluation that was killed after writing the report, the baseline model and
    # the item scores, but before its last write (metrics.json): that is the state a kill
    # leaves, since every write is atomic and metrics.json comes last.
    stages.evaluate(load_params(project), root)
    shutil.copy(metrics, root / "second-metrics.json")
    metrics.write_bytes(kept)
    done = _cli(["register"], root)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "interrupted" in done.stderr and "tokfrag evaluate" in done.stderr
    assert not (root / "outputs/chickenpox/registry.json").exists()
    client = MlflowClient(tracking_uri=f"sqlite:///{root}/mlruns.db")
    assert client.search_registered_models() == []
    # The finished evaluation registers.
    shutil.copy(root / "second-metrics.json", metrics)
    assert _cli(["register"], root).returncode == 0
