"""What every stage shares, whatever the kind of data: where files live, the validation
gate's record, the training-run wrapper, and the evaluation bookkeeping."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tokfrag.atomic import staged_dir, write_bytes, write_json, write_text
from tokfrag.config import Params
from tokfrag.stores import redact_url

FAMILIES = ("token", "fragment")
# models/baseline/: the best-scoring baseline, saved by evaluate and registered beside the
# families (it can be champion when neither family beats it).
BASELINE = "baseline"
# The stamp evaluate leaves in every output but metrics.json (written last, it commits the
# round): item_scores.npz, models/baseline/ and the report folder each name the evaluation
# run that wrote them, so a reader can tell a finished evaluation from an interrupted one.
EVALUATION_FILE = "evaluation.json"


@dataclass(frozen=True)
class Layout:
    """Where every stage's inputs and outputs live, relative to the project folder."""

    root: Path
    dataset: str

    def __post_init__(self) -> None:
        from tokfrag.config import check_dataset_name

        try:
            check_dataset_name(self.dataset)  # every path below stays in its folder
        except ValueError as err:
            raise StageError(str(err)) from None

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
    def data_docs(self) -> Path:
        """Great Expectations' HTML data docs of the last gate that passed."""
        return self.out_dir / "data_docs"

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
    def reports_dir(self) -> Path:
        return self.root / "reports" / self.dataset

    @property
    def plots(self) -> Path:
        return self.reports_dir / "plots"

    @property
    def report(self) -> Path:
        return self.reports_dir / "report.html"

    @property
    def report_md(self) -> Path:
        return self.reports_dir / "report.md"

    @property
    def items(self) -> Path:
        return self.out_dir / "item_scores.npz"

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


def registered_metrics(entry: dict[str, Any]) -> dict[str, float]:
    """The test figures of the model that is registered (the first seed's final fit)."""
    per_seed = entry.get("per_seed")
    return scalar_test_metrics(per_seed[0] if per_seed else entry)


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
        "clock": dict(getattr(spec, "clock", {}) or {}),
    }


