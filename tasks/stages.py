"""Each pipeline stage as a Prefect task; the computation is `tokfrag.stages`, nothing else.

Every task is cached on what ``dvc.yaml`` says its stage reads (`tasks.caching`), plus its
own source, with its result persisted under ``outputs/.prefect/``; after a stage runs, its
task stamps the outputs so a later hit can be trusted. Stages that touch the network or the
registry retry with backoff; registration is idempotent, so a retry never adds a version.
"""

from __future__ import annotations

import os
from typing import Any

from prefect import task
from prefect.cache_policies import TASK_SOURCE

from tasks import caching
from tokfrag import stages
from tokfrag.config import Params

CACHED: dict[str, Any] = {
    "cache_policy": caching.StageInputs() + TASK_SOURCE,
    "persist_result": True,
    "result_serializer": "json",  # readable results, and nothing is unpickled on a hit
}
RETRIED: dict[str, Any] = {"retries": 2, "retry_delay_seconds": [2, 10]}


def _share_cores(params: Params) -> None:
    """In a worker that runs beside other families' workers, use its share of the cores:
    two processes each with all the cores' threads run several times slower."""
    if params.pipeline.task_runner != "sequential":
        import torch

        torch.set_num_threads(max(1, (os.cpu_count() or 1) // params.pipeline.workers))


@task(name="ingest", task_run_name="ingest", **RETRIED, **CACHED)
def ingest(params: Params, root: str) -> str:
    out = str(stages.ingest(params, root))
    caching.record(params, root, "ingest")
    return out


@task(name="validate", task_run_name="validate", **CACHED)
def validate(params: Params, root: str) -> dict[str, Any]:
    out = stages.validate(params, root).to_dict()
    caching.record(params, root, "validate")
    return out


@task(name="prepare", task_run_name="prepare", **CACHED)
def prepare(params: Params, root: str) -> str:
    out = str(stages.prepare(params, root))
    caching.record(params, root, "prepare")
    return out


@task(name="tune", task_run_name="tune-{family}", **CACHED)
def tune(params: Params, root: str, family: str) -> dict[str, Any]:
    _share_cores(params)
    out = stages.tune(params, root, family)
    caching.record(params, root, caching.stage_name("tune", family))
    return out


@task(name="train", task_run_name="train-{family}", **CACHED)
def train(params: Params, root: str, family: str) -> dict[str, Any]:
    _share_cores(params)
    out = stages.train(params, root, family)
    caching.record(params, root, caching.stage_name("train", family))
    return out


@task(name="evaluate", task_run_name="evaluate", **CACHED)
def evaluate(params: Params, root: str) -> dict[str, Any]:
    out = stages.evaluate(params, root)
    caching.record(params, root, "evaluate")
    return out


@task(name="register", task_run_name="register", **RETRIED, **CACHED)
def register(params: Params, root: str) -> dict[str, Any]:
    out = stages.register(params, root)
    caching.record(params, root, "register")
    return out
