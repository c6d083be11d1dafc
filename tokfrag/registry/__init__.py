"""MLflow room: tracking runs, the pyfunc wrapper, registration and aliases.

MLflow is imported only inside this package; the rest of tokfrag talks to it through these
functions (training gets a :class:`RunLogger` as its callback, nothing more).
"""

from tokfrag.registry.frames import (
    ForecastContract,
    forecasts_to_frame,
    frame_to_windows,
    windows_to_frame,
)
from tokfrag.registry.pyfunc import ForecasterModel, log_forecaster_model, serving_requirements
from tokfrag.registry.register import (
    CHALLENGER,
    CHAMPION,
    Candidate,
    CandidateError,
    RegistrationError,
    RegistrationResult,
    describe_registry,
    load_champion,
    register_candidates,
)
from tokfrag.registry.tracking import (
    RunLogger,
    Store,
    log_baseline_run,
    log_metrics_to_run,
    open_store,
    training_run,
)

__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "Candidate",
    "CandidateError",
    "ForecastContract",
    "ForecasterModel",
    "RegistrationError",
    "RegistrationResult",
    "RunLogger",
    "Store",
    "describe_registry",
    "forecasts_to_frame",
    "frame_to_windows",
    "load_champion",
    "log_baseline_run",
    "log_forecaster_model",
    "log_metrics_to_run",
    "open_store",
    "register_candidates",
    "serving_requirements",
    "training_run",
    "windows_to_frame",
]