def run_gate(params: Params, layout: Layout, gate: Callable[[Path], Any], data_sha256: str) -> Any:
    """The validate stage around one kind's ``gate(docs_dir) -> ValidationReport``.

    GX writes this run's HTML data docs into a staging folder; pass or fail, they and the
    figures go into an MLflow run named ``validate`` (FAILED when the gate fails). Only a
    pass replaces ``outputs/<dataset>/data_docs/`` and writes the gate's record, so a failure
    leaves every earlier output as it was.
    """
    from tokfrag.data.validation import ValidationFailed
    from tokfrag.registry import open_store, training_run

    with staged_dir(layout.data_docs) as staging:
        report = gate(staging)
        store = open_store(params.registry, layout.root, params.data.dataset)
        tags = {
            "stage": "validate",
            "dataset": params.data.dataset,
            "data_sha256": data_sha256,
            "validation.success": str(report.success).lower(),
        }
        split = params.split.model_dump()
        with training_run(store, "validate", params={"split": split}, tags=tags) as run:
            run.log_metrics(
                {
                    "expectations_checked": report.checked,
                    "expectations_failed": len(report.failures),
                    "validation_seconds": report.seconds,
                }
            )
            run.log_artifacts(staging, "data_docs")
            if not report.success:
                raise ValidationFailed(
                    report,
                    note=(
                        f"GX data docs of this check: MLflow run {run.run_id} "
                        f"(experiment {store.experiment_name}), artifacts data_docs/index.html"
                    ),
                )
    return record_gate(layout, params, report, data_sha256)


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
    (tokenizers, vocabularies and warm starts fit on the training part only) and its
    examples; ``folds`` are the same for each cross-validation fold of a tuning trial
    (series: rolling-origin folds; text: the one hold-out), and ``folds_fingerprint`` says
    which folds they are, so two families can be checked to have been tuned on the same."""

    kind: str  # "series" or "text": selects the loop settings
    build: Callable[[Params], tuple[Any, Any, Any]]
    tags: dict[str, str]  # data_sha256 and split_fingerprint, logged on every run
    folds: tuple[Callable[[Params], tuple[Any, Any, Any]], ...] = ()
    folds_fingerprint: str = ""


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

    from tokfrag.registry import open_store, training_run
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
    from tokfrag.models.forecaster import load_forecaster

    trained = {}
    for family in FAMILIES:
        info = read_json(layout.model_dir(family) / "train.json", f"train {family}")
        if info["split_fingerprint"] != fingerprint:
            raise StageError(f"{layout.model_dir(family)} was trained on another split; retrain it")
        trained[family] = (load_forecaster(layout.model_dir(family)), info)
    return trained


def load_repeats(layout: Layout, family: str, info: dict[str, Any]) -> list[tuple[int, Any]]:
    """``(seed, model)`` for every seed of the family's final fit, the registered one first."""
    from tokfrag.models.forecaster import load_forecaster

    seeds = [r["seed"] for r in info.get("repeats", [{"seed": info.get("seed", 0)}])]
    folder = layout.model_dir(family)
    models = [(seeds[0], load_forecaster(folder))]
    for seed in seeds[1:]:
        models.append((seed, load_forecaster(folder / REPEATS_DIR / f"seed-{seed}")))
    return models


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
        keep = (
            "tuned",
            "model",
            "study_name",
            "storage",
            "sampler",
            "configured",
            "used",
            "best",
            "cv",
        )
        summary[family] = {k: record[k] for k in keep if k in record}
        summary[family]["history"] = [
            {k: t[k] for k in ("number", "state", "value")} for t in record.get("trials", [])
        ]
    tuned = [summary[f] for f in FAMILIES if summary[f]["tuned"]]

    def budget(t: dict[str, Any]) -> tuple:
        # The wall-clock limit only means the same thing at the same number of workers, and
        # trial scores only compare when they come from the same folds.
        return t["configured"], t["used"].get("workers"), t.get("cv", {}).get("fingerprint")

    if len(tuned) == 1 or (tuned and budget(tuned[0]) != budget(tuned[1])):
        budgets = ", ".join(
            f"{f}: {summary[f].get('configured', 'untuned')}, "
            f"{summary[f].get('used', {}).get('workers', '-')} worker(s)"
            for f in FAMILIES
        )
        raise StageError(
            f"{layout.out_dir / 'tuning'}: the families were tuned under different budgets "
            "or folds "
            f"({budgets}); rerun `tokfrag tune token` and `tokfrag tune fragment` with one "
            "params.yaml"
        )
    return summary


@dataclass(frozen=True)
class Scoring:
    """How one kind of data is scored on its test items."""

    predict: Callable[[Any, Any], Any]  # (model, inputs) -> outputs for those inputs
    metrics: Callable[[Any], dict[str, Any]]  # outputs -> the model's metrics entry
    items: Callable[[Any], Any]  # outputs -> (n,) per-item scores; their mean is primary
    take: Callable[[Any, slice], Any]  # inputs -> the inputs of some items
    n_items: int


def latency_ms(model: Any, scoring: Scoring, inputs: Any, k: int = 30) -> tuple[float, float]:
    """Median and 95th percentile of the time to predict one test item, in milliseconds
    (``k`` items one at a time, after two warm-up calls)."""
    import numpy as np

    n = min(k, scoring.n_items)
    for i in range(min(2, n)):
        scoring.predict(model, scoring.take(inputs, slice(i, i + 1)))
    times = []
    for i in range(n):
        one = scoring.take(inputs, slice(i, i + 1))
        started = time.perf_counter()
        scoring.predict(model, one)
        times.append((time.perf_counter() - started) * 1000)
    return float(np.percentile(times, 50)), float(np.percentile(times, 95))


def _scored(model: Any, scoring: Scoring, inputs: Any) -> tuple[dict[str, Any], Any, float]:
    started = time.perf_counter()
    outputs = scoring.predict(model, inputs)
    return scoring.metrics(outputs), outputs, time.perf_counter() - started


