"""The ``pipeline`` section: the Prefect task runner is checked on load."""

from __future__ import annotations

import pytest

from tokfrag.config import ParamsError, parse_params


def test_pipeline_runner_is_checked_on_load():
    with pytest.raises(ParamsError, match=r"pipeline\.task_runner"):
        parse_params({"pipeline": {"task_runner": "threads"}})
    with pytest.raises(ParamsError, match=r"dask_address is set but task_runner is 'process'"):
        parse_params({"pipeline": {"dask_address": "tcp://10.0.0.5:8786"}})
    with pytest.raises(ParamsError, match=r"pipeline\.workers"):
        parse_params({"pipeline": {"workers": 0}})
    remote = parse_params({"pipeline": {"task_runner": "dask", "dask_address": "tcp://h:8786"}})
    assert remote.pipeline.dask_address == "tcp://h:8786"
