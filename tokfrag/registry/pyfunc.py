"""An MLflow pyfunc around any saved tokfrag model, logged as "models from code".

One wrapper, :class:`TokfragModel`, serves both kinds of data: it reads the model's
``contract.json`` and takes its behaviour from the contract's ``kind`` (see
:mod:`tokfrag.registry.contracts`):

* ``series``: a :class:`~tokfrag.models.forecaster.Forecaster` over the long window table;
* ``text``: a :class:`~tokfrag.models.classifier.Classifier` over a ``text`` column,
  answering ``label`` plus one ``proba_<name>`` column per class.

Why models from code: ``python_model`` is the path of :mod:`tokfrag.registry._model_code`
rather than a pickled object, and the model travels as plain files (``config.json`` +
safetensors) plus ``contract.json``; loading a registered model therefore never unpickles
anything, and a model logged today loads with tomorrow's code as long as the saved-folder
format holds. Both kinds are rebuilt by :func:`tokfrag.families.load_forecaster`,
which dispatches on ``config.json``'s ``kind``.

Why ``code_paths=[tokfrag]``: the entry file imports :class:`TokfragModel` and the model
classes, so the package source ships inside the model (``code/tokfrag``) and MLflow puts
that folder first on ``sys.path`` before running the entry file. The model then loads in a
fresh process, or another environment with the pinned requirements, without tokfrag
installed. The two features compose: MLflow adds ``code/`` to the path first, then executes
the entry file.

Through MLflow, the signature is enforced before :meth:`TokfragModel.predict` runs: a
request without the contract's columns, or whose column cannot be converted to the declared
type (e.g. a ``text`` column of integers), fails there with an ``MlflowException`` naming the
column. What passes the signature (nulls, mixed objects, empty texts, unknown nodes, ...) is
rejected by the wrapper with a ``ValueError`` naming the row, window or node.
"""

from __future__ import annotations

import shutil
import tempfile
import warnings
from importlib import metadata
from pathlib import Path
from typing import Any, cast

import mlflow
import numpy as np
import pandas as pd
from mlflow.models import infer_signature
from mlflow.models.model import ModelInfo
from mlflow.pyfunc import PythonModelContext

import tokfrag
from tokfrag.families import BASELINE, load_forecaster
from tokfrag.models.classifier import Classifier
from tokfrag.models.forecaster import Forecaster
from tokfrag.registry.contracts import (
    SERIES,
    TEXT,
    ClassifyContract,
    Contract,
    ForecastContract,
    read_contract,
)
from tokfrag.registry.series_frames import TIME_COL, forecasts_to_frame, frame_to_windows
from tokfrag.registry.text_frames import frame_to_texts, probabilities_to_frame

FORECASTER_ARTIFACT = "forecaster"  # the saved model folder, either kind
CONTRACT_ARTIFACT = "contract"
MODEL_CODE_FILE = Path(__file__).with_name("_model_code.py")
PACKAGE_DIR = Path(tokfrag.__file__).parent

# What a serving environment needs to import every model kind. Pinned to this environment's
# versions (torch above all: an unpinned torch pulls a multi-GB CUDA build). Listed
# explicitly because MLflow's requirement inference loads the model in a subprocess and
# takes seconds per model.
SERVING_DISTRIBUTIONS = (
    "torch",
    "torch-geometric",
    "transformers",
    "safetensors",
    "numpy",
    "pandas",
)
# Added per kind: text models also tokenise (the token family's tokenizer.json).
EXTRA_DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    SERIES: (),
    TEXT: ("tokenizers",),
}
# Added when the served model is a baseline of that kind: the text baselines (TF-IDF +
# logistic regression) are rebuilt as scikit-learn objects at load time.
BASELINE_DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    SERIES: (),
    TEXT: ("scikit-learn",),
}