def score_models(
    layout: Layout,
    trained: dict[str, tuple[Any, dict[str, Any]]],
    baselines: dict[str, tuple[Any, float]],
    scoring: Scoring,
    inputs: Any,
) -> tuple[dict[str, dict[str, Any]], dict[str, Any], dict[str, Any]]:
    """Score every model on the test inputs.

    Returns ``(entries, items, outputs)``: the ``metrics.json`` entry per model (families:
    each scalar the mean over the final fit's seeds, with ``<key>_std`` and a ``per_seed``
    list; costs), the per-item scores per model (families: averaged over seeds; key
    ``<family>@registered`` for the registered seed alone), and the registered models'
    outputs (for the plots). ``baselines`` maps a name to ``(fitted model, fit seconds)``.
    """
    import numpy as np

    entries: dict[str, dict[str, Any]] = {}
    items: dict[str, Any] = {}
    outputs: dict[str, Any] = {}
    for family, (_, info) in trained.items():
        per_seed, seed_items = [], []
        for i, (seed, model) in enumerate(load_repeats(layout, family, info)):
            scores, out, seconds = _scored(model, scoring, inputs)
            per_seed.append({"seed": seed, **scalar_test_metrics(scores)})
            seed_items.append(np.asarray(scoring.items(out), dtype=float))
            if i == 0:
                registered, outputs[family], predict_seconds = scores, out, seconds
                p50, p95 = latency_ms(model, scoring, inputs)
                kind = model.kind
        entry: dict[str, Any] = {**registered, "family": family, "kind": kind}
        for key in scalar_test_metrics(registered):
            values = [row[key] for row in per_seed]
            entry[key] = float(np.mean(values))
            entry[f"{key}_std"] = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
        repeats = info.get("repeats", [info])
        entry.update(
            run_id=info["run_id"],  # the training run of the model registered from here
            n_seeds=len(per_seed),
            per_seed=per_seed,
            n_params=info["n_params"],
            train_seconds=float(np.mean([r["seconds"] for r in repeats])),
            peak_rss_mb=info.get("peak_rss_mb"),
            predict_seconds=predict_seconds,
            latency_ms_p50=p50,
            latency_ms_p95=p95,
        )
        entries[family] = entry
        items[family] = np.mean(seed_items, axis=0)
        items[f"{family}@registered"] = seed_items[0]
    for name, (model, fit_seconds) in baselines.items():
        scores, out, seconds = _scored(model, scoring, inputs)
        p50, p95 = latency_ms(model, scoring, inputs)
        entries[name] = {
            **scores,
            "family": model.family,
            "kind": model.kind,
            "n_params": int(getattr(model, "n_params", 0)),
            "train_seconds": fit_seconds,
            "predict_seconds": seconds,
            "latency_ms_p50": p50,
            "latency_ms_p95": p95,
        }
        items[name] = np.asarray(scoring.items(out), dtype=float)
        outputs[name] = out
    return entries, items, outputs


def histories(layout: Layout) -> dict[str, list[dict[str, float]]]:
    """Each family's per-epoch losses in its registered final fit (learning curves)."""
    out = {}
    for family in FAMILIES:
        path = layout.model_dir(family) / "train.json"
        if path.is_file():
            out[family] = json.loads(path.read_text()).get("history", [])
    return out


def fitted(fit: Callable[[], Any]) -> tuple[Any, float]:
    """``(fit(), seconds)``: a baseline and the time its fit took."""
    started = time.perf_counter()
    model = fit()
    return model, time.perf_counter() - started


def judge(params: Params, metrics: dict[str, Any], items: dict[str, Any], **extra: Any) -> dict:
    """The verdict (``params.verdict``) on the scored models; see :mod:`tokfrag.report.decision`."""
    from tokfrag.report.decision import decide

    v = params.verdict
    return decide(
        metrics["models"],
        items,
        task=metrics["task"],
        primary=metrics["primary_metric"],
        label=dict(metrics["columns"])[metrics["primary_metric"]],
        higher_is_better=metrics["higher_is_better"],
        confidence=v.confidence,
        resamples=v.resamples,
        seed=v.seed,
        cheaper_by=v.cheaper_by,
        **extra,
    )


RUNS_KEY = "_evaluated_runs"  # in item_scores.npz: the evaluation and the runs it scored


