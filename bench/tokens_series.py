"""Part 1 of bench/tokens.py: series tokenisation throughput (windows/second).

tokfrag's ``MeanScaleQuantizer.encode`` against chronos-forecasting's
``MeanScaleUniformBins.context_input_transform`` on the same arrays in the same run (same
bins, EOS appended by both), with the ratio and two checks of the token ids: as each
tokenizer computes them, and with both tokenising the same ``x / scale`` against the same
boundaries (where only values exactly on a boundary may differ); and tokfrag's
``PatchTokenizer.encode`` on those arrays. The arrays are Gaussian random walks
(what a Chronos context batch looks like) and every Chickenpox node window.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from common import best_of
from records import Record, record
from tokens_chronos import chronos_tokenizer, compare_ids, compare_ids_same_scale

RANDOM_WALKS = "random walks"
TOKENIZER = "tokenizer"  # the family of every tokenisation throughput record
# (n_bins, low, high, where the settings come from) for MeanScaleQuantizer
Bins = tuple[int, float, float, str]
CHRONOS_T5_BINS: Bins = (4093, -15.0, 15.0, "Chronos-T5 settings: n_tokens 4096, 2 specials")
# Every Chickenpox window takes about a millisecond to tokenise (both tokenizers together):
# 30 times the rounds of the random walks, still under a second, so that the best of them
# falls in a quiet moment of a shared machine as the walks' fewer, longer rounds do.
CHICKENPOX_ROUNDS = 30


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


def quantizer_records(
    dataset: str, windows: np.ndarray, shape: str, bins: Bins, repeats: int
) -> list[Record]:
    """tokfrag's and Chronos' quantiser throughputs on ``windows``, their ratio and the share
    of equal token ids (as each computes them, and given the same scale and boundaries)."""
    import torch

    from tokfrag.families.token import MeanScaleQuantizer

    n_bins, low, high, label = bins
    ours = MeanScaleQuantizer(n_bins, low, high)
    theirs = chronos_tokenizer(n_bins, low, high, windows.shape[1])
    best = best_of(
        {
            "tokfrag": lambda: ours.encode(windows),
            # torch.from_numpy is zero-copy: both start from the same array.
            "chronos": lambda: theirs.context_input_transform(torch.from_numpy(windows)),
        },
        repeats,
    )
    protocol = (
        f"{shape}; {n_bins} bins over [{low:g}, {high:g}] ({label}), EOS appended; "
        f"best of {repeats} alternating calls, 1 thread (torch.set_num_threads(1))"
    )
    rate = {k: len(windows) / v for k, v in best.items()}
    check = compare_ids(ours, theirs, windows)
    same = compare_ids_same_scale(ours, theirs, windows)
    print(
        f"  {dataset} {n_bins} bins: tokfrag {rate['tokfrag']:,.0f}/s, chronos "
        f"{rate['chronos']:,.0f}/s, ratio {rate['tokfrag'] / rate['chronos']:.2f}; "
        f"ids differ {check['mismatched']}/{check['ids']} "
        f"({check['mismatched_off_boundary']} off a boundary), "
        f"{same['mismatched']} given the same scale and bins "
        f"({same['mismatched_not_on_a_boundary']} not exactly on a boundary)",
        flush=True,
    )
    return [
        *(
            record(
                dataset,
                protocol,
                model,
                TOKENIZER,
                "windows_per_second",
                rate[name],
                seconds=best[name],
                repeats=repeats,
            )
            for name, model in (
                ("tokfrag", "tokfrag MeanScaleQuantizer.encode"),
                ("chronos", "chronos MeanScaleUniformBins.context_input_transform"),
            )
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
        record(
            dataset,
            protocol,
            "tokfrag vs chronos token ids",
            TOKENIZER,
            "token_id_agreement",
            1 - check["mismatched"] / check["ids"],
            agree_except_on_bin_boundaries=(
                check["mismatched_off_boundary"] == 0 and check["masks_equal"]
            ),
            check=check,
            note=(
                "share of equal ids after mapping chronos value ids down by one (chronos keeps "
                "id n_special unused below the lowest bin); PAD, EOS, masks and scales agree. "
                "Ids may differ only for values exactly on a bin boundary (within float32 "
                "resolution): tokfrag (np.searchsorted, float64) puts a tie in the lower bin, "
                "chronos (torch.bucketize right=True, float32) in the upper one."
            ),
        ),
        record(
            dataset,
            protocol,
            "tokfrag vs chronos token ids, same scale and bins",
            TOKENIZER,
            "token_id_agreement",
            1 - same["mismatched"] / same["ids"],
            agree_except_exactly_on_bin_boundaries=(
                same["mismatched_not_on_a_boundary"] == 0 and same["masks_equal"]
            ),
            check=same,
            note=(
                "share of equal value ids (EOS aside) when both tokenise the same x / scale "
                "against the same boundaries: chronos' MeanScaleUniformBins._input_transform "
                "given tokfrag's float64 scale and float64 boundaries, on the float32 values "
                "chronos reads, against tokfrag's encode of those values. Ids may differ only "
                "for a value exactly on a boundary (tokfrag: lower bin, chronos: upper); "
                "check.mismatched_with_chronos_float32_boundaries counts the differences "
                "given the same scale with chronos' own float32 boundaries."
            ),
        ),
    ]


def patch_record(
    dataset: str, windows: np.ndarray, shape: str, patch_len: int, stride: int, repeats: int
) -> Record:
    """``PatchTokenizer.encode``'s throughput on ``windows``."""
    from tokfrag.families.token import PatchTokenizer

    tok = PatchTokenizer(patch_len, stride)
    best = best_of({"patch": lambda: tok.encode(windows)}, repeats)["patch"]
    protocol = (
        f"{shape}; patch_len {patch_len}, stride {stride} "
        f"({tok.num_patches(windows.shape[1])} patches, PatchTST padding); best of {repeats} calls"
    )
    print(f"  {dataset} patch {patch_len}/{stride}: {len(windows) / best:,.0f}/s", flush=True)
    return record(
        dataset,
        protocol,
        "tokfrag PatchTokenizer.encode",
        TOKENIZER,
        "windows_per_second",
        len(windows) / best,
        seconds=best,
        repeats=repeats,
    )


