"""The task runner that runs the families, from ``pipeline`` in params.yaml."""

from __future__ import annotations

from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner, ThreadPoolTaskRunner

from tokfrag.config import PipelineConfig


def family_runner(config: PipelineConfig) -> TaskRunner:
    """``process``: a pool of ``workers`` processes; ``dask``: a Dask cluster (a local one
    on 127.0.0.1 with ``workers`` single-threaded worker processes, or the scheduler at
    ``dask_address``); ``sequential``: one task at a time beside the flow."""
    if config.task_runner == "sequential":
        return ThreadPoolTaskRunner(max_workers=1)
    if config.task_runner == "process":
        return ProcessPoolTaskRunner(max_workers=config.workers)
    try:
        from prefect_dask import DaskTaskRunner
    except ImportError as err:
        raise RuntimeError(
            "params.yaml pipeline.task_runner is 'dask' but prefect-dask is not installed; "
            "pip install -e '.[dask]' (or set task_runner: process)"
        ) from err
    if config.dask_address:
        return DaskTaskRunner(address=config.dask_address)
    return DaskTaskRunner(
        cluster_kwargs={
            "n_workers": config.workers,
            "threads_per_worker": 1,  # one task per worker process: torch's RNG is per process
            "processes": True,
            "host": "127.0.0.1",
            "dashboard_address": None,
        }
    )
