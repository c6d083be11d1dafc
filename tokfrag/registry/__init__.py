"""MLflow room: tracking runs, the pyfunc wrapper, registration and aliases.

MLflow is imported only inside this package; the rest of tokfrag talks to it through these
functions (training gets a :class:`RunLogger` as its callback, nothing more). Series
forecasters (:class:`Candidate`, :class:`ForecastContract`) and text classifiers
(:class:`TextCandidate`, :class:`ClassifyContract`) register through the same
:func:`register_candidates`.
"""

from tokfrag.registry.frames import (
    ClassifyContract,
    Contract,
    ForecastContract,
    forecasts_to_frame,
    frame_to_texts,
    frame_to_windows,
    probabilities_to_frame,
    read_contract,
    texts_to_frame,
    windows_to_frame,
)
from tokfrag.registry.pyfunc import (
    ForecasterModel,
    TokfragModel,
    log_forecaster_model,
    log_model,
    serving_requirements,
)
from tokfrag.registry.register import (
    CHALLENGER,
    CHAMPION,
    AnyCandidate,
    ArtifactsChanged,
    Candidate,
    CandidateError,
    RegistrationError,
    RegistrationResult,
    TextCandidate,
    champion_contract,
    current_champion,
    describe_registry,
    load_champion,
    register_candidates,
)
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
