"""Optuna tuning (Optuna lives here only): search spaces from `params.yaml`, an objective
that prunes on the validation loss, and studies that resume after a crash and spread over
processes or machines through one storage."""

from tokfrag.tuning.objective import (
    FitTrial,
    OpenLog,
    TrialDiverged,
    TrialLog,
    make_objective,
)
from tokfrag.tuning.settings import Budget, StudySettings, TuningError
from tokfrag.tuning.space import configured_point, suggest
from tokfrag.tuning.storage import redact, resolve_storage
from tokfrag.tuning.study import optimize, summarise

__all__ = [
    "Budget",
    "FitTrial",
    "OpenLog",
    "StudySettings",
    "TrialDiverged",
    "TrialLog",
    "TuningError",
    "configured_point",
    "make_objective",
    "optimize",
    "redact",
    "resolve_storage",
    "suggest",
    "summarise",
]
