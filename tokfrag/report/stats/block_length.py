"""The automatic mean block length of the stationary bootstrap.

:func:`block_length_for` applies the rule of Politis & White (2004), as corrected by Patton,
Politis & White (2009), to the loss differential of two models, with the flat-top lag window
of Politis & Romano (1995); the result is the ``block_length`` to pass to
:func:`~tokfrag.report.stats.bootstrap.paired_bootstrap`.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from tokfrag.report.stats.checks import check_horizon, paired_losses


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
    a, b = paired_losses(loss_a, loss_b)
    n = a.shape[0]
    h = check_horizon(horizon, n)
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
