"""The one record type of bench/results/*.json (bench/records.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))  # the bench scripts import each other by name

from records import FIELDS, Record, load_results, read_records, record, seed_record, write_result  # noqa: E402

COMMITTED = sorted((BENCH / "results").glob("*.json"))


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.name)
def test_every_committed_result_round_trips(path: Path) -> None:
    raw = json.loads(path.read_text())["records"]
    assert [r.to_json() for r in read_records(path)] == raw
    # key order too: the fixed fields first, then the suite's own keys as written
    assert [list(r.to_json()) for r in read_records(path)] == [list(r) for r in raw]


def test_extra_keys_are_reachable_by_name_and_fixed_fields_win() -> None:
    r = record("chickenpox", "p", "token", "token", "test_mse", 0.5, note="n", horizon=3)
    assert r.get("note") == "n" and r.get("horizon") == 3 and r.get("metric") == "test_mse"
    assert r.get("std") is None and r.get("std", 0.0) == 0.0 and r.get("absent", "x") == "x"
    assert list(r.to_json())[: len(FIELDS)] == list(FIELDS)


def test_seed_record_mean_and_sample_std() -> None:
    r = seed_record("d", "p", "m", "token", "test_mse", [1.0, 2.0, 3.0], [10.0, 20.0, 30.0])
    assert (r.value, r.std, r.n_seeds, r.seconds) == (2.0, 1.0, 3, 20.0)
    one = seed_record("d", "p", "m", "token", "test_mse", [1.5], [4.0])
    assert (one.value, one.std, one.n_seeds) == (1.5, 0.0, 1)


def test_a_record_missing_a_field_names_it() -> None:
    with pytest.raises(ValueError, match="metric"):
        Record.from_json({"dataset": "d", "protocol": "p", "model": "m", "family": "f"})


def test_written_file_reads_back_and_quick_file_is_superseded(tmp_path: Path) -> None:
    rs = [record("d", "p", "m", "token", "test_mse", 0.25, 0.01, 3, 1.0, note="x")]
    machine = {"cpus": 2}
    write_result(tmp_path / "suite.json", rs, {"a": 1}, "python bench/suite.py", machine)
    write_result(tmp_path / "suite-quick.json", rs, {}, "q", machine, quick=True)
    files = {f.name: f for f in load_results(tmp_path)}
    assert files["suite.json"].records == rs and files["suite.json"].superseded_by is None
    assert (
        files["suite-quick.json"].quick and files["suite-quick.json"].superseded_by == "suite.json"
    )
    assert files["suite.json"].data["params"] == {"a": 1}
    assert read_records(tmp_path / "absent.json") == []
