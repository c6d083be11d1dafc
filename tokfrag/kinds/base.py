"""What a kind of data must provide to the stages, and the values it hands them.

:class:`Kind` is the interface: each kind (:mod:`tokfrag.kinds.series`,
:mod:`tokfrag.kinds.text`) is a module with these functions, checked against it. The stages
call a kind; a kind never calls a stage. What it hands back: :class:`FitParts` (what fitting a
family needs), :class:`Evaluation` (a test split ready to score, with the kind's baselines,
metrics header and report) and :class:`Scoring` (how a model is scored on test items).
:func:`check_prepared` and :func:`fitted` are the two helpers both kinds use.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from tokfrag.config import Params
from tokfrag.layout import Layout, StageError, read_json

if TYPE_CHECKING:
    import numpy as np

    from tokfrag.data.validation import ValidationReport
    from tokfrag.registry.candidates import AnyCandidate


@dataclass(frozen=True)
class FitParts:
    """What fitting a family needs, loaded once and reused by every tuning trial:
    ``build(params) -> (model, train_examples, val_examples or None)`` builds a fresh model
    (tokenizers, vocabularies and warm starts fit on the training part only) and its
    examples; ``folds`` are the same for each cross-validation fold of a tuning trial
    (series: rolling-origin folds; text: the one hold-out), and ``folds_fingerprint`` says
    which folds they are, so two families can be checked to have been tuned on the same."""

    kind: str  # "series" or "text": selects the loop settings
    build: Callable[[Params], tuple[Any, Any, Any]]
    tags: dict[str, str]  # data_sha256 and split_fingerprint, logged on every run
    folds: tuple[Callable[[Params], tuple[Any, Any, Any]], ...] = ()
    folds_fingerprint: str = ""


@dataclass(frozen=True)
class Scoring:
    """How one kind of data is scored on its test items."""

    predict: Callable[[Any, Any], Any]  # (model, inputs) -> outputs for those inputs
    metrics: Callable[[Any], dict[str, Any]]  # outputs -> the model's metrics entry
    items: Callable[[Any], Any]  # outputs -> (n,) per-item scores; their mean is primary
    take: Callable[[Any, slice], Any]  # inputs -> the inputs of some items
    n_items: int


class Evaluation(Protocol):
    """One kind's test split, ready to score: what the evaluate stage asks of it, in the
    order it asks (the baselines are fitted after the families' models are loaded)."""

    @property
    def fingerprint(self) -> str:
        """The split's fingerprint (models and tuning records must match it)."""
        ...

    @property
    def data_sha256(self) -> str: ...

    @property
    def scoring(self) -> Scoring: ...

    @property
    def inputs(self) -> Any:
        """The test inputs :attr:`scoring` predicts from."""
        ...

    def baselines(self) -> dict[str, tuple[Any, float]]:
        """Each baseline, fitted on the training part: name -> ``(model, fit seconds)``."""
        ...

    def baseline_params(self, names: list[str]) -> dict[str, dict[str, Any]]:
        """What each baseline's MLflow run records as its params."""
        ...

    def header(self) -> dict[str, Any]:
        """``metrics.json``'s description of the task: ``task``, ``primary_metric``,
        ``higher_is_better``, ``columns`` and ``protocol``."""
        ...

    def published(self) -> Any:
        """The published figures this dataset and protocol can be set beside."""
        ...

    def verdict_args(self, items: dict[str, Any]) -> dict[str, Any]:
        """What the verdict needs beyond the scores (series: the horizon; text: whether the
        registered models were right on each document)."""
        ...

    def report_args(self, outputs: dict[str, Any]) -> dict[str, Any]:
        """What the report draws beside ``metrics`` and the learning curves, from the
        models' test outputs (forecasts or class probabilities)."""
        ...


@runtime_checkable
class Kind(Protocol):
    """What differs between kinds of data: the gate, ingesting and preparing the data, the
    models' inputs, the baselines and metrics, item scores, and the contract of a registered
    model. A kind is a module with these functions (``KINDS`` in :mod:`tokfrag.kinds`)."""

    def check(self, params: Params, spec: Any, parsed: Any) -> ValidationReport:
        """The gate on parsed files that were never ingested (writes nothing)."""
        ...

    def ingest(self, params: Params, layout: Layout, spec: Any, parsed: Any) -> Path:
        """Write the parsed files' canonical form to ``layout.data_dir``."""
        ...

    def canonical_gate(
        self, params: Params, layout: Layout
    ) -> tuple[Callable[[Path], ValidationReport], str]:
        """The gate on the canonical data, as a function of the folder GX writes its data
        docs into, and the data's sha256 (what the gate's record names)."""
        ...

    def prepare(self, params: Params, layout: Layout) -> Path:
        """Fix the split (and whatever is fit on training data alone) in
        ``layout.prepared``; called once the gate passed on this data and split."""
        ...

    def model_name(self, params: Params, family: str) -> str:
        """Which of the family's models runs (the key of its search space)."""
        ...

    def fit_parts(self, params: Params, layout: Layout, family: str, final: bool) -> FitParts:
        """What fitting ``family`` needs (``final``: on all training data)."""
        ...

    def evaluation(self, params: Params, layout: Layout) -> Evaluation:
        """The test split, ready to score (the only place it is read)."""
        ...

    def champion_items(self, params: Params, layout: Layout, champion: Any) -> np.ndarray:
        """Per-item scores of a registered pyfunc model on this test split, asked through
        its predict contract (the way a client would)."""
        ...

    def candidate_maker(
        self, params: Params, layout: Layout, metrics: dict[str, Any]
    ) -> Callable[..., AnyCandidate]:
        """The registry's candidate for this data, with the kind's contract filled in; the
        stage adds each model's ``family``, ``run_id``, ``model_dir`` and ``metrics``.
        Refuses ``metrics`` from another split."""
        ...


def check_prepared(layout: Layout, fingerprint: str, data_sha256: str) -> dict[str, Any]:
    """The prepared split, checked against the one the current params and data give."""
    prepared = read_json(layout.prepared / "split.json", "prepare")
    if prepared["fingerprint"] != fingerprint:
        raise StageError(
            f"{layout.prepared / 'split.json'} was made for another split; rerun `tokfrag prepare`"
        )
    if prepared["data_sha256"] != data_sha256:
        raise StageError(f"{layout.prepared} was made from other data; rerun `tokfrag prepare`")
    return prepared


def fitted(fit: Callable[[], Any]) -> tuple[Any, float]:
    """``(fit(), seconds)``: a baseline and the time its fit took."""
    started = time.perf_counter()
    model = fit()
    return model, time.perf_counter() - started
