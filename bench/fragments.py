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
4. Los-loop on the T-GCN protocol (lags 12, horizon 12, 80/20 chronological, val 0.2 of
   train): MAE and RMSE at steps 3/6/9/12 per fragment variant (1 seed; 10 epochs, patience 3
   by default: ``--los-epochs``/``--los-patience``) beside last-value, historical-average and
   AR(12) ridge. Each variant first trains one probe epoch; one whose epochs would exceed
   ``--los-variant-budget`` seconds is reported as skipped with the measured epoch time.
5. MR and TREC test accuracy of the document-graph model (1 seed, ``split.val_fraction`` 0.1)
   beside tfidf_logreg and the published TextING figure (MR).

The evaluate stage needs both families' model folders; the token model is trained once per
(dataset, seed) and, where it is not the object of this benchmark (Los-loop, text), with
fewer epochs; its figures there are recorded with a note and are not token benchmarks.

Run: ``python bench/fragments.py`` (about 15-20 minutes on 2 CPU cores, one torch thread
with ``OMP_NUM_THREADS=1``; ``--parts slicer,chickenpox,los_loop,text`` for a subset) or
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
from chickenpox import pgt_protocol
from common import (
    REPO,
    RESULTS,
    best_of,
    command_line,
    load_base,
    override,
    prepare_project,
    published_records,
    record,
    scratch_project,
    seed_record,
    write_result,
)

VARIANTS = ("gconvgru", "stgcn", "wavenet")
HORIZON_STEPS = (3, 6, 9, 12)


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
    from tokfrag.fragments import slice_windows

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
    from tokfrag.stages.common import Layout
    from tokfrag.stages.series import _load_inputs

    _, split = _load_inputs(params, Layout.of(params, root))
    return len(split.fit)


def train_info(params: Any, root: Path, family: str) -> dict[str, Any]:
    from tokfrag.stages.common import Layout

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
            protocol_name = pgt_protocol(metrics["protocol"])
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
    tok_kind = token_runs[0][2]["kind"]
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


# -- 4. Los-loop -----------------------------------------------------------------------------


def los_loop(args: Any, quick: bool, timings: dict) -> list[dict]:
    from tokfrag import stages

    epochs, patience = (2, 1) if quick else (args.los_epochs, args.los_patience)
    budget = 20.0 if quick else args.los_variant_budget
    updates = {
        "split.lags": 12,
        "split.horizon": 12,
        "split.train_ratio": 0.8,
        "split.val_fraction": 0.2,
        "train.epochs": epochs,
        "train.patience": patience,
        "train.seed": 0,
    }
    base = load_base(args.params, "los_loop", updates)
    root = prepare_project(base, scratch_project("fragments-los_loop"))
    n_fit = fit_window_count(base, root)
    # evaluate needs a token model: one short epoch, not a token benchmark.
    tok_params = override(base, {"train.epochs": 1})
    _, tok_s = train_timed(tok_params, root, "token")
    print(f"  los_loop token (1 epoch, for evaluate) {tok_s:.1f} s", flush=True)

    protocol = (
        "T-GCN protocol: lags 12, horizon 12, chronological 80/20 (val: last 20% of train), "
        f"1 seed (0), epochs {epochs} with early stopping patience {patience}"
        + (" [QUICK]" if quick else "")
    )
    records: list[dict] = []
    baselines_done = False
    # --quick: only the fastest variant (a probe epoch of the others costs 20-80 s here).
    for variant in ("stgcn",) if quick else VARIANTS:
        p = override(base, {"fragment.variant": variant})
        # Probe: one epoch, to decide whether the full run fits the budget.
        _, probe_s = train_timed(override(p, {"train.epochs": 1}), root, "fragment")
        epoch_s = train_info(p, root, "fragment")["seconds"]
        if epoch_s * epochs > budget:
            print(
                f"  los_loop {variant:<9} SKIPPED: {epoch_s:.1f} s/epoch x {epochs} > "
                f"{budget:.0f} s budget",
                flush=True,
            )
            records.append(
                record(
                    "los_loop",
                    protocol,
                    f"fragment_{variant}",
                    "fragment",
                    "skipped",
                    None,
                    seconds=epoch_s,
                    note=f"skipped: measured {epoch_s:.1f} s per training epoch "
                    f"({n_fit} fit windows); {epochs} epochs exceed the "
                    f"{budget:.0f} s budget",
                )
            )
            continue
        _, frag_s = train_timed(p, root, "fragment")
        info = train_info(p, root, "fragment")
        metrics = stages.evaluate(p, root)
        entry = metrics["models"]["fragment"]
        print(
            f"  los_loop {variant:<9} "
            + " ".join(
                f"h{h} MAE {entry[f'test_mae_h{h}']:.3f} RMSE {entry[f'test_rmse_h{h}']:.3f}"
                for h in HORIZON_STEPS
            )
            + f" ({info['epochs_run']} epochs, {info['seconds']:.1f} s)",
            flush=True,
        )
        for h in HORIZON_STEPS:
            for m in ("mae", "rmse"):
                key = f"test_{m}_h{h}"
                records.append(
                    record(
                        "los_loop",
                        protocol,
                        f"fragment_{variant}",
                        "fragment",
                        key,
                        entry[key],
                        0.0,
                        1,
                        frag_s,
                        epochs_run=info["epochs_run"],
                    )
                )
        records.append(
            record(
                "los_loop",
                f"Los-loop training: {n_fit} fit windows/epoch",
                f"fragment_{variant}",
                "fragment",
                "train_windows_per_second",
                throughput(info, n_fit),
                0.0,
                1,
                info["seconds"],
                epochs_run=info["epochs_run"],
                n_params=info["n_params"],
            )
        )
        if not baselines_done:
            for name, e in metrics["models"].items():
                if e["family"] != "baseline" or name == "zero":
                    continue
                label = "ridge_ar (AR(12))" if name == "ridge_ar" else name
                for h in HORIZON_STEPS:
                    for m in ("mae", "rmse"):
                        key = f"test_{m}_h{h}"
                        records.append(
                            record(
                                "los_loop",
                                protocol,
                                label,
                                "baseline",
                                key,
                                e[key],
                                0.0,
                                1,
                                e["predict_seconds"],
                            )
                        )
                print(
                    "  los_loop "
                    + name
                    + " "
                    + " ".join(
                        f"h{h} MAE {e[f'test_mae_h{h}']:.3f} RMSE {e[f'test_rmse_h{h}']:.3f}"
                        for h in HORIZON_STEPS
                    ),
                    flush=True,
                )
            baselines_done = True
    return records


