"""Is the token-vs-fragment difference real? Paired significance checks on the same test items.

- :func:`paired_bootstrap`: a confidence interval for the mean per-item loss difference
  ``mean(loss_a - loss_b)`` (BCa, falling back to percentile), by resampling items in pairs.
- :func:`diebold_mariano`: the Diebold-Mariano test of equal predictive accuracy on the loss
  differential series, with the Harvey-Leybourne-Newbold (1997) small-sample correction.
- :func:`mcnemar`: McNemar's test on paired right/wrong outcomes (exact binomial when there are
  fewer than 25 discordant pairs, continuity-corrected chi-square otherwise).

Caveat: the bootstrap resamples items independently (iid), so it ignores the autocorrelation
between consecutive, overlapping forecast windows and its interval is too narrow when that is
strong. The Diebold-Mariano test accounts for it through autocovariances up to lag
``horizon - 1``; prefer it when items are consecutive windows of one series.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

__all__ = ["Interval", "TestResult", "diebold_mariano", "mcnemar", "paired_bootstrap"]

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
        ``"BCa"``, or ``"percentile"`` where BCa could not be computed.
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


def paired_bootstrap(
    loss_a: ArrayLike,
    loss_b: ArrayLike,
    *,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> Interval:
    """Paired bootstrap confidence interval for the mean loss difference ``mean(a - b)``.

    Items are resampled with replacement as pairs ``(loss_a[i], loss_b[i])``, so the
    correlation between the two models on the same item is kept. The interval is BCa
    (bias-corrected and accelerated); where BCa cannot be computed (it returns nan, e.g. when
    every difference is the same, or raises) the percentile interval of the same bootstrap
    distribution is returned instead.

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

    Returns
    -------
    Interval
        ``estimate = mean(loss_a - loss_b)`` with its bounds; ``excludes_zero()`` says whether
        the difference is significant at level ``1 - confidence``.

    Raises
    ------
    ValueError
        If the inputs are not 1-D of the same length ``n >= 2``, or hold non-finite values, or
        ``confidence`` is outside ``(0, 1)``, or ``n_resamples < 1``.

    Notes
    -----
    Items are treated as independent; see the module docstring for the caveat on consecutive
    forecast windows.
    """
    a, b = _paired_losses(loss_a, loss_b)
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1); got {confidence}")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be >= 1; got {n_resamples}")
    n = a.shape[0]
    estimate = float(_mean_difference(a, b))
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
    return Interval(
        estimate=estimate,
        low=float(low),
        high=float(high),
        confidence=float(confidence),
        n_items=n,
        method=method,
    )


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
    if isinstance(horizon, bool) or int(horizon) != horizon or not 1 <= horizon < n:
        raise ValueError(f"horizon must be an integer with 1 <= horizon < n = {n}; got {horizon}")
    h = int(horizon)
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
