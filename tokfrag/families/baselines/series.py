"""Honest baselines every comparison is reported beside.

* :class:`ZeroForecaster` predicts zero (the mean of a standardised, differenced series).
* :class:`LastValueForecaster` repeats the last observed value.
* :class:`RidgeARForecaster` is one linear AR(lags) ridge model shared by all nodes; a learned
  model that does not beat it has learned nothing beyond a linear filter. Given a calendar,
  it also reads the target steps' calendar covariates (the same ones the families read).
* :class:`HistoricalAverageForecaster` is the T-GCN papers' "HA": the mean of the input window,
  rolled forward over the horizon.

Gaps (``data.missing: mask``): a NaN in a window is a missing input. A baseline that reads its
inputs needs ``fill``, each node's training mean ``(N,)``, for an input it has nothing else
to put in place of; built without it, it refuses windows with gaps.

* Zero reads no input, so gaps change nothing (and it needs no ``fill``).
* Last value repeats each node's last *observed* input, or ``fill[node]`` when the node has
  no observed input in the window.
* HA averages the observed values of each slice of its rolling buffer (``nanmean``; the
  forecasts it appends count as observed), and takes ``fill[node]`` for a slice with none.
* Ridge AR reads a missing input as ``fill[node]`` (see :func:`fill_missing`), in fit and in
  forecast, and fits each horizon step on the rows whose target at that step is observed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from tokfrag.models.forecaster import check_windows, window_covariates
from tokfrag.models.ridge import ridge_solve
from tokfrag.models.saving import CONFIG_FILE, read_config, write_config


def as_fill(fill: Sequence[float] | np.ndarray | None) -> np.ndarray | None:
    """Validate a per-node fill (``(N,)`` finite floats, e.g. each node's training mean) and
    return it as float64; ``None`` stays ``None``."""
    if fill is None:
        return None
    values = np.asarray(fill, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"fill must be one value per node, shape (N,); got shape {values.shape}")
    if not np.isfinite(values).all():
        raise ValueError(
            "fill must be finite (each node's training mean); "
            f"got {int((~np.isfinite(values)).sum())} NaN or infinite values"
        )
    return values


def fill_missing(windows: np.ndarray, fill: Sequence[float] | np.ndarray) -> np.ndarray:
    """A copy of ``windows`` ``(S, N, L)`` with each NaN replaced by its node's fill:
    ``windows[s, n, l]`` NaN -> ``fill[n]``; ``fill`` is ``(N,)``. Other values are kept."""
    windows = np.asarray(windows, dtype=np.float64)
    values = as_fill(fill)
    if values is None:
        raise ValueError("fill_missing needs fill, one value per node (N,); got None")
    if windows.ndim != 3 or values.shape != (windows.shape[1],):
        raise ValueError(
            f"fill_missing needs windows (S, N, L) and fill (N,); got windows {windows.shape} "
            f"and fill {values.shape}"
        )
    return np.where(np.isnan(windows), values[None, :, None], windows)


class _Baseline:
    kind: ClassVar[str]
    family: ClassVar[str] = "baseline"
    reads_inputs: ClassVar[bool] = True  # False: gaps in the windows do not matter

    def __init__(
        self, lags: int, horizon: int, fill: Sequence[float] | np.ndarray | None = None
    ) -> None:
        self._lags = lags
        self._horizon = horizon
        self._fill = as_fill(fill)  # (N,) per-node value for a missing input, or None

    @property
    def lags(self) -> int:
        return self._lags

    @property
    def horizon(self) -> int:
        return self._horizon

    @property
    def fill(self) -> np.ndarray | None:
        """``(N,)`` each node's value for an input with nothing observed to use, or ``None``."""
        return self._fill

    @property
    def n_params(self) -> int:
        """Fitted numbers the model holds (0: nothing is learned)."""
        return 0

    def fit(self, windows: np.ndarray, targets: np.ndarray) -> _Baseline:
        """Baselines without parameters ignore the data; kept for a uniform interface."""
        return self

    def _windows(self, windows: np.ndarray) -> np.ndarray:
        """Check a ``(S, N, lags)`` batch that may have gaps (NaN) and return it as float64.

        Raises when ``fill`` does not have one value per node, or when a window has a gap, the
        model reads its inputs and was built without ``fill``.
        """
        windows = check_windows(windows, self.lags, allow_missing=True)
        if self._fill is not None and self._fill.shape != (windows.shape[1],):
            raise ValueError(
                f"this {self.kind} baseline's fill has {len(self._fill)} values but the "
                f"windows have {windows.shape[1]} nodes; build it with one fill value per node"
            )
        if self._fill is None and self.reads_inputs:
            gaps = int(np.isnan(windows).sum())
            if gaps:
                raise ValueError(
                    f"the windows have gaps ({gaps} missing inputs, NaN) but this {self.kind} "
                    "baseline was built without `fill`; pass fill=each node's training mean, "
                    "shape (N,)"
                )
        return windows

    def _or_fill(self, values: np.ndarray, empty: np.ndarray) -> np.ndarray:
        """``(S, N)`` values, with ``fill[n]`` wherever ``empty[s, n]`` (nothing observed)."""
        if not empty.any():
            return values
        if self._fill is None:  # _windows refuses gaps without fill; kept as a guard
            raise ValueError(f"this {self.kind} baseline needs `fill` for windows with gaps")
        return np.where(empty, self._fill[None, :], values)

    def _config(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "lags": self._lags,
            "horizon": self._horizon,
            "fill": None if self._fill is None else self._fill.tolist(),
        }

    def save(self, path: Path) -> Path:
        write_config(Path(path), self._config())
        return Path(path)

    @classmethod
    def load(cls, path: Path) -> _Baseline:
        config = read_config(path)
        return cls(
            lags=int(config["lags"]), horizon=int(config["horizon"]), fill=config.get("fill")
        )


class ZeroForecaster(_Baseline):
    kind = "zero"
    reads_inputs = False

    def forecast(self, windows: np.ndarray, times: np.ndarray | None = None) -> np.ndarray:
        windows = self._windows(windows)
        return np.zeros((*windows.shape[:2], self.horizon))


class LastValueForecaster(_Baseline):
    kind = "last_value"

    def forecast(self, windows: np.ndarray, times: np.ndarray | None = None) -> np.ndarray:
        """``(S, N, lags)`` -> ``(S, N, horizon)``: each node's last observed input, repeated;
        ``fill[node]`` where the node has no observed input in the window."""
        windows = self._windows(windows)
        observed = ~np.isnan(windows)
        last = self.lags - 1 - np.argmax(observed[..., ::-1], axis=2)  # (S, N) last observed
        values = np.take_along_axis(windows, last[..., None], axis=2)[..., 0]  # (S, N)
        values = self._or_fill(values, ~observed.any(axis=2))
        return np.repeat(values[..., None], self.horizon, axis=2)


class RidgeARForecaster(_Baseline):
    """``y[t+h] = w_h . [x[t-lags+1 .. t], c] + b_h``, one weight vector per horizon step,
    shared across nodes, fit in closed form (the intercept is not penalised); ``c`` are the
    target steps' calendar covariates when a ``calendar`` is given, else nothing."""

    kind = "ridge_ar"

    def __init__(
        self,
        lags: int,
        horizon: int,
        alpha: float = 1.0,
        calendar: Any = None,
        fill: Sequence[float] | np.ndarray | None = None,
    ) -> None:
        super().__init__(lags, horizon, fill)
        self.alpha = alpha
        self.calendar = calendar
        self.coef: np.ndarray | None = None  # (lags + horizon * F, horizon)
        self.intercept: np.ndarray | None = None  # (horizon,)

    @property
    def n_params(self) -> int:
        if self.coef is None or self.intercept is None:
            return 0
        return int(self.coef.size + self.intercept.size)

    def _features(self, windows: np.ndarray, times: np.ndarray | None) -> np.ndarray:
        """``(S, N, lags [+ H*F])``: the window, then the target steps' covariates."""
        c = window_covariates(self.calendar, times, len(windows), self.lags, self.horizon)
        if c is None:
            return windows
        ahead = c[:, self.lags :].reshape(len(windows), 1, -1)  # (S, 1, H*F)
        return np.concatenate([windows, np.repeat(ahead, windows.shape[1], axis=1)], axis=2)

    def _filled(self, windows: np.ndarray) -> np.ndarray:
        """Checked ``(S, N, lags)`` windows with each missing input set to ``fill[node]``."""
        windows = self._windows(windows)
        return windows if self._fill is None else fill_missing(windows, self._fill)

    def fit(
        self, windows: np.ndarray, targets: np.ndarray, times: np.ndarray | None = None
    ) -> RidgeARForecaster:
        """Fit on ``(S, N, lags)`` windows and ``(S, N, horizon)`` targets.

        Missing inputs read as ``fill[node]``. Targets may have gaps (NaN): then each horizon
        step ``h`` is its own ridge fit on the ``(window, node)`` rows whose target at ``h`` is
        observed; without gaps it is one joint fit, as before.
        """
        x = self._features(self._filled(windows), times)
        x = x.reshape(-1, x.shape[2])  # (S * N, D)
        y = np.asarray(targets, dtype=np.float64).reshape(-1, self.horizon)  # (S * N, H)
        if len(y) != len(x):
            raise ValueError(
                f"expected targets of shape (S, N, {self.horizon}) matching the windows "
                f"({len(x)} window-node rows), got shape {np.shape(targets)}"
            )
        if np.isinf(y).any():
            raise ValueError("targets contain infinite values; mark a missing target with NaN")
        missing = np.isnan(y)
        if missing.any():
            self.coef, self.intercept = self._fit_per_step(x, y, ~missing)
        else:
            self.coef, self.intercept = ridge_solve(x, y, self.alpha)
        return self

    def _fit_per_step(
        self, x: np.ndarray, y: np.ndarray, observed: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """One ridge fit per horizon step on its observed rows: **x** ``(M, D)``, **y** and
        **observed** ``(M, H)`` -> coefficients ``(D, H)``, intercept ``(H,)``."""
        coef = np.empty((x.shape[1], self.horizon))
        intercept = np.empty(self.horizon)
        for h in range(self.horizon):
            rows = observed[:, h]
            if not rows.any():
                raise ValueError(
                    f"no observed target at horizon step {h + 1} (every target is NaN there); "
                    "ridge AR cannot fit that step: fit on windows with observed targets"
                )
            step_coef, step_intercept = ridge_solve(x[rows], y[rows, h : h + 1], self.alpha)
            coef[:, h], intercept[h] = step_coef[:, 0], step_intercept[0]
        return coef, intercept

    def forecast(self, windows: np.ndarray, times: np.ndarray | None = None) -> np.ndarray:
        if self.coef is None or self.intercept is None:
            raise RuntimeError("RidgeARForecaster.forecast called before fit")
        x = self._features(self._filled(windows), times)
        forecast: np.ndarray = x @ self.coef + self.intercept  # (S, N, horizon)
        return forecast

    def _config(self) -> dict[str, object]:
        config = super()._config()
        config["alpha"] = self.alpha
        config["calendar"] = None if self.calendar is None else self.calendar.to_dict()
        if self.coef is not None and self.intercept is not None:
            config["coef"] = self.coef.tolist()
            config["intercept"] = self.intercept.tolist()
        return config

    @classmethod
    def load(cls, path: Path) -> RidgeARForecaster:
        from tokfrag.models.calendar import CalendarSpec

        config = json.loads((Path(path) / CONFIG_FILE).read_text())
        calendar = config.get("calendar")
        model = cls(
            int(config["lags"]),
            int(config["horizon"]),
            float(config["alpha"]),
            None if calendar is None else CalendarSpec.from_dict(calendar),
            fill=config.get("fill"),
        )
        if "coef" in config:
            model.coef = np.asarray(config["coef"], dtype=np.float64)
            model.intercept = np.asarray(config["intercept"], dtype=np.float64)
        return model


class HistoricalAverageForecaster(_Baseline):
    """The historical average ("HA") exactly as T-GCN's ``Baselines/baselines.py`` computes it.

    Step 1 is each node's mean of its ``lags`` input values. Each later step is the mean of the
    latest ``lags`` values once the forecasts so far are appended to the window (drop the
    oldest, append the newest forecast, average again)::

        buffer = window                       # (lags,) per node
        for h in 1 .. horizon:
            y[h] = mean(buffer[-lags:])
            buffer = append(buffer, y[h])

    So ``y[1]`` is the plain window mean and later steps weight recent inputs more (each
    forecast is still a convex combination of the inputs). Nothing is learned: :meth:`fit` is a
    no-op, and no training-split statistic enters (the other common "HA", a per-node training
    mean or a time-of-day average over the training days, is not what T-GCN reports).
    """

    kind = "historical_average"

    def forecast(self, windows: np.ndarray, times: np.ndarray | None = None) -> np.ndarray:
        """``(S, N, lags)`` -> ``(S, N, horizon)``. With gaps each mean is over the slice's
        observed values (the appended forecasts count as observed); a slice with none takes
        ``fill[node]``."""
        windows = self._windows(windows)
        num_snapshots, num_nodes, lags = windows.shape
        buffer = np.empty((num_snapshots, num_nodes, lags + self.horizon))
        buffer[..., :lags] = windows
        for h in range(self.horizon):  # horizon steps; vectorised over windows and nodes
            buffer[..., lags + h] = self._observed_mean(buffer[..., h : lags + h])
        return buffer[..., lags:].copy()

    def _observed_mean(self, values: np.ndarray) -> np.ndarray:
        """``(S, N, lags)`` -> ``(S, N)``: the mean of the non-NaN values along the last axis
        (equal to ``mean`` without NaN), ``fill[node]`` where all are NaN."""
        observed = ~np.isnan(values)
        totals = np.where(observed, values, 0.0).sum(axis=2)
        counts = observed.sum(axis=2)
        means = np.zeros_like(totals)
        np.divide(totals, counts, out=means, where=counts > 0)
        return self._or_fill(means, counts == 0)