def best_baseline(metrics: dict[str, Any]) -> str:
    """The best-scoring baseline of an evaluation: the one saved in ``models/baseline/``."""
    verdict = metrics["verdict"]
    return (verdict["strongest_baseline"] or verdict["baseline"])["name"]


def evaluated_runs(metrics: dict[str, Any]) -> dict[str, str | None]:
    """What an evaluation stamps on its outputs: the MLflow run of the evaluation itself,
    and per candidate (each family, and the best baseline) the run of the model it scored
    (None: not stamped)."""
    models = metrics["models"]
    runs = {f: models.get(f, {}).get("run_id") for f in FAMILIES}
    runs[BASELINE] = models.get(best_baseline(metrics), {}).get("run_id")
    runs["evaluation"] = metrics.get("evaluation_id")
    return runs


def save_items(layout: Layout, items: dict[str, Any], metrics: dict[str, Any]) -> None:
    """Per-item test scores of every model (``item_scores.npz``), for the registry's gate,
    stamped with the runs ``metrics`` scored, so the pair can be checked."""
    import io

    import numpy as np

    buffer = io.BytesIO()
    stamp = np.array(json.dumps(evaluated_runs(metrics), sort_keys=True))
    np.savez(buffer, **{k.replace("@", "__"): v for k, v in items.items()}, **{RUNS_KEY: stamp})
    write_bytes(layout.items, buffer.getvalue())


def load_items(layout: Layout) -> dict[str, Any]:
    import numpy as np

    if not layout.items.is_file():
        raise StageError(f"{layout.items}: missing; run `tokfrag evaluate` first")
    with np.load(layout.items) as data:
        return {k.replace("__", "@"): data[k] for k in data.files if k != RUNS_KEY}


def winner_items(layout: Layout, metrics: dict[str, Any], winner: str) -> Any:
    """The per-item scores of the model registered for ``winner`` (a family: its first
    seed's final fit; ``baseline``: the best baseline)."""
    key = best_baseline(metrics) if winner == BASELINE else f"{winner}@registered"
    return load_items(layout)[key]


def _stamp(folder: Path) -> dict[str, Any] | None:
    path = folder / EVALUATION_FILE
    return json.loads(path.read_text()) if path.is_file() else None


def check_evaluated(layout: Layout, metrics: dict[str, Any]) -> None:
    """Refuse to register unless evaluate's outputs are one finished round and the models
    on disk are the ones it scored: ``metrics.json`` (written last), ``item_scores.npz``,
    ``models/baseline/`` and the report folder carry the same evaluation run, and each
    family's folder holds the training run ``metrics.json`` scored. A model retrained after
    ``evaluate`` (``tokfrag train`` then ``tokfrag register``), or an evaluation killed
    before it wrote ``metrics.json``, would otherwise pair new models with old scores."""
    import numpy as np

    fix = "run `tokfrag evaluate` (or `dvc repro`) before `tokfrag register`"
    scored = evaluated_runs(metrics)
    if scored["evaluation"] is None:
        raise StageError(f"{layout.metrics} was written by an older tokfrag; {fix}")
    if not layout.items.is_file():
        raise StageError(f"{layout.items}: missing; {fix}")
    with np.load(layout.items) as data:
        stamped = json.loads(str(data[RUNS_KEY])) if RUNS_KEY in data.files else None
    if stamped != scored:
        raise StageError(
            f"{layout.items} was not written with {layout.metrics} (it scored runs "
            f"{stamped}, the metrics {scored}): the evaluation was interrupted or is from "
            f"another round; {fix}"
        )
    for folder, what in (
        (layout.model_dir(BASELINE), "baseline model"),
        (layout.reports_dir, "report"),
    ):
        stamp = _stamp(folder) or {}
        if stamp.get("evaluation_id") != scored["evaluation"]:
            raise StageError(
                f"{folder} ({what}) was written by evaluation run "
                f"{stamp.get('evaluation_id')}, but {layout.metrics} by run "
                f"{scored['evaluation']}: the evaluation was interrupted; {fix}"
            )
    for family in FAMILIES:
        info = read_json(layout.model_dir(family) / "train.json", f"train {family}")
        if scored[family] != info["run_id"]:
            raise StageError(
                f"{layout.model_dir(family)} holds the model of training run "
                f"{info['run_id']}, but {layout.metrics} scored run {scored[family]}: the "
                f"{family} model was trained after the evaluation; {fix}"
            )


