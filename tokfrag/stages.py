"""One typed function per pipeline stage: ``(params, project folder) -> outputs``.

These are the only implementations of the pipeline's steps. The CLI exposes them, the DVC
stages call the CLI, the Prefect tasks wrap them, and the tests call them directly. Each
stage reads its inputs from, and writes its outputs to, the project's :class:`Layout`; every
output is written to a staging path and renamed into place, so a failed stage never leaves a
half-written output behind (nor clobbers the previous good one).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tokfrag.atomic import staged_dir, write_json, write_text
from tokfrag.config import Params

FAMILIES = ("token", "fragment")
BASELINES = ("zero", "last_value", "ridge_ar")


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


# ---------------------------------------------------------------------------------------------
# small I/O helpers


def _read_json(path: Path, produced_by: str) -> Any:
    if not path.is_file():
        raise StageError(f"{path}: missing; run `tokfrag {produced_by}` (or `dvc repro`) first")
    return json.loads(path.read_text())


def _load_inputs(params: Params, layout: Layout):
    """The validated series and its split, as every stage after `prepare` sees them."""
    from tokfrag.data.canonical import load_series
    from tokfrag.data.splits import chronological_split

    prepared = _read_json(layout.prepared / "split.json", "prepare")
    series = load_series(layout.data_dir)
    s = params.split
    split = chronological_split(series.num_steps, s.lags, s.horizon, s.train_ratio, s.val_fraction)
    if split.fingerprint() != prepared["fingerprint"]:
        raise StageError(
            f"{layout.prepared / 'split.json'} was made for another split; rerun `tokfrag prepare`"
        )
    if prepared["data_sha256"] != series.sha256:
        raise StageError(f"{layout.prepared} was made from other data; rerun `tokfrag prepare`")
    return series, split


def _test_metrics(entry: dict[str, Any]) -> dict[str, float]:
    return {k: v for k, v in entry.items() if k.startswith("test_")}


def _windows(series, split, part: str) -> tuple[np.ndarray, np.ndarray]:
    from tokfrag.fragments import slice_windows

    snapshots = getattr(split, part)
    return slice_windows(series.values, split.lags, split.horizon, snapshots)


# ---------------------------------------------------------------------------------------------
# stages


def ingest(params: Params, root: str | Path) -> Path:
    """Resolve the dataset's upstream files (mirror, cache, download; sha256 checked) and write
    the canonical Parquet form to ``data/<dataset>/``."""
    from tokfrag.data import loaders
    from tokfrag.data.canonical import write_canonical
    from tokfrag.data.registry import get_spec, resolve_file

    layout = Layout.of(params, root)
    spec = get_spec(params.data.dataset)
    paths = {name: resolve_file(spec, name) for name in spec.files}
    parse = getattr(loaders, spec.loader)
    values, edges = parse(*paths.values())
    meta = {
        "name": spec.name,
        "kind": spec.kind,
        "files": dict(spec.files),
        "sha256": next(iter(spec.files.values()))
        if len(spec.files) == 1
        else _combined_sha(spec.files),
        "license": spec.license,
        "description": spec.description,
    }
    return write_canonical(values, edges, meta, layout.data_dir)


def _combined_sha(files: dict[str, str]) -> str:
    import hashlib

    return hashlib.sha256(
        "".join(f"{k}:{v};" for k, v in sorted(files.items())).encode()
    ).hexdigest()


def validate(params: Params, root: str | Path):
    """Run the Great Expectations gate on the canonical data. Raises
    :class:`~tokfrag.data.validation.ValidationFailed` (and writes nothing) when it fails."""
    from tokfrag.data.canonical import canonical_digest, read_canonical
    from tokfrag.data.validation import validate_series

    layout = Layout.of(params, root)
    values, edges, meta = read_canonical(layout.data_dir)
    # A stale pass must not outlive a failed check of the same data: remove it first.
    layout.validation.unlink(missing_ok=True)
    s = params.split
    report = validate_series(
        values,
        edges,
        dataset=params.data.dataset,
        lags=s.lags,
        horizon=s.horizon,
        train_ratio=s.train_ratio,
        val_fraction=s.val_fraction,
    ).raise_if_failed()
    write_json(
        layout.validation,
        {
            **report.to_dict(),
            "data_sha256": meta["sha256"],
            "data_digest": canonical_digest(layout.data_dir),
            "split": s.model_dump(),
        },
    )
    return report


def prepare(params: Params, root: str | Path) -> Path:
    """Fix the chronological split and fit the node scaler on training steps only.

    Writes ``prepared/split.json`` (snapshot ranges, fingerprint) and ``prepared/scaler.json``.
    Refuses to run unless the validation gate passed on exactly this data.
    """
    from tokfrag.data.canonical import canonical_digest, load_series
    from tokfrag.data.splits import chronological_split
    from tokfrag.fragments import NodeScaler

    layout = Layout.of(params, root)
    gate = _read_json(layout.validation, "validate")
    s = params.split
    passed = (
        gate.get("success")
        and gate.get("data_digest") == canonical_digest(layout.data_dir)
        and gate.get("split") == s.model_dump()
    )
    if not passed:
        raise StageError(
            f"{layout.validation}: the validation gate has not passed on this data and split; "
            "run `tokfrag validate` and fix what it reports"
        )
    series = load_series(layout.data_dir)
    split = chronological_split(series.num_steps, s.lags, s.horizon, s.train_ratio, s.val_fraction)
    # Scalers see only the steps that training snapshots touch: no test target leaks in.
    scaler = NodeScaler.fit(series.values[: split.train_steps_end])
    with staged_dir(layout.prepared) as staging:
        write_json(
            staging / "split.json",
            {
                **split.to_dict(),
                "train_steps_end": split.train_steps_end,
                "first_test_target": split.first_test_target,
                "num_steps": series.num_steps,
                "node_ids": list(series.node_ids),
                "data_sha256": series.sha256,
            },
        )
        write_json(staging / "scaler.json", scaler.to_dict())
    return layout.prepared


def build_forecaster(family: str, params: Params, series, layout: Layout):
    """A fresh, untrained forecaster of ``family`` sized from ``params``."""
    if family == "token":
        from tokfrag.models.token_model import TokenForecaster
        from tokfrag.tokens import MeanScaleQuantizer

        q = params.token.tokenizer
        return TokenForecaster.build(
            MeanScaleQuantizer(q.n_bins, q.low, q.high),
            params.split.lags,
            params.split.horizon,
            **params.token.model.model_dump(),
        )
    if family == "fragment":
        from tokfrag.fragments import NodeScaler
        from tokfrag.models.fragment_model import FragmentForecaster

        scaler = NodeScaler.from_dict(_read_json(layout.prepared / "scaler.json", "prepare"))
        return FragmentForecaster.build(
            scaler,
            series.edge_index,
            series.edge_weight,
            params.split.lags,
            params.split.horizon,
            **params.fragment.model.model_dump(),
        )
    raise StageError(f"unknown family {family!r}; expected one of {FAMILIES}")


def _run_params(params: Params, family: str) -> dict[str, Any]:
    """What a training run records: the sections that shape this family's model."""
    section = params.token if family == "token" else params.fragment
    return {
        "dataset": params.data.dataset,
        "family": family,
        "split": params.split.model_dump(),
        "train": params.train.model_dump(),
        family: section.model_dump(),
    }


