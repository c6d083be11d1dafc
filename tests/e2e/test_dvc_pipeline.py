"""`dvc repro` in a real temporary git + DVC repository, with shrunk params: the metrics file,
a champion that loads and predicts in a fresh process, a no-op second repro, and the same
metrics as the Prefect flow gives for the same params."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from tokfrag_testing.aliases import expected_aliases
from tokfrag_testing.dvcrepo import BIN, dvc_repo, env, sh

_env, _sh = env, sh


@pytest.fixture(scope="module")
def dvc_project(tmp_path_factory: pytest.TempPathFactory, shrunk_params: dict, mirror: Path):
    """A copy of the project (pipeline, params, the source its stages depend on) as its own
    git + DVC repository, after one `dvc repro`."""
    root = dvc_repo(tmp_path_factory.mktemp("dvc") / "project", shrunk_params)
    first = _sh("dvc", "repro", cwd=root)
    return root, first.stdout


def shrunk_params_trials(root: Path) -> int:
    return yaml.safe_load((root / "params.yaml").read_text())["tune"]["n_trials"]


def test_repro_writes_metrics_for_every_model(dvc_project) -> None:
    root, log = dvc_project
    for stage in (
        "ingest",
        "validate",
        "prepare",
        "tune_token",
        "tune_fragment",
        "train_token",
        "train_fragment",
        "evaluate",
        "register",
    ):
        assert f"Running stage '{stage}'" in log
    metrics = json.loads((root / "outputs/chickenpox/metrics.json").read_text())
    assert set(metrics["models"]) == {
        "token",
        "fragment",
        "zero",
        "last_value",
        "historical_average",
        "ridge_ar",
        "ridge_ar_calendar",  # the ridge with the families' calendar covariates
    }
    # The baselines are deterministic: the published figures for this protocol.
    assert metrics["models"]["zero"]["test_mse"] == pytest.approx(1.007, abs=5e-4)
    assert metrics["models"]["last_value"]["test_mse"] == pytest.approx(3.018, abs=5e-4)
    assert metrics["models"]["ridge_ar"]["test_mse"] == pytest.approx(0.704, abs=5e-4)
    shown = _sh("dvc", "metrics", "show", "--json", cwd=root).stdout
    assert "token" in shown and "fragment" in shown
    comparison, budget = (
        (root / "reports/chickenpox/report.html").read_text().split("<h2>Tuning budget</h2>")
    )
    assert comparison.count("<tr class=") == 7  # one row per model
    assert budget.count("<tr class=") == 2  # one per family
    # Both families were tuned under the budget in params.yaml, and used all of it.
    for family in ("token", "fragment"):
        tuning = metrics["tuning"][family]
        assert tuning["configured"]["n_trials"] == shrunk_params_trials(root)
        assert tuning["used"]["trials"] == tuning["configured"]["n_trials"]


def test_champion_loads_and_predicts_in_a_fresh_process(dvc_project) -> None:
    root, _ = dvc_project
    registry = json.loads((root / "outputs/chickenpox/registry.json").read_text())
    metrics = json.loads((root / "outputs/chickenpox/metrics.json").read_text())
    assert (registry["champion"], registry["challenger"]) == expected_aliases(metrics)

    script = """
import json, sys
import mlflow, numpy as np
from mlflow import MlflowClient
from tokfrag.data.canonical import load_series
from tokfrag.registry import windows_to_frame
series = load_series("data/chickenpox")
model = mlflow.pyfunc.load_model("models:/tokfrag-chickenpox@champion")
window = series.values[-4:].T[None]                      # (1, N, 4): the last four weeks
out = model.predict(windows_to_frame(window, series.node_ids, times=series.time[-1:]))
# A champion that reads calendar covariates needs each window's time (its signature marks
# the column required): a request without it is refused. One that does not, answers.
reads_time = any(c.name == "time" and c.required for c in model.metadata.get_input_schema().inputs)
try:
    model.predict(windows_to_frame(window, series.node_ids))
    refused = ""
except Exception as err:
    refused = str(err)
version = MlflowClient().get_model_version_by_alias("tokfrag-chickenpox", "champion")
print(json.dumps({"rows": len(out), "columns": list(out.columns),
                  "finite": bool(np.isfinite(out["h1"]).all()), "family": version.tags["family"],
                  "refused": "time" in refused, "reads_time": reads_time}))
