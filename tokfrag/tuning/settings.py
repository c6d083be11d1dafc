"""The plain types of tuning: a study's settings, its budget, and the error that stops it."""

from __future__ import annotations

from dataclasses import dataclass

from tokfrag.config import PrunerConfig


class TuningError(RuntimeError):
    """Tuning cannot go on: a worker died, a storage is unusable, or no trial completed."""


@dataclass(frozen=True)
class StudySettings:
    """Where a study lives and how it samples, prunes and notices dead trials."""

    name: str
    storage: str  # an SQLAlchemy URL, or ``journal:/abs/path`` (see :func:`resolve_storage`)
    seed: int
    pruner: PrunerConfig
    max_epochs: int  # the most steps a trial reports: epochs per fold x folds (hyperband)
    heartbeat_seconds: int = 5
    grace_seconds: int = 20
    max_retries: int = 1


@dataclass(frozen=True)
class Budget:
    n_trials: int
    timeout_seconds: float
