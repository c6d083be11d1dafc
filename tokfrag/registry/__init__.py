"""MLflow room: tracking runs, the pyfunc wrapper, registration and aliases.

MLflow is imported only inside this package; the rest of tokfrag talks to it through these
functions (training gets a :class:`RunLogger` as its callback, nothing more). Series
forecasters (:class:`Candidate`, :class:`ForecastContract`) and text classifiers
(:class:`TextCandidate`, :class:`ClassifyContract`) register through the same
:func:`register_candidates`.

Modules: ``contracts`` (the served table contracts), ``series_frames`` / ``text_frames``
(tables <-> arrays per kind), ``pyfunc`` (the MLflow wrapper), ``tracking`` (stores and
runs), ``candidates`` (what registers, checked before any write), ``versions`` (version
tags and digests), ``aliases`` (who is champion and challenger), ``champion`` (reading and
loading it) and ``register`` (the round that ties them together).
"""

from tokfrag.registry.aliases import CHALLENGER, CHAMPION
from tokfrag.registry.candidates import AnyCandidate, Candidate, CandidateError, TextCandidate
from tokfrag.registry.champion import (
    ArtifactsChanged,
    champion_contract,
    current_champion,
    load_champion,
)
from tokfrag.registry.contracts import ClassifyContract, Contract, ForecastContract, read_contract
from tokfrag.registry.pyfunc import (
    ForecasterModel,
    TokfragModel,
    log_forecaster_model,
    log_model,
    serving_requirements,
)
from tokfrag.registry.register import RegistrationError, RegistrationResult, register_candidates
from tokfrag.registry.series_frames import forecasts_to_frame, frame_to_windows, windows_to_frame
from tokfrag.registry.text_frames import frame_to_texts, probabilities_to_frame, texts_to_frame
from tokfrag.registry.tracking import (
    RunLogger,
    Store,
    TrialRunLogger,
    log_baseline_run,
    log_metrics_to_run,
    open_store,
    training_run,
    trial_runs,
)
from tokfrag.registry.versions import describe_registry

__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "AnyCandidate",
    "ArtifactsChanged",
    "Candidate",
    "CandidateError",
    "ClassifyContract",
    "Contract",
    "ForecastContract",
    "ForecasterModel",
    "RegistrationError",
    "RegistrationResult",
    "RunLogger",
    "Store",
    "TextCandidate",
    "TokfragModel",
    "TrialRunLogger",
    "champion_contract",
    "current_champion",
    "describe_registry",
    "forecasts_to_frame",
    "frame_to_texts",
    "frame_to_windows",
    "load_champion",
    "log_baseline_run",
    "log_forecaster_model",
    "log_metrics_to_run",
    "log_model",
    "open_store",
    "probabilities_to_frame",
    "read_contract",
    "register_candidates",
    "serving_requirements",
    "texts_to_frame",
    "training_run",
    "trial_runs",
    "windows_to_frame",
]
