"""Tuning and the final fit, the same for every kind of data and both families.

``tune`` runs one Optuna study per family under the family's MLflow parent run (one child
run per trial) and writes ``tuning/<family>.json``: the budget configured and used, the
best point and every trial. Each trial is scored by cross-validation (``tune.cv``: rolling-
origin folds over the training windows for series, the stratified hold-out for text), the
hand-set point being trial 0. ``final_fit`` retrains the best point on train + validation
for the mean of its folds' best epochs; the test split is read only later, by ``evaluate``.

Both families get the same ``tune`` section: the same number of finished trials, the same
wall-clock limit (kept: a trial still running when it ends is stopped), the same sampler
seed and pruner, the same split and the same folds (their fingerprints are logged on every
run and recorded here, and ``evaluate`` checks the two records agree).
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any

from tokfrag.atomic import write_json
from tokfrag.config import Params, parse_params
from tokfrag.kinds import Kind, kind_of
from tokfrag.layout import Layout, StageError, read_json
from tokfrag.stages.training import fit_repeats, loop_config


def study_digest(params: Params, family: str, model: str, tags: dict[str, str]) -> str:
    """A hash of everything that shapes a family's trials (not the budget, the number of
    workers or where the study is stored): equal digests resume the same study."""
    section = getattr(params, family)
    material = {
        "dataset": params.data.dataset,
        "family": family,
        "model": model,
        "data_sha256": tags["data_sha256"],
        "split_fingerprint": tags["split_fingerprint"],
        "train": params.train.model_dump(exclude={"device", "repeats"}),
        family: section.model_dump(),
        "space": {k: v.model_dump() for k, v in params.space(family, model).items()},
        "seed": params.tune.seed,
        "pruner": params.tune.pruner.model_dump(),
        "cv": params.tune.cv.model_dump(),
        "folds_fingerprint": tags.get("folds_fingerprint", ""),
        "calendar": tags.get("calendar", ""),  # the covariates prepare chose (series)
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:12]


def tune(
    params: Params, layout: Layout, kind: Kind, family: str, workers: int | None = None
) -> dict[str, Any]:
    from tokfrag.registry.tracking import open_store, training_run
    from tokfrag.report.console import trial_progress
    from tokfrag.tuning import (
        Budget,
        StudySettings,
        TuningError,
        configured_point,
        optimize,
        redact,
        resolve_storage,
        summarise,
    )

    model = kind.model_name(params, family)
    space = params.space(family, model)
    parts = kind.fit_parts(params, layout, family, final=False)  # checks the prepared split
    base = {"family": family, "model": model, **parts.tags, "cv": _cv_record(parts)}
    if params.tune.n_trials == 0:
        record = {**base, "tuned": False, "reason": "tune.n_trials is 0"}
        write_json(layout.tuning(family), record)
        return record
    if not space:
        raise StageError(
            f"params.yaml tune.spaces.{family}.{model} is empty: add the dimensions to search, "
            "or set tune.n_trials: 0 to train the configured model untuned"
        )
    workers = workers or params.tune.workers
    cv_tags = {**parts.tags, "folds_fingerprint": parts.folds_fingerprint}
    digest = study_digest(params, family, model, cv_tags)
    name = f"{params.registry.model_prefix}-{params.data.dataset}-{family}-{model}-{digest}"
    try:
        storage = resolve_storage(params.tune.storage, layout.root)
    except TuningError as err:
        raise StageError(f"params.yaml {err}") from None
    tune_cfg = params.tune
    settings = StudySettings(
        name=name,
        storage=storage,
        seed=tune_cfg.seed,
        pruner=tune_cfg.pruner,
        max_epochs=_most_epochs(params, parts.kind, family, model) * len(parts.folds),
        heartbeat_seconds=tune_cfg.heartbeat_seconds,
        grace_seconds=tune_cfg.grace_seconds,
        max_retries=tune_cfg.max_retries,
    )
    budget = Budget(tune_cfg.n_trials, tune_cfg.timeout_seconds)
    store = open_store(params.registry, layout.root, params.data.dataset)
    run_tags = {
        "dataset": params.data.dataset,
        "study_name": name,
        "study_storage": redact(storage),
        "sampler_seed": tune_cfg.seed,
        "workers": workers,
        **base,
    }
    run_params = {
        "space": {k: v.model_dump(exclude_none=True) for k, v in space.items()},
        "budget": {"n_trials": budget.n_trials, "timeout_seconds": budget.timeout_seconds},
        "pruner": tune_cfg.pruner.model_dump(),
    }
    with training_run(store, f"{family}-tuning", params=run_params, tags=run_tags) as run:
        run.log_params({"cv_folds": len(parts.folds)})
        # Picklable, so spawned workers can build the same objective for themselves.
        factory = functools.partial(
            _objective, params.model_dump(), str(layout.root), family, name, run.run_id
        )
        with trial_progress(budget.n_trials, f"tune {family}") as progress:
            study = optimize(
                settings,
                budget,
                factory,
                workers=workers,
                enqueue=configured_point(params, space),
                progress=progress,
            )
        summary = summarise(study, settings, budget, workers)
        used = summary["used"]
        run.log_metrics(
            {
                "trials_finished": used["trials"],
                "trials_complete": used["complete"],
                "trials_pruned": used["pruned"],
                "trials_failed": used["failed"],
                "tuning_seconds": used["seconds"],
                **({"best_val_loss": summary["best"]["value"]} if summary["best"] else {}),
            }
        )
        if summary["best"] is None:
            cut = used["stopped_by_budget"]
            raise StageError(
                f"tuning {family}: no trial completed ({used['pruned']} pruned, of which "
                f"{cut} stopped when the {budget.timeout_seconds:g} s budget ran out; "
                f"{used['failed']} failed); raise tune.timeout_seconds"
                + ("" if cut else ", tune.n_trials or tune.pruner.startup_trials")
            )
        record = {**base, "tuned": True, "study_digest": digest, "parent_run_id": run.run_id}
        record.update(summary)
    write_json(layout.tuning(family), record)
    return record


def _most_epochs(params: Params, kind: str, family: str, model: str) -> int:
    """The most epochs any trial may run (the space may search the epoch count itself): a
    fold's steps must not run into the next fold's in the pruner's view."""
    most = loop_config(params, kind, family).epochs
    for path, dim in params.space(family, model).items():
        if path.endswith(".epochs") and dim.type != "categorical":
            most = max(most, int(dim.high or 0))
        elif path.endswith(".epochs"):
            most = max([most, *(int(c) for c in dim.choices or [])])
    return most