def evaluated_model(layout: Layout, metrics: dict[str, Any], family: str) -> tuple[str, dict]:
    """``(run_id, metrics entry)`` of the model registered for ``family`` (a family, or
    ``baseline``: the best baseline, whose entry also names it as ``name``)."""
    if family == BASELINE:
        name = best_baseline(metrics)
        return metrics["models"][name]["run_id"], {"name": name, **metrics["models"][name]}
    info = read_json(layout.model_dir(family) / "train.json", f"train {family}")
    return info["run_id"], metrics["models"][family]


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
        # Each seed's final-fit run gets its own test figures.
        runs = {r["seed"]: r["run_id"] for r in info.get("repeats", [info])}
        for row in models[family].get("per_seed", []):
            log_metrics_to_run(store, runs[row["seed"]], scalar_test_metrics(row))
    for name, run_params_ in baseline_params.items():
        # The best baseline is registered from its run, like a family from its training run.
        models[name]["run_id"] = log_baseline_run(
            store,
            name,
            params=run_params_,
            metrics=scalar_test_metrics(models[name]),
            tags={"family": "baseline", "dataset": params.data.dataset, **tags},
        )


def write_evaluation(
    params: Params,
    layout: Layout,
    metrics: dict[str, Any],
    render: Any,
    items: dict[str, Any],
    baseline: Any,
) -> None:
    """Write evaluate's outputs as one unit, ``metrics.json`` last.

    The report folder (``reports/<dataset>/``: ``report.html``, ``report.md``, ``plots/``
    from ``render(plots_dir) -> {"html", "md"}``) is logged to MLflow as one ``evaluation``
    run, whose id stamps every output: the report folder, ``models/baseline/`` (``baseline``,
    the best baseline, saved to be registered), ``item_scores.npz``, and finally
    ``metrics.json`` (``evaluation_id``). Each write is atomic; a kill between them leaves a
    ``metrics.json`` whose id the newer outputs do not carry, which ``register`` refuses
    (:func:`check_evaluated`)."""
    from tokfrag.registry import open_store, training_run

    store = open_store(params.registry, layout.root, params.data.dataset)
    verdict = metrics.get("verdict", {})
    tags = {
        "family": "evaluation",
        "dataset": params.data.dataset,
        "split_fingerprint": metrics["split_fingerprint"],
        "data_sha256": metrics["data_sha256"],
        "verdict_chosen": verdict.get("chosen", ""),
        "verdict_champion": verdict.get("champion", ""),
        "verdict_reason": verdict.get("reason", ""),
    }
    with staged_dir(layout.reports_dir) as staging:
        report = render(staging / "plots")
        write_text(staging / "report.html", report["html"])
        write_text(staging / "report.md", report["md"])
        with training_run(store, "evaluation", tags=tags) as run:
            metrics["evaluation_id"] = run.run_id
            stamp = {"evaluation_id": run.run_id}
            write_json(staging / EVALUATION_FILE, stamp)
            run.log_params({"verdict": params.verdict.model_dump()})
            if verdict:
                d = verdict["difference"]
                run.log_metrics(
                    {
                        "difference_token_minus_fragment": d["estimate"],
                        "difference_ci_low": d["low"],
                        "difference_ci_high": d["high"],
                        "test_p_value": verdict["test"]["p_value"],
                    }
                )
            run.log_artifacts(staging, "report")
    with staged_dir(layout.model_dir(BASELINE)) as staging:
        baseline.save(staging)
        name = best_baseline(metrics)
        write_json(
            staging / EVALUATION_FILE,
            {**stamp, "name": name, "run_id": metrics["models"][name]["run_id"]},
        )
    save_items(layout, items, metrics)
    write_json(layout.metrics, metrics)


MISSING_TAG = "missing_policy"  # on every version: how gaps in the data were handled


