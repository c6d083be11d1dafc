"""Sliding windows over node series, as strided views (no copies)."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def slice_windows(
    values: np.ndarray, lags: int, horizon: int, snapshots: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Cut ``(T, N)`` node series into input windows and targets.

    Snapshot ``i`` reads steps ``i .. i+lags-1`` and predicts ``i+lags .. i+lags+horizon-1``.

    Args:
        values: ``(T, N)`` series, rows in time order.
        lags: input steps per window.
        horizon: steps to predict.
        snapshots: optional snapshot indices to keep (e.g. one split's).

    Returns:
        ``x`` of shape ``(S, N, lags)`` and ``y`` of shape ``(S, N, horizon)``. Without
        ``snapshots`` both are read-only views into ``values``; fancy-indexing by ``snapshots``
        copies only the selected windows.
    """
    if values.ndim != 2:
        raise ValueError(f"expected values of shape (T, N), got {values.shape}")
    count = values.shape[0] - lags - horizon + 1
    if count < 1:
        raise ValueError(f"{values.shape[0]} steps are too few for lags={lags} + horizon={horizon}")
    # (T - w + 1, N, w) views with w = lags + horizon: one window per snapshot.
    full = sliding_window_view(values, lags + horizon, axis=0)[:count]
    x, y = full[..., :lags], full[..., lags:]
    if snapshots is not None:
        x, y = x[snapshots], y[snapshots]
    return x, y
