"""The cache keys follow dvc.yaml: what a stage declares it reads changes its key, and
nothing else does; outputs are trusted only while they match the stamp."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tasks import caching
from tokfrag.config import parse_params

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project with its own copy of dvc.yaml and a fake fetched dataset and outputs."""
    (tmp_path / "dvc.yaml").write_text((REPO / "dvc.yaml").read_text())
    data = tmp_path / "data/chickenpox"
    data.mkdir(parents=True)
    (data / "values.parquet").write_bytes(b"snapshot 1")
    (tmp_path / "outputs/chickenpox").mkdir(parents=True)
    (tmp_path / "outputs/chickenpox/validation.json").write_text("{}")
    return tmp_path


def test_stage_spec_reads_dvc_yaml_with_the_dataset_filled_in(project: Path) -> None:
    spec = caching.stage_spec(project, "evaluate", "mr")
    raw = yaml.safe_load((project / "dvc.yaml").read_text())["stages"]["evaluate"]
    assert spec.params == tuple(raw["params"])
    assert "data/mr" in spec.deps and "tokfrag/report" in spec.deps
    # outs and metrics are both outputs, whether written as a path or a mapping
    assert set(spec.outs) == {
        "outputs/mr/metrics.json",
        "outputs/mr/item_scores.npz",
        "outputs/mr/models/baseline",
        "reports/mr",
    }


def test_an_unknown_stage_is_an_error_that_names_the_file(project: Path) -> None:
    with pytest.raises(KeyError, match=r"dvc.yaml: no stage 'tune_spectral'"):
        caching.stage_spec(project, "tune_spectral", "chickenpox")


def test_stage_names_add_the_family() -> None:
    assert caching.stage_name("tune", "token") == "tune_token"
    assert caching.stage_name("prepare", None) == "prepare"


def test_tree_digest_follows_names_and_content(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d/a.txt").write_text("one")
    first = caching.tree_digest(tmp_path, ["d"])
    assert caching.tree_digest(tmp_path, ["d"]) == first
    (tmp_path / "d/a.txt").write_text("two")
    changed = caching.tree_digest(tmp_path, ["d"])
    assert changed != first
    (tmp_path / "d/a.txt").rename(tmp_path / "d/b.txt")
    assert caching.tree_digest(tmp_path, ["d"]) != changed
    (tmp_path / "d/__pycache__").mkdir()
    (tmp_path / "d/__pycache__/b.cpython-311.pyc").write_bytes(b"\0")
    renamed = caching.tree_digest(tmp_path, ["d"])
    (tmp_path / "d/__pycache__/b.cpython-311.pyc").write_bytes(b"\1")
    assert caching.tree_digest(tmp_path, ["d"]) == renamed  # bytecode is not source
    assert caching.tree_digest(tmp_path, ["gone"]) != caching.tree_digest(tmp_path, ["d"])


def test_the_key_changes_with_declared_params_and_data_only(project: Path) -> None:
    params = parse_params({})
    spec = caching.stage_spec(project, "prepare", "chickenpox")
    key = caching.inputs_key(spec, params, project)
    assert key.startswith("prepare-")
    # prepare reads `data` and `split`, not `fragment`
    assert caching.inputs_key(spec, params.with_overrides({"fragment.model.K": 3}), project) == key
    assert caching.inputs_key(spec, params.with_overrides({"split.lags": 6}), project) != key
    (project / "data/chickenpox/values.parquet").write_bytes(b"snapshot 2")
    assert caching.inputs_key(spec, params, project) != key


def test_outputs_are_current_only_while_they_match_the_stamp(project: Path) -> None:
    params = parse_params({})
    assert not caching.outputs_current(params, project, "validate")  # never stamped
    caching.record(params, project, "validate")
    assert caching.outputs_current(params, project, "validate")
    (project / "outputs/chickenpox/validation.json").write_text('{"edited": true}')
    assert not caching.outputs_current(params, project, "validate")
    caching.record(params, project, "validate")
    (project / "outputs/chickenpox/validation.json").unlink()
    assert not caching.outputs_current(params, project, "validate")
    caching.record(params, project, "validate")
    (project / "data/chickenpox/values.parquet").write_bytes(b"new data")
    assert not caching.outputs_current(params, project, "validate")  # inputs moved on


def test_without_any_dvc_yaml_nothing_is_cached(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(caching, "_PACKAGE_ROOT", tmp_path / "elsewhere")
    assert caching.pipeline_file(tmp_path) is None
    assert caching.stage_spec(tmp_path, "prepare", "chickenpox") is None
    assert not caching.outputs_current(parse_params({}), tmp_path, "prepare")


def test_ingest_key_follows_your_own_file_wherever_it_is(project: Path, tmp_path: Path) -> None:
    readings = tmp_path / "elsewhere" / "readings.csv"
    readings.parent.mkdir()
    readings.write_text("t,a,b\n0,1.0,2.0\n")
    params = parse_params(
        {
            "data": {
                "dataset": "my_sensors",
                "source": {"kind": "series", "path": str(readings), "time": "t"},
            }
        }
    )
    spec = caching.stage_spec(project, "ingest", "my_sensors")
    key = caching.inputs_key(spec, params, project)
    readings.write_text("t,a,b\n0,1.0,2.5\n")  # edited in place, outside inputs/
    assert caching.inputs_key(spec, params, project) != key
