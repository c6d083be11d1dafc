"""`make bench`: the token family's rows -> bench/results/tokens.json.

1. Series tokenisation throughput (windows/second): tokfrag's ``MeanScaleQuantizer.encode``
   against chronos-forecasting's ``MeanScaleUniformBins.context_input_transform`` on the same
   arrays in the same run (same bins, EOS appended by both), with the ratio and a check that
   both give the same token ids; and tokfrag's ``PatchTokenizer.encode`` on those arrays.
2. Text tokenisation throughput (documents/second): the WordPiece ``TextTokenizer`` fitted
   on MR's training documents, and the local all-MiniLM-L6-v2 tokenizer, encoding MR's test
   documents.
3. Chickenpox test MSE/MAE of the channel-independent series token variants
   (``token.variant`` quantized and patch; the default, inverted, is measured by
   ``bench/seeds.py``) over several seeds, through the real stages.
4. ``--quick`` only: one short MR epoch of the text token model from scratch, as a smoke
   check. The default text token model (all-MiniLM-L6-v2, fine-tuned) is measured over 3
   seeds by ``bench/seeds.py mr``, beside the baselines and the published figures.

Run: ``python bench/tokens.py`` (a few minutes on 2 CPU cores) or ``--quick`` (a smoke check
in about a minute: 20,000 windows, one seed, 20 Chickenpox epochs, 1 MR epoch at max_length
32; its figures are not comparable, and it writes bench/results/tokens-quick.json).
Needs the bench extra (``pip install -e '.[bench]'``: chronos-forecasting) and the
pretrained extra. Torch runs on ``--threads`` intra-op threads (default 1, recorded in
``machine``); the tokenisation throughputs always use one.
"""

from __future__ import annotations

import argparse
import json
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
from seeds import protocol_name

RANDOM_WALKS = "random walks"
TOKENIZER = "tokenizer"


# -- 1. series tokenisation ----------------------------------------------------------------


def chronos_tokenizer(n_bins: int, low: float, high: float, context_length: int) -> Any:
    """Chronos' ``MeanScaleUniformBins`` with ``n_bins`` centres over ``[low, high]`` and
    tokfrag's special ids (PAD 0, EOS 1), built from a ``ChronosConfig`` as Chronos does."""
    from chronos import ChronosConfig

    from tokfrag.families.token.quantizer import EOS_ID, NUM_SPECIAL, PAD_ID

    config = ChronosConfig(
        tokenizer_class="MeanScaleUniformBins",
        tokenizer_kwargs={"low_limit": low, "high_limit": high},
        context_length=context_length,  # >= the window length: nothing is cut
        prediction_length=1,
        # Chronos makes n_tokens - n_special - 1 centres: one id above the specials is never
        # produced (bucketize against [-1e20, ..., 1e20] starts at 1).
        n_tokens=n_bins + NUM_SPECIAL + 1,
        n_special_tokens=NUM_SPECIAL,
        pad_token_id=PAD_ID,
        eos_token_id=EOS_ID,
        use_eos_token=True,  # with seq2seq, EOS is appended to contexts, as tokfrag does
        model_type="seq2seq",
        num_samples=1,
        temperature=1.0,
        top_k=50,
        top_p=1.0,
    )
    return config.create_tokenizer()


