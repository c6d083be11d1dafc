"""`make bench`: every model and baseline on a dataset's own protocol, over several seeds.

``python bench/seeds.py chickenpox los_loop mr trec sms_spam`` runs, for each dataset, the
real stages on the project's params.yaml in a scratch project under bench/runs/ (its own
MLflow store): ingest, validate and prepare once, then both families' final fits (the
configured models, untuned, early-stopped on the validation part) and evaluate once per seed.
Each dataset's result is ``bench/results/<dataset>.json``: the machine, the command, and one
record per (model, metric) with the mean and std over seeds and the seconds.

Protocols:

- Chickenpox: PyTorch Geometric Temporal's (lags 4, horizon 1, chronological split of the
  snapshots, train_ratio 0.2), as in params.yaml.
- Los-loop: T-GCN's (``LOS_LOOP`` below): 12 input steps; the first 80% of the time steps
  train and the last 20% test, windows cut inside each part (``split.by: steps``); one model
  per horizon (3, 6, 9, 12 five-minute steps), each scored by MAE and RMSE in mph pooled over
  its predicted steps 1..h. The training budget is ``--los-epochs`` (T-GCN trains thousands
  of epochs on a GPU); both families run their default models (the token family's inverted
  tokens, the fragment family's GConvGRU, both with time-of-day covariates).
- Text: the dataset's own train/test split; ``split.val_fraction`` 0.1 of the training
  documents (stratified) held out for early stopping (TextGCN's protocol).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from common import (
    REPO,
    RESULTS,
    command_line,
    load_base,
    model_label,
    prepare_project,
    published_records,
    scratch_project,
    write_result,
)
from records import Record, seed_record

# T-GCN's Los-loop protocol (lehaifeng/T-GCN, main.py and input_data.py), plus tokfrag's own
# early stopping on the last 20% of training windows (T-GCN has no validation part). Both
# families run their default models and learning rates (params.yaml), for the same epochs.
LOS_LOOP = {
    "split.lags": 12,
    "split.by": "steps",
    "split.train_ratio": 0.8,
    "split.val_fraction": 0.2,
}
LOS_HORIZONS = (3, 6, 9, 12)
# About 70 s per horizon and seed for both families at 4 epochs here (token 8 s an epoch,
# fragment 12 s): 14 minutes of `make bench`'s hour. Training longer helps both families
# (the schedule spans the epochs given); use --los-epochs on a GPU.
LOS_EPOCHS, LOS_PATIENCE = 4, 4
# Text datasets: a tenth of the training documents for early stopping (the TextGCN protocol).
TEXT_UPDATES = {"split.val_fraction": 0.1}


def protocol_name(protocol: dict, horizons: tuple[int, ...] = ()) -> str:
    """The record's protocol string for an evaluation's ``metrics["protocol"]``."""
    sentinel = protocol.get("sentinel")
    declared = (
        f"; readings of {sentinel['missing_value']:g} declared missing (no reading): "
        f"{sentinel['cells']} in this file"
        if sentinel
        else ""
    )
    if protocol.get("by") == "steps":
        return (
            f"T-GCN split on time steps: train_ratio {protocol['train_ratio']} of the steps "
            f"train, the rest test, windows cut inside each part; lags {protocol['lags']}, one "
            f"model per horizon {'/'.join(map(str, horizons))}, error pooled over steps 1..h; "
            f"val_fraction {protocol['val_fraction']} of training windows for early stopping"
            f"{declared}"
        )
    if "lags" in protocol:
        return (
            f"PGT chronological split, lags {protocol['lags']}, horizon {protocol['horizon']}, "
            f"train_ratio {protocol['train_ratio']} ({protocol['train_snapshots']} train / "
            f"{protocol['test_snapshots']} test snapshots)"
        )
    return (
        f"the dataset's {protocol['name']} ({protocol['train_documents']} train / "
        f"{protocol['test_documents']} test documents), val_fraction {protocol['val_fraction']}"
    )


def run_seeds(base: Any, scratch: Path, seeds: int, label: str) -> list[dict]:
    """Both families' final fits and evaluate for seeds ``0 .. seeds-1`` in a prepared
    project: one ``{"metrics", "train_seconds"}`` per seed."""
    from tokfrag import stages

    per_seed: list[dict] = []
    for seed in range(seeds):
        params = base.model_copy(update={"train": base.train.model_copy(update={"seed": seed})})
        train_seconds = {}
        for family in stages.FAMILIES:
            started = time.perf_counter()
            stages.train(params, scratch, family)
            train_seconds[family] = time.perf_counter() - started
        metrics = stages.evaluate(params, scratch)
        per_seed.append({"metrics": metrics, "train_seconds": train_seconds})
        primary = metrics["primary_metric"]
        print(
            f"{label} seed {seed}: "
            + ", ".join(f"{m} {e[primary]:.4f}" for m, e in metrics["models"].items()),
            flush=True,
        )
    return per_seed


def seed_records(
    dataset: str,
    protocol: str,
    base: Any,
    per_seed: list[dict],
    metric_names: dict[str, str] | None = None,
    **extra: Any,
) -> list[Record]:
    """One record per (model, metric) over the seeds (baselines: the first seed's, they are
    deterministic); ``metric_names`` keeps and renames only the metrics it lists."""
    first_metrics = per_seed[0]["metrics"]
    records: list[Record] = []
    for model, first in first_metrics["models"].items():
        family = first["family"]
        runs = per_seed[:1] if family == "baseline" else per_seed
        label = model if family == "baseline" else model_label(base, model)
        for metric in sorted(k for k, v in first.items() if _scalar_test_metric(k, v)):
            if metric_names is not None and metric not in metric_names:
                continue
            records.append(
                seed_record(
                    dataset,
                    protocol,
                    label,
                    family,
                    (metric_names or {}).get(metric, metric),
                    [r["metrics"]["models"][model][metric] for r in runs],
                    [
                        r["train_seconds"].get(model, 0.0)
                        + r["metrics"]["models"][model]["predict_seconds"]
                        for r in runs
                    ],
                    **extra,
                )
            )
    return records


def run_dataset(dataset: str, seeds: int, params_path: Path, out: Path, args: Any) -> None:
    from tokfrag.data.registry import get_spec

    if dataset == "los_loop":
        return run_los_loop(seeds, params_path, out, args)
    kind = get_spec(dataset).kind
    base = load_base(params_path, dataset, TEXT_UPDATES if kind == "text" else {})
    scratch = prepare_project(base, scratch_project(dataset))
    per_seed = run_seeds(base, scratch, seeds, dataset)
    name = protocol_name(per_seed[0]["metrics"]["protocol"])
    records = seed_records(dataset, name, base, per_seed)
    records += published_records(dataset, name, base.split.model_dump())
    finish(out, records, base, per_seed[0]["metrics"]["primary_metric"])


def run_los_loop(seeds: int, params_path: Path, out: Path, args: Any) -> None:
    """T-GCN's protocol: one scratch project and one model per horizon, each scored over its
    predicted steps 1..h (the evaluation's pooled ``test_mae``/``test_rmse``)."""
    budget = {"train.epochs": args.los_epochs, "train.patience": args.los_patience}
    records: list[Record] = []
    for horizon in LOS_HORIZONS:
        base = load_base(params_path, "los_loop", {**LOS_LOOP, **budget, "split.horizon": horizon})
        scratch = prepare_project(base, scratch_project(f"los_loop-h{horizon}"))
        per_seed = run_seeds(base, scratch, seeds, f"los_loop h{horizon}")
        name = protocol_name(per_seed[0]["metrics"]["protocol"], LOS_HORIZONS)
        name += (
            f"; both families {args.los_epochs} epochs (patience {args.los_patience}), "
            f"learning rates token {base.token.lr:g} / fragment {base.fragment.lr:g}; "
            f"token variant {base.token.variant}, calendar covariates on"
        )
        pooled = {f"test_{m}": f"test_{m}_steps_1_to_{horizon}" for m in ("mae", "rmse")}
        records += seed_records("los_loop", name, base, per_seed, pooled, horizon=horizon)
    # params: the last horizon's; the others differ only in split.horizon
    finish(out, records, base, "test_mae_steps_1_to_3", horizons=list(LOS_HORIZONS))


def finish(out: Path, records: list[Record], base: Any, primary: str, **extra: Any) -> None:
    write_result(out, records, base, command_line("make bench"), **extra)
    print(f"wrote {out}")
    for r in records:
        if r.metric == primary:
            std = f" ± {r.std:.4f}" if r.std else ""
            print(f"  {r.model:<20} {r.family:<9} {primary} {r.value:.4f}{std}")


def _scalar_test_metric(key: str, value: object) -> bool:
    # ``*_std`` is the spread over an evaluation's own repeats: one repeat here, so always 0.
    return key.startswith("test_") and not key.endswith("_std") and isinstance(value, int | float)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("datasets", nargs="*", default=["chickenpox"])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--params", type=Path, default=REPO / "params.yaml")
    parser.add_argument("--los-epochs", type=int, default=LOS_EPOCHS, help="Los-loop budget")
    parser.add_argument("--los-patience", type=int, default=LOS_PATIENCE)
    args = parser.parse_args()
    for dataset in args.datasets:
        run_dataset(dataset, args.seeds, args.params, RESULTS / f"{dataset}.json", args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
