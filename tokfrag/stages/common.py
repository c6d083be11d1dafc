"""What every stage shares, whatever the kind of data: where files live, the validation
gate's record, the training-run wrapper, and the evaluation bookkeeping."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tokfrag.atomic import staged_dir, write_json, write_text
from tokfrag.config import Params

FAMILIES = ("token", "fragment")


@dataclass(frozen=True)
class Layout:
    """Where every stage's inputs and outputs live, relative to the project folder."""

    root: Path
    dataset: str

    @classmethod
    def of(cls, params: Params, root: str | Path) -> Layout:
        return cls(Path(root).resolve(), params.data.dataset)

    @property
    def data_dir(self) -> Path:
        return self.root / "data" / self.dataset

    @property
    def out_dir(self) -> Path:
        return self.root / "outputs" / self.dataset

    @property
    def validation(self) -> Path:
        return self.out_dir / "validation.json"

    @property
    def prepared(self) -> Path:
        return self.out_dir / "prepared"

    def tuning(self, family: str) -> Path:
        return self.out_dir / "tuning" / f"{family}.json"

    def model_dir(self, family: str) -> Path:
        return self.out_dir / "models" / family

    @property
    def metrics(self) -> Path:
        return self.out_dir / "metrics.json"

    @property
    def plots(self) -> Path:
        return self.out_dir / "plots"

    @property
    def report(self) -> Path:
        return self.out_dir / "report.html"

    @property
    def registry(self) -> Path:
        return self.out_dir / "registry.json"


class StageError(RuntimeError):
    """A stage cannot run: a missing or failed upstream output, named with the fix."""


def read_json(path: Path, produced_by: str) -> Any:
    if not path.is_file():
        raise StageError(f"{path}: missing; run `tokfrag {produced_by}` (or `dvc repro`) first")
    return json.loads(path.read_text())


def scalar_test_metrics(entry: dict[str, Any]) -> dict[str, float]:
    """The scalar test figures of one model's metrics entry (what MLflow records)."""
    return {k: float(v) for k, v in entry.items() if k.startswith("test_")}


def source_meta(spec: Any) -> dict[str, Any]:
    """The ``meta.json`` fields every canonical dataset carries about its upstream files."""
    from tokfrag.data.registry import combined_sha256

    return {
        "name": spec.name,
        "kind": spec.kind,
        "files": dict(spec.files),
        "sha256": combined_sha256(spec.files),
        "license": spec.license,
        "description": spec.description,
    }


def record_gate(layout: Layout, params: Params, report: Any, data_sha256: str) -> Any:
    """Write the passed gate's record: what was checked, on exactly which bytes and split."""
    from tokfrag.data.canonical import canonical_digest

    write_json(
        layout.validation,
        {
            **report.to_dict(),
            "data_sha256": data_sha256,
            "data_digest": canonical_digest(layout.data_dir),
            "split": params.split.model_dump(),
        },
    )
    return report


def require_gate(layout: Layout, params: Params) -> None:
    """Refuse to go on unless the gate passed on exactly these files and this split."""
    from tokfrag.data.canonical import canonical_digest

    gate = read_json(layout.validation, "validate")
    passed = (
        gate.get("success")
        and gate.get("data_digest") == canonical_digest(layout.data_dir)
        and gate.get("split") == params.split.model_dump()
    )
    if not passed:
        raise StageError(
            f"{layout.validation}: the validation gate has not passed on this data and split; "
            "run `tokfrag validate` and fix what it reports"
        )


def check_prepared(layout: Layout, fingerprint: str, data_sha256: str) -> dict[str, Any]:
    """The prepared split, checked against the one the current params and data give."""
    prepared = read_json(layout.prepared / "split.json", "prepare")
    if prepared["fingerprint"] != fingerprint:
        raise StageError(
            f"{layout.prepared / 'split.json'} was made for another split; rerun `tokfrag prepare`"
        )
    if prepared["data_sha256"] != data_sha256:
        raise StageError(f"{layout.prepared} was made from other data; rerun `tokfrag prepare`")
    return prepared


def run_params(params: Params, family: str) -> dict[str, Any]:
    """What a training run records: the sections that shape this family's model."""
    section = params.token if family == "token" else params.fragment
    return {
        "dataset": params.data.dataset,
        "family": family,
        "split": params.split.model_dump(),
        "train": params.train.model_dump(),
        family: section.model_dump(),
    }


@dataclass(frozen=True)
class FitParts:
    """What fitting a family needs, loaded once and reused by every tuning trial:
    ``build(params) -> (model, train_examples, val_examples or None)`` builds a fresh model
    (tokenizers and vocabularies fit on the training part only) and its examples."""

    kind: str  # "series" or "text": selects the loop settings
    build: Callable[[Params], tuple[Any, Any, Any]]
    tags: dict[str, str]  # data_sha256 and split_fingerprint, logged on every run


def loop_config(params: Params, kind: str, epochs: int | None = None) -> Any:
    from tokfrag.train import LoopConfig

    settings = params.train.loop_settings(kind)
    if epochs is not None:
        settings["epochs"] = epochs
    return LoopConfig(**settings)


