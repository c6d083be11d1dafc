"""Fitting one family for the registry: the loop's recipe, one MLflow run per fit (saved
as safetensors + JSON with its ``train.json``), the final fit once per seed, and reading the
saved models back."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from tokfrag.atomic import staged_dir, write_json
from tokfrag.config import Params
from tokfrag.families import FAMILIES
from tokfrag.kinds import FitParts
from tokfrag.layout import Layout, StageError, read_json


def run_params(params: Params, family: str) -> dict[str, Any]:
    """What a training run records: the sections that shape this family's model."""
    section = getattr(params, family)
    return {
        "dataset": params.data.dataset,
        "family": family,
        "split": params.split.model_dump(),
        "train": params.train.model_dump(),
        family: section.model_dump(),
    }


def loop_config(params: Params, kind: str, family: str, epochs: int | None = None) -> Any:
    """The loop's recipe for ``family`` on ``kind`` data. ``epochs`` (a final fit's tuned
    count) stops training there but keeps the schedule's length, so the learning rate
    follows the same curve it followed in the folds that chose the count."""
    from tokfrag.train import LoopConfig

    settings = params.train.loop_settings(kind, params.family_loop(family, kind))
    if epochs is not None:
        settings["schedule_epochs"] = settings["epochs"]
        settings["epochs"] = epochs
    return LoopConfig(**settings, label=f"{family} ({kind})")


def fit_and_save(
    params: Params,
    layout: Layout,
    family: str,
    parts: FitParts,
    out_dir: Path,
    *,
    epochs: int | None = None,
    final: bool = False,
    parent_run_id: str | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Build and fit one model with the shared loop inside one MLflow run, then save it
    (safetensors + JSON) and its ``train.json`` into ``out_dir`` (the caller stages it).

    ``final`` fits on train + validation for exactly ``epochs`` epochs (the tuned count);
    otherwise the fit part is trained with early stopping on the validation part.
    """
    import resource

    from tokfrag.registry.tracking import open_store, training_run
    from tokfrag.report.console import epoch_progress
    from tokfrag.train import as_examples, fit, seed_everything

    # Seed before the weights are initialised, so a stage gives the same model whether it runs
    # alone (DVC) or after other stages in one process (Prefect).
    seed_everything(params.train.seed)
    model, train_examples, val_examples = parts.build(params)
    train_examples = as_examples(train_examples)
    loop = replace(
        loop_config(params, parts.kind, family, epochs), label=f"{family} model {model.kind}"
    )
    n_params = sum(p.numel() for p in model.net.parameters())
    store = open_store(params.registry, layout.root, params.data.dataset)
    tags = {**parts.tags, "fit_on": "train" if final else "fit", "seed": str(params.train.seed)}
    run_tags = {"family": family, "model_kind": model.kind, "dataset": params.data.dataset, **tags}
    name = f"{family}-{model.kind}" + (f"-final-seed{params.train.seed}" if final else "")
    with (
        training_run(
            store,
            name,
            params=run_params(params, family),
            tags=run_tags,
            parent_run_id=parent_run_id,
        ) as run,
        epoch_progress(loop.epochs, f"train {family} (seed {params.train.seed})") as progress,
    ):
        result = fit(
            model.net, train_examples, val_examples, loop, callbacks=[run.log_epoch, progress]
        )
        # The training process's peak resident memory (Linux reports KiB): each DVC stage
        # is its own process, so this is the fit's footprint plus the interpreter's.
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        summary = {
            "family": family,
            "kind": model.kind,
            "run_id": run.run_id,
            "n_params": n_params,
            "n_train_examples": len(train_examples),
            "peak_rss_mb": peak_mb,
            **tags,
            "seed": params.train.seed,  # the number, not the tag's string
            **(extra or {}),
            **result.to_dict(),
        }
        final_metrics = {
            "best_epoch": result.best_epoch,
            "train_seconds": result.seconds,
            "n_params": n_params,
            "peak_rss_mb": peak_mb,
        }
        if result.best_val_loss is not None:
            final_metrics["best_val_loss"] = result.best_val_loss
        run.log_metrics(final_metrics)
        model.net.cpu()
        model.save(out_dir)
        write_json(out_dir / "train.json", summary)
    return summary


REPEATS_DIR = "repeats"  # models/<family>/repeats/seed-<s>/: the other seeds' final fits


def fit_repeats(
    params: Params, layout: Layout, family: str, parts: FitParts, **fit_args: Any
) -> dict[str, Any]:
    """The final fit once per seed of ``train.seeds``, saved atomically as one folder: the
    first seed's model in ``models/<family>/`` (the one registered), the others under
    ``repeats/seed-<s>/``. Returns the first fit's summary, listing every repeat."""
    seeds = params.train.seeds
    with staged_dir(layout.model_dir(family)) as staging:
        summaries = []
        for i, seed in enumerate(seeds):
            out = staging if i == 0 else staging / REPEATS_DIR / f"seed-{seed}"
            out.mkdir(parents=True, exist_ok=True)
            seeded = params.with_overrides({"train.seed": seed})
            summaries.append(fit_and_save(seeded, layout, family, parts, out, **fit_args))
        summary = {
            **summaries[0],
            "repeats": [
                {k: s[k] for k in ("seed", "run_id", "seconds", "epochs_run", "best_val_loss")}
                for s in summaries
            ],
        }
        write_json(staging / "train.json", summary)
    return summary


def load_trained(layout: Layout, fingerprint: str) -> dict[str, tuple[Any, dict[str, Any]]]:
    """Both families' registered (first-seed) models and their ``train.json``, checked
    against the split."""
    from tokfrag.families import load_forecaster

    trained = {}
    for family in FAMILIES:
        info = read_json(layout.model_dir(family) / "train.json", f"train {family}")
        if info["split_fingerprint"] != fingerprint:
            raise StageError(f"{layout.model_dir(family)} was trained on another split; retrain it")
        trained[family] = (load_forecaster(layout.model_dir(family)), info)
    return trained


def load_repeats(layout: Layout, family: str, info: dict[str, Any]) -> list[tuple[int, Any]]:
    """``(seed, model)`` for every seed of the family's final fit, the registered one first."""
    from tokfrag.families import load_forecaster

    seeds = [r["seed"] for r in info.get("repeats", [{"seed": info.get("seed", 0)}])]
    folder = layout.model_dir(family)
    models = [(seeds[0], load_forecaster(folder))]
    for seed in seeds[1:]:
        models.append((seed, load_forecaster(folder / REPEATS_DIR / f"seed-{seed}")))
    return models
