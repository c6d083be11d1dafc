"""An MLflow pyfunc around any saved tokfrag forecaster, logged as "models from code".

Why models from code: ``python_model`` is the path of :mod:`tokfrag.registry._model_code`
rather than a pickled object, and the forecaster travels as plain files (``config.json`` +
``model.safetensors``) plus ``contract.json``; loading a registered model therefore never
unpickles anything, and a model logged today loads with tomorrow's code as long as the
saved-folder format holds.

Why ``code_paths=[tokfrag]``: the entry file imports :class:`ForecasterModel` and the
forecaster classes, so the package source ships inside the model (``code/tokfrag``) and
MLflow puts that folder first on ``sys.path`` before running the entry file. The model
then loads in a fresh process, or another environment with the pinned requirements,
without tokfrag installed. The two features compose: MLflow adds ``code/`` to the path
first, then executes the entry file.

The table contract (columns, validation, ordering) lives in :mod:`tokfrag.registry.frames`.
"""

from __future__ import annotations

import tempfile
import warnings
from importlib import metadata
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.models import infer_signature
from mlflow.models.model import ModelInfo
from mlflow.pyfunc import PythonModelContext

import tokfrag
from tokfrag.models.forecaster import Forecaster, load_forecaster
from tokfrag.registry.frames import (
    ForecastContract,
    forecasts_to_frame,
    frame_to_windows,
    windows_to_frame,
)

FORECASTER_ARTIFACT = "forecaster"
CONTRACT_ARTIFACT = "contract"
MODEL_CODE_FILE = Path(__file__).with_name("_model_code.py")
PACKAGE_DIR = Path(tokfrag.__file__).parent

# What a serving environment needs to import every forecaster kind. Pinned to this
# environment's versions (torch above all: an unpinned torch pulls a multi-GB CUDA build).
# Listed explicitly because MLflow's requirement inference loads the model in a subprocess
# and takes seconds per model.
SERVING_DISTRIBUTIONS = (
    "torch",
    "torch-geometric",
    "transformers",
    "safetensors",
    "numpy",
    "pandas",
)


class ForecasterModel(mlflow.pyfunc.PythonModel):
    """Pyfunc that serves a tokfrag forecaster over the long-table contract.

    ``predict`` takes columns ``window``, ``node``, ``lag_L..lag_1`` and returns
    ``window``, ``node``, ``h1..hH``; see :mod:`tokfrag.registry.frames`.
    """

    def __init__(self) -> None:
        self._forecaster: Forecaster | None = None
        self._contract: ForecastContract | None = None

    @classmethod
    def from_folder(cls, model_dir: Path, contract: ForecastContract) -> ForecasterModel:
        """Build the wrapper directly from a forecaster folder, without MLflow (checks, tests)."""
        model = cls()
        model._bind(load_forecaster(model_dir), contract)
        return model

    def load_context(self, context: PythonModelContext) -> None:
        contract = ForecastContract.read(Path(context.artifacts[CONTRACT_ARTIFACT]))
        self._bind(load_forecaster(Path(context.artifacts[FORECASTER_ARTIFACT])), contract)

    def _bind(self, forecaster: Forecaster, contract: ForecastContract) -> None:
        if (forecaster.lags, forecaster.horizon) != (contract.lags, contract.horizon):
            raise ValueError(
                f"forecaster has lags={forecaster.lags}, horizon={forecaster.horizon} but its "
                f"contract says lags={contract.lags}, horizon={contract.horizon}"
            )
        self._forecaster = forecaster
        self._contract = contract

    @property
    def contract(self) -> ForecastContract:
        if self._contract is None:
            raise RuntimeError("ForecasterModel used before load_context")
        return self._contract

    def predict(
        self,
        context: PythonModelContext | None,
        model_input: pd.DataFrame,
        params: dict[str, Any] | None = None,
    ) -> pd.DataFrame:
        if self._forecaster is None:
            raise RuntimeError("ForecasterModel used before load_context")
        contract = self.contract
        window_ids, windows = frame_to_windows(model_input, contract)  # (S, N, L)
        forecasts = np.asarray(self._forecaster.forecast(windows))  # (S, N, H)
        expected = (*windows.shape[:2], contract.horizon)
        if forecasts.shape != expected:
            raise RuntimeError(f"forecaster returned shape {forecasts.shape}, expected {expected}")
        return forecasts_to_frame(window_ids, forecasts, contract)


def serving_requirements() -> list[str]:
    """Pinned pip requirements for the served model (MLflow adds its own pin)."""
    requirements = []
    for name in SERVING_DISTRIBUTIONS:
        try:
            # Drop the local label (2.13.0+cpu -> 2.13.0): the project pins torch==2.13.0,
            # which pip matches to whichever local build its index offers.
            version = metadata.version(name).split("+")[0]
            requirements.append(f"{name}=={version}")
        except metadata.PackageNotFoundError:
            requirements.append(name)
    return requirements


def log_forecaster_model(
    model_dir: Path,
    contract: ForecastContract,
    example_windows: np.ndarray,
    *,
    name: str = "model",
) -> ModelInfo:
    """Log ``model_dir`` as a pyfunc model into the active run; returns MLflow's ModelInfo.

    ``example_windows`` ``(1, N, L)`` is a real window: it becomes the input example, and
    the signature is inferred from it and the wrapper's own output on it, so a broken
    forecaster fails here, before anything is logged.
    """
    wrapper = ForecasterModel.from_folder(Path(model_dir), contract)
    example = windows_to_frame(example_windows, contract.node_ids)

    with warnings.catch_warnings(), tempfile.TemporaryDirectory(prefix="tokfrag-") as tmp:
        # Window ids are integers by contract and never missing, so MLflow's hint about
        # NaN in integer columns (raised at every schema inference) does not apply.
        warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")
        signature = infer_signature(example, wrapper.predict(None, example))
        contract_path = contract.write(Path(tmp))
        return mlflow.pyfunc.log_model(
            name=name,
            python_model=str(MODEL_CODE_FILE),
            artifacts={
                FORECASTER_ARTIFACT: str(Path(model_dir).resolve()),
                CONTRACT_ARTIFACT: str(contract_path),
            },
            code_paths=[str(PACKAGE_DIR)],
            signature=signature,
            input_example=example,
            pip_requirements=serving_requirements(),
            metadata={"tokfrag_contract": contract.to_dict()},
        )
