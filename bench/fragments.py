"""`make bench`: the fragment family's rows -> bench/results/fragments.json.

1. Slicer throughput (windows/second, bench/fragments_slicer.py): ``slice_windows`` (strided
   views; and with a split-like snapshot selection, which stays a view) against a naive
   Python loop that builds the same windows with ``np.stack`` of slices, on the same data in
   the same run (Chickenpox lags 4 / horizon 1 and Los-loop lags 12 / horizon 12), with the
   ratios; both must give identical arrays.
2. Training throughput (windows/second: fit windows x epochs run / training seconds, from the
   model folder's ``train.json``) per fragment model on Chickenpox (and the token model).
3. Chickenpox test MSE (PGT protocol, params.yaml split) per fragment variant (gconvgru,
   stgcn, wavenet) over 3 seeds through the real stages, beside the baselines of the same
   evaluate and the published DCRNN figure.

Los-loop (T-GCN protocol, one model per horizon) and the text datasets' document-graph model
are measured over 3 seeds by ``bench/seeds.py``, beside every baseline. The evaluate stage
needs both families' model folders, so the token model is trained alongside once per seed.

Run: ``python bench/fragments.py`` (about 2-3 minutes on 2 CPU cores; ``--parts slicer`` or
``--parts chickenpox`` for one part) or
``--quick`` (a smoke check in under 3 minutes; writes bench/results/fragments-quick.json;
figures not comparable).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

from common import (
    REPO,
    RESULTS,
    command_line,
    load_base,
    model_label,
    override,
    prepare_project,
    published_records,
    scratch_project,
    timed,
    write_result,
)
from fragments_slicer import slicer
from records import Record, record, seed_record
from seeds import protocol_name as seeds_protocol

VARIANTS = ("gconvgru", "stgcn", "wavenet")


# -- helpers over the real stages ------------------------------------------------------------


class Run(NamedTuple):
    """One seed's fit of one model: its evaluate entry, train seconds and ``train.json``."""

    entry: dict[str, Any]
    seconds: float
    info: dict[str, Any]


def fit_window_count(params: Any, root: Path) -> int:
    """How many windows one training epoch sees (the split's fit part)."""
    from tokfrag.kinds.series_data import load_inputs
    from tokfrag.layout import Layout

    _, split = load_inputs(params, Layout.of(params, root))
    return len(split.fit)


def train_info(params: Any, root: Path, family: str) -> dict[str, Any]:
    from tokfrag.layout import Layout

    folder = Layout.of(params, root).model_dir(family)
    return json.loads((folder / "train.json").read_text())


def throughput(info: dict[str, Any], n_fit: int) -> float:
    return n_fit * info["epochs_run"] / info["seconds"]


def throughput_record(
    protocol: str, model: str, family: str, runs: list[Run], n_fit: int
) -> Record:
    """Training windows/second over seeds, with each seed's epochs run."""
    return seed_record(
        "chickenpox",
        protocol,
        model,
        family,
        "train_windows_per_second",
        [throughput(r.info, n_fit) for r in runs],
        [r.info["seconds"] for r in runs],
        epochs_run=[r.info["epochs_run"] for r in runs],
        n_params=runs[0].info["n_params"],
    )


# -- 2 + 3. Chickenpox -----------------------------------------------------------------------