def missing_label(params: Params) -> str:
    """``data.missing`` and the keys beside it that are set, in one line (a version tag)."""
    policy = params.data.missing_policy()
    words = [str(policy["missing"])]
    if policy["max_gap"] is not None:
        words.append(f"max_gap {policy['max_gap']}")
    if policy["max_missing_per_node"] < 1.0:
        words.append(f"max_missing_per_node {policy['max_missing_per_node']:g}")
    if policy["missing_value"] is not None:
        words.append(f"missing_value {policy['missing_value']:g}")
    return ", ".join(words)


class GateRefused(StageError):
    """The promotion gate could not decide (the registry or the champion failed), so nothing
    was registered; the champion keeps its alias."""


def champion_gate(
    params: Params,
    layout: Layout,
    store: Any,
    impl: Any,
    metrics: dict[str, Any],
    winner: str,
    contract: Any,
) -> dict[str, Any]:
    """Should ``winner`` replace the current champion? Only if its registered model beats
    the champion on this test split: the paired bootstrap interval of the difference in the
    primary metric (``params.verdict``) must exclude zero in the winner's favour.

    It fails closed: when the registry cannot be read, or the champion cannot be loaded or
    cannot score this test split, it raises :class:`GateRefused` instead of promoting. A
    champion made on other data or another split is still scored on this test split when its
    contract (``contract``, the candidates': kind, nodes, lags and horizon, or classes)
    fits; only a champion whose contract cannot fit is replaced without a comparison, and
    the answer says why (``ungated``)."""
    from tokfrag.registry import champion_contract, current_champion, load_champion
    from tokfrag.report.decision import compare_items

    try:
        found = current_champion(store)
    except Exception as err:
        raise _refusal(store, "reading the current champion from the registry failed", err) from err
    if found is None:
        return {"promote": True, "reason": "no champion yet"}
    family, version, tags = found
    base = {"champion_family": family, "champion_version": version}
    try:
        model = load_champion(store, params.data.dataset)
        theirs = champion_contract(model)
    except Exception as err:
        raise _refusal(store, f"loading the champion (version {version}) failed", err) from err
    if not _fits(theirs, contract):
        return {
            **base,
            "promote": True,
            "ungated": True,
            "reason": f"the champion (version {version}) serves {_describe(theirs)} but "
            f"this data needs {_describe(contract)}, so it cannot be compared here; the new "
            "winner replaces it without a gate",
        }
    try:
        champion = impl.champion_items(params, layout, model)
    except Exception as err:
        what = f"the champion (version {version}) could not score this test split"
        raise _refusal(store, what, err) from err
    v = params.verdict
    new = winner_items(layout, metrics, winner)
    interval = compare_items(
        new,
        champion,
        horizon=metrics["protocol"]["horizon"] if metrics["task"] == "forecasting" else None,
        confidence=v.confidence,
        resamples=v.resamples,
        seed=v.seed,
    )
    better = interval.low > 0 if metrics["higher_is_better"] else interval.high < 0
    label = dict(metrics["columns"])[metrics["primary_metric"]]
    verdict = "beats" if better else "does not significantly beat"
    # A champion made on other data or another split may have trained on some of these
    # test items, which favours it: the gate stays conservative, and says so.
    made_on = (tags.get("data_sha256"), tags.get("split_fingerprint"))
    elsewhere = made_on != (metrics["data_sha256"], metrics["split_fingerprint"])
    note = (
        " (the champion was made on other data or another split and was scored on this "
        "test split; it may have trained on some of these items)"
        if elsewhere
        else ""
    )
    theirs, ours = tags.get(MISSING_TAG), missing_label(params)
    if theirs is not None and theirs != ours:
        note += (
            f" (the champion was made under data.missing {theirs}, this round under {ours}: "
            "their data differ in how gaps were handled)"
        )
    return {
        **base,
        "promote": better,
        "difference": {
            "of": f"{winner} (new) - champion v{version}",
            "estimate": interval.estimate,
            "low": interval.low,
            "high": interval.high,
            "confidence": interval.confidence,
            "method": f"paired bootstrap ({interval.method})",
        },
        "reason": (
            f"{winner} {verdict} the champion (version {version}, {family}) on {label}: "
            f"difference {interval.estimate:+.4f}, {interval.confidence:.0%} CI "
            f"[{interval.low:+.4f}, {interval.high:+.4f}], paired bootstrap "
            f"({interval.method}){note}"
        ),
    }


