"""Is the token-vs-fragment difference real? Paired significance checks on the same test items.

- :func:`paired_bootstrap`: a confidence interval for the mean per-item loss difference
  ``mean(loss_a - loss_b)`` (BCa, falling back to percentile), by resampling items in pairs;
  with ``block_length >= 2``, by the stationary block bootstrap of the difference series.
- :func:`block_length_for`: the automatic mean block length for that block bootstrap
  (Politis-White 2004, as corrected by Patton-Politis-White 2009).
- :func:`diebold_mariano`: the Diebold-Mariano test of equal predictive accuracy on the loss
  differential series, with the Harvey-Leybourne-Newbold (1997) small-sample correction.
- :func:`mcnemar`: McNemar's test on paired right/wrong outcomes (exact binomial when there are
  fewer than 25 discordant pairs, continuity-corrected chi-square otherwise).

Dependent items: by default the bootstrap resamples items independently (iid), which suits
text items but not consecutive, overlapping forecast windows of one series, whose losses are
autocorrelated (an iid interval is then too narrow). For those, pass
``block_length=block_length_for(loss_a, loss_b, horizon)`` to :func:`paired_bootstrap`: it
resamples the paired difference series in blocks (stationary bootstrap), which keeps the
dependence within blocks, and its ``Interval.method`` names the block length used. The
Diebold-Mariano test accounts for the same dependence through autocovariances up to lag
``horizon - 1``.
"""

from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

__all__ = [
    "Interval",
    "TestResult",
    "block_length_for",
    "diebold_mariano",
    "mcnemar",
    "paired_bootstrap",
]

#: Below this many discordant pairs McNemar's test uses the exact binomial distribution.
MCNEMAR_EXACT_BELOW = 25

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


@dataclass(frozen=True)
class TestResult:
    """The outcome of a paired hypothesis test of "no difference between the two models".

    Attributes
    ----------
    name : str
        Which test, e.g. ``"McNemar (exact)"``.
    statistic : float
        The test statistic (its meaning depends on the test; see the function that made it).
    p_value : float
        The two-sided p-value.
    n_items : int
        The number of paired items ``n``.
    """

    # Not a pytest test class, whatever its name (keeps collection quiet where it is imported).
    __test__ = False

    name: str
    statistic: float
    p_value: float
    n_items: int

    def significant(self, alpha: float = 0.05) -> bool:
        """Whether the null hypothesis is rejected at level ``alpha`` (``p_value < alpha``)."""
        return self.p_value < alpha