class TokfragModel(mlflow.pyfunc.PythonModel):  # type: ignore[name-defined]  # lazy attribute
    """Pyfunc that serves any tokfrag model over its kind's table contract.

    Series: ``predict`` takes columns ``window``, ``node``, ``lag_L..lag_1`` and returns
    ``window``, ``node``, ``h1..hH``. Text: it takes a ``text`` column and returns ``label``
    and ``proba_<name>`` per class, rows in input order. See :mod:`tokfrag.registry.contracts`.
    """

    def __init__(self) -> None:
        self._model: Forecaster | Classifier | None = None
        self._contract: Contract | None = None

    @classmethod
    def from_folder(cls, model_dir: Path, contract: Contract) -> TokfragModel:
        """Build the wrapper directly from a saved model folder, without MLflow (checks, tests)."""
        model = cls()
        model._bind(load_forecaster(model_dir), contract)
        return model

    def load_context(self, context: PythonModelContext) -> None:
        contract = read_contract(Path(context.artifacts[CONTRACT_ARTIFACT]))
        self._bind(load_forecaster(Path(context.artifacts[FORECASTER_ARTIFACT])), contract)

    def _bind(self, model: Any, contract: Contract) -> None:
        if isinstance(contract, ClassifyContract):
            if not callable(getattr(model, "predict_proba", None)):
                raise ValueError(
                    "a text contract needs a classifier (predict_proba), "
                    f"got {type(model).__name__}"
                )
            names = tuple(str(n) for n in model.label_names)
            if names != contract.label_names:
                raise ValueError(
                    f"classifier has label_names {list(names)} but its contract says "
                    f"{list(contract.label_names)}; classes must match in name and order"
                )
        elif isinstance(contract, ForecastContract):
            if not callable(getattr(model, "forecast", None)):
                raise ValueError(
                    f"a series contract needs a forecaster (forecast), got {type(model).__name__}"
                )
            if (model.lags, model.horizon) != (contract.lags, contract.horizon):
                raise ValueError(
                    f"forecaster has lags={model.lags}, horizon={model.horizon} but its "
                    f"contract says lags={contract.lags}, horizon={contract.horizon}"
                )
        else:
            raise TypeError(f"unknown contract type {type(contract).__name__}")
        self._model = model
        self._contract = contract

    @property
    def contract(self) -> Contract:
        if self._contract is None:
            raise RuntimeError("TokfragModel used before load_context")
        return self._contract

    @property
    def model(self) -> Forecaster | Classifier:
        """The wrapped forecaster or classifier."""
        if self._model is None:
            raise RuntimeError("TokfragModel used before load_context")
        return self._model

    def predict(
        self,
        context: PythonModelContext | None,
        model_input: pd.DataFrame,
        params: dict[str, Any] | None = None,
    ) -> pd.DataFrame:
        contract = self.contract
        if isinstance(contract, ClassifyContract):
            return self._classify(model_input, contract)
        return self._forecast(model_input, contract)

    def _forecast(self, model_input: pd.DataFrame, contract: ForecastContract) -> pd.DataFrame:
        window_ids, windows, times = frame_to_windows(model_input, contract)  # (S, N, L)
        model = cast(Forecaster, self.model)  # the contract says which kind it is
        forecasts = np.asarray(model.forecast(windows, times=times))  # (S, N, H)
        expected = (*windows.shape[:2], contract.horizon)
        if forecasts.shape != expected:
            raise RuntimeError(f"forecaster returned shape {forecasts.shape}, expected {expected}")
        return forecasts_to_frame(window_ids, forecasts, contract)

    def _classify(self, model_input: pd.DataFrame, contract: ClassifyContract) -> pd.DataFrame:
        texts = frame_to_texts(model_input)
        model = cast(Classifier, self.model)  # the contract says which kind it is
        proba = np.asarray(model.predict_proba(texts), dtype=np.float64)  # (B, C)
        expected = (len(texts), len(contract.label_names))
        if proba.shape != expected:
            raise RuntimeError(f"classifier returned shape {proba.shape}, expected {expected}")
        if not np.isfinite(proba).all():
            raise RuntimeError("classifier returned non-finite probabilities")
        return probabilities_to_frame(proba, contract)


# The name the series-only wrapper had; both kinds go through the same class now.
ForecasterModel = TokfragModel