def compare_ids(quantizer: Any, chronos: Any, windows: np.ndarray) -> dict[str, Any]:
    """Token ids of both tokenizers on ``windows``, compared.

    Chronos numbers value bins from ``NUM_SPECIAL + 1`` (tokfrag from ``NUM_SPECIAL``), so its
    value ids are shifted down by one first. A mismatch counts as "on a boundary" when the
    scaled value lies within float32 resolution of a bin boundary: there the conventions
    differ (tokfrag's ``np.searchsorted`` puts a tie in the lower bin, Chronos'
    ``torch.bucketize(right=True)`` in the upper one) and so do the precisions (float64 vs
    float32 scaled values and boundaries).
    """
    import torch

    from tokfrag.families.token.quantizer import NUM_SPECIAL

    ours = quantizer.encode(windows)
    ids, mask, scale = chronos.context_input_transform(torch.from_numpy(windows))
    theirs = ids.numpy().astype(np.int64)
    theirs = np.where(theirs >= NUM_SPECIAL, theirs - 1, theirs)
    if theirs.shape != ours.input_ids.shape:
        raise RuntimeError(f"shapes differ: chronos {theirs.shape}, tokfrag {ours.input_ids.shape}")
    differ = theirs != ours.input_ids
    values = np.asarray(windows, dtype=np.float64)
    scaled = values / ours.scale[:, None]  # (B, L)
    edges = np.concatenate([[-np.inf], quantizer.boundaries, [np.inf]])
    upper = np.clip(np.searchsorted(edges, scaled), 1, len(edges) - 1)  # (B, L)
    gap = np.minimum(np.abs(scaled - edges[upper - 1]), np.abs(scaled - edges[upper]))
    on_boundary = gap <= 1e-6 * np.maximum(np.abs(scaled), 1.0)
    value_differ = differ[:, :-1]  # EOS column last
    off_boundary = int((value_differ & ~on_boundary).sum())
    return {
        "ids": int(differ.size),
        "mismatched": int(differ.sum()),
        "mismatched_on_boundary": int(differ.sum()) - off_boundary,
        "mismatched_off_boundary": off_boundary,
        "largest_bin_gap": int(np.abs(theirs - ours.input_ids).max()),
        "values_on_boundary": int(on_boundary.sum()),
        "masks_equal": bool((mask.numpy().astype(np.int64) == ours.attention_mask).all()),
        "eos_last_both": bool((ids.numpy()[:, -1] == ours.input_ids[:, -1]).all()),
        "scale_max_rel_diff": float(np.max(np.abs(scale.numpy() - ours.scale) / ours.scale)),
    }


