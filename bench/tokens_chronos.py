"""Chronos' series tokenizer, built as tokfrag's bench compares against it, and the two checks
of the token ids both give (used by ``bench/tokens_series.py``)."""

from __future__ import annotations

from typing import Any

import numpy as np


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
