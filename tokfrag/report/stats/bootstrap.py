"""The paired bootstrap confidence interval for a mean loss difference.

:func:`paired_bootstrap` gives an :class:`Interval` for ``mean(loss_a - loss_b)``: by iid
resampling of item pairs (BCa, falling back to percentile), or, with ``block_length >= 2``, by
the stationary block bootstrap of the difference series (Politis & Romano 1994), for items
in time order whose losses are autocorrelated. :mod:`.block_length` chooses that length.
"""

from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from tokfrag.report.stats.checks import paired_losses

#: Upper bound on the elements of one resampling batch (indices of shape ``(batch, n)``), so
#: that large test sets do not allocate ``n_resamples * n`` (or, for the BCa jackknife,
#: ``n * (n - 1)``) elements at once.
_MAX_BATCH_ELEMENTS = 1 << 22


@dataclass(frozen=True)
class Interval:
    """A bootstrap confidence interval for ``mean(loss_a - loss_b)``.

    Attributes
    ----------
    estimate : float
        The statistic on the original items, ``mean(loss_a - loss_b)``. Negative means model
        ``a`` has the lower (better) loss.
    low, high : float
        The interval's bounds.
    confidence : float
        Its nominal coverage, e.g. ``0.95``.
    n_items : int
        The number of paired items ``n``.
    method : str
        ``"BCa"``, or ``"percentile"`` where BCa could not be computed (iid resampling); or
        ``"stationary block, mean block length L"`` for the block bootstrap (a percentile
        interval).
    """

    estimate: float
    low: float
    high: float
    confidence: float
    n_items: int
    method: str

    def excludes_zero(self) -> bool:
        """Whether zero lies outside ``[low, high]``: the difference is significant at level
        ``1 - confidence``."""
        return self.low > 0.0 or self.high < 0.0


