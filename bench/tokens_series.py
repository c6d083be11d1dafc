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

RANDOM_WALKS = "random walks"
TOKENIZER = "tokenizer"  # the family of every tokenisation throughput record
# (n_bins, low, high, where the settings come from) for MeanScaleQuantizer
Bins = tuple[int, float, float, str]
CHRONOS_T5_BINS: Bins = (4093, -15.0, 15.0, "Chronos-T5 settings: n_tokens 4096, 2 specials")
# Every Chickenpox window takes about a millisecond to tokenise (both tokenizers together):
# 30 times the rounds of the random walks, still under a second, so that the best of them
# falls in a quiet moment of a shared machine as the walks' fewer, longer rounds do.
CHICKENPOX_ROUNDS = 30


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


def compare_ids_same_scale(quantizer: Any, chronos: Any, windows: np.ndarray) -> dict[str, Any]:
    """Token ids of both tokenizers when both tokenise the same ``x / scale`` against the same
    boundaries, compared: Chronos' ``MeanScaleUniformBins._input_transform`` given tokfrag's
    (float64) scale, with tokfrag's float64 boundaries in place of its float32 ones, on the
    float32 values Chronos reads (it casts every context to float32); tokfrag's ``encode`` on
    those same float32 values. Torch then divides in float64 as tokfrag does, so the ids can
    differ only for a value exactly on a boundary: tokfrag (``np.searchsorted``) puts it in
    the lower bin, Chronos (``torch.bucketize(right=True)``) in the upper one. Also counts
    the differences given the same scale with Chronos' own float32 boundaries.
    """
    import copy

    import torch

    from tokfrag.families.token.quantizer import NUM_SPECIAL

    x = np.asarray(windows, dtype=np.float32)
    ours = quantizer.encode(x)
    values = ours.input_ids[:, :-1]  # _input_transform appends no EOS
    scale = torch.from_numpy(ours.scale)

    def chronos_ids(tokenizer: Any) -> tuple[np.ndarray, np.ndarray]:
        ids, mask, _ = tokenizer._input_transform(torch.from_numpy(x), scale=scale)
        theirs = ids.numpy().astype(np.int64)
        return np.where(theirs >= NUM_SPECIAL, theirs - 1, theirs), mask.numpy()

    same_bins = copy.copy(chronos)
    same_bins.boundaries = torch.from_numpy(np.concatenate([[-1e20], quantizer.boundaries, [1e20]]))
    theirs, mask = chronos_ids(same_bins)
    own_bins, _ = chronos_ids(chronos)
    scaled = x.astype(np.float64) / ours.scale[:, None]
    boundaries = quantizer.boundaries
    nearest = np.clip(np.searchsorted(boundaries, scaled), 0, len(boundaries) - 1)
    tie = boundaries[nearest] == scaled  # exactly on a boundary
    differ = theirs != values
    return {
        "ids": int(differ.size),
        "mismatched": int(differ.sum()),
        "mismatched_not_on_a_boundary": int((differ & ~tie).sum()),
        "values_exactly_on_a_boundary": int(tie.sum()),
        "masks_equal": bool((mask.astype(np.int64) == ours.attention_mask[:, :-1]).all()),
        "mismatched_with_chronos_float32_boundaries": int((own_bins != values).sum()),
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
