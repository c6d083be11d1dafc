"""`make bench`: every model and baseline on a dataset's own protocol, over several seeds.

``python bench/seeds.py chickenpox trec sms_spam`` runs, for each dataset, the real stages on
the project's params.yaml in a scratch project under bench/runs/ (its own MLflow store):
ingest, validate and prepare once, then both families' final fits (the configured models,
untuned, early-stopped on the validation part) and evaluate once per seed. Each dataset's
result is ``bench/results/<dataset>.json``: the machine, the command, and one record per
(model, metric) with the mean and std over seeds and the seconds.

Protocols: Chickenpox is PyTorch Geometric Temporal's (lags 4, horizon 1, chronological
split, train_ratio 0.2); a text dataset keeps its own train/test split and holds out
``split.val_fraction`` of the training documents (stratified) for early stopping.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from common import (
    REPO,
    RESULTS,
    command_line,
    load_base,
    prepare_project,
    published_records,
    scratch_project,
    seed_record,
    write_result,
)


def protocol_name(protocol: dict) -> str:
    """The record's protocol string for an evaluation's ``metrics["protocol"]``."""
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


# Text datasets: a tenth of the training documents for early stopping (the TextGCN protocol).
TEXT_UPDATES = {"split.val_fraction": 0.1}


def run_dataset(dataset: str, seeds: int, params_path: Path, out: Path) -> None:
    from tokfrag import stages
    from tokfrag.data.registry import get_spec

    kind = get_spec(dataset).kind
    base = load_base(params_path, dataset, TEXT_UPDATES if kind == "text" else {})
    scratch = prepare_project(base, scratch_project(dataset))

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
            f"{dataset} seed {seed}: "
            + ", ".join(f"{m} {e[primary]:.4f}" for m, e in metrics["models"].items()),
            flush=True,
        )

    first_metrics = per_seed[0]["metrics"]
    name = protocol_name(first_metrics["protocol"])
    records = []
    for model, first in first_metrics["models"].items():
        deterministic = first["family"] == "baseline"
        runs = per_seed[:1] if deterministic else per_seed
        for metric in sorted(k for k, v in first.items() if _scalar_test_metric(k, v)):
            records.append(
                seed_record(
                    dataset,
                    name,
                    model,
                    first["family"],
                    metric,
                    [r["metrics"]["models"][model][metric] for r in runs],
                    [
                        r["train_seconds"].get(model, 0.0)
                        + r["metrics"]["models"][model]["predict_seconds"]
                        for r in runs
                    ],
                )
            )
    records += published_records(dataset, name)

    write_result(out, records, base, command_line("make bench"))
    print(f"wrote {out}")
    primary = first_metrics["primary_metric"]
    for r in records:
        if r["metric"] == primary:
            std = f" ± {r['std']:.4f}" if r["std"] else ""
            print(f"  {r['model']:<20} {r['family']:<9} {primary} {r['value']:.4f}{std}")


def _scalar_test_metric(key: str, value: object) -> bool:
    # ``*_std`` is the spread over an evaluation's own repeats: one repeat here, so always 0.
    return key.startswith("test_") and not key.endswith("_std") and isinstance(value, int | float)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("datasets", nargs="*", default=["chickenpox"])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--params", type=Path, default=REPO / "params.yaml")
    args = parser.parse_args()
    for dataset in args.datasets:
        run_dataset(dataset, args.seeds, args.params, RESULTS / f"{dataset}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