"""
    env = _env()
    # Both: MLflow exports the URIs an earlier in-process test set into os.environ.
    env["MLFLOW_TRACKING_URI"] = env["MLFLOW_REGISTRY_URI"] = f"sqlite:///{root / 'mlruns.db'}"
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=root, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer == {
        "rows": 20,
        "columns": ["window", "node", "h1"],
        "finite": True,
        "family": registry["champion"],
        "refused": answer["reads_time"],
        "reads_time": answer["reads_time"],
    }


def test_second_repro_runs_no_stage(dvc_project) -> None:
    root, _ = dvc_project
    again = _sh("dvc", "repro", cwd=root).stdout
    assert "Running stage" not in again
    assert "Data and pipelines are up to date" in _sh("dvc", "status", cwd=root).stdout


@pytest.mark.usefixtures("prefect_api")
def test_prefect_flow_gives_the_same_metrics(
    dvc_project, tmp_path: Path, shrunk_params: dict
) -> None:
    from flows.pipeline import pipeline

    root, _ = dvc_project
    flow_params = tmp_path / "params.yaml"
    flow_params.write_text(yaml.safe_dump(shrunk_params, sort_keys=False))
    result = pipeline(params_path=str(flow_params))

    by_dvc = json.loads((root / "outputs/chickenpox/metrics.json").read_text())["models"]
    by_flow = result["metrics"]["models"]
    assert set(by_dvc) == set(by_flow)
    for model, entry in by_dvc.items():
        for key, value in entry.items():
            if key.startswith("test_"):
                # A spread over seeds (``_std``) is a difference of values that agree to 1e-6:
                # hold it to an absolute tolerance, not a relative one.
                tolerance = {"abs": 1e-8} if key.endswith("_std") else {}
                assert by_flow[model][key] == pytest.approx(value, rel=1e-6, **tolerance), (
                    model,
                    key,
                )


def test_mlflow_models_predict_serves_the_champion_from_the_command_line(
    dvc_project, tmp_path: Path
) -> None:
    from tokfrag.data.canonical import load_series
    from tokfrag.registry import windows_to_frame

    root, _ = dvc_project
    series = load_series(root / "data/chickenpox")
    window = series.values[-4:].T[None]  # (1, 20, 4), and the time of its last step
    request = windows_to_frame(window, series.node_ids, times=series.time[-1:])
    (tmp_path / "input.json").write_text(
        json.dumps({"dataframe_split": request.to_dict(orient="split")})
    )
    env = _env()
    env["MLFLOW_TRACKING_URI"] = env["MLFLOW_REGISTRY_URI"] = f"sqlite:///{root / 'mlruns.db'}"
    done = subprocess.run(
        [
            str(BIN / "mlflow"),
            "models",
            "predict",
            "-m",
            "models:/tokfrag-chickenpox@champion",
            "-i",
            str(tmp_path / "input.json"),
            "-t",
            "json",
            "-o",
            str(tmp_path / "output.json"),
            "--env-manager",
            "local",
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    answer = json.loads((tmp_path / "output.json").read_text())["predictions"]
    assert len(answer) == 20  # one forecast per node
    assert {row["node"] for row in answer} == set(series.node_ids)
    assert all(isinstance(row["h1"], float) for row in answer)


def test_report_renders_in_headless_chromium(dvc_project, tmp_path: Path) -> None:
    from tokfrag_testing import browser

    browser.ensure_chromium()  # installs Debian's chromium when missing (CI does it up front)
    root, _ = dvc_project
    report = root / "reports/chickenpox/report.html"
    shot = tmp_path / "report.png"
    page = browser.inspect_page(report, shot)
    assert page.console_errors == []
    assert page.title == "tokfrag report: chickenpox"
    # scores, forecast, error per step, learning curves, tuning history
    assert len(page.images) == 5
    assert all(w > 0 and h > 0 for _, w, h in page.images), page.images
    assert shot.stat().st_size > 10_000
    markdown = (root / "reports/chickenpox/report.md").read_text()
    assert markdown.startswith("# tokfrag") and "**Verdict.**" in markdown
    assert all((root / "reports/chickenpox" / link).is_file() for link in _links(markdown))


def _links(markdown: str) -> list[str]:
    import re

    return re.findall(r"!\[[^\]]*\]\(([^)]+)\)", markdown)
