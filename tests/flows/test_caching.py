"""Caching and the family runners, read back from a real Prefect API: a second run of an
unchanged flow is all ``Cached``; a change re-runs only what depends on it; deleted outputs
are made again; the Dask runner trains both families to the same numbers."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pytest
import yaml
from prefect import tags
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterTags

from flows.pipeline import pipeline

pytestmark = pytest.mark.usefixtures("prefect_api")

STAGES = {
    "ingest",
    "validate",
    "prepare",
    "tune-token",
    "train-token",
    "tune-fragment",
    "train-fragment",
    "evaluate",
    "register",
}


def _run(params_path: Path, **kwargs) -> tuple[dict, dict[str, str]]:
    """Run the flow under a fresh tag; return its result and each task run's state name as
    the Prefect API recorded it."""
    tag = f"test-{uuid.uuid4().hex[:8]}"
    with tags(tag):
        result = pipeline(params_path=str(params_path), **kwargs)
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            task_run_filter=TaskRunFilter(tags=TaskRunFilterTags(all_=[tag]))
        )
    # The subflows appear as task runs of their parent too, named after the flow.
    subflows = {run.name.rsplit("-", 1)[0] for run in runs if run.name.startswith("tokfrag-")}
    assert subflows == {"tokfrag-validate", "tokfrag-fit", "tokfrag-decide"}
    states = {run.name: run.state.name for run in runs if not run.name.startswith("tokfrag-")}
    assert set(states) == STAGES, states  # each stage ran exactly once, in a tagged run
    return result, states


def _edit(params_path: Path, section: str, key: str, value) -> None:
    raw = yaml.safe_load(params_path.read_text())
    raw[section]["model"][key] = value
    params_path.write_text(yaml.safe_dump(raw, sort_keys=False))


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory, shrunk_params: dict, mirror: Path):
    root = tmp_path_factory.mktemp("cached")
    params_path = root / "params.yaml"
    params_path.write_text(yaml.safe_dump(shrunk_params, sort_keys=False))
    result, states = _run(params_path)
    return params_path, result, states


def test_first_run_computes_every_stage(first_run) -> None:
    _, _, states = first_run
    assert set(states.values()) == {"Completed"}


def test_second_run_is_cached_then_a_change_reruns_only_what_depends_on_it(first_run) -> None:
    params_path, result, _ = first_run
    root = params_path.parent

    again, states = _run(params_path)
    assert set(states.values()) == {"Cached"}
    assert again["metrics"] == result["metrics"]  # the persisted results, read back

    # The fragment model's section changes: DVC's declaration says only the fragment stages
    # and those after them read it.
    _edit(params_path, "fragment", "dropout", 0.1)
    _, states = _run(params_path)
    rerun = {name for name, state in states.items() if state != "Cached"}
    assert rerun == {"tune-fragment", "train-fragment", "evaluate", "register"}
    assert {states[name] for name in rerun} == {"Completed"}

    # A deleted output is not trusted to a cache entry: prepare runs again and writes the
    # same files, so the stages after it stay cached.
    shutil.rmtree(root / "outputs/chickenpox/prepared")
    _, states = _run(params_path)
    assert states["prepare"] == "Completed"
    assert (root / "outputs/chickenpox/prepared").is_dir()
    assert {s for name, s in states.items() if name != "prepare"} == {"Cached"}, states

    # force=True re-runs everything, as `dvc repro -f` does.
    _, states = _run(params_path, force=True)
    assert set(states.values()) == {"Completed"}


def test_cache_off_runs_every_stage(first_run, tmp_path: Path) -> None:
    params_path, _, _ = first_run
    raw = yaml.safe_load(params_path.read_text())
    raw["pipeline"]["cache"] = False
    copy = tmp_path / "params.yaml"
    copy.write_text(yaml.safe_dump(raw, sort_keys=False))
    shutil.copytree(params_path.parent / "outputs", tmp_path / "outputs")
    _, states = _run(copy)
    assert set(states.values()) == {"Completed"}


def test_dask_runner_trains_both_families_to_the_same_numbers(
    first_run, tmp_path: Path, shrunk_params: dict
) -> None:
    pytest.importorskip("prefect_dask", reason="pip install -e '.[dask]'")
    params_path, result, _ = first_run
    raw = yaml.safe_load(params_path.read_text())
    raw["fragment"]["model"]["dropout"] = shrunk_params["fragment"]["model"]["dropout"]
    raw["pipeline"].update(task_runner="dask", workers=2)
    dask_params = tmp_path / "params.yaml"
    dask_params.write_text(yaml.safe_dump(raw, sort_keys=False))

    by_dask, states = _run(dask_params)
    assert set(states.values()) == {"Completed"}
    for family in ("token", "fragment"):
        assert json.loads((tmp_path / f"outputs/chickenpox/tuning/{family}.json").read_text())
    by_process = result["metrics"]["models"]
    assert set(by_dask["metrics"]["models"]) == set(by_process)
    for model, entry in by_process.items():
        for key, value in entry.items():
            if key.startswith("test_"):
                tolerance = {"abs": 1e-8} if key.endswith("_std") else {}  # see test_dvc_pipeline
                got = by_dask["metrics"]["models"][model][key]
                assert got == pytest.approx(value, rel=1e-6, **tolerance), (model, key)
