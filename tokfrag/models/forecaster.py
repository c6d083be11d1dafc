"""The one forecasting contract every series model honours, tokfrag's own or a baseline.

A forecaster maps windows in the data's own units to forecasts in the same units, so that
metrics, the registry's pyfunc wrapper and the report never need to know which family (or
which scaler or tokenizer) sits inside.

Saved form: a folder with ``config.json`` (``kind`` plus everything needed to rebuild) and,
for models with weights, ``model.safetensors``. Nothing is pickled.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from tokfrag.models.saving import read_config


@runtime_checkable
class Forecaster(Protocol):
    """Maps windows ``(S, N, lags)`` to forecasts ``(S, N, horizon)``, both in data units."""

    kind: ClassVar[str]
    family: ClassVar[str]  # "token", "fragment" or "baseline"

    @property
    def lags(self) -> int: ...

    @property
    def horizon(self) -> int: ...

    def forecast(self, windows: np.ndarray, times: np.ndarray | None = None) -> np.ndarray:
        """``times`` ``(S,)``: the time index of each window's most recent step (step
        numbers, or epoch nanoseconds for dates); models with calendar covariates need it,
        the others ignore it."""
        ...

    def save(self, path: Path) -> Path: ...


def rebuild(path: str | Path, kinds: Mapping[str, Any]) -> Any:
    """Rebuild a saved model from its folder by the ``kind`` in its ``config.json``, looked
    up in ``kinds`` (kind -> class with a ``load(path)``; :func:`tokfrag.families.saved_kinds`
    lists every kind tokfrag saves)."""
    config = read_config(Path(path))
    kind = config.get("kind")
    if not isinstance(kind, str) or kind not in kinds:
        raise ValueError(f"{path}: unknown forecaster kind {kind!r}; known: {sorted(kinds)}")
    return kinds[kind].load(Path(path))


def check_windows(
    windows: np.ndarray, lags: int, num_nodes: int | None = None, allow_missing: bool = False
) -> np.ndarray:
    """Validate a ``(S, N, lags)`` batch of windows and return it as float64.

    By default every value must be finite. With ``allow_missing=True`` a NaN marks a missing
    input (a gap in the series, ``data.missing: mask``) and is let through; +/-inf is still
    refused.
    """
    windows = np.asarray(windows, dtype=np.float64)
    if windows.ndim != 3 or windows.shape[2] != lags:
        raise ValueError(f"expected windows of shape (S, N, {lags}), got {windows.shape}")
    if num_nodes is not None and windows.shape[1] != num_nodes:
        raise ValueError(f"expected {num_nodes} nodes per window, got {windows.shape[1]}")
    if allow_missing:
        if np.isinf(windows).any():
            raise ValueError(
                f"windows contain {int(np.isinf(windows).sum())} infinite values; "
                "mark a missing input with NaN instead"
            )
    elif not np.isfinite(windows).all():
        raise ValueError("windows contain NaN or infinite values")
    return windows


def window_covariates(
    calendar: Any, times: np.ndarray | None, num_windows: int, lags: int, horizon: int
) -> np.ndarray | None:
    """Calendar covariates ``(S, lags + horizon, F)`` of each window's input then target
    steps, from ``times`` ``(S,)`` (each window's most recent input step); ``None`` for a
    model without a calendar."""
    if calendar is None:
        return None
    if times is None:
        raise ValueError(
            "this model reads calendar covariates: pass times, the time of each window's "
            "most recent step (the request's `time` column)"
        )
    times = np.asarray(times)
    if times.shape != (num_windows,):
        raise ValueError(f"expected one time per window ({num_windows}), got shape {times.shape}")
    steps = np.arange(-lags + 1, horizon + 1) * calendar.step_seconds  # (L + H,)
    return calendar.features_at(calendar.seconds(times)[:, None] + steps)  # (S, L+H, F)
