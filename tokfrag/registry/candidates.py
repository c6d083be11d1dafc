"""What gets registered, and the checks made on it before any registry write (phase 1).

A :class:`Candidate` (series forecaster) or :class:`TextCandidate` (text classifier) is one
family's final model: its saved folder, its training run, its test metrics and a real input
example. Each names its contract (:mod:`tokfrag.registry.contracts`), which decides the
input table, the example, the tags and the ranking metric.

:func:`validate_candidates` checks everything that can be checked without writing (files,
metrics, run, data, a real prediction through the packaged wrapper) and raises one
:class:`CandidateError` listing every problem, so a bad candidate never leaves the registry
half-moved.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from mlflow.exceptions import MlflowException

from tokfrag.families import FAMILIES
from tokfrag.models.saving import CONFIG_FILE
from tokfrag.registry.contracts import (
    CONTRACTS,
    SERIES,
    TEXT,
    ClassifyContract,
    Contract,
    ForecastContract,
)
from tokfrag.registry.pyfunc import TokfragModel
from tokfrag.registry.tracking import LOGGING_TAG, Store
from tokfrag.stores import redact_url


class CandidateError(ValueError):
    """A candidate failed the checks made before any registry write; nothing was written."""


@dataclass(frozen=True)
class Candidate:
    """One family's final series forecaster, ready to be registered (ranked by ``test_mse``)."""

    kind: ClassVar[str] = SERIES

    family: str  # a family of tokfrag.families.FAMILIES, or BASELINE
    run_id: str  # the family's training run (a baseline's fit run); the model is logged into it
    model_dir: Path  # saved forecaster folder (config.json [+ model.safetensors])
    metrics: dict[str, float]  # must include "test_mse"; usually "test_mae" too
    node_ids: tuple[str, ...]
    lags: int
    horizon: int
    data_sha256: str
    example_windows: np.ndarray  # (1, N, L): a real window, becomes the input example
    example_times: np.ndarray | None = None  # (1,): its lag_1 step's time (int64)
    time_unit: str = "steps"  # what the `time` column holds: "steps" or "ns" (dates)
    gaps: bool = False  # the model reads missing (NaN) lag values (data.missing mask/interpolate)

    def contract(self, dataset: str) -> ForecastContract:
        return ForecastContract(
            node_ids=tuple(self.node_ids),
            lags=self.lags,
            horizon=self.horizon,
            dataset=dataset,
            family=self.family,
            time_unit=self.time_unit,
            gaps=self.gaps,
        )

    @property
    def example(self) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        if self.example_times is None:
            return self.example_windows
        return self.example_windows, self.example_times


@dataclass(frozen=True)
class TextCandidate:
    """One family's final text classifier, ready to be registered (ranked by ``test_accuracy``)."""

    family: str  # a family of tokfrag.families.FAMILIES, or BASELINE
    run_id: str  # the family's training run (a baseline's fit run); the model is logged into it
    model_dir: Path  # saved classifier folder (config.json [+ weights]), for load_forecaster
    metrics: dict[str, float]  # must include "test_accuracy"; usually "test_macro_f1" too
    label_names: tuple[str, ...]  # class names in the classifier's probability order
    data_sha256: str
    example_texts: Sequence[str]  # a few real documents: they become the input example

    kind: ClassVar[str] = TEXT

    def contract(self, dataset: str) -> ClassifyContract:
        return ClassifyContract(label_names=self.label_names, dataset=dataset, family=self.family)

    @property
    def example(self) -> Sequence[str]:
        # One bare string stays a string, so the example check refuses it by name.
        return self.example_texts


AnyCandidate = Candidate | TextCandidate


