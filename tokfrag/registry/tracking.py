"""MLflow tracking for tokfrag: where the stores live, and runs that log what training reports.

The embedded default keeps everything inside the project folder: a SQLite file for runs and
the model registry, and a local folder for artifacts. Relative locations in
:class:`~tokfrag.config.RegistryConfig` are resolved against the project folder (never the
current directory), so a DVC stage, a Prefect task and a test all hit the same store. Server
URIs (``http(s)://``, ``postgresql://``, ...) pass through unchanged for the scale-out path.

Training code never imports MLflow: :func:`training_run` yields a :class:`RunLogger` whose
:meth:`RunLogger.log_epoch` is handed to the training loop as its callback.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import mlflow
from mlflow.entities import Metric, Param, RunStatus, RunTag
from mlflow.tracking import MlflowClient

from tokfrag.config import RegistryConfig
from tokfrag.families import BASELINE
from tokfrag.stores import SQLITE_PREFIX, first_use_lock, sqlite_file, under

_PARENT_TAG = "mlflow.parentRunId"  # how the UI nests a run under another
# Set on a finished training run while its model is logged into it (which resumes the run as
# RUNNING): a run left RUNNING with this tag was interrupted there, not in training.
LOGGING_TAG = "tokfrag.logging_model"
# MLflow rejects longer param values; truncating beats failing a finished training run.
_MAX_PARAM_CHARS = 6000
_MAX_METRICS_PER_BATCH = 1000  # MLflow's limit for one log_batch call


@dataclass(frozen=True)
class Store:
    """A resolved MLflow store for one dataset: one experiment and one registered model.

    ``tracking_uri`` also serves as the registry URI (the embedded SQLite file holds both).
    ``artifact_root`` is a URI (``file:///...`` for the embedded default).
    """

    tracking_uri: str
    artifact_root: str
    experiment_name: str
    experiment_id: str
    model_name: str
    dataset: str = ""
    project_dir: Path = Path(".")

    def client(self) -> MlflowClient:
        """A client bound to this store, whatever the process-wide MLflow URIs are."""
        return MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)

    def activate(self) -> None:
        """Point MLflow's fluent API (``mlflow.start_run``, ``log_model``) at this store.

        Called by every function that uses the fluent API, so two stores in one process
        (tests, notebooks) never write into each other.
        """
        mlflow.set_tracking_uri(self.tracking_uri)
        mlflow.set_registry_uri(self.tracking_uri)

    def check_dataset(self, dataset: str) -> None:
        """Refuse a dataset other than the one this store was opened for."""
        if self.dataset and dataset != self.dataset:
            raise ValueError(
                f"store was opened for dataset {self.dataset!r}, not {dataset!r}; "
                f"call open_store(cfg, project_dir, {dataset!r})"
            )


def resolve_tracking_uri(uri: str, project_dir: Path) -> str:
    """Make a relative SQLite URI (or plain path) absolute under ``project_dir``.

    ``sqlite:///mlruns.db`` -> ``sqlite:////abs/project/mlruns.db``; absolute SQLite URIs and
    any other scheme (``http(s)``, ``postgresql``, ``databricks``, ``file``) pass through.
    """
    if uri.startswith(SQLITE_PREFIX):
        file = sqlite_file(uri)
        if file is None:
            # An in-memory registry would vanish between the stages that share it.
            raise ValueError(
                f"registry.tracking_uri {uri!r} has no database file; "
                "use e.g. 'sqlite:///mlruns.db'"
            )
        path = under(project_dir, file)
        path.parent.mkdir(parents=True, exist_ok=True)
        return SQLITE_PREFIX + str(path)
    if "://" in uri or uri.startswith("databricks"):
        return uri
    # A plain folder means MLflow's file store; resolve it like every other relative path.
    return under(project_dir, uri).as_uri()


def resolve_artifact_root(root: str, project_dir: Path) -> str:
    """Return the artifact root as a URI, creating it when it is a local folder."""
    if "://" in root:
        if urlparse(root).scheme == "file":
            Path(urlparse(root).path).mkdir(parents=True, exist_ok=True)
        return root
    path = under(project_dir, root)
    path.mkdir(parents=True, exist_ok=True)
    return path.as_uri()


def open_store(cfg: RegistryConfig, project_dir: Path, dataset: str) -> Store:
    """Resolve the store locations, point MLflow at them and make sure the experiment exists.

    Creates the SQLite file (MLflow migrates the schema on first use), the artifact folder
    and the experiment ``f"{cfg.model_prefix}-{dataset}"`` with its artifacts under the
    artifact root. Safe to call repeatedly: an existing experiment is reused.
    """
    project_dir = Path(project_dir).resolve()
    tracking_uri = resolve_tracking_uri(cfg.tracking_uri, project_dir)
    artifact_root = resolve_artifact_root(cfg.artifact_root, project_dir)
    name = f"{cfg.model_prefix}-{dataset}"

    with first_use_lock(tracking_uri):  # the first client creates and migrates the schema
        client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            experiment_id = client.create_experiment(name, artifact_location=artifact_root)
        else:
            experiment_id = experiment.experiment_id
            if experiment.lifecycle_stage == "deleted":
                # Someone deleted it in the UI; its name stays taken until restored or purged.
                client.restore_experiment(experiment_id)

    store = Store(
        tracking_uri=tracking_uri,
        artifact_root=artifact_root,
        experiment_name=name,
        experiment_id=experiment_id,
        model_name=name,
        dataset=dataset,
        project_dir=project_dir,
    )
    store.activate()
    return store


class RunLogger:
    """Logs into one MLflow run; ``log_epoch`` is the training loop's callback."""

    def __init__(self, client: MlflowClient, run_id: str) -> None:
        self._client = client
        self.run_id = run_id

    def log_epoch(self, epoch: int, metrics: Mapping[str, float]) -> None:
        """Log one epoch's metrics with ``step=epoch`` (one batched write)."""
        _log_metric_batch(self._client, self.run_id, metrics, step=int(epoch))

    def __call__(self, epoch: int, metrics: Mapping[str, float]) -> None:
        # Lets the logger itself be passed where a plain callable is expected.
        self.log_epoch(epoch, metrics)

    def log_metrics(self, metrics: Mapping[str, float]) -> None:
        """Log final (step 0) metrics such as ``test_mse``."""
        _log_metric_batch(self._client, self.run_id, metrics, step=0)

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Log more params (nested mappings are flattened to dotted keys)."""
        _log_param_batch(self._client, self.run_id, params)

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        self._client.log_batch(self.run_id, tags=[RunTag(k, str(v)) for k, v in tags.items()])

    def log_artifacts(self, local_dir: str | Path, artifact_path: str | None = None) -> None:
        """Copy a local folder into the run's artifacts (under ``artifact_path``)."""
        self._client.log_artifacts(self.run_id, str(local_dir), artifact_path)

    def log_artifact(self, local_file: str | Path, artifact_path: str | None = None) -> None:
        self._client.log_artifact(self.run_id, str(local_file), artifact_path)


@contextmanager
def training_run(
    store: Store,
    run_name: str,
    *,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    nested: bool = False,
    parent_run_id: str | None = None,
) -> Iterator[RunLogger]:
    """Start a run in the store's experiment and yield a :class:`RunLogger` for it.

    The run ends FINISHED when the block completes, FAILED when it raises and KILLED on
    Ctrl-C, so an interrupted fit never looks like a finished one in the UI. ``nested``
    opens it as a child of the active run; ``parent_run_id`` as a child of that run (which
    may have finished already: a family's final fit under its tuning run).
    """
    store.activate()
    all_tags = {k: str(v) for k, v in (tags or {}).items()}
    if parent_run_id:
        all_tags[_PARENT_TAG] = parent_run_id
    # The fluent start_run adds MLflow's system tags (user, source, git commit).
    active = mlflow.start_run(
        experiment_id=store.experiment_id, run_name=run_name, nested=nested, tags=all_tags
    )
    logger = RunLogger(store.client(), active.info.run_id)
    status = RunStatus.FINISHED
    try:
        if params:
            logger.log_params(params)
        yield logger
    except KeyboardInterrupt:
        status = RunStatus.KILLED
        raise
    except BaseException:
        status = RunStatus.FAILED
        raise
    finally:
        mlflow.end_run(RunStatus.to_string(status))


class TrialRunLogger:
    """One tuning trial's child run. Everything but the run itself is buffered and written
    in one batch when the trial ends: three writes per trial, none per epoch."""

    def __init__(self, client: MlflowClient, run_id: str, params: Mapping[str, Any]) -> None:
        self._client = client
        self.run_id = run_id
        self._params = flatten_params(params)
        self._epochs: list[Metric] = []

    def log_epoch(self, epoch: int, metrics: Mapping[str, float]) -> None:
        self._epochs.extend(_as_metrics(metrics, step=int(epoch)))

    def finish(self, state: str, metrics: Mapping[str, float]) -> None:
        """Write the params, the epochs and ``metrics``, tag the trial's ``state``
        (COMPLETE, PRUNED or FAIL) and end the run (FAILED only for FAIL: a pruned trial
        ended as designed)."""
        batch = self._epochs + _as_metrics(metrics, step=0)
        chunks = [
            batch[i : i + _MAX_METRICS_PER_BATCH]
            for i in range(0, len(batch), _MAX_METRICS_PER_BATCH)
        ] or [[]]
        for i, chunk in enumerate(chunks):
            self._client.log_batch(
                self.run_id,
                metrics=chunk,
                params=[Param(k, v) for k, v in self._params.items()] if i == 0 else [],
                tags=[RunTag("trial_state", state)] if i == 0 else [],
            )
        status = RunStatus.FAILED if state == "FAIL" else RunStatus.FINISHED
        self._client.set_terminated(self.run_id, RunStatus.to_string(status))


def trial_runs(
    store: Store, parent_run_id: str, tags: Mapping[str, Any]
) -> Callable[[int, Mapping[str, Any]], TrialRunLogger]:
    """Opens one child run per tuning trial under ``parent_run_id`` (usable from any
    process: it goes through a client, not MLflow's process-wide active run)."""
    client = store.client()

    def open_trial(number: int, params: Mapping[str, Any]) -> TrialRunLogger:
        run = client.create_run(
            store.experiment_id,
            run_name=f"trial-{number}",
            tags={
                _PARENT_TAG: parent_run_id,
                "trial_number": str(number),
                **{k: str(v) for k, v in tags.items()},
            },
        )
        return TrialRunLogger(client, run.info.run_id, params)

    return open_trial


def log_metrics_to_run(store: Store, run_id: str, metrics: Mapping[str, float]) -> None:
    """Add metrics to an existing (usually finished) run, e.g. from the evaluate stage.

    Uses the client rather than resuming the run, so the run keeps its status and end time.
    """
    _log_metric_batch(store.client(), run_id, metrics, step=0)


def log_baseline_run(
    store: Store,
    name: str,
    params: Mapping[str, Any],
    metrics: Mapping[str, float],
    tags: Mapping[str, Any] | None = None,
) -> str:
    """Record a baseline's fit and scores as one finished run; returns its run id."""
    all_tags = {"family": BASELINE, **(tags or {})}
    with training_run(store, name, params=params, tags=all_tags) as run:
        run.log_metrics(metrics)
    return run.run_id


def flatten_params(params: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """``{"model": {"K": 2}}`` -> ``{"model.K": "2"}``: MLflow params are flat strings."""
    flat: dict[str, str] = {}
    for key, value in params.items():
        full = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten_params(value, prefix=f"{full}."))
        else:
            flat[full] = str(value)[:_MAX_PARAM_CHARS]
    return flat


def _log_param_batch(client: MlflowClient, run_id: str, params: Mapping[str, Any]) -> None:
    flat = flatten_params(params)
    if flat:
        client.log_batch(run_id, params=[Param(k, v) for k, v in flat.items()])


def _log_metric_batch(
    client: MlflowClient, run_id: str, metrics: Mapping[str, float], step: int
) -> None:
    if not metrics:
        return
    client.log_batch(run_id, metrics=_as_metrics(metrics, step=step))


def _as_metrics(metrics: Mapping[str, float], step: int) -> list[Metric]:
    """MLflow metric entities for ``metrics`` at ``step``, all stamped now."""
    timestamp = int(time.time() * 1000)
    # float() turns numpy and torch scalars into what MLflow's entities expect; the SQL
    # store itself maps NaN to a flag and clamps inf.
    return [Metric(key, float(value), timestamp, step) for key, value in metrics.items()]