def _cv_record(parts: Any) -> dict[str, Any]:
    """How trials were scored: the number of folds and which folds (their fingerprint)."""
    scheme = "rolling-origin" if parts.kind == "series" else "stratified hold-out"
    return {"folds": len(parts.folds), "scheme": scheme, "fingerprint": parts.folds_fingerprint}


def _objective(
    raw_params: dict[str, Any],
    root: str,
    family: str,
    study_name: str,
    parent_run_id: str,
    worker: int,
    threads: int,
    deadline: float,
):
    """Build one worker's objective (module level, so spawned worker processes can too)."""
    from tokfrag.registry.tracking import open_store, trial_runs
    from tokfrag.train import TrainingDiverged, fit, seed_everything
    from tokfrag.tuning import TrialDiverged, make_objective

    if threads:
        import torch

        torch.set_num_threads(threads)
    params = parse_params(raw_params)
    layout = Layout.of(params, root)
    kind = kind_of(params)
    model = kind.model_name(params, family)
    parts = kind.fit_parts(params, layout, family, final=False)
    store = open_store(params.registry, layout.root, params.data.dataset)

    def fit_trial(overrides: dict[str, Any], fold: int, on_epoch):
        trial_params = params.with_overrides(overrides)
        seed_everything(trial_params.train.seed)
        net_model, train_examples, val_examples = parts.folds[fold](trial_params)
        loop = loop_config(trial_params, parts.kind, family)
        try:
            return fit(net_model.net, train_examples, val_examples, loop, callbacks=[on_epoch])
        except TrainingDiverged as err:
            # One bad point of the space must not end the study: this trial is pruned, and
            # the message says which space to narrow.
            raise TrialDiverged(
                f"{err.args[0].split(';')[0]} at the sampled point {overrides}; if many "
                f"trials do this, narrow tune.spaces.{family}.{model}"
            ) from None

    tags = {"family": family, "dataset": params.data.dataset, "study_name": study_name}
    open_log = trial_runs(store, parent_run_id, {**tags, **parts.tags, "worker": worker})
    pruner = params.tune.pruner
    return make_objective(
        params.space(family, model),
        fit_trial,
        open_log,
        n_folds=len(parts.folds),
        max_epochs=_most_epochs(params, parts.kind, family, model),
        prune_from=max(1, pruner.warmup_epochs),
        prune_every=pruner.interval_epochs,
        deadline=deadline,
    )


def final_fit(params: Params, layout: Layout, kind: Kind, family: str) -> dict[str, Any]:
    """Fit the family's model for the registry: the tuned point on train + validation for
    the best trial's epoch count, or (tuning off) the configured model, early-stopped."""
    path = layout.tuning(family)
    if params.tune.n_trials == 0:  # tuning off: whatever an earlier run recorded
        record: dict[str, Any] = {"tuned": False}
    else:
        record = read_json(path, f"tune {family}")
    if not record["tuned"] and params.tune.n_trials > 0:
        raise StageError(
            f"{path} says {family} was not tuned, but tune.n_trials is now "
            f"{params.tune.n_trials}; run `tokfrag tune {family}`"
        )
    parts = kind.fit_parts(params, layout, family, final=bool(record["tuned"]))
    if not record["tuned"]:
        return fit_repeats(params, layout, family, parts, extra={"tuned": False})
    model = kind.model_name(params, family)
    folds = parts.folds_fingerprint
    digest = study_digest(params, family, model, {**parts.tags, "folds_fingerprint": folds})
    if record.get("study_digest") != digest:
        raise StageError(
            f"{path} was tuned with other params, data or split; rerun `tokfrag tune {family}`"
        )
    best = record["best"]
    tuned = params.with_overrides(best["params"])
    return fit_repeats(
        tuned,
        layout,
        family,
        parts,
        epochs=int(best["best_epoch"]),
        final=True,
        parent_run_id=record["parent_run_id"],
        extra={
            "tuned": True,
            "overrides": best["params"],
            "study_name": record["study_name"],
            "best_trial": best["number"],
            "tuning_val_loss": best["value"],
        },
    )