def _paired_losses(loss_a: ArrayLike, loss_b: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Validate two per-item loss vectors: 1-D, same length ``n >= 2``, finite."""
    a = np.asarray(loss_a, dtype=np.float64)
    b = np.asarray(loss_b, dtype=np.float64)
    if a.ndim != 1 or a.shape != b.shape or a.shape[0] < 2:
        raise ValueError(
            "loss_a and loss_b must be 1-D arrays of per-item losses on the same n >= 2 items; "
            f"got shapes {a.shape} and {b.shape}"
        )
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError("loss_a and loss_b must be finite")
    return a, b


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
    a, b = _paired_losses(loss_a, loss_b)
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


def _check_horizon(horizon: object, n: int) -> int:
    """Validate a forecast horizon: an integer in ``[1, n)``; returns it as an ``int``."""
    if isinstance(horizon, bool) or int(horizon) != horizon or not 1 <= horizon < n:
        raise ValueError(f"horizon must be an integer with 1 <= horizon < n = {n}; got {horizon}")
    return int(horizon)


def _flat_top(x: np.ndarray) -> np.ndarray:
    """The trapezoidal flat-top lag window of Politis & Romano (1995).

    ``lambda(x) = 1`` for ``|x| <= 1/2``, ``2 (1 - |x|)`` for ``1/2 < |x| <= 1``, 0 beyond.
    """
    ax = np.abs(x)
    return np.where(ax <= 0.5, 1.0, np.clip(2.0 * (1.0 - ax), 0.0, None))


def _autocovariances(u: np.ndarray, max_lag: int) -> np.ndarray:
    """Sample autocovariances ``gamma_k = (1/n) sum_t u_t u_{t+k}`` of a centred series.

    Parameters
    ----------
    u : numpy.ndarray, shape (n,)
        The series minus its mean.
    max_lag : int
        Largest lag, ``0 <= max_lag < n``.

    Returns
    -------
    numpy.ndarray, shape (max_lag + 1,)
        ``gamma_0, ..., gamma_max_lag``.
    """
    n = u.shape[0]
    return np.array([np.dot(u[k:], u[: n - k]) / n for k in range(max_lag + 1)])


def _flat_top_bandwidth(rho: np.ndarray, n: int, k_n: int, c: float) -> int:
    """The "m_hat" rule of Politis & White (2004): the flat-top window's ``m_hat``.

    ``m_hat`` is the smallest ``m >= 0`` such that ``|rho_{m+1}|, ..., |rho_{m+k_n}|`` are all
    below ``c * sqrt(log10(n) / n)`` (raised to at least 1); where no such ``m`` is found among
    the lags given, the largest candidate ``len(rho) - k_n`` (at least 1) is returned.

    Parameters
    ----------
    rho : numpy.ndarray, shape (L + 1,)
        Sample autocorrelations ``rho_0 = 1, rho_1, ..., rho_L``.
    n : int
        Series length.
    k_n : int
        Number of consecutive insignificant autocorrelations required.
    c : float
        Constant of the significance band.
    """
    threshold = c * math.sqrt(math.log10(n) / n)
    small = np.abs(rho[1:]) < threshold  # small[j] is for lag j + 1
    last = small.shape[0] - k_n
    for m in range(last + 1):
        if np.all(small[m : m + k_n]):
            return max(1, m)
    return max(1, last)


def block_length_for(loss_a: ArrayLike, loss_b: ArrayLike, horizon: int = 1) -> int:
    r"""Automatic mean block length of the stationary bootstrap for ``paired_bootstrap``.

    The rule of Politis & White (2004) with the correction of Patton, Politis & White (2009),
    applied to the loss differential ``d_t = loss_a[t] - loss_b[t]`` (items in time order),
    with sample autocovariances ``R_k`` and autocorrelations ``rho_k = R_k / R_0``:

    1. ``m_hat`` is the smallest ``m`` (at least 1) such that ``K_N`` consecutive
       autocorrelations ``rho_{m+1}, ..., rho_{m+K_N}`` all lie inside
       ``+- c sqrt(log10(n) / n)``, with ``K_N = max(5, ceil(sqrt(log10 n)))`` and ``c = 2``;
       lags ``m`` up to ``ceil(sqrt(n)) + K_N`` are searched (that bound is taken where none
       qualifies). The flat-top lag window's bandwidth is ``M = 2 m_hat`` (and ``M < n``).
    2. With the flat-top window ``lambda`` (1 on ``[0, 1/2]``, falling linearly to 0 at 1),

       .. math::

           \hat G = \sum_{|k| \le M} \lambda(k/M) |k| R_k, \qquad
           \hat g(0) = \sum_{|k| \le M} \lambda(k/M) R_k, \qquad
           \hat D_{SB} = 2 \hat g(0)^2,

       and ``b = (2 G^2 / D_SB)^(1/3) n^(1/3)``. (``D_SB = 2 g(0)^2`` is the 2009 correction;
       the 2004 paper had a larger ``D_SB``, which gave too short blocks.)
    3. ``b`` is capped at ``ceil(min(3 sqrt(n), n / 3))``, rounded up to an integer, and raised
       to at least ``horizon``: the losses of ``h``-step-ahead forecasts on overlapping
       windows share targets up to ``h - 1`` steps apart, so shorter blocks would cut through
       that dependence whatever the estimate says.

    Parameters
    ----------
    loss_a : array_like, shape (n,)
        Per-item losses of model ``a``, in time order.
    loss_b : array_like, shape (n,)
        Per-item losses of model ``b`` on the same items, in the same order.
    horizon : int, default 1
        Forecast horizon ``h``, ``1 <= horizon < n``; the block length is at least ``h``.

    Returns
    -------
    int
        The mean block length, ``max(1, horizon) <= L < n``, to pass as ``block_length`` to
        :func:`paired_bootstrap`. A constant differential (no variability to resample) gives
        ``max(1, horizon)``.

    Raises
    ------
    ValueError
        If the inputs are not 1-D of the same length ``n >= 2``, or hold non-finite values, or
        ``horizon`` is not an integer in ``[1, n)``.

    References
    ----------
    Politis, D. N. and Romano, J. P. (1995). Bias-corrected nonparametric spectral estimation.
    JTSA 16(1).
    Politis, D. N. and White, H. (2004). Automatic block-length selection for the dependent
    bootstrap. Econometric Reviews 23(1).
    Patton, A., Politis, D. N. and White, H. (2009). Correction to "Automatic block-length
    selection for the dependent bootstrap". Econometric Reviews 28(4).
    """
    a, b = _paired_losses(loss_a, loss_b)
    n = a.shape[0]
    h = _check_horizon(horizon, n)
    floor = max(1, h)
    d = a - b
    if np.ptp(d) == 0.0:
        return floor
    u = d - np.mean(d)
    k_n = max(5, math.ceil(math.sqrt(math.log10(n))))
    m_max = math.ceil(math.sqrt(n)) + k_n
    # Lags up to 2 m_max cover both the search (up to m_max + K_N) and M = 2 m_hat.
    gamma = _autocovariances(u, min(n - 1, 2 * m_max))
    if not gamma[0] > 0.0:  # constant up to rounding
        return floor
    search_lags = min(n - 1, m_max + k_n)
    m_hat = _flat_top_bandwidth(gamma[: search_lags + 1] / gamma[0], n, k_n, c=2.0)
    bandwidth = min(2 * m_hat, n - 1)
    k = np.arange(1, bandwidth + 1)
    weights = _flat_top(k / bandwidth) * gamma[1 : bandwidth + 1]
    g0 = gamma[0] + 2.0 * float(np.sum(weights))
    big_g = 2.0 * float(np.sum(k * weights))
    cap = math.ceil(min(3.0 * math.sqrt(n), n / 3.0))
    if g0 == 0.0:
        length = float(cap)
    else:
        d_sb = 2.0 * g0**2
        length = min((2.0 * big_g**2 / d_sb) ** (1.0 / 3.0) * n ** (1.0 / 3.0), cap)
    return max(floor, math.ceil(length))


def diebold_mariano(loss_a: ArrayLike, loss_b: ArrayLike, horizon: int = 1) -> TestResult:
    r"""Diebold-Mariano test of equal predictive accuracy, HLN small-sample corrected.

    With the loss differential ``d_t = loss_a[t] - loss_b[t]`` (items in time order), its mean
    ``d_bar`` and autocovariances ``gamma_k = (1/n) sum_{t=k}^{n-1} (d_t - d_bar)(d_{t-k} -
    d_bar)``, the long-run variance is ``V = gamma_0 + 2 sum_{k=1}^{h-1} gamma_k`` for
    ``h = horizon``, and

    .. math::

        DM = \frac{\bar d}{\sqrt{V / n}}, \qquad
        DM^* = DM \sqrt{\frac{n + 1 - 2h + h(h - 1)/n}{n}},

    compared with Student's t with ``n - 1`` degrees of freedom (two-sided).

    Parameters
    ----------
    loss_a : array_like, shape (n,)
        Per-item losses of model ``a``, in time order.
    loss_b : array_like, shape (n,)
        Per-item losses of model ``b`` on the same items, in the same order.
    horizon : int, default 1
        Forecast horizon ``h``: ``h``-step-ahead forecast errors are autocorrelated up to lag
        ``h - 1``, which the variance accounts for. ``1 <= horizon < n``.

    Returns
    -------
    TestResult
        ``statistic`` is ``DM*`` (negative when model ``a`` has the lower loss) and
        ``p_value`` its two-sided p-value. Where ``V <= 0`` (e.g. identical forecasts, or a
        constant differential) the test is undefined and ``statistic = 0.0, p_value = 1.0``.

    Raises
    ------
    ValueError
        If the inputs are not 1-D of the same length ``n >= 2``, or hold non-finite values, or
        ``horizon`` is not an integer in ``[1, n)``.

    References
    ----------
    Diebold, F. X. and Mariano, R. S. (1995). Comparing predictive accuracy. JBES 13(3).
    Harvey, D., Leybourne, S. and Newbold, P. (1997). Testing the equality of prediction mean
    squared errors. IJF 13(2).
    """
    a, b = _paired_losses(loss_a, loss_b)
    n = a.shape[0]
    h = _check_horizon(horizon, n)
    name = "Diebold-Mariano (HLN-corrected)"
    d = a - b
    if np.ptp(d) == 0.0:  # constant differential: V is 0 up to rounding
        return TestResult(name=name, statistic=0.0, p_value=1.0, n_items=n)
    d_bar = float(np.mean(d))
    u = d - d_bar
    gammas = [float(np.dot(u[k:], u[: n - k])) / n for k in range(h)]
    variance = gammas[0] + 2.0 * sum(gammas[1:])
    if not variance > 0.0:
        return TestResult(name=name, statistic=0.0, p_value=1.0, n_items=n)
    dm = d_bar / math.sqrt(variance / n)
    correction = math.sqrt((n + 1 - 2 * h + h * (h - 1) / n) / n)
    statistic = dm * correction
    p_value = float(2.0 * stats.t.sf(abs(statistic), df=n - 1))
    return TestResult(name=name, statistic=float(statistic), p_value=p_value, n_items=n)


def _paired_outcomes(correct_a: ArrayLike, correct_b: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Validate two per-item correctness vectors: 1-D, same length ``n >= 1``, 0/1 or bool."""
    a, b = np.asarray(correct_a), np.asarray(correct_b)
    if a.ndim != 1 or a.shape != b.shape or a.shape[0] < 1:
        raise ValueError(
            "correct_a and correct_b must be 1-D boolean arrays on the same n >= 1 items; "
            f"got shapes {a.shape} and {b.shape}"
        )
    for name, x in (("correct_a", a), ("correct_b", b)):
        if x.dtype != np.bool_ and not np.all((x == 0) | (x == 1)):
            raise ValueError(f"{name} must hold booleans (or 0/1); got dtype {x.dtype}")
    return a.astype(bool), b.astype(bool)


def mcnemar(correct_a: ArrayLike, correct_b: ArrayLike) -> TestResult:
    """McNemar's test that two models are right equally often on the same items.

    Only discordant pairs matter: ``b`` items where only model ``a`` is right and ``c`` where
    only model ``b`` is right. Under the null hypothesis ``b ~ Binomial(b + c, 1/2)``.

    - ``b + c < 25``: exact two-sided binomial test (``scipy.stats.binomtest``);
      ``statistic = b``.
    - otherwise: chi-square with continuity correction,
      ``statistic = (|b - c| - 1)**2 / (b + c)``, ``p = chi2.sf(statistic, df=1)``.
    - ``b + c == 0``: no evidence either way, ``statistic = 0.0, p_value = 1.0``.

    Parameters
    ----------
    correct_a : array_like of bool, shape (n,)
        Whether model ``a`` got each item right.
    correct_b : array_like of bool, shape (n,)
        Whether model ``b`` got each item right, same items in the same order.

    Returns
    -------
    TestResult
        Named ``"McNemar (exact)"`` or ``"McNemar (chi-square, continuity-corrected)"``.

    Raises
    ------
    ValueError
        If the inputs are not 1-D of the same length ``n >= 1``, or hold values other than
        booleans / 0 / 1.
    """
    a, b_ok = _paired_outcomes(correct_a, correct_b)
    n = a.shape[0]
    b = int(np.count_nonzero(a & ~b_ok))
    c = int(np.count_nonzero(~a & b_ok))
    discordant = b + c
    if discordant < MCNEMAR_EXACT_BELOW:
        name = "McNemar (exact)"
        if discordant == 0:
            return TestResult(name=name, statistic=0.0, p_value=1.0, n_items=n)
        p_value = stats.binomtest(b, discordant, p=0.5, alternative="two-sided").pvalue
        return TestResult(name=name, statistic=float(b), p_value=float(p_value), n_items=n)
    statistic = (abs(b - c) - 1) ** 2 / discordant
    return TestResult(
        name="McNemar (chi-square, continuity-corrected)",
        statistic=float(statistic),
        p_value=float(stats.chi2.sf(statistic, df=1)),
        n_items=n,
    )