def chickenpox(args: Any, quick: bool) -> list[Record]:
    from tokfrag import stages

    updates = {"train.epochs": 10} if quick else {}
    base = load_base(args.params, "chickenpox", updates)
    root = prepare_project(base, scratch_project("fragments-chickenpox"))
    n_fit = fit_window_count(base, root)
    seeds = 1 if quick else args.seeds
    runs: dict[str, list[Run]] = {v: [] for v in VARIANTS}  # per variant, one Run a seed
    token_runs: list[Run] = []
    baselines: dict[str, dict[str, Any]] = {}
    protocol_name = ""
    for seed in range(seeds):
        params = override(base, {"train.seed": seed})
        _, tok_s = timed(partial(stages.train, params, root, "token"))
        tok_info = train_info(params, root, "token")
        for variant in VARIANTS:
            p = override(params, {"fragment.variant": variant})
            _, frag_s = timed(partial(stages.train, p, root, "fragment"))
            info = train_info(p, root, "fragment")
            metrics = stages.evaluate(p, root)
            protocol_name = seeds_protocol(metrics["protocol"])
            entry = metrics["models"]["fragment"]
            runs[variant].append(Run(entry, frag_s, info))
            if variant == VARIANTS[0]:
                token_runs.append(Run(metrics["models"]["token"], tok_s, tok_info))
                if seed == 0:
                    baselines = {
                        k: e for k, e in metrics["models"].items() if e["family"] == "baseline"
                    }
            print(
                f"  chickenpox seed {seed} {variant:<9} test MSE {entry['test_mse']:.4f} "
                f"({info['epochs_run']} epochs, {info['seconds']:.1f} s train, "
                f"{throughput(info, n_fit):.0f} windows/s)",
                flush=True,
            )

    records: list[Record] = []
    if quick:
        protocol_name += f" [QUICK: epochs {base.train.epochs}]"
    tp_protocol = (
        f"Chickenpox training: {n_fit} fit windows/epoch x epochs run / train.json seconds "
        f"(early stopping, patience {base.train.patience}); mean over {seeds} seeds"
    )
    for variant, rs in runs.items():
        model = f"fragment_{variant}"
        for metric in ("test_mse", "test_mae", "test_rmse"):
            records.append(
                seed_record(
                    "chickenpox",
                    protocol_name,
                    model,
                    "fragment",
                    metric,
                    [r.entry[metric] for r in rs],
                    [r.seconds for r in rs],
                )
            )
        records.append(throughput_record(tp_protocol, model, "fragment", rs, n_fit))
    tok_kind = model_label(base, "token")
    records.append(
        seed_record(
            "chickenpox",
            protocol_name,
            tok_kind,
            "token",
            "test_mse",
            [r.entry["test_mse"] for r in token_runs],
            [r.seconds for r in token_runs],
            note="token model trained alongside (needed by evaluate); see tokens.json",
        )
    )
    records.append(throughput_record(tp_protocol, tok_kind, "token", token_runs, n_fit))
    for name, e in baselines.items():
        for metric in ("test_mse", "test_mae", "test_rmse"):
            records.append(
                record(
                    "chickenpox",
                    protocol_name,
                    name,
                    "baseline",
                    metric,
                    e[metric],
                    0.0,
                    1,
                    e["predict_seconds"],
                )
            )
    records += published_records("chickenpox", protocol_name)
    return records


# -- main ------------------------------------------------------------------------------------


PARTS = ("slicer", "chickenpox")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a small smoke run (< 3 minutes)")
    parser.add_argument("--params", type=Path, default=REPO / "params.yaml")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--parts", default=",".join(PARTS), help=f"subset of {PARTS}")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", 0)))
    args = parser.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    quick = args.quick
    out = args.out or RESULTS / ("fragments-quick.json" if quick else "fragments.json")
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown parts {sorted(unknown)}")

    records: list[Record] = []
    timings: dict[str, float] = {}
    base = load_base(args.params, "chickenpox")
    started_all = time.perf_counter()

    def save() -> None:
        write_result(
            out,
            records,
            base,
            command_line("make bench"),
            quick=quick,
            parts=parts,
            timings_seconds=timings,
        )

    for part in parts:
        started = time.perf_counter()
        print(f"== {part}", flush=True)
        if part == "slicer":
            records += slicer(args.params, quick)
        elif part == "chickenpox":
            records += chickenpox(args, quick)
        timings[part] = time.perf_counter() - started
        print(f"   ({part}: {timings[part]:.0f} s)", flush=True)
        save()
    timings["total"] = time.perf_counter() - started_all
    save()
    print(f"wrote {out} in {timings['total']:.0f} s")
    summary(records)
    return 0


def summary(records: list[Record]) -> None:
    print("\nsummary")
    for r in records:
        if r.metric in ("test_mse", "ratio", "train_windows_per_second"):
            v = "-" if r.value is None else f"{r.value:.4f}"
            std = f" ± {r.std:.4f}" if r.std else ""
            print(f"  {r.dataset:<10} {r.model:<46} {r.metric:<24} {v}{std}")


if __name__ == "__main__":
    sys.exit(main())