def random_walks(n: int, length: int, seed: int = 0, nan_share: float = 0.01) -> np.ndarray:
    """``(n, length)`` float32 Gaussian random walks with a random offset per window and
    ``nan_share`` of the steps missing (what a Chronos context batch looks like)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, length)).cumsum(axis=1) + rng.normal(0, 5, (n, 1))
    x[rng.random(x.shape) < nan_share] = np.nan
    return x.astype(np.float32)


def chickenpox_windows(root: Path, params: Any) -> tuple[np.ndarray, str]:
    """Every Chickenpox node window the pipeline tokenises: ``(snapshots * nodes, lags)``
    float64, channel-independent, from the canonical data in the scratch project; and its
    description."""
    from tokfrag.data.canonical import load_series
    from tokfrag.models.windows import slice_windows
    from tokfrag.stages import Layout

    series = load_series(Layout.of(params, root).data_dir)
    x, _ = slice_windows(series.values, params.split.lags, params.split.horizon)  # (S, N, lags)
    s, n, lags = x.shape
    shape = (
        f"every node window: {s} snapshots x {n} nodes = {s * n:,} windows x {lags} steps, float64"
    )
    return np.ascontiguousarray(x.reshape(-1, lags)), shape


def series_throughput(
    arrays: dict[str, tuple[np.ndarray, str]], bins: list, patches: list, repeats: int
) -> list[dict[str, Any]]:
    """Records for each array: quantiser throughputs, their ratio and the id agreement for
    each ``(n_bins, low, high, label)`` in ``bins``, and the patch tokenizer's throughput for
    each ``(patch_len, stride)`` in ``patches``."""
    import torch

    from tokfrag.families.token import MeanScaleQuantizer, PatchTokenizer

    records: list[dict[str, Any]] = []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # numpy is single-threaded here: compare one core with one core
    try:
        for dataset, (windows, shape) in arrays.items():
            n = len(windows)
            for n_bins, low, high, label in bins:
                ours = MeanScaleQuantizer(n_bins, low, high)
                theirs = chronos_tokenizer(n_bins, low, high, windows.shape[1])
                best = best_of(
                    {
                        "tokfrag": lambda q=ours, w=windows: q.encode(w),
                        # torch.from_numpy is zero-copy: both start from the same array.
                        "chronos": lambda c=theirs, w=windows: c.context_input_transform(
                            torch.from_numpy(w)
                        ),
                    },
                    repeats,
                )
                protocol = (
                    f"{shape}; {n_bins} bins over [{low:g}, {high:g}] ({label}), EOS appended; "
                    f"best of {repeats} alternating calls, 1 thread (torch.set_num_threads(1))"
                )
                rate = {k: n / v for k, v in best.items()}
                records += [
                    record(
                        dataset,
                        protocol,
                        "tokfrag MeanScaleQuantizer.encode",
                        TOKENIZER,
                        "windows_per_second",
                        rate["tokfrag"],
                        seconds=best["tokfrag"],
                        repeats=repeats,
                    ),
                    record(
                        dataset,
                        protocol,
                        "chronos MeanScaleUniformBins.context_input_transform",
                        TOKENIZER,
                        "windows_per_second",
                        rate["chronos"],
                        seconds=best["chronos"],
                        repeats=repeats,
                    ),
                    record(
                        dataset,
                        protocol,
                        "tokfrag / chronos",
                        TOKENIZER,
                        "throughput_ratio",
                        rate["tokfrag"] / rate["chronos"],
                        note="windows/second of tokfrag divided by chronos' (> 1: faster)",
                    ),
                ]
                check = compare_ids(ours, theirs, windows)
                agree_off = check["mismatched_off_boundary"] == 0 and check["masks_equal"]
                records.append(
                    record(
                        dataset,
                        protocol,
                        "tokfrag vs chronos token ids",
                        TOKENIZER,
                        "token_id_agreement",
                        1 - check["mismatched"] / check["ids"],
                        agree_except_on_bin_boundaries=agree_off,
                        check=check,
                        note=(
                            "share of equal ids after mapping chronos value ids down by one "
                            "(chronos keeps id n_special unused below the lowest bin); PAD, "
                            "EOS, masks and scales agree. Ids may differ only for values "
                            "exactly on a bin boundary (within float32 resolution): tokfrag "
                            "(np.searchsorted, float64) puts a tie in the lower bin, chronos "
                            "(torch.bucketize right=True, float32) in the upper one."
                        ),
                    )
                )
                print(
                    f"  {dataset} {n_bins} bins: tokfrag {rate['tokfrag']:,.0f}/s, chronos "
                    f"{rate['chronos']:,.0f}/s, ratio {rate['tokfrag'] / rate['chronos']:.2f}; "
                    f"ids differ {check['mismatched']}/{check['ids']} "
                    f"({check['mismatched_off_boundary']} off a boundary)",
                    flush=True,
                )
            for patch_len, stride in patches:
                if patch_len > windows.shape[1]:
                    continue
                tok = PatchTokenizer(patch_len, stride)
                best = best_of({"patch": lambda t=tok, w=windows: t.encode(w)}, repeats)["patch"]
                n_patches = tok.num_patches(windows.shape[1])
                protocol = (
                    f"{shape}; patch_len {patch_len}, stride {stride} ({n_patches} patches, "
                    f"PatchTST padding); best of {repeats} calls"
                )
                records.append(
                    record(
                        dataset,
                        protocol,
                        "tokfrag PatchTokenizer.encode",
                        TOKENIZER,
                        "windows_per_second",
                        n / best,
                        seconds=best,
                        repeats=repeats,
                    )
                )
                print(f"  {dataset} patch {patch_len}/{stride}: {n / best:,.0f}/s", flush=True)
    finally:
        torch.set_num_threads(threads)
    return records


# -- 2. text tokenisation ------------------------------------------------------------------


def mr_documents(root: Path, params: Any) -> dict[str, list[str]]:
    """MR's fit / val / test documents as the prepared split in the scratch project has them."""
    from tokfrag.data.text_canonical import load_text
    from tokfrag.stages import Layout

    layout = Layout.of(params, root)
    data = load_text(layout.data_dir)
    split = json.loads((layout.prepared / "split.json").read_text())
    return {part: [data.texts[i] for i in split[part]] for part in ("fit", "val", "test")}


