"""Studies that survive and spread: storage, resumption, heartbeats, workers and budgets.

A study is named from everything that shapes its trials (data, split, space, loop, seed), so
rerunning the same configuration (after a crash, a SIGKILL or a `dvc repro` that was stopped)
loads the same study and keeps every finished trial; a trial whose process died stops sending
heartbeats, is marked failed and is retried with the same parameters.

The budget is counted in *finished* trials (complete or pruned) and in wall-clock seconds
during which a trial of the study was running (the union of the trials' intervals), so it
is the same measure with one worker, several workers, or a study resumed three times.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import socket
import sys
import time
import zlib
from collections.abc import Callable
from typing import Any

import optuna
from optuna.study import MaxTrialsCallback
from optuna.trial import FrozenTrial, TrialState

from tokfrag.stores import SQLITE_PREFIX
from tokfrag.tuning.settings import Budget, StudySettings, TuningError
from tokfrag.tuning.storage import make_storage, redact

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)

# (worker index, torch threads for it (0 = leave the default), the budget's end as a
# time.time() value) -> objective
ObjectiveFactory = Callable[[int, int, float], Callable[[optuna.Trial], float]]
# (finished trials, budgeted trials, best value so far or None)
Progress = Callable[[int, int, float | None], None]


def _pruner(settings: StudySettings) -> optuna.pruners.BasePruner:
    cfg = settings.pruner
    if cfg.kind == "median":
        return optuna.pruners.MedianPruner(
            n_startup_trials=cfg.startup_trials,
            n_warmup_steps=cfg.warmup_epochs,
            interval_steps=cfg.interval_epochs,
        )
    if cfg.kind == "hyperband":
        return optuna.pruners.HyperbandPruner(
            min_resource=max(1, cfg.warmup_epochs), max_resource=settings.max_epochs
        )
    return optuna.pruners.NopPruner()


def sampler_seed(settings: StudySettings, worker: int, existing: int) -> int:
    """The TPE seed of one process: ``seed + worker`` on a new study. A resumed study
    (``existing`` trials) shifts it, or the restarted random sequence would propose the
    points it already tried; on a server storage, where several machines may join at
    once, the host and process salt it too."""
    value = settings.seed + worker + 100_003 * existing
    if "://" in settings.storage and not settings.storage.startswith(SQLITE_PREFIX):
        value += zlib.crc32(f"{socket.gethostname()}:{os.getpid()}".encode())
    return value % 2**32


def open_study(settings: StudySettings, worker: int = 0) -> optuna.Study:
    """Create the study, or load it when it exists (that is how a killed run resumes).

    Each process samples with its own seed (:func:`sampler_seed`): equal seeds would
    propose equal points.
    """
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = make_storage(settings)
    try:
        existing = len(storage.get_all_trials(storage.get_study_id_from_name(settings.name)))
    except KeyError:
        existing = 0
    return optuna.create_study(
        storage=storage,
        study_name=settings.name,
        direction="minimize",
        sampler=optuna.samplers.TPESampler(seed=sampler_seed(settings, worker, existing)),
        pruner=_pruner(settings),
        load_if_exists=True,
    )


def finished_trials(study: optuna.Study) -> list[FrozenTrial]:
    return study.get_trials(deepcopy=False, states=FINISHED)


def covered_seconds(trials: list[FrozenTrial]) -> float:
    """Wall-clock seconds during which at least one of ``trials`` was running."""
    spans = sorted(
        (t.datetime_start.timestamp(), t.datetime_complete.timestamp())
        for t in trials
        if t.datetime_start is not None and t.datetime_complete is not None
    )
    total, end = 0.0, float("-inf")
    for start, stop in spans:
        if stop > end:
            total += stop - max(start, end)
            end = stop
    return total


def shares(n: int, workers: int) -> list[int]:
    """``n`` trials dealt to at most ``workers`` workers as evenly as possible."""
    workers = max(1, min(workers, n))
    return [n // workers + (i < n % workers) for i in range(workers)]


def _best_value(study: optuna.Study) -> float | None:
    values = [t.value for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))]
    return min((v for v in values if v is not None), default=None)


def optimize(
    settings: StudySettings,
    budget: Budget,
    factory: ObjectiveFactory,
    workers: int = 1,
    enqueue: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> optuna.Study:
    """Run the study until ``budget`` finished trials or seconds are used (counting what
    earlier, possibly killed, runs of the same study already finished).

    ``factory(worker, threads, deadline)`` builds each worker's objective, which stops a
    trial still running at ``deadline``, so the last trial cannot overrun the budget. With
    ``workers > 1`` it runs in that many spawned processes (so it must be picklable), each
    with its share of the remaining trials and of the CPU threads. ``enqueue`` is tried
    first on a new study.
    """
    study = open_study(settings)
    if enqueue and not study.get_trials(deepcopy=False):
        study.enqueue_trial(enqueue, skip_if_exists=True)
    done = finished_trials(study)
    remaining = budget.n_trials - len(done)
    seconds_left = budget.timeout_seconds - covered_seconds(done)
    report = progress or (lambda *_: None)
    report(len(done), budget.n_trials, _best_value(study))
    if remaining <= 0 or seconds_left <= 0:
        return study
    deadline = time.time() + seconds_left
    plan = shares(remaining, workers)
    if len(plan) == 1:
        stop_at_budget = MaxTrialsCallback(budget.n_trials, states=FINISHED)

        def after_trial(study: optuna.Study, trial: FrozenTrial) -> None:
            report(len(finished_trials(study)), budget.n_trials, _best_value(study))

        study.optimize(
            factory(0, 0, deadline),
            n_trials=plan[0],
            timeout=seconds_left,
            callbacks=[stop_at_budget, after_trial],
            gc_after_trial=False,
        )
        return study
    _run_workers(settings, budget, factory, plan, seconds_left, deadline, study, report)
    return study


def _run_workers(
    settings: StudySettings,
    budget: Budget,
    factory: ObjectiveFactory,
    plan: list[int],
    seconds_left: float,
    deadline: float,
    study: optuna.Study,
    report: Progress,
) -> None:
    threads = max(1, (os.cpu_count() or 1) // len(plan))
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(
            target=_work,
            args=(settings, budget.n_trials, factory, index, n, seconds_left, deadline, threads),
            name=f"tokfrag-tune-{index}",
        )
        for index, n in enumerate(plan)
    ]
    for process in processes:
        process.start()
    failed = None
    try:
        # Until all are done or one fails: then the others are stopped, not left running.
        while (failed := _first_failed(processes)) is None and any(p.is_alive() for p in processes):
            report(len(finished_trials(study)), budget.n_trials, _best_value(study))
            time.sleep(0.5)
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
            process.join()
    failed = failed or _first_failed(processes)
    if failed is not None:
        raise TuningError(
            f"tuning worker {failed.name} exited with code {failed.exitcode} (its error is "
            "printed above); finished trials are kept in the study, so rerunning resumes it"
        )
    report(len(finished_trials(study)), budget.n_trials, _best_value(study))


def _first_failed(processes: list[Any]) -> Any:
    return next((p for p in processes if p.exitcode not in (None, 0)), None)


def _die_with_parent() -> None:
    # A worker must not outlive a killed `tokfrag tune`: ask Linux to SIGKILL it then.
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except OSError:
            pass


def _work(
    settings: StudySettings,
    n_total: int,
    factory: ObjectiveFactory,
    worker: int,
    n_trials: int,
    seconds_left: float,
    deadline: float,
    threads: int,
) -> None:
    """One worker process: its own storage connection, sampler seed and objective."""
    _die_with_parent()
    study = open_study(settings, worker)
    study.optimize(
        factory(worker, threads, deadline),
        n_trials=n_trials,
        timeout=seconds_left,
        callbacks=[MaxTrialsCallback(n_total, states=FINISHED)],
        gc_after_trial=False,
    )


def summarise(study: optuna.Study, settings: StudySettings, budget: Budget, workers: int) -> dict:
    """What the study used and found: configured vs used budget, the best trial, and one
    row per trial (for the report's optimisation history)."""
    trials = study.get_trials(deepcopy=False)
    done = [t for t in trials if t.state in FINISHED]
    complete = [t for t in done if t.state == TrialState.COMPLETE and t.value is not None]
    best = min(complete, key=lambda t: t.value) if complete else None  # type: ignore[arg-type,return-value]
    rows = [
        {
            "number": t.number,
            "state": t.state.name,
            "value": t.value,
            "params": t.params,
            "seconds": t.duration.total_seconds() if t.duration else None,
            "last_epoch": t.last_step,
            "best_epoch": t.user_attrs.get("fit", {}).get("best_epoch"),
            "compute_seconds": t.user_attrs.get("fit", {}).get("compute_seconds"),
            "fold_values": t.user_attrs.get("fit", {}).get("fold_values"),
            "fold_best_epochs": t.user_attrs.get("fit", {}).get("fold_best_epochs"),
            "out_of_budget": t.user_attrs.get("fit", {}).get("out_of_budget", False),
            "retry_of": t.system_attrs.get("failed_trial"),
        }
        for t in trials
    ]
    return {
        "study_name": settings.name,
        "storage": redact(settings.storage),
        "direction": "minimize",
        "objective": "best validation loss",
        "sampler": {"name": "TPESampler", "seed": settings.seed},
        "pruner": settings.pruner.model_dump(),
        "configured": {"n_trials": budget.n_trials, "timeout_seconds": budget.timeout_seconds},
        "used": {
            "trials": len(done),
            "complete": sum(t.state == TrialState.COMPLETE for t in trials),
            "pruned": sum(t.state == TrialState.PRUNED for t in trials),
            "failed": sum(t.state == TrialState.FAIL for t in trials),
            "running": sum(t.state == TrialState.RUNNING for t in trials),
            "seconds": covered_seconds(done),
            "trial_seconds": sum(t.duration.total_seconds() for t in done if t.duration),
            "workers": workers,
            "stopped_by_budget": sum(
                bool(t.user_attrs.get("fit", {}).get("out_of_budget")) for t in trials
            ),
        },
        "best": None
        if best is None
        else {
            "number": best.number,
            "value": best.value,
            "params": best.params,
            "best_epoch": best.user_attrs.get("fit", {}).get("best_epoch"),
        },
        "trials": rows,
    }