def array_records(
    dataset: str,
    windows: np.ndarray,
    shape: str,
    bins: list[Bins],
    patches: list[tuple[int, int]],
    repeats: int,
) -> list[Record]:
    """The quantiser records for each of ``bins``, then the patch tokenizer's for each
    ``(patch_len, stride)`` in ``patches`` that fits a window."""
    records = [r for b in bins for r in quantizer_records(dataset, windows, shape, b, repeats)]
    for patch_len, stride in patches:
        if patch_len <= windows.shape[1]:
            records.append(patch_record(dataset, windows, shape, patch_len, stride, repeats))
    return records


def series_tokenisation(params: Any, root: Path, n_windows: int, repeats: int) -> list[Record]:
    """Part 1's records: on ``n_windows`` random walks, the quantisers with ``params``' bins
    and Chronos-T5's, and the patch tokenizer with ``params``' patches and 16/8; on every
    Chickenpox window (prepared in ``root``), ``params``' bins and patches over
    ``CHICKENPOX_ROUNDS * repeats`` calls."""
    import torch

    q, p = params.token.tokenizer, params.token.patch
    bins: Bins = (q.n_bins, q.low, q.high, "params.yaml token.tokenizer")
    walks = random_walks(n_windows, 64)
    walks_shape = f"{n_windows:,} windows x 64 steps, float32, 1% NaN, seed 0"
    chickenpox, chickenpox_shape = chickenpox_windows(root, params)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # numpy is single-threaded here: compare one core with one core
    try:
        return array_records(
            RANDOM_WALKS,
            walks,
            walks_shape,
            [bins, CHRONOS_T5_BINS],
            [(p.patch_len, p.stride), (16, 8)],
            repeats,
        ) + array_records(
            "chickenpox",
            chickenpox,
            chickenpox_shape,
            [bins],
            [(p.patch_len, p.stride)],
            repeats * CHICKENPOX_ROUNDS,
        )
    finally:
        torch.set_num_threads(threads)
