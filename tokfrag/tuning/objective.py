"""The objective: sample a point of the space, fit on the fit part, report the validation
loss every epoch (so the pruner can stop a poor trial), return the best validation loss.

Training and tracking come in as callables, so this module knows Optuna and nothing else:
``fit_trial(overrides, on_epoch)`` fits one model (see :mod:`tokfrag.stages.fitting`) and
``open_log(number, overrides)`` opens the trial's record (an MLflow child run).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import optuna

from tokfrag.config import SearchDimension
from tokfrag.tuning.space import suggest

EpochCallback = Callable[[int, dict[str, float]], None]


class FitOutcome(Protocol):
    best_epoch: int
    best_val_loss: float | None
    epochs_run: int
    seconds: float


class TrialLog(Protocol):
    """Where one trial is recorded: every epoch, then its final state."""

    def log_epoch(self, epoch: int, metrics: Mapping[str, float]) -> None: ...

    def finish(self, state: str, metrics: Mapping[str, float]) -> None: ...


FitTrial = Callable[[dict[str, Any], EpochCallback], FitOutcome]
OpenLog = Callable[[int, dict[str, Any]], TrialLog]
Objective = Callable[[optuna.Trial], float]


def make_objective(
    space: Mapping[str, SearchDimension],
    fit_trial: FitTrial,
    open_log: OpenLog,
    prune_from: int = 0,
    prune_every: int = 1,
) -> Objective:
    """An Optuna objective minimising the best validation loss of one fit.

    Every epoch's losses go to the trial's log (MLflow). The validation loss is reported to
    Optuna, and the pruner asked, from epoch ``prune_from`` on, every ``prune_every``
    epochs (every epoch with ``prune_every=1``): each report is a write to the study and
    each question reads it back, a few milliseconds that matter when epochs are short.
    """

    def objective(trial: optuna.Trial) -> float:
        overrides = suggest(trial, space)
        log = open_log(trial.number, overrides)
        in_callbacks = [0.0]  # seconds spent reporting, inside the fit

        def on_epoch(epoch: int, record: dict[str, float]) -> None:
            started = time.perf_counter()
            try:
                log.log_epoch(epoch, record)
                prune = False
                if epoch >= prune_from and (epoch - prune_from) % prune_every == 0:
                    trial.report(record["val_loss"], epoch)
                    prune = trial.should_prune()
            finally:
                in_callbacks[0] += time.perf_counter() - started
            if prune:
                raise optuna.TrialPruned(f"val_loss {record['val_loss']:.4g} at epoch {epoch}")

        started = time.perf_counter()
        try:
            outcome = fit_trial(overrides, on_epoch)
        except optuna.TrialPruned:
            compute = time.perf_counter() - started - in_callbacks[0]
            trial.set_user_attr("fit", {"compute_seconds": compute})
            log.finish("PRUNED", {})
            raise
        except BaseException:
            log.finish("FAIL", {})
            raise
        value = outcome.best_val_loss
        if value is None:
            raise RuntimeError("a tuning trial must be fitted with a validation part")
        # Building and fitting the model, without the reporting inside the fit: the rest of
        # the trial's wall time is Optuna and MLflow bookkeeping (see bench/tuning.py).
        compute = time.perf_counter() - started - in_callbacks[0]
        trial.set_user_attr(
            "fit",
            {
                "compute_seconds": compute,
                "best_epoch": outcome.best_epoch,
                "epochs_run": outcome.epochs_run,
            },
        )
        summary = {"best_val_loss": value, "best_epoch": outcome.best_epoch}
        log.finish("COMPLETE", {**summary, "fit_seconds": outcome.seconds})
        return value

    return objective
