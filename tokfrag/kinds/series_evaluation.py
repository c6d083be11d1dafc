"""How series models are scored and judged: the test windows, the forecasting baselines,
the metrics header (the protocol, with what was made of gaps), and the report's inputs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tokfrag.config import Params
from tokfrag.kinds.base import Scoring, fitted
from tokfrag.kinds.series_data import (
    load_inputs,
    read_calendar,
    reads_gaps,
    scored_windows,
    training_means,
    windows,
)
from tokfrag.layout import Layout, read_json


def scoring(x_test: np.ndarray, y_test: np.ndarray) -> Scoring:
    """Series models are scored on test windows, given as ``(windows, times)``: metrics
    from the forecasts, and each window's squared error as its item score (their mean is
    the MSE). With gaps, both count observed targets only (masked metrics), and the windows
    are those with at least one (:func:`~tokfrag.kinds.series_data.scored_windows`)."""
    from tokfrag.train import forecast_metrics
    from tokfrag.train.metrics import item_losses

    return Scoring(
        predict=lambda model, inputs: model.forecast(inputs[0], times=inputs[1]),
        metrics=lambda forecasts: forecast_metrics(y_test, forecasts),
        items=lambda forecasts: item_losses(y_test, forecasts),
        take=lambda inputs, part: (inputs[0][part], inputs[1][part]),
        n_items=len(x_test),
    )


@dataclass(frozen=True)
class SeriesEvaluation:
    """The series' test windows (those with an observed target) and its training windows
    (for the ridge baselines); see :class:`~tokfrag.kinds.base.Evaluation`."""

    params: Params
    layout: Layout
    series: Any
    split: Any
    train: tuple[np.ndarray, np.ndarray, np.ndarray]  # x (S, N, L), y (S, N, H), times (S,)
    test: tuple[np.ndarray, np.ndarray, np.ndarray]  # the scored test windows, the same
    keep: np.ndarray  # which of the split's test windows are scored, bool (S_test,)

    @classmethod
    def load(cls, params: Params, layout: Layout) -> SeriesEvaluation:
        series, split = load_inputs(params, layout)
        train = windows(series, split, "train")
        x_test, y_test, t_test, keep = scored_windows(series, split)
        return cls(params, layout, series, split, train, (x_test, y_test, t_test), keep)

    @property
    def fingerprint(self) -> str:
        return self.split.fingerprint()

    @property
    def data_sha256(self) -> str:
        return self.series.sha256

    @property
    def scoring(self) -> Scoring:
        return scoring(self.test[0], self.test[1])

    @property
    def inputs(self) -> tuple[np.ndarray, np.ndarray]:
        return self.test[0], self.test[2]

    def baselines(self) -> dict[str, tuple[Any, float]]:
        from tokfrag.families.baselines.series import (
            HistoricalAverageForecaster,
            LastValueForecaster,
            RidgeARForecaster,
            ZeroForecaster,
        )

        params, (x_train, y_train, t_train) = self.params, self.train
        lags, horizon = self.split.lags, self.split.horizon
        alpha, calendar = params.baselines.ridge_alpha, read_calendar(self.layout)
        # With gaps, a missing input reading takes its node's training mean (the scaler's).
        fill = training_means(self.layout) if reads_gaps(params) else None
        baselines = {
            "zero": fitted(lambda: ZeroForecaster(lags, horizon, fill=fill)),
            "last_value": fitted(lambda: LastValueForecaster(lags, horizon, fill=fill)),
            "historical_average": fitted(
                lambda: HistoricalAverageForecaster(lags, horizon, fill=fill)
            ),
            "ridge_ar": fitted(
                lambda: RidgeARForecaster(lags, horizon, alpha, fill=fill).fit(x_train, y_train)
            ),
        }
        if calendar is not None:  # the linear filter with the covariates the families read
            baselines["ridge_ar_calendar"] = fitted(
                lambda: RidgeARForecaster(lags, horizon, alpha, calendar, fill=fill).fit(
                    x_train, y_train, times=t_train
                )
            )
        return baselines

    def baseline_params(self, names: list[str]) -> dict[str, dict[str, Any]]:
        lags, horizon = self.split.lags, self.split.horizon
        alpha = self.params.baselines.ridge_alpha
        return {
            name: {"lags": lags, "horizon": horizon, "kind": name, "alpha": alpha} for name in names
        }

    def header(self) -> dict[str, Any]:
        params, split = self.params, self.split
        return {
            "task": "forecasting",
            "primary_metric": "test_mse",
            "higher_is_better": False,
            # A list, not a mapping: metrics.json is written with sorted keys, columns keep order.
            "columns": [
                ["test_mse", "test MSE"],
                ["test_mae", "test MAE"],
                ["test_rmse", "test RMSE"],
                ["test_mape", "test MAPE"],
            ],
            "protocol": {
                "name": "tgcn-chronological" if params.split.by == "steps" else "pgt-chronological",
                "by": params.split.by,
                "lags": split.lags,
                "horizon": split.horizon,
                "train_ratio": params.split.train_ratio,
                "val_fraction": params.split.val_fraction,
                "train_snapshots": int(len(split.train)),
                "test_snapshots": int(len(split.test)),
                **self._gaps_protocol(),
            },
        }

    def published(self) -> Any:
        from tokfrag.data.registry import published_figures

        return published_figures(self.params.data.dataset, self.params.split.model_dump())

    def verdict_args(self, items: dict[str, Any]) -> dict[str, Any]:
        return {"horizon": self.split.horizon}

    def report_args(self, outputs: dict[str, Any]) -> dict[str, Any]:
        series, split = self.series, self.split
        return {
            "y_test": self.test[1],
            "predictions": outputs,
            "node_ids": series.node_ids,
            "first_target_step": split.first_test_target,
            "missing": np.isnan(series.values),
            "times": series.time,
            "target_steps": np.asarray(split.test)[self.keep] + split.lags,
        }

    def _gaps_protocol(self) -> dict[str, Any]:
        """What the metrics made of the gaps (``protocol.missing``), under a policy that
        keeps them (nothing under ``refuse``, where there are none); and
        ``protocol.sentinel``, a reading the dataset declares missing and how many there
        were (Los-loop's zeros)."""
        meta = read_json(self.layout.data_dir / "meta.json", "ingest")
        sentinel = {"sentinel": meta["sentinel"]} if "sentinel" in meta else {}
        if not reads_gaps(self.params):
            return sentinel
        y_test, unscored = self.test[1], int((~self.keep).sum())
        per_window = int(np.prod(y_test.shape[1:]))
        return {
            **sentinel,
            "missing": {
                "policy": self.params.data.missing,
                "missing_share": round(float(np.isnan(self.series.values).mean()), 6),
                "test_windows": int(len(y_test) + unscored),
                "test_windows_without_target": unscored,
                "observed_test_targets": int(np.isfinite(y_test).sum()),
                "test_targets": int((len(y_test) + unscored) * per_window),
            },
        }