def train(params: Params, root: str | Path, family: str) -> dict[str, Any]:
    """Train one family with the shared loop (early stopping on the validation tail), track it
    as one MLflow run, and save the forecaster (safetensors + JSON) to ``models/<family>/``."""
    from tokfrag.registry import open_store, training_run
    from tokfrag.report.console import epoch_progress
    from tokfrag.train import LoopConfig, fit, pick_device, seed_everything

    layout = Layout.of(params, root)
    series, split = _load_inputs(params, layout)
    try:
        pick_device(params.train.device)  # fail before an MLflow run is opened, not inside it
    except RuntimeError as err:
        raise StageError(f"params.yaml train.device: {err}") from None
    # Seed before the weights are initialised, so a stage gives the same model whether it runs
    # alone (DVC) or after other stages in one process (Prefect).
    seed_everything(params.train.seed)
    forecaster = build_forecaster(family, params, series, layout)
    x_fit, y_fit = _windows(series, split, "fit")
    x_val, y_val = _windows(series, split, "val")
    loop = LoopConfig(**params.train.model_dump())
    n_params = sum(p.numel() for p in forecaster.net.parameters())

    store = open_store(params.registry, layout.root, params.data.dataset)
    tags = {
        "family": family,
        "model_kind": forecaster.kind,
        "dataset": params.data.dataset,
        "data_sha256": series.sha256,
        "split_fingerprint": split.fingerprint(),
    }
    with (
        training_run(
            store, f"{family}-{forecaster.kind}", params=_run_params(params, family), tags=tags
        ) as run,
        epoch_progress(loop.epochs, f"train {family}") as progress,
    ):
        result = fit(
            forecaster.net,
            forecaster.tensors(x_fit, y_fit),
            forecaster.tensors(x_val, y_val),
            loop,
            callbacks=[run.log_epoch, progress],
        )
        summary = {
            "family": family,
            "kind": forecaster.kind,
            "run_id": run.run_id,
            "n_params": n_params,
            "split_fingerprint": split.fingerprint(),
            "data_sha256": series.sha256,
            **result.to_dict(),
        }
        run.log_metrics(
            {
                "best_val_loss": result.best_val_loss,
                "best_epoch": result.best_epoch,
                "train_seconds": result.seconds,
                "n_params": n_params,
            }
        )
        forecaster.net.cpu()
        with staged_dir(layout.model_dir(family)) as staging:
            forecaster.save(staging)
            write_json(staging / "train.json", summary)
    return summary


