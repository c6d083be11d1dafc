"""Tuning through the real stages on Chickenpox: equal budgets, one MLflow parent run per
family with a child run per trial, the final fit on train + validation, studies that resume
after SIGKILL, and two worker processes on one study."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
import yaml
from mlflow.tracking import MlflowClient
from optuna.trial import TrialState

from tokfrag import stages
from tokfrag.config import load_params
from tokfrag.kinds.series_data import load_inputs as _load_inputs
from tokfrag.layout import Layout
from tokfrag.stages import StageError


def _prepare(project: Path, **tune: object) -> Path:
    raw = yaml.safe_load(project.read_text())
    raw["tune"].update(tune)
    project.write_text(yaml.safe_dump(raw, sort_keys=False))
    params = load_params(project)
    root = project.parent
    stages.ingest(params, root)
    stages.validate(params, root)
    stages.prepare(params, root)
    return root


def _runs(root: Path) -> list:
    client = MlflowClient(tracking_uri=f"sqlite:///{root}/mlruns.db")
    experiment = client.get_experiment_by_name("tokfrag-chickenpox")
    return client.search_runs([experiment.experiment_id], max_results=500)


def _study(root: Path, record: dict) -> optuna.Study:
    # A plain storage (no heartbeat) so reading it never fails a trial by itself.
    storage = optuna.storages.RDBStorage(f"sqlite:///{root}/optuna.db")
    return optuna.load_study(study_name=record["study_name"], storage=storage)


def test_both_families_get_the_same_budget_and_split_and_every_trial_is_tracked(
    project: Path,
) -> None:
    root = _prepare(project)
    params = load_params(project)
    records = {family: stages.tune(params, root, family) for family in ("token", "fragment")}
    for family, record in records.items():
        assert (
            record["tuned"]
            and record["model"] == {"token": "inverted", "fragment": "gconvgru"}[family]
        )
        assert record["configured"] == {"n_trials": 2, "timeout_seconds": 120.0}
        assert record["used"]["trials"] == 2 and record["used"]["failed"] == 0
        assert len(record["trials"]) == 2
        assert record["storage"] == f"sqlite:///{root}/optuna.db"
    assert records["token"]["split_fingerprint"] == records["fragment"]["split_fingerprint"]

    runs = _runs(root)
    parents = {r.data.tags["family"]: r for r in runs if r.info.run_name.endswith("-tuning")}
    assert set(parents) == {"token", "fragment"}
    for family, parent in parents.items():
        record = records[family]
        assert parent.info.run_id == record["parent_run_id"]
        assert parent.data.tags["study_name"] == record["study_name"]
        assert parent.data.tags["study_storage"] == record["storage"]
        assert parent.data.metrics["trials_finished"] == 2
        trials = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
        assert sorted(r.data.tags["trial_number"] for r in trials) == ["0", "1"]
        client = MlflowClient(tracking_uri=f"sqlite:///{root}/mlruns.db")
        for trial in trials:
            assert trial.data.tags["trial_state"] in ("COMPLETE", "PRUNED")
            history = client.get_metric_history(trial.info.run_id, "val_loss")
            assert [m.step for m in history] == list(range(1, len(history) + 1))
            assert set(trial.data.params) == set(record["best"]["params"])

    # The final fit: the best point, on train + validation, for the best trial's epochs.
    layout = Layout.of(params, root)
    series, split = _load_inputs(params, layout)
    for family in ("token", "fragment"):
        summary = stages.train(params, root, family)
        best = records[family]["best"]
        assert summary["tuned"] and summary["overrides"] == best["params"]
        assert summary["epochs_run"] == best["best_epoch"]
        assert summary["fit_on"] == "train" and summary["best_val_loss"] is None
        # One example per window (fragments) or per window and node (channel-independent
        # tokens): either way, every training window and no other.
        assert summary["n_train_examples"] in (len(split.train), len(split.train) * 20)
    runs = _runs(root)
    finals = [r for r in runs if r.data.tags.get("fit_on") == "train"]
    assert {r.data.tags["mlflow.parentRunId"] for r in finals} == {
        p.info.run_id for p in parents.values()
    }
    # Every tuning and training run saw the same split indices (the gate's own `validate`
    # run checks the data before any split is fixed).
    fits = [r for r in runs if r.data.tags.get("stage") != "validate"]
    assert len(fits) < len(runs)
    assert {r.data.tags["split_fingerprint"] for r in fits} == {split.fingerprint()}

    metrics = stages.evaluate(params, root)
    for family in ("token", "fragment"):
        shown = metrics["tuning"][family]
        assert shown["used"]["trials"] == shown["configured"]["n_trials"] == 2
        assert len(shown["history"]) == 2
    report = (root / "reports/chickenpox/report.html").read_text()
    assert "Tuning budget" in report and "2/2" in report


def test_rerunning_resumes_the_study_and_a_bigger_budget_extends_it(project: Path) -> None:
    root = _prepare(project)
    params = load_params(project)
    first = stages.tune(params, root, "fragment")
    again = stages.tune(params, root, "fragment")
    assert again["study_name"] == first["study_name"]
    assert again["trials"] == first["trials"]  # no new trial: the budget was already used
    more = stages.tune(params.with_overrides({"tune.n_trials": 3}), root, "fragment")
    assert more["study_name"] == first["study_name"]
    assert more["trials"][:2] == first["trials"] and len(more["trials"]) == 3


def test_a_stale_tuning_record_is_refused_by_the_final_fit(project: Path) -> None:
    root = _prepare(project)
    params = load_params(project)
    stages.tune(params, root, "fragment")
    changed = params.with_overrides({"fragment.model.dropout": 0.2})
    with pytest.raises(StageError, match="tune fragment"):
        stages.train(changed, root, "fragment")
    with pytest.raises(StageError, match="run `tokfrag tune token`"):
        stages.train(params, root, "token")  # never tuned


def test_tuning_off_trains_the_configured_model_early_stopped(project: Path) -> None:
    root = _prepare(project, n_trials=0)
    params = load_params(project)
    record = stages.tune(params, root, "fragment")
    assert record["tuned"] is False
    summary = stages.train(params, root, "fragment")
    assert summary["tuned"] is False and summary["fit_on"] == "fit"
    assert summary["best_val_loss"] is not None
    assert [r["seed"] for r in summary["repeats"]] == params.train.seeds
    # Turning tuning on afterwards makes the untuned record stale.
    with pytest.raises(StageError, match="not tuned"):
        stages.train(params.with_overrides({"tune.n_trials": 2}), root, "fragment")


def test_an_empty_space_is_a_clear_error(project: Path) -> None:
    raw = yaml.safe_load(project.read_text())
    raw["tune"]["spaces"]["fragment"].pop("gconvgru")
    project.write_text(yaml.safe_dump(raw, sort_keys=False))
    root = _prepare(project)
    with pytest.raises(StageError, match=r"tune\.spaces\.fragment\.gconvgru is empty"):
        stages.tune(load_params(project), root, "fragment")


def _cli_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_TRACKING_URI")}
    env.pop("MLFLOW_REGISTRY_URI", None)
    return env


def test_sigkill_during_tuning_loses_no_finished_trial(project: Path) -> None:
    # Long enough trials that the kill lands inside one; no pruning, so all complete.
    root = _prepare(project, n_trials=4, pruner={"kind": "none"})
    raw = yaml.safe_load(project.read_text())
    raw["train"].update({"epochs": 40, "patience": 40})
    project.write_text(yaml.safe_dump(raw, sort_keys=False))
    command = [sys.executable, "-m", "tokfrag.cli", "tune", "fragment", "--params", str(project)]
    process = subprocess.Popen(
        command, cwd=root, env=_cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    storage = optuna.storages.RDBStorage(f"sqlite:///{root}/optuna.db")
    deadline = time.monotonic() + 240
    running = None
    while time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
        try:
            (summary,) = optuna.get_all_study_summaries(storage) or (None,)
        except (RuntimeError, ValueError):
            continue
        if summary is None:
            continue
        study = optuna.load_study(study_name=summary.study_name, storage=storage)
        done = study.get_trials(states=(TrialState.COMPLETE,))
        running = study.get_trials(states=(TrialState.RUNNING,))
        if len(done) >= 2 and running:
            break
    assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
    assert running, "no trial was running when the test meant to kill the tuning"
    time.sleep(0.5)  # let the running trial send a heartbeat
    process.send_signal(signal.SIGKILL)
    process.wait()
    before = {
        t.number: (t.value, t.params) for t in study.get_trials(states=(TrialState.COMPLETE,))
    }
    killed = [t.number for t in study.get_trials(states=(TrialState.RUNNING,))]
    assert killed and len(before) >= 2
    assert not (root / "outputs/chickenpox/tuning/fragment.json").exists()

    time.sleep(3.5)  # past the grace period: the dead trial's heartbeat is stale
    result = subprocess.run(command, cwd=root, env=_cli_env(), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    record = json.loads((root / "outputs/chickenpox/tuning/fragment.json").read_text())
    after = _study(root, record)
    kept = {t.number: (t.value, t.params) for t in after.get_trials(states=(TrialState.COMPLETE,))}
    assert {n: kept[n] for n in before} == before  # every finished trial survived as it was
    states = {t.number: t.state for t in after.trials}
    assert all(states[n] == TrialState.FAIL for n in killed)
    retried = [t for t in after.trials if t.system_attrs.get("failed_trial") in killed]
    assert retried and retried[0].state == TrialState.COMPLETE
    assert retried[0].params == after.trials[killed[0]].params
    assert record["used"]["trials"] == record["configured"]["n_trials"] == 4
    assert record["used"]["failed"] == len(killed)


def test_two_worker_processes_share_one_study(project: Path) -> None:
    root = _prepare(project, n_trials=4)
    params = load_params(project)
    record = stages.tune(params, root, "fragment", workers=2)
    assert record["used"]["trials"] == 4 and record["used"]["workers"] == 2
    study = _study(root, record)
    assert len(study.get_trials(states=(TrialState.COMPLETE, TrialState.PRUNED))) == 4
    trial_runs = [
        r for r in _runs(root) if r.data.tags.get("mlflow.parentRunId") == record["parent_run_id"]
    ]
    # Both processes ran trials, each logging its own child runs under the one parent.
    assert {r.data.tags["worker"] for r in trial_runs} == {"0", "1"}
    assert len(trial_runs) == 4


@pytest.mark.slow
@pytest.mark.postgres
def test_two_workers_share_a_study_on_postgresql_and_it_resumes(
    project: Path, postgres_url: str
) -> None:
    root = _prepare(project, n_trials=4, storage=postgres_url)
    params = load_params(project)
    record = stages.tune(params, root, "fragment", workers=2)
    assert record["storage"] == postgres_url  # no password in this URL to hide
    assert record["used"]["trials"] == 4 and record["used"]["workers"] == 2
    assert not (root / "optuna.db").exists()  # the study lives in PostgreSQL
    study = optuna.load_study(study_name=record["study_name"], storage=postgres_url)
    assert len(study.get_trials(states=(TrialState.COMPLETE, TrialState.PRUNED))) == 4
    again = stages.tune(params, root, "fragment", workers=2)
    assert again["trials"] == record["trials"]
    summary = stages.train(params, root, "fragment")
    assert summary["overrides"] == record["best"]["params"]


def test_cross_validated_tuning_uses_identical_folds_for_both_families(project: Path) -> None:
    """Both families' trials are scored on the same rolling-origin folds of the training
    windows (the hand-set point first), each trial's value is its folds' mean best
    validation loss, and the final fit's epoch count comes from the folds."""
    from tokfrag.data.splits import folds_fingerprint, rolling_folds

    root = _prepare(project)
    params = load_params(project)
    _, split = _load_inputs(params, Layout.of(params, root))
    folds = rolling_folds(split, params.tune.cv.folds)
    expected = {"folds": 3, "scheme": "rolling-origin", "fingerprint": folds_fingerprint(folds)}
    records = {family: stages.tune(params, root, family) for family in ("token", "fragment")}
    for record in records.values():
        assert record["cv"] == expected
        complete = [t for t in record["trials"] if t["state"] == "COMPLETE"]
        assert complete
        for trial in complete:
            assert len(trial["fold_values"]) == 3 == len(trial["fold_best_epochs"])
            assert trial["value"] == pytest.approx(sum(trial["fold_values"]) / 3)
            assert trial["best_epoch"] == max(1, round(sum(trial["fold_best_epochs"]) / 3))
    # The folds differ: every fold is fit and validated on its own windows.
    fits = {len(f.fit) for f in folds}
    assert len(fits) == 3
    # evaluate refuses two families tuned on different folds
    layout = Layout.of(params, root)
    token = json.loads(layout.tuning("token").read_text())
    token["cv"]["fingerprint"] = "another-fold-set"
    layout.tuning("token").write_text(json.dumps(token))
    from tokfrag.stages.records import tuning_summary

    with pytest.raises(StageError, match="different budgets or folds"):
        tuning_summary(layout, split.fingerprint())

    trained = stages.train(params, root, "fragment")
    best = records["fragment"]["best"]
    assert trained["epochs_run"] == best["best_epoch"]


