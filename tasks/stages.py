"""Each pipeline stage as a Prefect task; the computation is `tokfrag.stages`, nothing else.

Caching is off for now (every flow run recomputes, like a forced `dvc repro`); I/O-bound
stages that touch the network or the registry retry.
"""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from tokfrag import stages
from tokfrag.config import Params


@task(name="ingest", retries=2, retry_delay_seconds=[2, 10], cache_policy=NO_CACHE)
def ingest(params: Params, root: str) -> str:
    return str(stages.ingest(params, root))


@task(name="validate", cache_policy=NO_CACHE)
def validate(params: Params, root: str) -> dict[str, Any]:
    return stages.validate(params, root).to_dict()


@task(name="prepare", cache_policy=NO_CACHE)
def prepare(params: Params, root: str) -> str:
    return str(stages.prepare(params, root))


@task(name="tune", cache_policy=NO_CACHE, task_run_name="tune-{family}")
def tune(params: Params, root: str, family: str) -> dict[str, Any]:
    return stages.tune(params, root, family)


@task(name="train", cache_policy=NO_CACHE, task_run_name="train-{family}")
def train(params: Params, root: str, family: str) -> dict[str, Any]:
    return stages.train(params, root, family)


@task(name="evaluate", cache_policy=NO_CACHE)
def evaluate(params: Params, root: str) -> dict[str, Any]:
    return stages.evaluate(params, root)


# Registration is idempotent (a version per training run), so a retry never duplicates one.
@task(name="register", retries=2, retry_delay_seconds=[2, 10], cache_policy=NO_CACHE)
def register(params: Params, root: str) -> dict[str, Any]:
    return stages.register(params, root)