def serving_requirements(kind: str = SERIES, *, baseline: bool = False) -> list[str]:
    """Pinned pip requirements for a served model of ``kind`` (MLflow adds its own pin).

    ``kind`` is the contract's (``"series"`` or ``"text"``); ``baseline`` adds what that
    kind's baselines need to load (scikit-learn for the text ones).
    """
    if kind not in EXTRA_DISTRIBUTIONS:
        raise ValueError(f"unknown model kind {kind!r}; known: {sorted(EXTRA_DISTRIBUTIONS)}")
    names = (*SERVING_DISTRIBUTIONS, *EXTRA_DISTRIBUTIONS[kind])
    if baseline:
        names = (*names, *BASELINE_DISTRIBUTIONS[kind])
    requirements = []
    for name in names:
        try:
            # Drop the local label (2.13.0+cpu -> 2.13.0): the project pins torch==2.13.0,
            # which pip matches to whichever local build its index offers.
            version = metadata.version(name).split("+")[0]
            requirements.append(f"{name}=={version}")
        except metadata.PackageNotFoundError:
            requirements.append(name)
    return requirements


def _time_optional_unless_read(signature: Any, model: Any) -> Any:
    """The input schema's ``time`` column is required only from models that read it (those
    with calendar covariates); the others accept requests without it."""
    from mlflow.models import ModelSignature
    from mlflow.types.schema import ColSpec, Schema, TensorSpec

    inputs = signature.inputs
    if inputs is None or TIME_COL not in inputs.input_names():
        return signature
    needed = getattr(model, "calendar", None) is not None
    columns: list[ColSpec | TensorSpec] = [
        ColSpec(c.type, c.name, required=c.required if c.name != TIME_COL else needed)
        for c in inputs.inputs
    ]
    return ModelSignature(Schema(columns), signature.outputs, signature.params)


def log_model(
    model_dir: Path,
    contract: Contract,
    example: Any,
    *,
    name: str = "model",
) -> ModelInfo:
    """Log ``model_dir`` as a pyfunc model into the active run; returns MLflow's ModelInfo.

    ``example`` is real data of the contract's kind: windows ``(1, N, L)`` for series, a
    list of a few documents for text. It becomes the input example, and the signature is
    inferred from it and the wrapper's own output on it, so a broken model fails here,
    before anything is logged.
    """
    wrapper = TokfragModel.from_folder(Path(model_dir), contract)
    example_frame = contract.example_frame(example)

    with warnings.catch_warnings(), tempfile.TemporaryDirectory(prefix="tokfrag-") as tmp:
        # Window ids are integers by contract and never missing, so MLflow's hint about
        # NaN in integer columns (raised at every schema inference) does not apply.
        warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")
        signature = _time_optional_unless_read(
            infer_signature(example_frame, wrapper.predict(None, example_frame)), wrapper.model
        )
        contract_path = contract.write(Path(tmp))
        # The model folder alone: other seeds' fits (``repeats/``) are not part of it.
        packaged = Path(tmp) / "model"
        shutil.copytree(Path(model_dir), packaged, ignore=shutil.ignore_patterns("repeats"))
        return mlflow.pyfunc.log_model(
            name=name,
            python_model=str(MODEL_CODE_FILE),
            artifacts={
                FORECASTER_ARTIFACT: str(packaged),
                CONTRACT_ARTIFACT: str(contract_path),
            },
            code_paths=[str(PACKAGE_DIR)],
            signature=signature,
            input_example=example_frame,
            pip_requirements=serving_requirements(
                contract.kind, baseline=getattr(wrapper.model, "family", None) == BASELINE
            ),
            metadata={"tokfrag_contract": contract.to_dict()},
        )


def log_forecaster_model(
    model_dir: Path,
    contract: ForecastContract,
    example_windows: np.ndarray,
    *,
    name: str = "model",
) -> ModelInfo:
    """Series spelling of :func:`log_model` (``example_windows`` ``(1, N, L)``)."""
    return log_model(model_dir, contract, example_windows, name=name)