def test_a_trial_running_when_the_budget_ends_is_stopped_there(project: Path) -> None:
    """A wall-clock budget is kept: a trial still training when it runs out is stopped at
    the end of that epoch (recorded as pruned), not left to overrun it."""
    raw = yaml.safe_load(project.read_text())
    raw["train"].update({"epochs": 5000, "patience": 5000})
    project.write_text(yaml.safe_dump(raw, sort_keys=False))
    root = _prepare(project, timeout_seconds=3, n_trials=4)
    params = load_params(project)
    started = time.perf_counter()
    with pytest.raises(StageError, match="stopped when the 3 s budget ran out"):
        stages.tune(params, root, "fragment")
    assert time.perf_counter() - started < 60
    storage = optuna.storages.RDBStorage(f"sqlite:///{root}/optuna.db")
    (summary,) = optuna.get_all_study_summaries(storage)
    study = optuna.load_study(study_name=summary.study_name, storage=storage)
    (trial,) = study.get_trials(deepcopy=False)
    assert trial.state == TrialState.PRUNED and trial.user_attrs["fit"]["out_of_budget"]
    assert trial.duration.total_seconds() < 3 + 1.5  # the budget, plus at most an epoch


def test_a_point_that_diverges_is_pruned_and_the_study_goes_on(project: Path) -> None:
    """A sampled learning rate that blows the loss up prunes that trial, says why, and
    leaves the budget's other trials to run."""
    raw = yaml.safe_load(project.read_text())
    raw["tune"]["spaces"]["fragment"]["gconvgru"] = {
        "fragment.lr": {"type": "float", "low": 1e9, "high": 1e12, "log": True}
    }
    raw["train"]["clip_grad_norm"] = None
    project.write_text(yaml.safe_dump(raw, sort_keys=False))
    root = _prepare(project, n_trials=3)
    params = load_params(project)
    with pytest.raises(StageError, match="no trial completed"):
        stages.tune(params, root, "fragment")  # every point diverges: nothing to train
    storage = optuna.storages.RDBStorage(f"sqlite:///{root}/optuna.db")
    (summary,) = optuna.get_all_study_summaries(storage)
    trials = optuna.load_study(study_name=summary.study_name, storage=storage).trials
    assert len(trials) == 3  # the first divergence did not end the study
    for trial in trials:
        assert trial.state == TrialState.PRUNED
        reason = trial.user_attrs["fit"]["diverged"]
        assert "is nan" in reason or "is inf" in reason
        assert "tune.spaces.fragment.gconvgru" in reason