def forced_gate() -> dict[str, Any]:
    """The gate's answer under ``tokfrag register --force``: promote, without a comparison."""
    return {
        "promote": True,
        "ungated": True,
        "forced": True,
        "reason": "promoted with `tokfrag register --force`: the champion was not compared",
    }


def _fits(theirs: Any, ours: Any) -> bool:
    """Can a model serving contract ``theirs`` answer this data's requests (``ours``)? The
    same kind and task (nodes, lags and horizon, or classes), for series the same ``time``
    column (step numbers or dates), and, when this data keeps gaps (``data.missing`` mask or
    interpolate), a champion that reads them."""
    return (
        theirs.kind == ours.kind
        and theirs.task_key() == ours.task_key()
        and getattr(theirs, "time_unit", None) == getattr(ours, "time_unit", None)
        and (getattr(theirs, "gaps", False) or not getattr(ours, "gaps", False))
    )


def _describe(contract: Any) -> str:
    key = contract.task_key()
    if "node_ids" in key:
        times = "dates" if contract.time_unit == "ns" else "step numbers"
        gaps = (
            "; empty readings read as gaps (data.missing mask or interpolate)"
            if getattr(contract, "gaps", False)
            else "; no gaps (data.missing refuse)"
        )
        return (
            f"{len(key['node_ids'])} nodes, lags {key['lags']}, horizon {key['horizon']} "
            f"(times as {times}{gaps})"
        )
    return f"{len(key['label_names'])} classes {list(key['label_names'])}"


def _refusal(store: Any, what: str, err: BaseException) -> GateRefused:
    return GateRefused(
        f"the promotion gate failed closed: {what}: {type(err).__name__}: {err}. Nothing was "
        f"registered and the champion keeps its alias. Fix the cause (is the MLflow store "
        f"{redact_url(store.tracking_uri)} reachable and not locked by another process? are the "
        "champion's artifacts intact?) and rerun `tokfrag register`, or run `tokfrag "
        "register --force` to promote the new winner without the gate (recorded on its "
        "version as the `promotion` tag)"
    )


def version_tags(
    params: Params, layout: Layout, metrics: dict[str, Any], family: str
) -> dict[str, str]:
    """What a registered version carries beyond its metrics: the hash of the params that
    made it, its study, the validation result, its costs, and the verdict's word on it."""
    import hashlib

    sections = {"token": params.token, "fragment": params.fragment, BASELINE: params.baselines}
    shaping = {
        "split": params.split.model_dump(),
        "train": params.train.model_dump(),
        family: sections[family].model_dump(),
        "tune": params.tune.model_dump(),
    }
    digest = hashlib.sha256(json.dumps(shaping, sort_keys=True).encode()).hexdigest()[:16]
    gate = read_json(layout.validation, "validate")
    tuning = metrics.get("tuning", {}).get(family, {})
    verdict = metrics["verdict"]
    name = best_baseline(metrics) if family == BASELINE else family
    entry = metrics["models"][name]
    if verdict["champion"] == name:
        said = f"verdict's champion: {verdict['champion_reason']}"
    elif verdict["chosen"] == name:
        said = f"family winner ({verdict['reason']}); not champion: {verdict['champion_reason']}"
    else:
        said = ""
    tags = {
        "params_hash": digest,
        "study_name": tuning.get("study_name", "untuned"),
        "validation": f"passed {gate.get('checked', '?')} expectations"
        if gate.get("success")
        else "failed",
        "split_fingerprint": metrics["split_fingerprint"],
        "verdict": said,
        MISSING_TAG: missing_label(params),
    }
    if family == BASELINE:
        tags["baseline"] = name
    for key in ("n_params", "train_seconds", "latency_ms_p50", "latency_ms_p95", "peak_rss_mb"):
        if entry.get(key) is not None:
            tags[f"cost.{key}"] = repr(float(entry[key]))
    return tags