# -- 5. text ---------------------------------------------------------------------------------


def text(args: Any, quick: bool, timings: dict) -> list[dict]:
    from tokfrag import stages

    records: list[dict] = []
    datasets = ("trec",) if quick else ("mr", "trec")
    for dataset in datasets:
        updates: dict[str, Any] = {"split.val_fraction": 0.1, "train.seed": 0}
        if quick:
            updates |= {"train.text.epochs": 1}
        base = load_base(args.params, dataset, updates)
        root = prepare_project(base, scratch_project(f"fragments-{dataset}"))
        tok_epochs = 1 if quick else args.text_token_epochs
        _, tok_s = train_timed(override(base, {"train.text.epochs": tok_epochs}), root, "token")
        _, frag_s = train_timed(base, root, "fragment")
        info = train_info(base, root, "fragment")
        metrics = stages.evaluate(base, root)
        pr = metrics["protocol"]
        protocol = (
            f"fixed train/test split ({pr['train_documents']} train / {pr['test_documents']} "
            f"test documents), val_fraction {pr['val_fraction']}, 1 seed (0)"
            + (" [QUICK: 1 epoch]" if quick else "")
        )
        models = metrics["models"]
        frag = models["fragment"]
        for metric in ("test_accuracy", "test_macro_f1"):
            records.append(
                record(
                    dataset,
                    protocol,
                    frag["kind"],
                    "fragment",
                    metric,
                    frag[metric],
                    0.0,
                    1,
                    frag_s,
                    epochs_run=info["epochs_run"],
                    n_params=info["n_params"],
                )
            )
            e = models["tfidf_logreg"]
            records.append(
                record(
                    dataset,
                    protocol,
                    "tfidf_logreg",
                    "baseline",
                    metric,
                    e[metric],
                    0.0,
                    1,
                    e["predict_seconds"],
                )
            )
            e = models["token"]
            records.append(
                record(
                    dataset,
                    protocol,
                    e["kind"],
                    "token",
                    metric,
                    e[metric],
                    0.0,
                    1,
                    tok_s,
                    note=f"trained {tok_epochs} epochs only, for evaluate; "
                    "not a token benchmark (see tokens.json)",
                )
            )
        records += published_records(dataset, protocol)
        print(
            f"  {dataset}: fragment acc {frag['test_accuracy']:.4f} ({info['epochs_run']} "
            f"epochs, {frag_s:.0f} s), tfidf_logreg {models['tfidf_logreg']['test_accuracy']:.4f}, "
            f"token ({tok_epochs} ep, {tok_s:.0f} s) {models['token']['test_accuracy']:.4f}",
            flush=True,
        )
    return records


# -- main ------------------------------------------------------------------------------------


PARTS = ("slicer", "chickenpox", "los_loop", "text")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a small smoke run (< 3 minutes)")
    parser.add_argument("--params", type=Path, default=REPO / "params.yaml")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--parts", default=",".join(PARTS), help=f"subset of {PARTS}")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--los-epochs", type=int, default=10)
    parser.add_argument("--los-patience", type=int, default=3)
    parser.add_argument(
        "--los-variant-budget",
        type=float,
        default=200.0,
        help="seconds: skip a Los-loop variant whose epochs would take longer",
    )
    parser.add_argument("--text-token-epochs", type=int, default=2)
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
        elif part == "los_loop":
            records += los_loop(args, quick, timings)
        elif part == "text":
            records += text(args, quick, timings)
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
        if r["metric"] in (
            "test_mse",
            "test_accuracy",
            "ratio",
            "train_windows_per_second",
            "skipped",
        ) or r["metric"] in ("test_mae_h3", "test_rmse_h12"):
            v = "-" if r["value"] is None else f"{r['value']:.4f}"
            std = f" ± {r['std']:.4f}" if r.get("std") else ""
            print(f"  {r['dataset']:<10} {r['model']:<46} {r['metric']:<24} {v}{std}")


if __name__ == "__main__":
    sys.exit(main())
