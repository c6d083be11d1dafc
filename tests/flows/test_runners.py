"""params.yaml's pipeline section picks the task runner that runs the two families."""

from __future__ import annotations

import pytest
from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner

from flows.runners import family_runner
from tokfrag.config import PipelineConfig


def test_process_runner_has_the_configured_workers() -> None:
    runner = family_runner(PipelineConfig(task_runner="process", workers=3))
    assert isinstance(runner, ProcessPoolTaskRunner)
    assert runner._max_workers == 3


def test_sequential_runs_one_task_at_a_time() -> None:
    runner = family_runner(PipelineConfig(task_runner="sequential"))
    assert isinstance(runner, ThreadPoolTaskRunner)
    assert runner._max_workers == 1


def test_dask_runner_local_on_loopback_or_remote() -> None:
    prefect_dask = pytest.importorskip("prefect_dask", reason="pip install -e '.[dask]'")
    local = family_runner(PipelineConfig(task_runner="dask", workers=2))
    assert isinstance(local, prefect_dask.DaskTaskRunner)
    assert local.cluster_kwargs["host"] == "127.0.0.1"
    assert local.cluster_kwargs["n_workers"] == 2
    assert local.cluster_kwargs["threads_per_worker"] == 1
    remote = family_runner(PipelineConfig(task_runner="dask", dask_address="tcp://h:8786"))
    assert remote.address == "tcp://h:8786"
