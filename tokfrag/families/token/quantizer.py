"""Chronos-style series tokens: mean-absolute scaling, then uniform bins.

Each context window is divided by its own mean absolute value (channel-independent: one
scale per node per window), the scaled values are mapped to the nearest of ``n_bins`` bin
centres spread uniformly over ``[low, high]``, and two special tokens are reserved:
``PAD = 0`` (missing values, masked out of attention) and ``EOS = 1`` (appended to every
context). Decoding maps a bin back to its centre times the window's scale.

Because the scale is computed per window from the window alone, there is nothing to fit on
data: :meth:`MeanScaleQuantizer.fit` exists for the common tokenizer interface
(:class:`tokfrag.families.token.tokenizer.Tokenizer`) only.

Speed: :meth:`MeanScaleQuantizer.encode` gives exactly the ids of a ``np.searchsorted`` over
the bin boundaries (a tie goes to the lower bin), at several times the throughput of
chronos-forecasting's ``MeanScaleUniformBins`` (``bench/tokens.py``). It finds each bin
arithmetically, one below or the bin itself, and then steps up where the value is above that
bin's upper boundary, which makes the result exact; it works through blocks of windows that
stay in the CPU cache and writes the ids straight into the ``(B, L + 1)`` output.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar, NamedTuple, Self

import numpy as np

from tokfrag.families.token.tokenizer import JsonConfigTokenizer

PAD_ID = 0
EOS_ID = 1
NUM_SPECIAL = 2

# Elements (windows x (L + 1)) per block of :meth:`MeanScaleQuantizer.encode`: the block's
# scratch arrays (about 30 bytes an element) stay in the CPU cache.
_BLOCK = 1 << 16
# Below this window length, loops over the L columns beat numpy's per-window reductions and
# broadcasts, whose cost per window dominates for short windows (4 lags on Chickenpox).
_SHORT = 8
# Ids are estimated as floor(v / width + c), c putting each bin's upper boundary _MARGIN (in
# bin widths) below the next integer: the estimate is the bin itself or, for a value less than
# _MARGIN widths above the bin's lower boundary, the bin below (rare: one step up where
# v > upper[estimate] fixes those). That holds while the rounding errors of the estimate and
# of the boundaries stay below _MARGIN; they are within 20 * 2**-53 times the magnitudes
# involved (in bin widths), so layouts whose magnitudes reach _ARITHMETIC_LIMIT (Chronos-T5's
# bins reach 8e3) take np.searchsorted instead.
_MARGIN = 2.0**-20
_ARITHMETIC_LIMIT = 2.0**24


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
        """``(n_bins,)`` bin centres in scaled units (a fresh array)."""
        return self._bins.centers.copy()

    @property
    def boundaries(self) -> np.ndarray:
        """``(n_bins - 1,)`` midpoints between neighbouring centres (a fresh array)."""
        return self._bins.boundaries.copy()

    @property
    def _bins(self) -> _Bins:
        return _bins(self.n_bins, self.low, self.high)

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
        bins: np.ndarray = np.searchsorted(self._bins.boundaries, scaled).astype(np.int64)
        return bins

    def encode(self, context: np.ndarray) -> QuantizedWindows:
        """Tokenise ``(B, L)`` context windows (any float dtype, NaN where missing; vectorised
        over windows) into ``(B, L + 1)`` int64 ids with EOS last; see
        :class:`QuantizedWindows`.

        The ids, masks and scales are those of :meth:`scale_of` and :meth:`bins_of` on the
        windows in float64 (NaN as PAD), bit for bit; float32 windows are read as they are
        (every step converts them exactly), anything else is converted to float64 first.
        """
        x = np.asarray(context)
        if x.dtype != np.float32:
            x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2:
            raise ValueError(f"expected context of shape (B, L), got {x.shape}")
        bins = self._bins
        if not bins.arithmetic:
            return self._encode_searchsorted(x)
        n, length = x.shape
        input_ids = np.empty((n, length + 1), dtype=np.int64)
        mask = np.empty((n, length + 1), dtype=np.int64)
        scale = np.empty(n, dtype=np.float64)
        rows = max(1, _BLOCK // (length + 1))
        if length + 1 <= _BLOCK:
            work = _work(rows, length)
        else:  # one window per block: too large to keep
            work = _Work(1, length)
        # numpy sums the 8 or more values of a C-ordered row pairwise, as _row_sums does, but
        # other layouts in other orders: for those, scale_of sums them as it always has.
        scale_given = length >= _SHORT and not x.flags.c_contiguous
        if scale_given:
            scale[:] = self.scale_of(np.asarray(x, dtype=np.float64))
        # A window whose mean |x| overflows has scale 1, so v * per_width may overflow to inf,
        # which is clipped to the top bin as it should be.
        with np.errstate(over="ignore"):
            for start in range(0, n, rows):
                s = slice(start, start + rows)
                _encode_block(x[s], bins, work, input_ids[s], mask[s], scale[s], scale_given)
        return QuantizedWindows(input_ids, mask, scale)

    def _encode_searchsorted(self, context: np.ndarray) -> QuantizedWindows:
        """:meth:`encode` through :meth:`bins_of` (np.searchsorted), for bin layouts whose
        magnitudes defeat the arithmetic estimate (``_ARITHMETIC_LIMIT``)."""
        context = np.asarray(context, dtype=np.float64)
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
        values = self._bins.centers[bins] * scale[:, None]
        return np.where(input_ids >= NUM_SPECIAL, values, np.nan)

    def decode_labels(self, labels: np.ndarray, scale: np.ndarray) -> np.ndarray:
        """Class labels ``(B, H)`` -> values ``(B, H)``."""
        values: np.ndarray = self._bins.centers[labels] * scale[:, None]
        return values

    def expected_value(self, probs: np.ndarray, scale: np.ndarray) -> np.ndarray:
        """Bin probabilities ``(B, H, n_bins)`` -> point forecast ``(B, H)``: the mean of the
        predicted distribution over bin centres, times the scale (lower MSE than argmax)."""
        mean: np.ndarray = (probs @ self._bins.centers) * scale[:, None]  # (B, H)
        return mean


class _Bins(NamedTuple):
    """What :meth:`MeanScaleQuantizer.encode` needs of a bin layout, computed once per
    ``(n_bins, low, high)``; read-only arrays, shared by every call and thread."""

    centers: np.ndarray  # (n_bins,) np.linspace(low, high, n_bins)
    boundaries: np.ndarray  # (n_bins - 1,) midpoints of neighbouring centres
    upper: np.ndarray  # (n_bins + NUM_SPECIAL,) upper boundary of the bin of each id (inf last)
    per_width: float  # 1 / bin width
    offset: float  # a value v's id estimate is floor(v * per_width + offset)
    arithmetic: bool  # the estimate is the bin or the one below (every layout in practice)


@lru_cache(maxsize=64)
def _bins(n_bins: int, low: float, high: float) -> _Bins:
    centers = np.linspace(low, high, n_bins)
    boundaries = (centers[1:] + centers[:-1]) / 2
    upper = np.full(n_bins + NUM_SPECIAL, np.inf)
    upper[NUM_SPECIAL : NUM_SPECIAL + n_bins - 1] = boundaries
    for table in (centers, boundaries, upper):
        table.flags.writeable = False
    width = float(high) - float(low)
    per_width = (n_bins - 1) / width
    # t = (v - low) / width + NUM_SPECIAL + 1/2 - _MARGIN puts the upper boundary of the bin
    # with id k at t = k + 1 - _MARGIN, so floor(t) is k, or k - 1 for v within _MARGIN
    # widths above the lower boundary.
    offset = NUM_SPECIAL + 0.5 - _MARGIN - low * per_width
    magnitude = max(abs(low), abs(high)) * per_width + n_bins + abs(offset)
    normal = np.isfinite(width) and per_width >= np.finfo(np.float64).tiny
    arithmetic = bool(normal and magnitude < _ARITHMETIC_LIMIT)
    return _Bins(centers, boundaries, upper, float(per_width), float(offset), arithmetic)


class _Work:
    """Scratch arrays for encoding blocks of up to ``rows`` windows of ``length`` steps;
    :meth:`take` views the first ``m`` rows. Kept per thread (:func:`_work`) between calls."""

    def __init__(self, rows: int, length: int) -> None:
        self.rows = rows
        wide = (rows, length + 1)  # the layout of the output, EOS column included
        self.arrays = (
            np.empty((rows, length)),  # magnitude: |x|, 0 where missing
            np.empty((rows, length), dtype=bool),  # missing: NaN in x
            np.zeros(wide),  # scaled: x / scale; the EOS column stays 0
            np.empty(wide),  # estimate: the id estimate, then its bin's upper boundary
            np.empty(wide, dtype=bool),  # pad: NaN in the scaled values
            np.empty(wide, dtype=bool),  # above: above that boundary
            np.empty(rows),  # sums: of magnitude, per window
        )

    def take(self, m: int) -> tuple[np.ndarray, ...]:
        return tuple(a[:m] for a in self.arrays)


_local = threading.local()


def _work(rows: int, length: int) -> _Work:
    """This thread's scratch arrays for ``length``-step windows (up to 4 lengths kept):
    allocated once, so repeated calls neither allocate nor touch fresh memory."""
    cache: dict[int, _Work] | None = getattr(_local, "work", None)
    if cache is None:
        cache = _local.work = {}
    work = cache.get(length)
    if work is None or work.rows < rows:
        if len(cache) >= 4:
            cache.pop(next(iter(cache)))
        work = cache[length] = _Work(rows, length)
    return work


def _encode_block(
    x: np.ndarray,
    bins: _Bins,
    work: _Work,
    input_ids: np.ndarray,
    mask: np.ndarray,
    scale: np.ndarray,
    scale_given: bool,
) -> None:
    """Encode the ``(m, L)`` windows ``x`` (float32 or float64) into the ``(m, L + 1)`` rows
    ``input_ids`` and ``mask`` and, unless ``scale_given``, the ``(m,)`` ``scale``, in place."""
    m, length = x.shape
    magnitude, missing, scaled, estimate, pad, above, sums = work.take(m)
    any_missing = _scale_block(x, magnitude, missing, sums, scale, scale_given)
    # Scaled values in the (m, L + 1) layout of the output (the EOS column holds 0).
    if length < _SHORT:
        for j in range(length):
            np.divide(x[:, j], scale, out=scaled[:, j])
    else:
        np.divide(x, scale[:, None], out=scaled[:, :length])
    if any_missing:
        np.isnan(scaled, out=pad)  # x / scale is NaN exactly where x is
        np.copyto(scaled, 0.0, where=pad)
    # The id estimate (the bin's id or the one below), then a step up where above its bin.
    np.multiply(scaled, bins.per_width, out=estimate)
    np.add(estimate, bins.offset, out=estimate)
    np.clip(estimate, NUM_SPECIAL, NUM_SPECIAL + len(bins.centers) - 1, out=estimate)
    np.copyto(input_ids, estimate, casting="unsafe")  # truncation is floor: all are >= 2
    np.take(bins.upper, input_ids, out=estimate, mode="clip")  # every id is in range
    np.greater(scaled, estimate, out=above)
    if above.any():  # rare: a value within _MARGIN widths above a boundary
        np.add(input_ids, 1, out=input_ids, where=above)
    if any_missing:
        np.copyto(input_ids, PAD_ID, where=pad)
        np.logical_not(pad, out=mask)
    else:
        mask.fill(1)
    input_ids[:, length] = EOS_ID


def _scale_block(
    x: np.ndarray,
    magnitude: np.ndarray,
    missing: np.ndarray,
    sums: np.ndarray,
    scale: np.ndarray,
    scale_given: bool,
) -> bool:
    """Unless ``scale_given``, ``scale[:] =`` the mean |x| over the observed values of each
    window, 1 where that is not finite and positive (as :meth:`MeanScaleQuantizer.scale_of`,
    bit for bit). Returns whether any ``x`` is NaN; ``missing`` then holds where."""
    length = x.shape[1]
    if length < _SHORT and not scale_given:
        # Short rows sum cheaply: sum first, and look for NaN only where a scale is off.
        np.abs(x, out=magnitude)
        _row_sums(magnitude, sums)
        np.divide(sums, max(length, 1), out=scale)
        if scale.min(initial=1.0) > 0 and scale.max(initial=1.0) < np.inf:
            return False
    np.isnan(x, out=missing)
    any_missing = bool(missing.any())
    if scale_given:
        return any_missing
    if length >= _SHORT or any_missing:
        np.abs(x, out=magnitude)
        if any_missing:
            np.copyto(magnitude, 0.0, where=missing)
        _row_sums(magnitude, sums)
        if any_missing:
            np.divide(sums, np.maximum(_observed_counts(missing), 1), out=scale)
        else:
            np.divide(sums, max(length, 1), out=scale)
    if not (scale.min(initial=1.0) > 0 and scale.max(initial=1.0) < np.inf):
        scale[~(np.isfinite(scale) & (scale > 0))] = 1.0
    return any_missing


def _row_sums(a: np.ndarray, out: np.ndarray) -> None:
    """``out[:] = a.sum(axis=-1)`` for a ``(B, L)`` array, bit for bit. For fewer than 8
    values numpy adds a row's values one after another (pairwise summation starts at 8),
    which adding whole columns in order repeats without numpy's cost per row."""
    length = a.shape[1]
    if length >= _SHORT or length < 2:
        np.sum(a, axis=-1, out=out)
        return
    np.add(a[:, 0], a[:, 1], out=out)
    for j in range(2, length):
        out += a[:, j]


def _observed_counts(missing: np.ndarray) -> np.ndarray:
    """``(B, L)`` missing flags (C-ordered) -> ``(B,)`` int64 number of observed values in
    each row, without numpy's cost per row where it can."""
    length = missing.shape[1]
    if length < _SHORT:
        counts = np.full(len(missing), length, dtype=np.int64)
        for j in range(length):
            counts -= missing[:, j]
        return counts
    if length % 8 or length >= 256:
        nonzero: np.ndarray = length - np.count_nonzero(missing, axis=-1)
        return nonzero
    # Each row's flags (bytes 0 or 1) as length / 8 words: the sum of the words holds the
    # row's count spread over its 8 bytes (each below 32), which one multiplication adds up.
    words = missing.view(np.uint64)
    total = words[:, 0].copy()
    for j in range(1, words.shape[1]):
        total += words[:, j]
    total *= np.uint64(0x0101010101010101)
    total >>= np.uint64(56)
    observed: np.ndarray = length - total.astype(np.int64)
    return observed
