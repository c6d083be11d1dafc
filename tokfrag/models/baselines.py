"""Honest baselines every comparison is reported beside.

* :class:`ZeroForecaster` predicts zero (the mean of a standardised, differenced series).
* :class:`LastValueForecaster` repeats the last observed value.
* :class:`RidgeARForecaster` is one linear AR(lags) ridge model shared by all nodes; a learned
  model that does not beat it has learned nothing beyond a linear filter. Given a calendar,
  it also reads the target steps' calendar covariates (the same ones the families read).
* :class:`HistoricalAverageForecaster` is the T-GCN papers' "HA": the mean of the input window,
  rolled forward over the horizon.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from tokfrag.models.forecaster import (
    CONFIG_FILE,
    check_windows,
    read_config,
    register_kind,
    window_covariates,
    write_config,
)


class _Baseline:
    kind: ClassVar[str]
    family: ClassVar[str] = "baseline"

    def __init__(self, lags: int, horizon: int) -> None:
        self._lags = lags
        self._horizon = horizon

    @property
    def lags(self) -> int:
        return self._lags

    @property
    def horizon(self) -> int:
        return self._horizon

    @property
    def n_params(self) -> int:
        """Fitted numbers the model holds (0: nothing is learned)."""
        return 0

    def fit(self, windows: np.ndarray, targets: np.ndarray) -> _Baseline:
        """Baselines without parameters ignore the data; kept for a uniform interface."""
        return self

    def _config(self) -> dict[str, object]:
        return {"kind": self.kind, "lags": self._lags, "horizon": self._horizon}

    def save(self, path: Path) -> Path:
        write_config(Path(path), self._config())
        return Path(path)

    @classmethod
    def load(cls, path: Path) -> _Baseline:
        config = read_config(path)
        return cls(lags=int(config["lags"]), horizon=int(config["horizon"]))


@register_kind
class ZeroForecaster(_Baseline):
    kind = "zero"

    def forecast(self, windows: np.ndarray, times: np.ndarray | None = None) -> np.ndarray:
        windows = check_windows(windows, self.lags)
        return np.zeros((*windows.shape[:2], self.horizon))


@register_kind
class LastValueForecaster(_Baseline):
    kind = "last_value"

    def forecast(self, windows: np.ndarray, times: np.ndarray | None = None) -> np.ndarray:
        windows = check_windows(windows, self.lags)
        return np.repeat(windows[:, :, -1:], self.horizon, axis=2)


def ridge_solve(x: np.ndarray, y: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Ridge regression in closed form with an unpenalised intercept.

    Shapes: **x** ``(M, D)``, **y** ``(M, H)`` -> coefficients ``(D, H)``, intercept ``(H,)``.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    x_mean, y_mean = x.mean(axis=0), y.mean(axis=0)
    xc, yc = x - x_mean, y - y_mean
    coef = np.linalg.solve(xc.T @ xc + alpha * np.eye(x.shape[1]), xc.T @ yc)
    return coef, y_mean - x_mean @ coef


@register_kind
class RidgeARForecaster(_Baseline):
    """``y[t+h] = w_h . [x[t-lags+1 .. t], c] + b_h``, one weight vector per horizon step,
    shared across nodes, fit in closed form (the intercept is not penalised); ``c`` are the
    target steps' calendar covariates when a ``calendar`` is given, else nothing."""

    kind = "ridge_ar"

    def __init__(self, lags: int, horizon: int, alpha: float = 1.0, calendar: Any = None) -> None:
        super().__init__(lags, horizon)
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

    def fit(
        self, windows: np.ndarray, targets: np.ndarray, times: np.ndarray | None = None
    ) -> RidgeARForecaster:
        windows = check_windows(windows, self.lags)
        x = self._features(windows, times)
        self.coef, self.intercept = ridge_solve(
            x.reshape(-1, x.shape[2]), np.asarray(targets).reshape(-1, self.horizon), self.alpha
        )
        return self

    def forecast(self, windows: np.ndarray, times: np.ndarray | None = None) -> np.ndarray:
        if self.coef is None or self.intercept is None:
            raise RuntimeError("RidgeARForecaster.forecast called before fit")
        windows = check_windows(windows, self.lags)
        return self._features(windows, times) @ self.coef + self.intercept  # (S, N, horizon)

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
        from tokfrag.fragments.calendar import CalendarSpec

        config = json.loads((Path(path) / CONFIG_FILE).read_text())
        calendar = config.get("calendar")
        model = cls(
            int(config["lags"]),
            int(config["horizon"]),
            float(config["alpha"]),
            None if calendar is None else CalendarSpec.from_dict(calendar),
        )
        if "coef" in config:
            model.coef = np.asarray(config["coef"], dtype=np.float64)
            model.intercept = np.asarray(config["intercept"], dtype=np.float64)
        return model


@register_kind
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
        windows = check_windows(windows, self.lags)
        num_snapshots, num_nodes, lags = windows.shape
        buffer = np.empty((num_snapshots, num_nodes, lags + self.horizon))
        buffer[..., :lags] = windows
        for h in range(self.horizon):  # horizon steps; vectorised over windows and nodes
            buffer[..., lags + h] = buffer[..., h : lags + h].mean(axis=2)
        return buffer[..., lags:].copy()
