"""Optuna tuning (``tune``): the budget, the pruner, the cross-validation folds, and the
search spaces written as configuration (one :class:`SearchDimension` per searched key)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from tokfrag.config.base import _Section, _store_inside_project
from tokfrag.families import REGISTRY


class SearchDimension(_Section):
    """One searched parameter: a float or int range (optionally log-scaled) or a set of
    choices. Keys of a space are dotted paths into ``params.yaml`` (``train.lr``)."""

    type: Literal["float", "int", "categorical"]
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = Field(None, gt=0)
    choices: list[Any] | None = None

    @model_validator(mode="after")
    def _complete(self) -> SearchDimension:
        if self.type == "categorical":
            if not self.choices:
                raise ValueError("a categorical dimension needs a non-empty 'choices' list")
            if not all(isinstance(c, str | int | float | bool | None) for c in self.choices):
                raise ValueError("categorical choices must be plain numbers, strings or booleans")
            if self.low is not None or self.high is not None:
                raise ValueError("a categorical dimension takes 'choices', not 'low'/'high'")
            return self
        if self.choices is not None:
            raise ValueError(f"a {self.type} dimension takes 'low' and 'high', not 'choices'")
        if self.low is None or self.high is None or not self.low < self.high:
            raise ValueError(f"a {self.type} dimension needs 'low' < 'high'")
        if self.log and self.low <= 0:
            raise ValueError("a log-scaled dimension needs 'low' > 0")
        if self.log and self.step is not None:
            raise ValueError("'log' and 'step' cannot be combined (Optuna rejects it)")
        if self.type == "int" and not (
            float(self.low).is_integer() and float(self.high).is_integer()
        ):
            raise ValueError("an int dimension needs whole-number 'low' and 'high'")
        return self

    def values(self) -> list[Any]:
        """The extreme values of the dimension (checked against the schema on load)."""
        if self.type == "categorical":
            return list(self.choices or [])
        if self.low is None or self.high is None:  # never: ``_complete`` requires both
            raise ValueError(f"a {self.type} dimension needs 'low' and 'high'")
        cast = int if self.type == "int" else float
        return [cast(self.low), cast(self.high)]


class PrunerConfig(_Section):
    """Stops poor trials early from the validation loss each trial reports per epoch."""

    kind: Literal["median", "hyperband", "none"] = "median"
    startup_trials: int = Field(3, ge=0)  # median: trials finished before any is pruned
    warmup_epochs: int = Field(5, ge=0)  # median: epochs each trial runs before it can be
    # Epochs between reports to the pruner (MLflow still gets every epoch): each report and
    # check is a storage round trip, a few ms, which matters when epochs take 30 ms.
    interval_epochs: int = Field(1, ge=1)


class CVConfig(_Section):
    """How a tuning trial is scored. Series: rolling-origin (expanding-window) folds over
    the training windows, each validated on the next block of ``split.val_fraction`` of
    them; the last fold is the plain fit / validation split. A trial's value is the mean of
    its folds' best validation losses, and the final fit on all training windows runs for
    the mean of their best epochs. Text keeps its stratified hold-out (one fold)."""

    folds: int = Field(3, ge=1)


# The models whose space a family may search; "text" is the family's text-dataset model.
SPACE_MODELS = {
    name: (*family.variants("series"), *family.variants("text"))
    for name, family in REGISTRY.items()
}


class TuneConfig(_Section):
    """Optuna tuning, with the same budget for every family. ``n_trials: 0`` turns tuning
    off: each family trains its configured model, early-stopped on the validation part."""

    n_trials: int = Field(8, ge=0)  # finished trials (complete or pruned) per family
    timeout_seconds: float = Field(600.0, gt=0)  # wall clock per family, summed over resumes
    seed: int = 0  # TPE sampler seed (worker i samples with seed + i)
    workers: int = Field(1, ge=1)  # processes on one study; CPU threads are shared out
    storage: str | None = None  # SQLAlchemy URL or journal file; default sqlite:///optuna.db
    heartbeat_seconds: int = Field(5, ge=1)  # a running trial's sign of life
    grace_seconds: int = Field(20, ge=1)  # a trial silent this long is failed and retried
    max_retries: int = Field(1, ge=0)  # retries of a trial whose process died
    pruner: PrunerConfig = PrunerConfig()
    cv: CVConfig = CVConfig()
    spaces: dict[str, dict[str, dict[str, SearchDimension]]] = {}

    @field_validator("storage")
    @classmethod
    def _storage_inside(cls, value: str | None) -> str | None:
        return _store_inside_project("tune.storage", value)

    @field_validator("spaces")
    @classmethod
    def _known_models(cls, spaces: dict) -> dict:
        for family, models in spaces.items():
            if family not in SPACE_MODELS:
                raise ValueError(
                    f"unknown family {family!r} in tune.spaces; expected one of "
                    f"{', '.join(SPACE_MODELS)}"
                )
            for model in models:
                if model not in SPACE_MODELS[family]:
                    raise ValueError(
                        f"unknown model {model!r} in tune.spaces.{family}; expected one of "
                        f"{', '.join(SPACE_MODELS[family])}"
                    )
            for model, space in models.items():
                for path in space:
                    section = path.split(".")[0]
                    if section not in ("train", family):
                        # A family may only tune the shared loop and its own section: it
                        # must never reach the split, the data or the other family.
                        raise ValueError(
                            f"tune.spaces.{family}.{model}: {path!r} is outside 'train' and "
                            f"'{family}'; a family may only tune those sections"
                        )
        return spaces

    @model_validator(mode="after")
    def _grace_after_heartbeat(self) -> TuneConfig:
        if self.grace_seconds <= self.heartbeat_seconds:
            raise ValueError(
                f"grace_seconds ({self.grace_seconds}) must exceed heartbeat_seconds "
                f"({self.heartbeat_seconds}), or live trials would be failed"
            )
        return self
