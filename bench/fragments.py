"""`make bench`: the fragment family's rows -> bench/results/fragments.json.

1. Slicer throughput (windows/second): ``slice_windows`` (strided views; and with a snapshot
   selection, which copies the selected windows) against a naive Python loop that builds the
   same windows with ``np.stack`` of slices, on the same data in the same run (Chickenpox
   lags 4 / horizon 1 and Los-loop lags 12 / horizon 12), with the ratios; both must give
   identical arrays.
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
from pathlib import Path
from typing import Any

import numpy as np
from common import (
    REPO,
    RESULTS,
    best_of,
    command_line,
    load_base,
    model_label,
    override,
    prepare_project,
    published_records,
    record,
    scratch_project,
    seed_record,
    write_result,
)
from seeds import protocol_name as seeds_protocol

VARIANTS = ("gconvgru", "stgcn", "wavenet")


# -- 1. slicer -------------------------------------------------------------------------------


def naive_windows(
    values: np.ndarray, lags: int, horizon: int, snapshots: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The same windows as ``slice_windows``, built the obvious way: a Python loop of slices."""
    count = values.shape[0] - lags - horizon + 1
    idx = range(count) if snapshots is None else snapshots
    x = np.stack([values[i : i + lags].T for i in idx])
    y = np.stack([values[i + lags : i + lags + horizon].T for i in idx])
    return x, y


def slicer_records(name: str, values: np.ndarray, lags: int, horizon: int, repeats: int) -> list:
    from tokfrag.models.windows import slice_windows

    count = values.shape[0] - lags - horizon + 1
    # A selection like a split's: every snapshot but a few, so both sides build ~all windows.
    snapshots = np.arange(count)[: int(count * 0.8)]
    xv, yv = slice_windows(values, lags, horizon)
    xs, ys = slice_windows(values, lags, horizon, snapshots)
    xn, yn = naive_windows(values, lags, horizon)
    xns, yns = naive_windows(values, lags, horizon, snapshots)
    assert np.array_equal(xv, xn) and np.array_equal(yv, yn), "views differ from the loop"
    assert np.array_equal(xs, xns) and np.array_equal(ys, yns), "selection differs from the loop"
    assert not xv.flags.owndata and not xv.flags.writeable, "slice_windows copied"

    best = best_of(
        {
            "view": lambda: slice_windows(values, lags, horizon),
            "select": lambda: slice_windows(values, lags, horizon, snapshots),
            "naive": lambda: naive_windows(values, lags, horizon),
            "naive_select": lambda: naive_windows(values, lags, horizon, snapshots),
        },
        repeats,
    )
    n_sel = len(snapshots)
    rate = {
        "view": count / best["view"],
        "select": n_sel / best["select"],
        "naive": count / best["naive"],
        "naive_select": n_sel / best["naive_select"],
    }
    protocol = (
        f"{values.shape[0]} steps x {values.shape[1]} nodes, lags {lags}, horizon {horizon}: "
        f"{count} windows (selection: first {n_sel}); best of {repeats}, arrays checked equal"
    )
    models = {
        "view": "slice_windows (strided views)",
        "select": "slice_windows + snapshot selection (copy)",
        "naive": "naive loop (np.stack of slices)",
        "naive_select": "naive loop over the selection",
    }
    out = [
        record(name, protocol, models[k], "slicer", "windows_per_second", rate[k], seconds=best[k])
        for k in models
    ]
    out.append(
        record(
            name,
            protocol,
            "slice_windows / naive loop (views)",
            "slicer",
            "ratio",
            rate["view"] / rate["naive"],
        )
    )
    out.append(
        record(
            name,
            protocol,
            "slice_windows / naive loop (selection, copies)",
            "slicer",
            "ratio",
            rate["select"] / rate["naive_select"],
        )
    )
    return out


# -- helpers over the real stages ------------------------------------------------------------


def fit_window_count(params: Any, root: Path) -> int:
    """How many windows one training epoch sees (the split's fit part)."""
    from tokfrag.kinds.series_data import load_inputs as _load_inputs
    from tokfrag.layout import Layout

    _, split = _load_inputs(params, Layout.of(params, root))
    return len(split.fit)


def train_info(params: Any, root: Path, family: str) -> dict[str, Any]:
    from tokfrag.layout import Layout

    folder = Layout.of(params, root).model_dir(family)
    return json.loads((folder / "train.json").read_text())


def train_timed(params: Any, root: Path, family: str) -> tuple[dict, float]:
    from tokfrag import stages

    started = time.perf_counter()
    summary = stages.train(params, root, family)
    return summary, time.perf_counter() - started