def train_and_save(
    params: Params,
    layout: Layout,
    family: str,
    parts: FitParts,
    *,
    epochs: int | None = None,
    final: bool = False,
    parent_run_id: str | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Build and fit one model with the shared loop inside one MLflow run, then save it
    (safetensors + JSON) and its ``train.json`` to ``models/<family>/`` atomically.

    ``final`` fits on train + validation for exactly ``epochs`` epochs (the tuned count);
    otherwise the fit part is trained with early stopping on the validation part.
    """
    from tokfrag.registry import open_store, training_run
    from tokfrag.report.console import epoch_progress
    from tokfrag.train import as_examples, fit, seed_everything

    # Seed before the weights are initialised, so a stage gives the same model whether it runs
    # alone (DVC) or after other stages in one process (Prefect).
    seed_everything(params.train.seed)
    model, train_examples, val_examples = parts.build(params)
    train_examples = as_examples(train_examples)
    loop = loop_config(params, parts.kind, epochs)
    n_params = sum(p.numel() for p in model.net.parameters())
    store = open_store(params.registry, layout.root, params.data.dataset)
    tags = {**parts.tags, "fit_on": "train" if final else "fit"}
    run_tags = {"family": family, "model_kind": model.kind, "dataset": params.data.dataset, **tags}
    with (
        training_run(
            store,
            f"{family}-{model.kind}" + ("-final" if final else ""),
            params=run_params(params, family),
            tags=run_tags,
            parent_run_id=parent_run_id,
        ) as run,
        epoch_progress(loop.epochs, f"train {family}") as progress,
    ):
        result = fit(
            model.net, train_examples, val_examples, loop, callbacks=[run.log_epoch, progress]
        )
        summary = {
            "family": family,
            "kind": model.kind,
            "run_id": run.run_id,
            "n_params": n_params,
            "n_train_examples": len(train_examples),
            **tags,
            **(extra or {}),
            **result.to_dict(),
        }
        final_metrics = {
            "best_epoch": result.best_epoch,
            "train_seconds": result.seconds,
            "n_params": n_params,
        }
        if result.best_val_loss is not None:
            final_metrics["best_val_loss"] = result.best_val_loss
        run.log_metrics(final_metrics)
        model.net.cpu()
        with staged_dir(layout.model_dir(family)) as staging:
            model.save(staging)
            write_json(staging / "train.json", summary)
    return summary


def load_trained(layout: Layout, fingerprint: str) -> dict[str, tuple[Any, dict[str, Any]]]:
    """Both families' saved models and their ``train.json``, checked against the split."""
    from tokfrag.models.forecaster import load_forecaster

    trained = {}
    for family in FAMILIES:
        info = read_json(layout.model_dir(family) / "train.json", f"train {family}")
        if info["split_fingerprint"] != fingerprint:
            raise StageError(f"{layout.model_dir(family)} was trained on another split; retrain it")
        trained[family] = (load_forecaster(layout.model_dir(family)), info)
    return trained


def tuning_summary(layout: Layout, fingerprint: str) -> dict[str, Any]:
    """Each family's tuning as the comparison shows it: the budget configured and used,
    the best trial and the trial history. Refuses records made on another split, and two
    families tuned under different budgets: the comparison would not be fair."""
    summary: dict[str, Any] = {}
    for family in FAMILIES:
        path = layout.tuning(family)
        if not path.is_file():
            summary[family] = {"tuned": False}
            continue
        record = json.loads(path.read_text())
        if record["split_fingerprint"] != fingerprint:
            raise StageError(f"{path} was tuned on another split; rerun `tokfrag tune {family}`")
        keep = ("tuned", "model", "study_name", "storage", "sampler", "configured", "used", "best")
        summary[family] = {k: record[k] for k in keep if k in record}
        summary[family]["history"] = [
            {k: t[k] for k in ("number", "state", "value")} for t in record.get("trials", [])
        ]
    tuned = [summary[f] for f in FAMILIES if summary[f]["tuned"]]
    if len(tuned) == 1 or (tuned and tuned[0]["configured"] != tuned[1]["configured"]):
        budgets = ", ".join(f"{f}: {summary[f].get('configured', 'untuned')}" for f in FAMILIES)
        raise StageError(
            f"{layout.out_dir / 'tuning'}: the families were tuned under different budgets "
            f"({budgets}); rerun `tokfrag tune token` and `tokfrag tune fragment` with one "
            "params.yaml"
        )
    return summary


def model_entry(model: Any, scores: dict[str, Any], seconds: float, info: dict | None) -> dict:
    """One model's row in ``metrics.json``."""
    entry: dict[str, Any] = {**scores, "family": model.family, "kind": model.kind}
    entry["predict_seconds"] = seconds
    if info is not None:
        entry["n_params"] = info["n_params"]
        entry["train_seconds"] = info["seconds"]
    return entry


def log_evaluation(
    params: Params,
    layout: Layout,
    metrics: dict[str, Any],
    trained: dict[str, tuple[Any, dict[str, Any]]],
    baseline_params: dict[str, dict[str, Any]],
    tags: dict[str, str],
) -> None:
    """Test figures into each family's training run, and one MLflow run per baseline."""
    from tokfrag.registry import log_baseline_run, log_metrics_to_run, open_store

    store = open_store(params.registry, layout.root, params.data.dataset)
    models = metrics["models"]
    for family, (_, info) in trained.items():
        log_metrics_to_run(store, info["run_id"], scalar_test_metrics(models[family]))
    for name, run_params_ in baseline_params.items():
        log_baseline_run(
            store,
            name,
            params=run_params_,
            metrics=scalar_test_metrics(models[name]),
            tags={"family": "baseline", "dataset": params.data.dataset, **tags},
        )


def write_evaluation(layout: Layout, metrics: dict[str, Any], render: Any) -> None:
    """Plots (``render(plots_dir) -> html``), the report and ``metrics.json``, each atomic;
    metrics last, so it never claims a report that was not written."""
    with staged_dir(layout.plots) as staging:
        report_html = render(staging)
    write_text(layout.report, report_html)
    write_json(layout.metrics, metrics)
