"""PatchTST-style series tokens: per-window normalisation, then (overlapping) patches.

Each context window is standardised by its own mean and standard deviation (instance
normalisation, as RevIN and PatchTST do; channel-independent: one ``loc``/``scale`` per node
per window), its tail is padded by repeating the last value, and it is cut into patches of
``patch_len`` steps every ``stride`` steps (Nie et al., 2023, "A Time Series is Worth 64 Words:
Long-term Forecasting with Transformers", https://arxiv.org/abs/2211.14730). Each patch is one
token, embedded by a linear map rather than looked up in a vocabulary.

The encoding is lossless: :meth:`PatchTokenizer.decode` reads every step back from the first
patch that covers it, drops the padding and undoes the normalisation, so
``decode(encode(x)) == x`` up to floating-point rounding (overlapping patches hold the same
values, so any covering patch would do).

Padding (``padding``):

- ``"patchtst"`` (default): always append ``stride`` copies of the last value, then cut as many
  full patches as fit, as PatchTST does (``P = (L + stride - patch_len) // stride + 1``). The
  last patch therefore ends on (a repeat of) the most recent value.
- ``"minimal"``: append only what the last patch needs to be full
  (``P = ceil((L - patch_len) / stride) + 1``); nothing when the patches tile ``L`` exactly.

Like :class:`~tokfrag.families.token.MeanScaleQuantizer`, there is nothing to fit on data:
:meth:`PatchTokenizer.fit` exists for the common tokenizer interface only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal, Self

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tokfrag.families.token.tokenizer import JsonConfigTokenizer

PADDINGS = ("patchtst", "minimal")


@dataclass(frozen=True)
class PatchedWindows:
    """Output of :meth:`PatchTokenizer.encode`.

    Attributes:
        patches: ``(B, P, patch_len)`` float64 normalised values ``(x - loc) / scale``, NaN
            where the input was NaN; patch ``p`` covers steps ``p * stride ..
            p * stride + patch_len - 1`` of the padded window.
        loc: ``(B,)`` float64 mean of each window's non-NaN values (0.0 when all are NaN).
        scale: ``(B,)`` float64 standard deviation of each window's non-NaN values, floored at
            the tokenizer's ``min_scale`` (1.0 when all are NaN).
        length: ``L``, the unpadded window length (what :meth:`PatchTokenizer.decode` returns).
    """

    patches: np.ndarray
    loc: np.ndarray
    scale: np.ndarray
    length: int


@dataclass(frozen=True)
class PatchTokenizer(JsonConfigTokenizer):
    """Cuts normalised windows into patches; a :class:`~tokfrag.families.token.Tokenizer` from
    ``(B, L)`` windows to :class:`PatchedWindows`.

    Args:
        patch_len: steps per patch (the token's width).
        stride: steps between the starts of consecutive patches; at most ``patch_len`` so that
            every step lies in some patch (``stride < patch_len`` gives overlapping patches).
        padding: ``"patchtst"`` (append ``stride`` repeats of the last value, as PatchTST) or
            ``"minimal"`` (append only what makes the last patch full); see the module notes.
        min_scale: floor on each window's standard deviation, so a constant window is centred
            instead of divided by zero; in data units.
    """

    kind: ClassVar[str] = "patch_tokenizer"

    patch_len: int = 2
    stride: int = 1
    padding: Literal["patchtst", "minimal"] = "patchtst"
    min_scale: float = 1e-8

    def __post_init__(self) -> None:
        if self.patch_len < 1:
            raise ValueError(f"patch_len must be at least 1, got {self.patch_len}")
        if not 1 <= self.stride <= self.patch_len:
            raise ValueError(
                f"stride must be between 1 and patch_len ({self.patch_len}), got {self.stride}; "
                "a longer stride would skip steps and the encoding could not be inverted"
            )
        if self.padding not in PADDINGS:
            raise ValueError(f"padding must be one of {PADDINGS}, got {self.padding!r}")
        if not self.min_scale > 0:
            raise ValueError(f"min_scale must be positive, got {self.min_scale}")

    def num_patches(self, length: int) -> int:
        """``P``, the number of patches a window of ``length`` steps is cut into."""
        if length < 1:
            raise ValueError(f"windows need at least one step, got length {length}")
        if self.padding == "patchtst":
            return max(length + self.stride - self.patch_len, 0) // self.stride + 1
        return -(-max(length - self.patch_len, 0) // self.stride) + 1  # ceil division

    def padded_length(self, length: int) -> int:
        """Steps after padding: the last patch ends exactly there."""
        return (self.num_patches(length) - 1) * self.stride + self.patch_len

    def fit(self, windows: np.ndarray) -> Self:
        """Nothing to learn: statistics are per window. Present for the tokenizer interface."""
        return self

    def normalisation(self, context: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(B, L) -> ((B,), (B,))``: mean and floored standard deviation of the non-NaN
        values of each window (``0.0`` and ``1.0`` for a window with none)."""
        observed = ~np.isnan(context)
        count = observed.sum(axis=-1)
        filled = np.where(observed, context, 0.0)
        # nanmean/nanstd without their all-NaN warnings: sums over the observed values only.
        loc = filled.sum(axis=-1) / np.maximum(count, 1)
        centred = np.where(observed, context - loc[:, None], 0.0)
        std = np.sqrt((centred**2).sum(axis=-1) / np.maximum(count, 1))
        scale = np.where(count > 0, np.maximum(std, self.min_scale), 1.0)
        return loc, scale

    def encode(self, context: np.ndarray) -> PatchedWindows:
        """Tokenise ``(B, L)`` context windows (any float dtype, NaN where missing) into
        ``(B, P, patch_len)`` float64 patches; vectorised over windows (strided views)."""
        context = np.asarray(context, dtype=np.float64)
        if context.ndim != 2:
            raise ValueError(f"expected context of shape (B, L), got {context.shape}")
        b, length = context.shape
        loc, scale = self.normalisation(context)
        z = (context - loc[:, None]) / scale[:, None]  # (B, L)
        pad = self.padded_length(length) - length
        z = np.concatenate([z, np.repeat(z[:, -1:], pad, axis=1)], axis=1)  # (B, L + pad)
        windows = sliding_window_view(z, self.patch_len, axis=1)  # (B, L+pad-patch_len+1, pl)
        patches = windows[:, :: self.stride].copy()  # (B, P, patch_len), writable, C order
        return PatchedWindows(patches, loc, scale, length)

    def decode(self, encoded: PatchedWindows) -> np.ndarray:
        """Exact inverse of :meth:`encode`: ``(B, P, patch_len)`` patches -> ``(B, L)`` float64
        windows in data units (padding dropped, NaN where the input was NaN)."""
        patches = np.asarray(encoded.patches, dtype=np.float64)
        b, p, width = patches.shape
        if width != self.patch_len or p != self.num_patches(encoded.length):
            raise ValueError(
                f"expected patches of shape (B, {self.num_patches(encoded.length)}, "
                f"{self.patch_len}) for windows of length {encoded.length}, got {patches.shape}"
            )
        # Step t of the padded window is step t - stride * (t // stride) of patch t // stride,
        # except past the last patch's start, where it is read from the last patch.
        t = np.arange(encoded.length)
        first = np.minimum(t // self.stride, p - 1)  # (L,)
        z = patches[:, first, t - first * self.stride]  # (B, L)
        values: np.ndarray = z * encoded.scale[:, None] + encoded.loc[:, None]
        return values
