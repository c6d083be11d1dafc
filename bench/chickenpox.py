"""`make bench`: the Chickenpox protocol (PyTorch Geometric Temporal: lags 4, horizon 1,
chronological split, train_ratio 0.2) for every model and baseline, over several seeds.

Runs the real stages on the project's params.yaml in a scratch project under bench/runs/
(its own MLflow store), and writes bench/results/chickenpox.json: the machine, the command,
and one record per (model, metric) with mean, std over seeds, and seconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import sys
import time
from pathlib import Path

import tokfrag  # noqa: F401  (telemetry off)

REPO = Path(__file__).resolve().parents[1]


def machine() -> dict[str, object]:
    import torch

    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "torch_threads": torch.get_num_threads(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--params", type=Path, default=REPO / "params.yaml")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "chickenpox.json")
    args = parser.parse_args()

    from tokfrag import stages
    from tokfrag.config import load_params
    from tokfrag.data.registry import published_figures

    base = load_params(args.params)
    if base.data.dataset != "chickenpox":
        base = base.model_copy(
            update={"data": base.data.model_copy(update={"dataset": "chickenpox"})}
        )
    scratch = REPO / "bench" / "runs" / "chickenpox"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)

    stages.ingest(base, scratch)
    stages.validate(base, scratch)
    stages.prepare(base, scratch)

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

    protocol = per_seed[0]["metrics"]["protocol"]
    protocol_name = (
        f"PGT chronological split, lags {protocol['lags']}, horizon {protocol['horizon']}, "
        f"train_ratio {protocol['train_ratio']} ({protocol['train_snapshots']} train / "
        f"{protocol['test_snapshots']} test snapshots)"
    )
    records = []
    for model, first in per_seed[0]["metrics"]["models"].items():
        deterministic = first["family"] == "baseline"
        runs = per_seed[:1] if deterministic else per_seed
        for metric in sorted(k for k in first if k.startswith("test_")):
            values = [r["metrics"]["models"][model][metric] for r in runs]
            seconds = [
                r["train_seconds"].get(model, 0.0)
                + r["metrics"]["models"][model]["predict_seconds"]
                for r in runs
            ]
            records.append(
                {
                    "dataset": "chickenpox",
                    "protocol": protocol_name,
                    "model": model,
                    "family": first["family"],
                    "metric": metric,
                    "value": statistics.fmean(values),
                    "std": statistics.stdev(values) if len(values) > 1 else 0.0,
                    "n_seeds": len(values),
                    "seconds": statistics.fmean(seconds),
                }
            )
    for ref in published_figures("chickenpox"):
        records.append(
            {
                "dataset": "chickenpox",
                "protocol": protocol_name,
                "model": ref["model"],
                "family": "published",
                "metric": ref["metric"],
                "value": ref["value"],
                "std": None,
                "n_seeds": None,
                "seconds": None,
                "source": ref["source"],
            }
        )

    result = {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": "make bench  (python "
        + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]])
        + ")",
        "machine": machine(),
        "params": base.model_dump(),
        "records": records,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    for r in records:
        if r["metric"] == "test_mse":
            std = f" ± {r['std']:.4f}" if r["std"] else ""
            print(f"  {r['model']:<20} {r['family']:<9} test MSE {r['value']:.4f}{std}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
