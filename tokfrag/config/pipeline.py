"""What happens around the runs: how the families are judged (``verdict``), where MLflow
keeps runs and models (``registry``), when datasets re-run (``schedule``) and how the
Prefect flow runs the stages (``pipeline``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from tokfrag.config.base import _Section, _store_inside_project, check_dataset_name


class VerdictConfig(_Section):
    """How the two families are judged. A family wins when the paired bootstrap interval of
    the difference in the primary metric (same test items) excludes zero; otherwise there
    is no significant difference and the cheaper model is chosen: fewer parameters, then
    lower median latency. A new winner replaces the registry's champion only when it beats
    the champion on the same test split by the same rule."""

    confidence: float = Field(0.95, gt=0.5, lt=1.0)
    resamples: int = Field(2000, ge=100)
    seed: int = 0
    cheaper_by: list[Literal["n_params", "latency_ms_p50", "train_seconds"]] = [
        "n_params",
        "latency_ms_p50",
    ]


class DatasetSchedule(_Section):
    """When a dataset's pipeline runs on its own (cron strings, e.g. ``"0 2 * * *"``)."""

    revalidate: str | None = None  # ingest and validate: catch bad data early
    retrain: str | None = None  # the whole pipeline: tune, train, evaluate, register


class ScheduleConfig(_Section):
    """Scheduled Prefect deployments, created by `tokfrag deploy`."""

    timezone: str = "UTC"
    datasets: dict[str, DatasetSchedule] = {}

    @field_validator("datasets")
    @classmethod
    def _safe_names(cls, datasets: dict) -> dict:
        for name in datasets:
            check_dataset_name(name)  # the same rule as data.dataset
        return datasets


class PipelineConfig(_Section):
    """How the Prefect flow runs the stages (`tokfrag run`, deployments); DVC ignores it.

    ``task_runner``: ``process`` tunes and trains the two families at the same time in two
    processes (Prefect's ``ProcessPoolTaskRunner``), ``dask`` does the same on a Dask
    cluster (prefect-dask's ``DaskTaskRunner``: a local cluster, or the scheduler at
    ``dask_address``), ``sequential`` runs one family after the other in the flow's
    process. Processes, not threads: torch's random generator is process-wide, and seeded
    runs must give the same numbers whichever runner is used.
    """

    task_runner: Literal["process", "dask", "sequential"] = "process"
    workers: int = Field(2, ge=1, le=64)  # processes (or Dask workers) for the families
    dask_address: str | None = None  # e.g. tcp://10.0.0.5:8786; null: a local cluster
    cache: bool = True  # skip stages whose inputs, code and outputs are unchanged

    @model_validator(mode="after")
    def _address_needs_dask(self) -> PipelineConfig:
        if self.dask_address is not None and self.task_runner != "dask":
            raise ValueError(
                "dask_address is set but task_runner is "
                f"{self.task_runner!r}; set task_runner: dask or remove dask_address"
            )
        return self


class RegistryConfig(_Section):
    """Where MLflow keeps runs and models; relative paths are under the project folder."""

    tracking_uri: str = "sqlite:///mlruns.db"
    artifact_root: str = "mlartifacts"
    model_prefix: str = "tokfrag"

    @field_validator("tracking_uri", "artifact_root")
    @classmethod
    def _inside(cls, value: str, info: ValidationInfo) -> str:
        return _store_inside_project(f"registry.{info.field_name}", value)