def text_throughput(docs: dict[str, list[str]], params: Any, repeats: int) -> list[dict]:
    from tokfrag.families.token.wordpiece import TextTokenizer

    t = params.token.text
    fit, test = docs["fit"], docs["test"]
    fit_seconds = min(
        best_of({"fit": lambda: TextTokenizer(t.vocab_size, t.max_length).fit(fit)}, 1)["fit"]
        for _ in range(max(1, repeats // 3))
    )
    scratch = TextTokenizer(t.vocab_size, t.max_length).fit(fit)
    minilm = TextTokenizer.from_pretrained(max_length=t.max_length)
    best = best_of(
        {
            "scratch": lambda: scratch.encode(test),
            "minilm": lambda: minilm.encode(test),
        },
        repeats,
    )
    base = (
        f"MR TextGCN split ({len(fit)} fit documents, {len(test)} test documents), "
        f"max_length {t.max_length}, padded to the longest; best of {repeats} alternating "
        "calls; the tokenizers library's own thread pool"
    )
    records = [
        record(
            "mr",
            base + "; fit on the fit documents",
            f"tokfrag TextTokenizer.fit (WordPiece, vocab_size {t.vocab_size})",
            TOKENIZER,
            "documents_per_second",
            len(fit) / fit_seconds,
            seconds=fit_seconds,
            vocab=scratch.vocab_size,
        ),
    ]
    for name, tok, label in (
        (
            "scratch",
            scratch,
            f"tokfrag TextTokenizer.encode (WordPiece fit on MR, {scratch.vocab_size} ids)",
        ),
        (
            "minilm",
            minilm,
            f"all-MiniLM-L6-v2 tokenizer via TextTokenizer.from_pretrained "
            f"({minilm.vocab_size} ids)",
        ),
    ):
        enc = tok.encode(test)
        records.append(
            record(
                "mr",
                base + "; encode the test documents",
                label,
                TOKENIZER,
                "documents_per_second",
                len(test) / best[name],
                seconds=best[name],
                repeats=repeats,
                mean_tokens=float(enc.lengths.mean()),
                unk_share=float((enc.input_ids == tok.unk_id).sum() / enc.lengths.sum()),
            )
        )
        print(
            f"  {label}: {len(test) / best[name]:,.0f} documents/s, "
            f"{enc.lengths.mean():.1f} tokens each",
            flush=True,
        )
    print(f"  WordPiece fit: {fit_seconds:.2f} s ({len(fit) / fit_seconds:,.0f} documents/s)")
    return records


# -- 3. Chickenpox: both series token variants ---------------------------------------------


def chickenpox_variants(base: Any, root: Path, seeds: int) -> list[dict]:
    """Test MSE/MAE of the token model with ``token.variant`` quantized and patch, per seed.

    The evaluate stage scores both families, so the fragment model is trained once per seed
    (its rows are in chickenpox.json, not repeated here)."""
    from tokfrag import stages

    runs: dict[str, list[dict]] = {"quantized": [], "patch": []}
    protocol = None
    for seed in range(seeds):
        stages.train(override(base, {"train.seed": seed}), root, "fragment")
        for variant in runs:
            params = override(base, {"train.seed": seed, "token.variant": variant})
            started = time.perf_counter()
            info = stages.train(params, root, "token")
            train_seconds = time.perf_counter() - started
            metrics = stages.evaluate(params, root)
            protocol = protocol or protocol_name(metrics["protocol"])
            entry = metrics["models"]["token"]
            runs[variant].append(
                {**entry, "train_seconds": train_seconds, "epochs_run": info["epochs_run"]}
            )
            print(
                f"  seed {seed} token ({variant}): test MSE {entry['test_mse']:.4f}, "
                f"{info['epochs_run']} epochs, {train_seconds:.1f} s",
                flush=True,
            )
    records = []
    for variant, entries in runs.items():
        detail = (
            f"n_bins {base.token.tokenizer.n_bins} over [{base.token.tokenizer.low:g}, "
            f"{base.token.tokenizer.high:g}]"
            if variant == "quantized"
            else f"patch_len {base.token.patch.patch_len}, stride {base.token.patch.stride}"
        )
        for metric in ("test_mse", "test_mae"):
            records.append(
                seed_record(
                    "chickenpox",
                    protocol,
                    model_label(override(base, {"token.variant": variant}), "token"),
                    "token",
                    metric,
                    [e[metric] for e in entries],
                    [e["train_seconds"] + e["predict_seconds"] for e in entries],
                    variant=variant,
                    tokenizer=detail,
                    epochs_run=[e["epochs_run"] for e in entries],
                )
            )
    return records + published_records("chickenpox", protocol, base.split.model_dump())


# -- 4. MR: the text token model from scratch and pretrained -------------------------------


def mr_models(base: Any, root: Path, settings: dict[str, dict], fragment: dict) -> list[dict]:
    """Train the token family under each of ``settings`` (a name -> ``{"seeds": n,
    "updates": {...}}``) and evaluate it through the stages. The evaluate stage scores both
    families, so the fragment family is trained once first, with ``fragment`` updates (the
    smallest budget: its own figures belong to the fragment benchmark)."""
    from tokfrag import stages

    fragment_params = override(base, fragment)
    started = time.perf_counter()
    frag_info = stages.train(fragment_params, root, "fragment")
    frag_seconds = time.perf_counter() - started
    print(
        f"  fragment (for evaluate): {frag_info['epochs_run']} epochs, {frag_seconds:.0f} s",
        flush=True,
    )

    records: list[dict] = []
    metrics = None
    for name, setting in settings.items():
        entries = []
        for seed in range(setting["seeds"]):
            params = override(base, {"train.seed": seed, **setting["updates"]})
            started = time.perf_counter()
            info = stages.train(params, root, "token")
            train_seconds = time.perf_counter() - started
            metrics = stages.evaluate(params, root)
            entry = metrics["models"]["token"]
            entries.append(
                {
                    **entry,
                    "train_seconds": train_seconds,
                    "epochs_run": info["epochs_run"],
                    "best_epoch": info["best_epoch"],
                }
            )
            print(
                f"  seed {seed} {name}: test accuracy {entry['test_accuracy']:.4f}, "
                f"{info['epochs_run']} epochs (best {info['best_epoch']}), "
                f"{train_seconds:.0f} s",
                flush=True,
            )
        loop = params.train.loop_settings("text", params.family_loop("token", "text"))
        protocol = protocol_name(metrics["protocol"])
        for metric in ("test_accuracy", "test_macro_f1"):
            records.append(
                seed_record(
                    "mr",
                    protocol,
                    name,
                    "token",
                    metric,
                    [e[metric] for e in entries],
                    [e["train_seconds"] + e["predict_seconds"] for e in entries],
                    epochs=loop["epochs"],
                    patience=loop["patience"],
                    lr=loop["lr"],
                    batch_size=loop["batch_size"],
                    epochs_run=[e["epochs_run"] for e in entries],
                    best_epoch=[e["best_epoch"] for e in entries],
                    n_params=entries[0]["n_params"],
                )
            )
    protocol = protocol_name(metrics["protocol"])
    # The last evaluation's deterministic baselines. The fragment model it also scored had
    # only the budget that lets evaluate run: its figure is not a benchmark and is left out.
    for model in ("tfidf_logreg", "majority"):
        entry = metrics["models"][model]
        for metric in ("test_accuracy", "test_macro_f1"):
            records.append(
                record(
                    "mr",
                    protocol,
                    model,
                    entry["family"],
                    metric,
                    entry[metric],
                    0.0,
                    1,
                    entry["predict_seconds"],
                )
            )
    return records + published_records("mr", protocol)


# -- main ----------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a small smoke run (< 2 minutes)")
    parser.add_argument("--params", type=Path, default=REPO / "params.yaml")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--seeds", type=int, default=3, help="Chickenpox token variants")
    parser.add_argument("--max-length", type=int, default=64, help="MR token.text.max_length")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch intra-op threads (default 1: on a shared 2-core machine, 2 threads made "
        "training 4-8x slower whenever other work ran)",
    )
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    try:
        import chronos  # noqa: F401
    except ImportError:
        print("chronos-forecasting is missing: pip install -e '.[bench]'", file=sys.stderr)
        return 2

    quick = args.quick
    out = args.out or RESULTS / ("tokens-quick.json" if quick else "tokens.json")
    seeds = 1 if quick else args.seeds
    repeats = 3 if quick else 7
    timings: dict[str, float] = {}
    records: list[dict] = []
    started_all = time.perf_counter()

    # Both scratch projects first: the tokenisers read the data the stages prepared.
    started = time.perf_counter()
    series_base = load_base(args.params, "chickenpox", {"train.epochs": 20} if quick else {})
    series_root = prepare_project(series_base, scratch_project("tokens-chickenpox"))
    mr_updates: dict[str, Any] = {
        "split.val_fraction": 0.1,
        "token.text.max_length": args.max_length,
    }
    if quick:
        mr_updates |= {"token.text.epochs": 1, "token.text.max_length": 32}
    mr_base = load_base(args.params, "mr", mr_updates)
    mr_root = prepare_project(mr_base, scratch_project("tokens-mr"))
    timings["ingest, validate, prepare (chickenpox, mr)"] = time.perf_counter() - started

    print("1. series tokenisation", flush=True)
    started = time.perf_counter()
    n_windows = 20_000 if quick else 200_000
    q = series_base.token.tokenizer
    p = series_base.token.patch
    arrays = {
        RANDOM_WALKS: (
            random_walks(n_windows, 64),
            f"{n_windows:,} windows x 64 steps, float32, 1% NaN, seed 0",
        ),
        "chickenpox": chickenpox_windows(series_root, series_base),
    }
    bins = [(q.n_bins, q.low, q.high, "params.yaml token.tokenizer")]
    series_records = series_throughput(
        {RANDOM_WALKS: arrays[RANDOM_WALKS]},
        bins + [(4093, -15.0, 15.0, "Chronos-T5 settings: n_tokens 4096, 2 specials")],
        [(p.patch_len, p.stride), (16, 8)],
        repeats,
    )
    series_records += series_throughput(
        {"chickenpox": arrays["chickenpox"]}, bins, [(p.patch_len, p.stride)], repeats * 3
    )
    records += series_records
    timings["1. series tokenisation"] = time.perf_counter() - started

    print("2. text tokenisation", flush=True)
    started = time.perf_counter()
    records += text_throughput(mr_documents(mr_root, mr_base), mr_base, repeats)
    timings["2. text tokenisation"] = time.perf_counter() - started

    print(f"3. Chickenpox, token variants quantized and patch, {seeds} seed(s)", flush=True)
    started = time.perf_counter()
    records += chickenpox_variants(series_base, series_root, seeds)
    timings["3. chickenpox token variants"] = time.perf_counter() - started

    # The default text token model (all-MiniLM-L6-v2, fine-tuned) is measured over 3 seeds by
    # bench/seeds.py mr; --quick keeps one short epoch from scratch as a smoke check.
    if quick:
        print("4. MR, token model from scratch (smoke check)", flush=True)
        started = time.perf_counter()
        scratch = {"token.text.pretrained": False}
        settings = {
            model_label(override(mr_base, scratch), "token"): {"seeds": 1, "updates": scratch}
        }
        records += mr_models(mr_base, mr_root, settings, {"fragment.text.epochs": 1})
        timings["4. mr token models"] = time.perf_counter() - started
    timings["total"] = time.perf_counter() - started_all

    write_result(
        out,
        records,
        {"chickenpox": series_base.model_dump(), "mr": mr_base.model_dump()},
        command_line("make bench"),
        quick=quick,
        timings_seconds=timings,
    )
    print(f"wrote {out}\n")
    summary(records, timings)
    return 0


def summary(records: list[dict], timings: dict[str, float]) -> None:
    def fmt(r: dict) -> str:
        v, m = r["value"], r["metric"]
        if m.endswith("per_second"):
            s = f"{v:>12,.0f} /s"
        elif m in ("test_accuracy", "test_macro_f1", "token_id_agreement"):
            s = f"{100 * v:>11.2f} %"
        else:
            s = f"{v:>13.4f}"
        if r.get("std"):
            pct = m in ("test_accuracy", "test_macro_f1")
            s += f" ± {100 * r['std']:.2f}" if pct else f" ± {r['std']:.4f}"
        if r.get("n_seeds") and r["family"] != "published":
            s += f"  ({r['n_seeds']} seed{'s' if r['n_seeds'] > 1 else ''})"
        return s

    current = None
    for r in records:
        if r["metric"] in ("test_mae", "test_macro_f1"):
            continue
        head = (r["dataset"], r["protocol"])
        if head != current:
            current = head
            print(f"{r['dataset']}: {r['protocol']}")
        print(f"  {r['model'][:58]:<58} {r['metric']:<20} {fmt(r)}")
    print("\nseconds per part:")
    for name, seconds in timings.items():
        print(f"  {name:<46} {seconds:7.1f}")


if __name__ == "__main__":
    sys.exit(main())