def evaluate(params: Params, root: str | Path) -> dict[str, Any]:
    """Score both families and the baselines on the test snapshots (the only place the test
    split is read), write ``metrics.json``, plots and the HTML report, and log the figures to
    MLflow (the families' training runs, and one run per baseline)."""
    from tokfrag.data.registry import published_figures
    from tokfrag.models.baselines import LastValueForecaster, RidgeARForecaster, ZeroForecaster
    from tokfrag.models.forecaster import load_forecaster
    from tokfrag.registry import log_baseline_run, log_metrics_to_run, open_store
    from tokfrag.report import write_report
    from tokfrag.train import forecast_metrics

    layout = Layout.of(params, root)
    series, split = _load_inputs(params, layout)
    x_train, y_train = _windows(series, split, "train")
    x_test, y_test = _windows(series, split, "test")
    lags, horizon = split.lags, split.horizon

    trained = {}
    for family in FAMILIES:
        info = _read_json(layout.model_dir(family) / "train.json", f"train {family}")
        if info["split_fingerprint"] != split.fingerprint():
            raise StageError(f"{layout.model_dir(family)} was trained on another split; retrain it")
        trained[family] = (load_forecaster(layout.model_dir(family)), info)

    baselines = {
        "zero": ZeroForecaster(lags, horizon),
        "last_value": LastValueForecaster(lags, horizon),
        "ridge_ar": RidgeARForecaster(lags, horizon, params.baselines.ridge_alpha).fit(
            x_train, y_train
        ),
    }
    candidates = {f: fc for f, (fc, _) in trained.items()} | baselines

    models: dict[str, dict[str, Any]] = {}
    predictions: dict[str, np.ndarray] = {}
    for name, forecaster in candidates.items():
        started = time.perf_counter()
        predictions[name] = forecaster.forecast(x_test)
        seconds = time.perf_counter() - started
        entry: dict[str, Any] = forecast_metrics(y_test, predictions[name])
        entry["family"] = forecaster.family
        entry["kind"] = forecaster.kind
        entry["predict_seconds"] = seconds
        if name in trained:
            entry["n_params"] = trained[name][1]["n_params"]
            entry["train_seconds"] = trained[name][1]["seconds"]
        models[name] = entry

    metrics = {
        "dataset": params.data.dataset,
        "protocol": {
            "name": "pgt-chronological",
            "lags": lags,
            "horizon": horizon,
            "train_ratio": params.split.train_ratio,
            "val_fraction": params.split.val_fraction,
            "train_snapshots": int(len(split.train)),
            "test_snapshots": int(len(split.test)),
        },
        "split_fingerprint": split.fingerprint(),
        "data_sha256": series.sha256,
        "models": models,
        "published": published_figures(params.data.dataset, params.split.model_dump()),
    }

    # MLflow first: if tracking fails, no metrics or report claim the stage succeeded.
    store = open_store(params.registry, layout.root, params.data.dataset)
    for family, (_, info) in trained.items():
        log_metrics_to_run(store, info["run_id"], _test_metrics(models[family]))
    for name in baselines:
        log_baseline_run(
            store,
            name,
            params={"lags": lags, "horizon": horizon, "kind": name},
            metrics=_test_metrics(models[name]),
            tags={
                "family": "baseline",
                "dataset": params.data.dataset,
                "data_sha256": series.sha256,
                "split_fingerprint": split.fingerprint(),
            },
        )

    with staged_dir(layout.plots) as staging:
        report_html = write_report(
            metrics,
            y_test,
            predictions,
            node_ids=series.node_ids,
            first_target_step=split.first_test_target,
            plots_dir=staging,
        )
    write_text(layout.report, report_html)
    write_json(layout.metrics, metrics)

    return metrics


def register(params: Params, root: str | Path) -> dict[str, Any]:
    """Register both families' final models as versions of ``<prefix>-<dataset>``; alias
    ``champion`` on the lower test MSE and ``challenger`` on the other."""
    from tokfrag.registry import Candidate, open_store, register_candidates

    layout = Layout.of(params, root)
    metrics = _read_json(layout.metrics, "evaluate")
    series, split = _load_inputs(params, layout)
    if metrics["split_fingerprint"] != split.fingerprint():
        raise StageError(f"{layout.metrics} is from another split; rerun `tokfrag evaluate`")
    x_test, _ = _windows(series, split, "test")
    candidates = []
    for family in FAMILIES:
        info = _read_json(layout.model_dir(family) / "train.json", f"train {family}")
        entry = metrics["models"][family]
        candidates.append(
            Candidate(
                family=family,
                run_id=info["run_id"],
                model_dir=layout.model_dir(family),
                metrics=_test_metrics(entry),
                node_ids=series.node_ids,
                lags=split.lags,
                horizon=split.horizon,
                data_sha256=series.sha256,
                example_windows=np.ascontiguousarray(x_test[-1:]),
            )
        )
    store = open_store(params.registry, layout.root, params.data.dataset)
    result = register_candidates(store, params.data.dataset, candidates).to_dict()
    write_json(layout.registry, result)
    return result