def validate_candidates(
    store: Store, dataset: str, candidates: Sequence[AnyCandidate]
) -> dict[str, Contract]:
    """Check everything that can be checked without writing; raise one error listing all.

    Returns each family's contract.
    """
    if not candidates:
        raise ValueError("register_candidates: no candidates given")
    problems: list[str] = []
    families = [c.family for c in candidates]
    for family in sorted({f for f in families if families.count(f) > 1}):
        problems.append(f"family {family!r} appears more than once; one candidate per family")
    unknown = [c for c in candidates if not isinstance(c, Candidate | TextCandidate)]
    if unknown:
        raise CandidateError(
            "register_candidates: nothing was registered; candidates must be Candidate "
            f"(series) or TextCandidate (text), got {sorted({type(c).__name__ for c in unknown})}"
        )
    kinds = {c.family: c.kind for c in candidates}
    if len(set(kinds.values())) > 1:
        problems.append(
            f"candidates mix kinds {kinds}; one registered model serves one kind of data"
        )

    contracts: dict[str, Contract] = {}
    for candidate in candidates:
        found, contract = _candidate_problems(store, dataset, candidate)
        problems.extend(f"{candidate.family!r}: {p}" for p in found)
        if contract is not None:
            contracts[candidate.family] = contract

    # Champion and challenger are only comparable on the same data and the same task.
    reference = candidates[0]
    if len(set(kinds.values())) == 1 and reference.family in contracts:
        first = _task_key(reference, contracts[reference.family])
        for other in candidates[1:]:
            if other.family not in contracts:
                continue
            for attr, value in _task_key(other, contracts[other.family]).items():
                if value != first[attr]:
                    problems.append(
                        f"{other.family!r} and {reference.family!r} differ in {attr}; both "
                        "families must be trained and tested on the same data and task"
                    )
    if problems:
        listing = "\n".join(f"  - {p}" for p in problems)
        raise CandidateError(
            f"register_candidates: nothing was registered; fix these first:\n{listing}"
        )
    return contracts


def _task_key(candidate: AnyCandidate, contract: Contract) -> dict[str, Any]:
    return {"data_sha256": candidate.data_sha256, **contract.task_key()}


def _candidate_problems(
    store: Store, dataset: str, candidate: AnyCandidate
) -> tuple[list[str], Contract | None]:
    """Problems with one candidate, and its contract when the contract itself is valid."""
    problems: list[str] = []
    if not candidate.family or not candidate.family.replace("_", "").isalnum():
        examples = " or ".join(repr(f) for f in FAMILIES)
        problems.append(f"family must be a plain name such as {examples}")

    model_dir = Path(candidate.model_dir)
    if not (model_dir / CONFIG_FILE).is_file():
        problems.append(f"{model_dir}: no saved model ({CONFIG_FILE} missing)")

    try:
        contract = candidate.contract(dataset)
    except ValueError as err:
        contract = None
        problems.append(str(err))
    metric = CONTRACTS[candidate.kind].primary_metric
    if metric not in candidate.metrics:
        problems.append(
            f"metrics lack {metric!r}, which ranks {candidate.kind} models "
            f"(got {sorted(candidate.metrics)})"
        )
    for key, value in candidate.metrics.items():
        try:
            finite = math.isfinite(float(value))
        except (TypeError, ValueError):
            finite = False
        if not finite:
            problems.append(f"metric {key!r} is {value!r}; metrics must be finite numbers")

    if not candidate.data_sha256:
        problems.append("data_sha256 is empty; register only models of hashed, versioned data")

    example = None
    if contract is not None:
        try:
            example = contract.example_frame(candidate.example)
        except ValueError as err:
            problems.append(f"bad example: {err}")

    problems.extend(_run_problems(store, candidate.run_id))
    if not problems and contract is not None and example is not None:
        # Prove the packaged wrapper works on real data before anything is written.
        try:
            TokfragModel.from_folder(model_dir, contract).predict(None, example)
        except Exception as err:  # any failure here means the model cannot be served
            problems.append(f"{model_dir}: predicting the example failed: {err}")
    return problems, contract


def _run_problems(store: Store, run_id: str) -> list[str]:
    try:
        run = store.client().get_run(run_id)
    except MlflowException:
        return [f"run {run_id!r} not found in {redact_url(store.tracking_uri)}"]
    if run.info.experiment_id != store.experiment_id:
        return [f"run {run_id!r} belongs to another experiment, not {store.experiment_name!r}"]
    interrupted = run.info.status == "RUNNING" and LOGGING_TAG in run.data.tags
    if run.info.status != "FINISHED" and not interrupted:
        # Resuming the run to log the model would mark a failed or live run FINISHED.
        return [f"run {run_id!r} has status {run.info.status}; only FINISHED runs register"]
    return []