def _mean_difference(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    """``mean(x - y)`` along ``axis``; vectorized for :func:`scipy.stats.bootstrap`."""
    return np.mean(x - y, axis=axis)


def _check_block_length(block_length: object, n: int) -> int | None:
    """Validate ``block_length`` for :func:`paired_bootstrap`: None or an integer in ``[1, n)``.

    Returns the block length as an ``int``, or None for iid resampling (``None`` or ``1``).
    """
    if block_length is None:
        return None
    if isinstance(block_length, bool) or not isinstance(block_length, numbers.Integral):
        raise ValueError(
            f"block_length must be None or an integer with 1 <= block_length < n = {n}; "
            f"got {block_length!r}"
        )
    length = int(block_length)
    if not 1 <= length < n:
        raise ValueError(
            f"block_length must be None or an integer with 1 <= block_length < n = {n}; "
            f"got {length}"
        )
    return None if length == 1 else length


def _stationary_indices(
    rng: np.random.Generator, n_rows: int, n: int, block_length: int
) -> np.ndarray:
    """Index arrays of the stationary bootstrap (Politis & Romano 1994), one resample per row.

    Each row is a concatenation of blocks ``i, i + 1, ...`` (mod ``n``, i.e. wrapping around
    the end) that start at uniformly random positions ``i`` and whose lengths are geometric
    with mean ``block_length``: every position after the first starts a new block with
    probability ``1 / block_length``, and otherwise continues the current one.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    n_rows : int
        Number of resamples (rows).
    n : int
        Series length; each row has ``n`` indices in ``[0, n)``.
    block_length : int
        Mean block length ``L >= 1``.

    Returns
    -------
    numpy.ndarray of int64, shape (n_rows, n)
        The resampled positions.
    """
    t = np.arange(n)
    new_block = rng.random((n_rows, n)) < 1.0 / block_length
    new_block[:, 0] = True
    starts = rng.integers(0, n, size=(n_rows, n))
    # Position in the row at which the current block began: running max of block starts.
    block_begin = np.where(new_block, t, 0)
    np.maximum.accumulate(block_begin, axis=1, out=block_begin)
    index = np.take_along_axis(starts, block_begin, axis=1)
    del starts
    np.subtract(t, block_begin, out=block_begin)  # offset within the block
    index += block_begin
    index %= n
    return index


def _stationary_bootstrap_means(
    d: np.ndarray, block_length: int, n_resamples: int, seed: int
) -> np.ndarray:
    """Means of ``n_resamples`` stationary-bootstrap resamples of the series ``d``.

    Resamples are drawn in batches of at most ``_MAX_BATCH_ELEMENTS`` indices, in a fixed
    order from ``np.random.default_rng(seed)``, so the result depends only on the inputs.

    Parameters
    ----------
    d : numpy.ndarray, shape (n,)
        The series, in time order.
    block_length : int
        Mean block length ``L >= 1``.
    n_resamples : int
        Number of resamples ``B``.
    seed : int
        Seed for ``np.random.default_rng``.

    Returns
    -------
    numpy.ndarray, shape (B,)
        The resampled means.
    """
    n = d.shape[0]
    rng = np.random.default_rng(seed)
    batch = max(1, _MAX_BATCH_ELEMENTS // n)
    means = np.empty(n_resamples)
    for first in range(0, n_resamples, batch):
        rows = min(batch, n_resamples - first)
        index = _stationary_indices(rng, rows, n, block_length)
        means[first : first + rows] = d[index].mean(axis=1)
    return means


def _iid_bootstrap_interval(
    a: np.ndarray, b: np.ndarray, confidence: float, n_resamples: int, seed: int
) -> tuple[float, float, str]:
    """BCa interval of ``mean(a - b)`` by iid paired resampling, percentile where BCa fails.

    Returns ``(low, high, method)`` with ``method`` ``"BCa"`` or ``"percentile"``.
    """
    n = a.shape[0]
    batch = max(1, _MAX_BATCH_ELEMENTS // n)
    common = dict(paired=True, vectorized=True, confidence_level=confidence, batch=batch)

    # BCa first. scipy signals a degenerate BCa interval by returning nan (with a
    # DegenerateDataWarning, and a RuntimeWarning from 0/0 in the acceleration), not by raising.
    # (DegenerateDataWarning subclasses RuntimeWarning; it is named for the reader.)
    result = None
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            result = stats.bootstrap(
                (a, b),
                _mean_difference,
                n_resamples=n_resamples,
                method="BCa",
                rng=np.random.default_rng(seed),
                **common,
            )
            low, high = result.confidence_interval
            method = "BCa"
        except (ValueError, FloatingPointError, ZeroDivisionError):
            low = high = math.nan
    if not (np.isfinite(low) and np.isfinite(high)):
        if result is not None:
            # Reuse the bootstrap distribution already drawn: same resamples, no recomputation.
            fallback = stats.bootstrap(
                (a, b),
                _mean_difference,
                n_resamples=0,
                bootstrap_result=result,
                method="percentile",
                **common,
            )
        else:
            fallback = stats.bootstrap(
                (a, b),
                _mean_difference,
                n_resamples=n_resamples,
                method="percentile",
                rng=np.random.default_rng(seed),
                **common,
            )
        low, high = fallback.confidence_interval
        method = "percentile"
    return float(low), float(high), method


def paired_bootstrap(
    loss_a: ArrayLike,
    loss_b: ArrayLike,
    *,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
    block_length: int | None = None,
) -> Interval:
    """Paired bootstrap confidence interval for the mean loss difference ``mean(a - b)``.

    With ``block_length`` None or 1 (independent items, e.g. text), items are resampled with
    replacement as pairs ``(loss_a[i], loss_b[i])``, so the correlation between the two models
    on the same item is kept. The interval is BCa (bias-corrected and accelerated); where BCa
    cannot be computed (it returns nan, e.g. when every difference is the same, or raises) the
    percentile interval of the same bootstrap distribution is returned instead.

    With ``block_length = L >= 2`` (items in time order, e.g. consecutive, overlapping
    forecast windows of one series), the difference series ``d = loss_a - loss_b`` is
    resampled by the stationary bootstrap of Politis & Romano (1994): blocks of consecutive
    items start at uniformly random positions, have geometric lengths with mean ``L``, and
    wrap around the end of the series. Within a block the dependence between neighbouring
    items is kept, so the spread of the resampled means reflects the long-run variance rather
    than the iid variance. The stationary bootstrap is used rather than the circular
    moving-block bootstrap because its resamples are stationary and it is less sensitive to
    the exact choice of ``L`` (random block lengths smooth over it), and because the automatic
    choice :func:`block_length_for` targets it. The interval is the percentile interval of the
    resampled means: BCa's acceleration is estimated by the delete-one jackknife, which
    assumes iid items and is not valid for dependent ones, so it is not used here.

    Parameters
    ----------
    loss_a : array_like, shape (n,)
        Per-item losses of model ``a``.
    loss_b : array_like, shape (n,)
        Per-item losses of model ``b`` on the same items, in the same order.
    confidence : float, default 0.95
        Nominal coverage of the two-sided interval, in ``(0, 1)``.
    n_resamples : int, default 2000
        Number of bootstrap resamples.
    seed : int, default 0
        Seed for ``np.random.default_rng``; the same inputs and seed give the same interval.
    block_length : int or None, default None
        None or 1: iid resampling (BCa). ``2 <= block_length < n``: mean block length of the
        stationary bootstrap; items must then be in time order. See :func:`block_length_for`
        for a data-driven choice.

    Returns
    -------
    Interval
        ``estimate = mean(loss_a - loss_b)`` with its bounds; ``excludes_zero()`` says whether
        the difference is significant at level ``1 - confidence``. ``method`` is ``"BCa"`` or
        ``"percentile"`` (iid), or ``"stationary block, mean block length L"``.

    Raises
    ------
    ValueError
        If the inputs are not 1-D of the same length ``n >= 2``, or hold non-finite values, or
        ``confidence`` is outside ``(0, 1)``, or ``n_resamples < 1``, or ``block_length`` is
        not None or an integer in ``[1, n)``.

    References
    ----------
    Efron, B. (1987). Better bootstrap confidence intervals. JASA 82(397).
    Politis, D. N. and Romano, J. P. (1994). The stationary bootstrap. JASA 89(428).
    """
    a, b = paired_losses(loss_a, loss_b)
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1); got {confidence}")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be >= 1; got {n_resamples}")
    n = a.shape[0]
    length = _check_block_length(block_length, n)
    estimate = float(_mean_difference(a, b))
    if length is None:
        low, high, method = _iid_bootstrap_interval(a, b, confidence, n_resamples, seed)
    else:
        means = _stationary_bootstrap_means(a - b, length, n_resamples, seed)
        tail = (1.0 - confidence) / 2.0
        low, high = (float(q) for q in np.quantile(means, [tail, 1.0 - tail]))
        method = f"stationary block, mean block length {length}"
    return Interval(
        estimate=estimate,
        low=low,
        high=high,
        confidence=float(confidence),
        n_items=n,
        method=method,
    )
