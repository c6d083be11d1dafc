"""Chronos-style series tokens: mean-absolute scaling, then uniform bins.

Each context window is divided by its own mean absolute value (channel-independent: one
scale per node per window), the scaled values are mapped to the nearest of ``n_bins`` bin
centres spread uniformly over ``[low, high]``, and two special tokens are reserved:
``PAD = 0`` (missing values, masked out of attention) and ``EOS = 1`` (appended to every
context). Decoding maps a bin back to its centre times the window's scale.

Because the scale is computed per window from the window alone, there is nothing to fit on
data: :meth:`MeanScaleQuantizer.fit` exists for the common tokenizer interface
(:class:`tokfrag.families.token.tokenizer.Tokenizer`) only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Self

import numpy as np

from tokfrag.families.token.tokenizer import JsonConfigTokenizer

PAD_ID = 0
EOS_ID = 1
NUM_SPECIAL = 2


@dataclass(frozen=True)
class QuantizedWindows:
    """Output of :meth:`MeanScaleQuantizer.encode`.

    Attributes:
        input_ids: ``(B, L + 1)`` int64 token ids, EOS last, PAD where the input was NaN.
        attention_mask: ``(B, L + 1)`` int64, 0 on PAD.
        scale: ``(B,)`` float64 mean absolute value of each window (1.0 for all-zero windows).
    """

    input_ids: np.ndarray
    attention_mask: np.ndarray
    scale: np.ndarray


@dataclass(frozen=True)
class MeanScaleQuantizer(JsonConfigTokenizer):
    """Uniform-bin quantiser over mean-scaled windows; a
    :class:`~tokfrag.families.token.Tokenizer` from ``(B, L)`` windows to
    :class:`QuantizedWindows`.

    Round trip: ``decode(encode(x))`` is ``x`` within half a bin width times the window's scale
    wherever ``x / scale`` lies in ``[low, high]`` (exact at bin centres), the edge bin's centre
    outside it, and NaN where ``x`` was NaN.

    Args:
        n_bins: number of value bins (the vocabulary is ``n_bins + 2``).
        low: centre of the lowest bin, in scaled units.
        high: centre of the highest bin, in scaled units.
    """

    kind: ClassVar[str] = "mean_scale_quantizer"

    n_bins: int = 16
    low: float = -3.0
    high: float = 3.0

    def __post_init__(self) -> None:
        if self.n_bins < 2:
            raise ValueError(f"n_bins must be at least 2, got {self.n_bins}")
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")

    @property
    def vocab_size(self) -> int:
        return self.n_bins + NUM_SPECIAL

    @property
    def centers(self) -> np.ndarray:
        """``(n_bins,)`` bin centres in scaled units."""
        return np.linspace(self.low, self.high, self.n_bins)

    @property
    def boundaries(self) -> np.ndarray:
        """``(n_bins - 1,)`` midpoints between neighbouring centres."""
        c = self.centers
        mid: np.ndarray = (c[1:] + c[:-1]) / 2
        return mid

    def fit(self, windows: np.ndarray) -> Self:
        """Nothing to learn: scales are per window. Present for the tokenizer interface."""
        return self

    def scale_of(self, context: np.ndarray) -> np.ndarray:
        """``(B, L) -> (B,)`` mean absolute value over the non-NaN entries of each window."""
        observed = ~np.isnan(context)
        count = observed.sum(axis=-1)
        # nanmean without its all-NaN warning: the sum over observed values only.
        scale = np.where(observed, np.abs(context), 0.0).sum(axis=-1) / np.maximum(count, 1)
        usable: np.ndarray = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
        return usable

    def bins_of(self, values: np.ndarray, scale: np.ndarray) -> np.ndarray:
        """Bin index in ``[0, n_bins)`` of ``values / scale`` (``scale`` broadcast on the last
        axis of ``values``); values outside ``[low, high]`` go to the edge bins."""
        scaled = values / scale.reshape(scale.shape + (1,) * (values.ndim - scale.ndim))
        bins: np.ndarray = np.searchsorted(self.boundaries, scaled).astype(np.int64)
        return bins

    def encode(self, context: np.ndarray) -> QuantizedWindows:
        """Tokenise ``(B, L)`` context windows (any float dtype, NaN where missing; vectorised
        over windows) into ``(B, L + 1)`` int64 ids with EOS last; see
        :class:`QuantizedWindows`."""
        context = np.asarray(context, dtype=np.float64)
        if context.ndim != 2:
            raise ValueError(f"expected context of shape (B, L), got {context.shape}")
        scale = self.scale_of(context)
        missing = np.isnan(context)
        ids = self.bins_of(np.where(missing, 0.0, context), scale) + NUM_SPECIAL
        ids = np.where(missing, PAD_ID, ids)
        eos = np.full((len(context), 1), EOS_ID, dtype=np.int64)
        input_ids = np.concatenate([ids, eos], axis=1)
        mask = np.concatenate([~missing, np.ones_like(eos, dtype=bool)], axis=1)
        return QuantizedWindows(input_ids, mask.astype(np.int64), scale)

    def encode_target(self, target: np.ndarray, scale: np.ndarray) -> np.ndarray:
        """``(B, H)`` future values -> ``(B, H)`` class labels in ``[0, n_bins)`` under the
        context's scale (the labels a forecaster is trained to predict)."""
        return self.bins_of(np.asarray(target, dtype=np.float64), scale)

    def decode(self, encoded: QuantizedWindows) -> np.ndarray:
        """Inverse of :meth:`encode`: ``(B, L)`` float64 values, each the centre of its bin
        times the window's scale, NaN where the input was NaN (PAD); the EOS is dropped."""
        return self.decode_ids(encoded.input_ids[:, :-1], encoded.scale)

    def decode_ids(self, input_ids: np.ndarray, scale: np.ndarray) -> np.ndarray:
        """Token ids ``(B, T)`` -> values ``(B, T)``: bin centre times scale, NaN for specials."""
        input_ids = np.asarray(input_ids)
        bins = np.clip(input_ids - NUM_SPECIAL, 0, self.n_bins - 1)
        values = self.centers[bins] * scale[:, None]
        return np.where(input_ids >= NUM_SPECIAL, values, np.nan)

    def decode_labels(self, labels: np.ndarray, scale: np.ndarray) -> np.ndarray:
        """Class labels ``(B, H)`` -> values ``(B, H)``."""
        values: np.ndarray = self.centers[labels] * scale[:, None]
        return values

    def expected_value(self, probs: np.ndarray, scale: np.ndarray) -> np.ndarray:
        """Bin probabilities ``(B, H, n_bins)`` -> point forecast ``(B, H)``: the mean of the
        predicted distribution over bin centres, times the scale (lower MSE than argmax)."""
        mean: np.ndarray = (probs @ self.centers) * scale[:, None]  # (B, H)
        return mean
