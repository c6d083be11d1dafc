"""The objective: sample a point of the space, fit it on every cross-validation fold,
report each fold's validation loss every epoch (so the pruner can stop a poor trial in any
fold), and return the mean of the folds' best validation losses.

Training and tracking come in as callables, so this module knows Optuna and nothing else:
``fit_trial(overrides, fold, on_epoch)`` fits one model on one fold (see
:mod:`tokfrag.stages.fitting`) and ``open_log(number, overrides)`` opens the trial's record
(an MLflow child run).

Steps: fold ``k`` (0-based) epoch ``e`` is reported as step ``k * max_epochs + e``, so the
pruner always compares a trial with the others on the same fold at the same epoch.
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


FitTrial = Callable[[dict[str, Any], int, EpochCallback], FitOutcome]
OpenLog = Callable[[int, dict[str, Any]], TrialLog]
Objective = Callable[[optuna.Trial], float]


class OutOfBudget(optuna.TrialPruned):
    """The study's wall-clock budget ran out while this trial was training."""


class TrialDiverged(Exception):
    """The point a trial sampled made training diverge (a loss that is not finite): the
    trial is recorded as pruned, with the reason, and the study goes on."""


def make_objective(
    space: Mapping[str, SearchDimension],
    fit_trial: FitTrial,
    open_log: OpenLog,
    *,
    n_folds: int = 1,
    max_epochs: int = 1,
    prune_from: int = 0,
    prune_every: int = 1,
    deadline: float | None = None,
) -> Objective:
    """An Optuna objective minimising the mean over ``n_folds`` folds of the best
    validation loss of one fit per fold.

    Every epoch's losses go to the trial's log (MLflow, with the fold as a key prefix when
    there are several). The validation loss is reported to Optuna, and the pruner asked,
    from epoch ``prune_from`` of each fold on, every ``prune_every`` epochs: each report is
    a write to the study and each question reads it back, a few milliseconds that matter
    when epochs are short.

    ``deadline`` (a :func:`time.time` value) is the end of the wall-clock budget: a trial
    still training then is stopped at the end of that epoch and recorded as pruned
    (:class:`OutOfBudget`), so the budget is kept to within one epoch.
    """

    def objective(trial: optuna.Trial) -> float:
        overrides = suggest(trial, space)
        log = open_log(trial.number, overrides)
        in_callbacks = [0.0]  # seconds spent reporting, inside the fits

        def on_epoch_of(fold: int) -> EpochCallback:
            prefix = f"fold{fold}_" if n_folds > 1 else ""

            def on_epoch(epoch: int, record: dict[str, float]) -> None:
                started = time.perf_counter()
                try:
                    log.log_epoch(epoch, {prefix + k: v for k, v in record.items()})
                    prune = False
                    if epoch >= prune_from and (epoch - prune_from) % prune_every == 0:
                        trial.report(record["val_loss"], fold * max_epochs + epoch)
                        prune = trial.should_prune()
                finally:
                    in_callbacks[0] += time.perf_counter() - started
                if prune:
                    raise optuna.TrialPruned(
                        f"val_loss {record['val_loss']:.4g} at fold {fold} epoch {epoch}"
                    )
                if deadline is not None and time.time() >= deadline:
                    raise OutOfBudget(f"the tuning budget ran out at fold {fold} epoch {epoch}")

            return on_epoch

        started = time.perf_counter()
        outcomes: list[FitOutcome] = []
        try:
            for fold in range(n_folds):
                outcomes.append(fit_trial(overrides, fold, on_epoch_of(fold)))
        except optuna.TrialPruned as stop:
            compute = time.perf_counter() - started - in_callbacks[0]
            trial.set_user_attr(
                "fit",
                {"compute_seconds": compute, "out_of_budget": isinstance(stop, OutOfBudget)},
            )
            log.finish("PRUNED", {})
            raise
        except TrialDiverged as err:
            compute = time.perf_counter() - started - in_callbacks[0]
            trial.set_user_attr("fit", {"compute_seconds": compute, "diverged": str(err)})
            log.finish("PRUNED", {})
            raise optuna.TrialPruned(str(err)) from None
        except BaseException:
            log.finish("FAIL", {})
            raise
        values = [o.best_val_loss for o in outcomes if o.best_val_loss is not None]
        if len(values) < len(outcomes):
            raise RuntimeError("a tuning trial must be fitted with a validation part")
        value = sum(values) / len(values)
        best_epochs = [o.best_epoch for o in outcomes]
        # The final fit on all training windows runs for the folds' mean best epoch.
        best_epoch = max(1, round(sum(best_epochs) / len(best_epochs)))
        # Building and fitting the models, without the reporting inside the fits: the rest
        # of the trial's wall time is Optuna and MLflow bookkeeping (see bench/tuning.py).
        compute = time.perf_counter() - started - in_callbacks[0]
        trial.set_user_attr(
            "fit",
            {
                "compute_seconds": compute,
                "best_epoch": best_epoch,
                "epochs_run": sum(o.epochs_run for o in outcomes),
                "fold_values": values,
                "fold_best_epochs": best_epochs,
            },
        )
        summary = {"best_val_loss": value, "best_epoch": best_epoch}
        if n_folds > 1:
            summary.update({f"fold{k}_best_val_loss": v for k, v in enumerate(values)})
        log.finish("COMPLETE", {**summary, "fit_seconds": sum(o.seconds for o in outcomes)})
        return value

    return objective