def throughput(info: dict, n_fit: int) -> float:
    return n_fit * info["epochs_run"] / info["seconds"]


# -- 2 + 3. Chickenpox -----------------------------------------------------------------------


def chickenpox(args: Any, quick: bool, timings: dict) -> list[dict]:
    from tokfrag import stages

    updates = {"train.epochs": 10} if quick else {}
    base = load_base(args.params, "chickenpox", updates)
    root = prepare_project(base, scratch_project("fragments-chickenpox"))
    n_fit = fit_window_count(base, root)
    seeds = 1 if quick else args.seeds
    # per variant: list over seeds of (metrics entry, train seconds, train.json)
    runs: dict[str, list] = {v: [] for v in VARIANTS}
    token_runs: list = []
    baselines: dict[str, dict] = {}
    protocol_name = ""
    for seed in range(seeds):
        params = override(base, {"train.seed": seed})
        _, tok_s = train_timed(params, root, "token")
        tok_info = train_info(params, root, "token")
        for variant in VARIANTS:
            p = override(params, {"fragment.variant": variant})
            _, frag_s = train_timed(p, root, "fragment")
            info = train_info(p, root, "fragment")
            metrics = stages.evaluate(p, root)
            protocol_name = seeds_protocol(metrics["protocol"])
            entry = metrics["models"]["fragment"]
            runs[variant].append((entry, frag_s, info))
            if variant == VARIANTS[0]:
                token_runs.append((metrics["models"]["token"], tok_s, tok_info))
            if seed == 0 and variant == VARIANTS[0]:
                baselines = {
                    k: e for k, e in metrics["models"].items() if e["family"] == "baseline"
                }
            print(
                f"  chickenpox seed {seed} {variant:<9} test MSE {entry['test_mse']:.4f} "
                f"({info['epochs_run']} epochs, {info['seconds']:.1f} s train, "
                f"{throughput(info, n_fit):.0f} windows/s)",
                flush=True,
            )

    records = []
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
                    [r[0][metric] for r in rs],
                    [r[1] for r in rs],
                )
            )
        records.append(
            seed_record(
                "chickenpox",
                tp_protocol,
                model,
                "fragment",
                "train_windows_per_second",
                [throughput(r[2], n_fit) for r in rs],
                [r[2]["seconds"] for r in rs],
                epochs_run=[r[2]["epochs_run"] for r in rs],
                n_params=rs[0][2]["n_params"],
            )
        )
    tok_kind = model_label(base, "token")
    records.append(
        seed_record(
            "chickenpox",
            protocol_name,
            tok_kind,
            "token",
            "test_mse",
            [r[0]["test_mse"] for r in token_runs],
            [r[1] for r in token_runs],
            note="token model trained alongside (needed by evaluate); see tokens.json",
        )
    )
    records.append(
        seed_record(
            "chickenpox",
            tp_protocol,
            tok_kind,
            "token",
            "train_windows_per_second",
            [throughput(r[2], n_fit) for r in token_runs],
            [r[2]["seconds"] for r in token_runs],
            epochs_run=[r[2]["epochs_run"] for r in token_runs],
            n_params=token_runs[0][2]["n_params"],
        )
    )
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

    records: list[dict] = []
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
            from tokfrag.data.canonical import load_series

            repeats = 3 if quick else 20
            for name, lags, horizon in (("chickenpox", 4, 1), ("los_loop", 12, 12)):
                p = load_base(args.params, name)
                root = scratch_project(f"fragments-slicer-{name}")
                from tokfrag import stages

                stages.ingest(p, root)
                values = load_series(root / "data" / name).values
                recs = slicer_records(name, values, lags, horizon, repeats)
                records += recs
                for r in recs:
                    print(f"  {name:<10} {r['model']:<48} {r['metric']:<18} {r['value']:,.1f}")
        elif part == "chickenpox":
            records += chickenpox(args, quick, timings)
        timings[part] = time.perf_counter() - started
        print(f"   ({part}: {timings[part]:.0f} s)", flush=True)
        save()
    timings["total"] = time.perf_counter() - started_all
    save()
    print(f"wrote {out} in {timings['total']:.0f} s")
    summary(records)
    return 0


def summary(records: list[dict]) -> None:
    print("\nsummary")
    for r in records:
        if r["metric"] in ("test_mse", "ratio", "train_windows_per_second"):
            v = "-" if r["value"] is None else f"{r['value']:.4f}"
            std = f" ± {r['std']:.4f}" if r.get("std") else ""
            print(f"  {r['dataset']:<10} {r['model']:<46} {r['metric']:<24} {v}{std}")


if __name__ == "__main__":
    sys.exit(main())
