"""Paired hypothesis tests of "no difference between the two models" on the same test items.

- :func:`diebold_mariano`: equal predictive accuracy on the loss differential series, with
  the Harvey-Leybourne-Newbold (1997) small-sample correction (series: items in time order).
- :func:`mcnemar`: paired right/wrong outcomes (exact binomial when there are fewer than
  :data:`MCNEMAR_EXACT_BELOW` discordant pairs, continuity-corrected chi-square otherwise).

Both return a :class:`TestResult`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from tokfrag.report.stats.checks import check_horizon, paired_losses

#: Below this many discordant pairs McNemar's test uses the exact binomial distribution.
MCNEMAR_EXACT_BELOW = 25


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
    a, b = paired_losses(loss_a, loss_b)
    n = a.shape[0]
    h = check_horizon(horizon, n)
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
