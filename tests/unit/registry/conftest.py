"""Fixtures for the MLflow room: real SQLite stores in temporary projects, real forecasters."""

from __future__ import annotations

import os

for _key, _value in {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DVC_NO_ANALYTICS": "1",
}.items():
    os.environ.setdefault(_key, _value)

from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from tokfrag.families.baselines.series import LastValueForecaster, RidgeARForecaster  # noqa: E402
from tokfrag.registry import Candidate, Store, training_run  # noqa: E402


@dataclass(frozen=True)
class Trained:
    """Two real, saved forecasters and the random windows the ridge was fit on."""

    node_ids: tuple[str, ...]
    windows: np.ndarray  # (S, N, L)
    ridge: RidgeARForecaster
    ridge_dir: Path
    last: LastValueForecaster
    last_dir: Path
    data_sha256: str = "0" * 63 + "1"

    @property
    def lags(self) -> int:
        return self.windows.shape[2]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    root = tmp_path_factory.mktemp("forecasters")
    rng = np.random.default_rng(0)
    node_ids = tuple(f"node{i}" for i in range(5))
    windows = rng.normal(size=(40, len(node_ids), 4))  # (S, N, L)
    targets = 0.5 * windows[:, :, -1:] + 0.1 * rng.normal(size=(40, len(node_ids), 1))
    ridge = RidgeARForecaster(lags=4, horizon=1).fit(windows, targets)
    last = LastValueForecaster(lags=4, horizon=1)
    return Trained(
        node_ids, windows, ridge, ridge.save(root / "ridge"), last, last.save(root / "last")
    )


CandidateFactory = Callable[[Store, str, Path, float], Candidate]


@pytest.fixture(scope="module")
def make_candidate(trained: Trained) -> CandidateFactory:
    """Create a finished training run in ``store`` and the candidate that points at it."""

    def make(store: Store, family: str, model_dir: Path, test_mse: float) -> Candidate:
        with training_run(store, f"{family}-final", params={"family": family}, tags={}) as run:
            run.log_epoch(0, {"train_loss": 1.0})
            run.log_metrics({"test_mse": test_mse})
        return Candidate(
            family=family,
            run_id=run.run_id,
            model_dir=model_dir,
            metrics={"test_mse": test_mse, "test_mae": test_mse / 2},
            node_ids=trained.node_ids,
            lags=trained.lags,
            horizon=1,
            data_sha256=trained.data_sha256,
            example_windows=trained.windows[:1],
        )

    return make
