"""What the series models share to read data with gaps (``data.missing: mask``).

A gap is NaN in a window ``(S, N, L)`` or a target ``(S, N, H)``. A model that reads gaps
gets its inputs filled and, beside them, a 0/1 observed channel ``m`` (1.0 where the value
was read, 0.0 where it was filled), so it can tell a filled value from a real one; its loss
counts only the observed targets (``w``). Inputs are filled in the units the network reads:
0 in node-standardised units is the node's training mean, 0 in a patch's instance-normalised
units is the window's observed mean.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

NO_OBSERVED_CHANNEL = (
    "this model was built without the observed channel, so it cannot read gaps (NaN); "
    "data.missing: mask builds it with one (observed=True)"
)


def split_missing(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """NaN -> 0 plus the observed mask.

    Shapes: **values** any shape, NaN where missing -> **filled** and **observed**, both of
    its shape, float64; ``observed`` is 1.0 where the value was read and 0.0 where it was
    missing (and filled with 0).
    """
    values = np.asarray(values, dtype=np.float64)
    observed = ~np.isnan(values)
    return np.where(observed, values, 0.0), observed.astype(np.float64)


def has_missing(values: np.ndarray) -> bool:
    """Whether ``values`` holds any NaN."""
    return bool(np.isnan(np.asarray(values, dtype=np.float64)).any())


def refuse_missing(values: np.ndarray) -> None:
    """Raise the error of a model without the observed channel if ``values`` has a gap."""
    if has_missing(values):
        raise ValueError(f"windows contain missing values (NaN): {NO_OBSERVED_CHANNEL}")


def observed_channel(x: Tensor, m: Tensor | None, observed: bool) -> Tensor | None:
    """The observed channel a network reads: ``m`` (all ones when ``None``: nothing was
    missing) for a network built with it, ``None`` for one built without it.

    Shapes: **x** ``(B, ...)`` filled inputs, **m** ``x``'s shape or ``None`` -> ``x``'s
    shape or ``None``.

    Raises:
        ValueError: ``m`` marks a gap for a network built without the observed channel.
    """
    if observed:
        if m is None:
            return torch.ones_like(x)
        if m.shape != x.shape:
            raise ValueError(
                f"expected the observed mask m of shape {tuple(x.shape)}, got {tuple(m.shape)}"
            )
        return m.to(x.dtype)
    if m is not None and bool((m == 0).any()):
        raise ValueError(NO_OBSERVED_CHANNEL)
    return None


def masked_mse(pred: Tensor, y: Tensor, w: Tensor | None = None) -> Tensor:
    """Mean squared error over the observed targets, in fp32.

    Entries with ``w == 0`` count for nothing, whatever ``y`` (or ``pred``) holds there,
    NaN included: their error is replaced before it is squared, so no gradient flows to
    them. A batch without any observed target gives a zero that keeps a (zero) gradient
    path, not NaN.

    Args:
        pred: forecasts.
        y: targets (any value where unobserved).
        w: 0/1 observed mask of ``y``'s shape; ``None``: every target observed (plain MSE).

    Shapes: **pred**, **y**, **w** ``(...)`` all alike -> a scalar.
    """
    pred, y = pred.float(), y.float()
    if w is None:
        return nn.functional.mse_loss(pred, y)
    if w.shape != y.shape:
        raise ValueError(
            f"expected the target mask w of shape {tuple(y.shape)}, got {tuple(w.shape)}"
        )
    seen = w > 0
    error = torch.where(seen, pred - y, torch.zeros_like(pred))  # (...), 0 where unobserved
    return error.square().sum() / seen.sum().clamp_min(1)
