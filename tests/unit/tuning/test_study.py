"""Studies on a real SQLite storage: budgets counted across resumes, storage URLs resolved."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from tokfrag.config import PrunerConfig
from tokfrag.tuning import Budget, StudySettings, TuningError, optimize, redact, resolve_storage
from tokfrag.tuning.study import covered_seconds, finished_trials, shares, summarise


def _settings(tmp_path: Path, name: str = "s", pruner: str = "none") -> StudySettings:
    return StudySettings(
        name=name,
        storage=resolve_storage(None, tmp_path),
        seed=0,
        pruner=PrunerConfig(kind=pruner),
        max_epochs=10,
        heartbeat_seconds=1,
        grace_seconds=2,
    )


def _quadratic(worker: int, threads: int, deadline: float):
    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", -3.0, 3.0)
        return (x - 1.0) ** 2

    return objective


def test_storage_defaults_to_sqlite_in_the_project_and_resolves_relative_paths(
    tmp_path: Path,
) -> None:
    assert resolve_storage(None, tmp_path) == f"sqlite:///{tmp_path.resolve()}/optuna.db"
    assert resolve_storage("sqlite:///studies/o.db", tmp_path).endswith(
        f"{tmp_path.resolve()}/studies/o.db"
    )
    assert resolve_storage("sqlite:////abs/o.db", tmp_path) == "sqlite:////abs/o.db"
    url = "postgresql+psycopg2://u:secret@db:5432/optuna"
    assert resolve_storage(url, tmp_path) == url
    assert resolve_storage("studies.log", tmp_path) == f"journal:{tmp_path.resolve()}/studies.log"
    with pytest.raises(TuningError, match="no database file"):
        resolve_storage("sqlite:///:memory:", tmp_path)


def test_passwords_never_reach_the_logs() -> None:
    shown = redact("postgresql+psycopg2://u:secret@db:5432/optuna")
    assert "secret" not in shown and "db:5432/optuna" in shown


def test_trials_are_dealt_evenly() -> None:
    assert shares(7, 2) == [4, 3]
    assert shares(1, 4) == [1]
    assert sum(shares(10, 3)) == 10


def _frozen(start: float, stop: float) -> optuna.trial.FrozenTrial:
    t0 = dt.datetime(2026, 1, 1)
    return optuna.trial.FrozenTrial(
        number=0,
        state=TrialState.COMPLETE,
        value=0.0,
        values=None,
        datetime_start=t0 + dt.timedelta(seconds=start),
        datetime_complete=t0 + dt.timedelta(seconds=stop),
        params={},
        distributions={},
        user_attrs={},
        system_attrs={},
        intermediate_values={},
        trial_id=0,
    )


def test_wall_clock_counts_overlapping_trials_once() -> None:
    # Two workers side by side for 10 s, then one alone for 5 s: 15 s of wall clock.
    assert covered_seconds([_frozen(0, 10), _frozen(2, 8), _frozen(9, 15)]) == pytest.approx(15)
    assert covered_seconds([_frozen(0, 1), _frozen(5, 6)]) == pytest.approx(2)


def test_budget_is_counted_across_resumed_runs(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    seen = []
    study = optimize(
        settings,
        Budget(3, 60),
        _quadratic,
        enqueue={"x": 1.0},
        progress=lambda d, t, b: seen.append((d, t, b)),
    )
    assert len(finished_trials(study)) == 3
    assert study.trials[0].params == {"x": 1.0}  # the hand-set point goes first
    assert seen[-1][:2] == (3, 3) and seen[-1][2] == pytest.approx(0.0)

    again = optimize(settings, Budget(3, 60), _quadratic)  # same study: nothing left to do
    assert len(again.trials) == 3
    more = optimize(settings, Budget(5, 60), _quadratic)  # a bigger budget continues it
    assert len(finished_trials(more)) == 5
    assert [t.number for t in more.trials[:3]] == [0, 1, 2]

    summary = summarise(more, settings, Budget(5, 60), workers=1)
    assert summary["used"]["trials"] == summary["configured"]["n_trials"] == 5
    assert summary["best"]["number"] == 0 and summary["best"]["value"] == 0.0
    assert summary["sampler"] == {"name": "TPESampler", "seed": 0}


def test_a_spent_wall_clock_budget_starts_no_trial(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    study = optimize(settings, Budget(2, 60), _quadratic)
    spent = covered_seconds(finished_trials(study))
    after = optimize(settings, Budget(10, spent / 2), _quadratic)
    assert len(after.trials) == 2


def test_pruned_trials_count_as_used_and_are_recorded_as_pruned(tmp_path: Path) -> None:
    settings = StudySettings(
        name="p",
        storage=resolve_storage(None, tmp_path),
        seed=0,
        pruner=PrunerConfig(kind="median", startup_trials=1, warmup_epochs=0),
        max_epochs=5,
    )

    def factory(worker: int, threads: int, deadline: float):
        def objective(trial: optuna.Trial) -> float:
            level = trial.suggest_float("level", 0.0, 1.0)
            if trial.number == 0:
                level = 0.0  # a good first trial sets the median low
            for step in range(5):
                trial.report(level + 1.0, step)
                if trial.should_prune():
                    raise optuna.TrialPruned()
            return level + 1.0

        return objective

    study = optimize(settings, Budget(4, 60), factory)
    states = [t.state for t in study.trials]
    assert states.count(TrialState.PRUNED) >= 1
    assert len(finished_trials(study)) == 4
    assert summarise(study, settings, Budget(4, 60), 1)["used"]["pruned"] == states.count(
        TrialState.PRUNED
    )


def test_a_resumed_study_does_not_propose_the_points_it_already_tried(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    first = optimize(settings, Budget(3, 60), _quadratic)
    tried = [t.params["x"] for t in first.trials]
    resumed = optimize(settings, Budget(6, 60), _quadratic)
    later = [t.params["x"] for t in resumed.trials[3:]]
    assert len(later) == 3 and not set(later) & set(tried)
