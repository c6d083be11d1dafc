"""Validation of the paired inputs shared by the bootstrap, the block-length rule and the
Diebold-Mariano test: two per-item loss vectors on the same items, and a forecast horizon."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def paired_losses(loss_a: ArrayLike, loss_b: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
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


def check_horizon(horizon: float, n: int) -> int:
    """Validate a forecast horizon: an integer in ``[1, n)``; returns it as an ``int`` (a
    float that is not whole, or a bool, is rejected)."""
    if isinstance(horizon, bool) or int(horizon) != horizon or not 1 <= horizon < n:
        raise ValueError(f"horizon must be an integer with 1 <= horizon < n = {n}; got {horizon}")
    return int(horizon)
