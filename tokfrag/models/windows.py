"""Sliding windows over node series, as strided views (no copies)."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided


def slice_windows(
    values: np.ndarray, lags: int, horizon: int, snapshots: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Cut ``(T, N)`` node series into input windows and targets.

    Snapshot ``i`` reads steps ``i .. i+lags-1`` and predicts ``i+lags .. i+lags+horizon-1``.

    Args:
        values: ``(T, N)`` series, rows in time order.
        lags: input steps per window.
        horizon: steps to predict.
        snapshots: optional snapshot indices to keep (e.g. one split's), in any order.

    Returns:
        ``x`` of shape ``(S, N, lags)`` and ``y`` of shape ``(S, N, horizon)``, read-only
        views into ``values`` when there is no selection or when ``snapshots`` is an
        evenly spaced increasing run (a split's part is one); any other selection is
        gathered by fancy indexing, which copies only the selected windows.
    """
    if values.ndim != 2:
        raise ValueError(f"expected values of shape (T, N), got {values.shape}")
    count = values.shape[0] - lags - horizon + 1
    if count < 1:
        raise ValueError(f"{values.shape[0]} steps are too few for lags={lags} + horizon={horizon}")
    full = _window_view(values, lags + horizon, count)  # (count, N, lags + horizon)
    if snapshots is not None:
        full = full[_as_slice(np.asarray(snapshots), count)]
    return full[..., :lags], full[..., lags:]


def _window_view(values: np.ndarray, width: int, count: int) -> np.ndarray:
    """``(count, N, width)`` read-only view: window ``i`` is ``values[i : i + width].T``."""
    step, node = values.strides
    shape, strides = (count, values.shape[1], width), (step, node, step)
    try:  # the direct constructor: a few microseconds less than as_strided's checks
        view = np.ndarray(shape, values.dtype, buffer=values, strides=strides)
    except (TypeError, ValueError, BufferError):  # not a contiguous buffer: a strided view
        view = as_strided(values, shape, strides, writeable=False)
    view.flags.writeable = False
    return view


def _as_slice(snapshots: np.ndarray, count: int) -> slice | np.ndarray:
    """``snapshots`` as a slice when it is an evenly spaced increasing run inside
    ``0 .. count - 1`` (so selecting is a view), else the indices themselves."""
    n = len(snapshots) if snapshots.ndim == 1 and snapshots.dtype.kind in "iu" else 0
    if n == 0:
        return snapshots
    first = int(snapshots[0])
    step = int(snapshots[1]) - first if n > 1 else 1
    if step < 1 or first < 0 or first + step * (n - 1) >= count:
        return snapshots
    if n > 2 and not (snapshots[1:] - snapshots[:-1] == step).all():
        return snapshots
    return slice(first, first + step * (n - 1) + 1, step)
