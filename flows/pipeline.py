"""The pipeline flow: the same stages as `dvc.yaml`, as subflows a person can follow in the
Prefect UI.

``tokfrag-pipeline`` (one dataset)
  ├─ ``tokfrag-validate``  ingest -> validate (a failed gate stops everything here)
  ├─ prepare
  ├─ ``tokfrag-fit``       tune -> train, for token and fragment at the same time on the
  │                        task runner chosen by ``pipeline.task_runner``
  └─ ``tokfrag-decide``    evaluate (scores, verdict, report) -> register

Every stage is cached (`tasks.caching`): a second run of an unchanged flow finds each task
``Cached``; a change re-runs the stages that depend on it. ``force=True`` re-runs them all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import Task, flow
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from flows.runners import family_runner
from tasks import caching
from tasks import stages as t
from tokfrag.config import Params, load_params
from tokfrag.families import FAMILIES
from tokfrag.stores import project_lock


def _load(params_path: str, dataset: str | None) -> tuple[Params, str]:
    params = load_params(params_path)
    if dataset is not None:
        params = params.with_overrides({"data.dataset": dataset})
    return params, str(Path(params_path).resolve().parent)


def _stage(task: Task, params: Params, root: str, force: bool, family: str | None = None):
    """The task with this project's cache: results under ``outputs/.prefect``, and a fresh
    run (which refreshes the cache entry) when its outputs are not what it last wrote."""
    if not params.pipeline.cache:
        return task.with_options(cache_policy=NO_CACHE, persist_result=False)
    stale = force or not caching.outputs_current(
        params, root, caching.stage_name(task.name, family)
    )
    return task.with_options(result_storage=caching.results_dir(root), refresh_cache=stale)


def _fit_runner(params: Params, root: str, force: bool) -> Any:  # a prefect TaskRunner
    """The configured runner; but when every family stage will be a cache hit, one thread
    in this process (starting worker processes costs seconds and would compute nothing)."""
    stale = force or not all(
        caching.outputs_current(params, root, caching.stage_name(stage, family))
        for stage in ("tune", "train")
        for family in FAMILIES
    )
    if stale or not params.pipeline.cache:
        return family_runner(params.pipeline)
    return ThreadPoolTaskRunner(max_workers=1)


@flow(name="tokfrag-validate", log_prints=True)
def validate_data(
    params_path: str = "params.yaml", dataset: str | None = None, force: bool = False
) -> dict:
    """ingest -> validate: fetch the dataset (checksums checked) and run the gate. A failed
    gate fails the flow run, with the failed expectations in its logs."""
    params, root = _load(params_path, dataset)
    with project_lock(root, "run (flow tokfrag-validate)"):
        _stage(t.ingest, params, root, force)(params, root)
        return _stage(t.validate, params, root, force)(params, root)


@flow(name="tokfrag-fit", log_prints=True)
def fit_families(
    params_path: str = "params.yaml", dataset: str | None = None, force: bool = False
) -> dict[str, dict[str, Any]]:
    """tune -> train for each family, the families side by side on this flow's task runner
    (the pipeline sets it from ``pipeline.task_runner``)."""
    params, root = _load(params_path, dataset)
    with project_lock(root, "run (flow tokfrag-fit)"):
        trained = {}
        for family in FAMILIES:
            tuned = _stage(t.tune, params, root, force, family).submit(params, root, family)
            trained[family] = _stage(t.train, params, root, force, family).submit(
                params, root, family, wait_for=[tuned]
            )
        return {family: future.result() for family, future in trained.items()}


@flow(name="tokfrag-decide", log_prints=True)
def decide(
    params_path: str = "params.yaml", dataset: str | None = None, force: bool = False
) -> dict[str, Any]:
    """evaluate (every model on the same test items, the verdict, the report) -> register
    (the winner becomes champion only if it beats the current one)."""
    params, root = _load(params_path, dataset)
    with project_lock(root, "run (flow tokfrag-decide)"):
        metrics = _stage(t.evaluate, params, root, force)(params, root)
        registration = _stage(t.register, params, root, force)(params, root)
        return {"metrics": metrics, "registration": registration}


@flow(name="tokfrag-pipeline", log_prints=True)
def pipeline(
    params_path: str = "params.yaml", dataset: str | None = None, force: bool = False
) -> dict[str, Any]:
    """The whole pipeline for one dataset (``dataset`` overrides ``data.dataset``).

    A failed validation raises inside the ``validate`` task, so the flow run fails before any
    training and nothing is registered.
    """
    params, root = _load(params_path, dataset)
    # One run at a time per project folder (the subflows inherit the hold).
    with project_lock(root, "run (flow tokfrag-pipeline)"):
        validate_data(params_path, dataset, force)
        _stage(t.prepare, params, root, force)(params, root)
        fit_families.with_options(task_runner=_fit_runner(params, root, force))(
            params_path, dataset, force
        )
        return decide(params_path, dataset, force)
