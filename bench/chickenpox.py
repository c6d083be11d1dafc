"""`make bench`: the Chickenpox protocol (PyTorch Geometric Temporal: lags 4, horizon 1,
chronological split, train_ratio 0.2) for every model and baseline, over several seeds.

Runs the real stages on the project's params.yaml in a scratch project under bench/runs/
(its own MLflow store), and writes bench/results/chickenpox.json: the machine, the command,
and one record per (model, metric) with mean, std over seeds, and seconds.
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


def pgt_protocol(protocol: dict) -> str:
    """The record's protocol string for a Chickenpox ``metrics["protocol"]``."""
    return (
        f"PGT chronological split, lags {protocol['lags']}, horizon {protocol['horizon']}, "
        f"train_ratio {protocol['train_ratio']} ({protocol['train_snapshots']} train / "
        f"{protocol['test_snapshots']} test snapshots)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--params", type=Path, default=REPO / "params.yaml")
    parser.add_argument("--out", type=Path, default=RESULTS / "chickenpox.json")
    args = parser.parse_args()

    from tokfrag import stages

    base = load_base(args.params, "chickenpox")
    scratch = prepare_project(base, scratch_project("chickenpox"))

    per_seed: list[dict] = []
    for seed in range(args.seeds):
        params = base.model_copy(update={"train": base.train.model_copy(update={"seed": seed})})
        train_seconds = {}
        for family in stages.FAMILIES:
            started = time.perf_counter()
            stages.train(params, scratch, family)
            train_seconds[family] = time.perf_counter() - started
        metrics = stages.evaluate(params, scratch)
        per_seed.append({"metrics": metrics, "train_seconds": train_seconds})
        print(
            f"seed {seed}: "
            + ", ".join(f"{m} {e['test_mse']:.4f}" for m, e in metrics["models"].items()),
            flush=True,
        )

    protocol_name = pgt_protocol(per_seed[0]["metrics"]["protocol"])
    records = []
    for model, first in per_seed[0]["metrics"]["models"].items():
        deterministic = first["family"] == "baseline"
        runs = per_seed[:1] if deterministic else per_seed
        for metric in sorted(k for k in first if k.startswith("test_")):
            records.append(
                seed_record(
                    "chickenpox",
                    protocol_name,
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
    records += published_records("chickenpox", protocol_name)

    write_result(args.out, records, base, command_line("make bench"))
    print(f"wrote {args.out}")
    for r in records:
        if r["metric"] == "test_mse":
            std = f" ± {r['std']:.4f}" if r["std"] else ""
            print(f"  {r['model']:<20} {r['family']:<9} test MSE {r['value']:.4f}{std}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
