"""bench/speed.py and bench/speed_probes.py: the label merge of speed.json and the file it
writes, the process-tree memory sampler on a real process tree, and the first-complete-trial
poller on a real SQLite Optuna study."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import optuna
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))  # the bench scripts import each other by name

import speed  # noqa: E402
import speed_probes  # noqa: E402
from records import Record, read_records, record  # noqa: E402

MB = 2**20


def _rec(label: str, model: str, metric: str, value: float) -> Record:
    return record("chickenpox", "p", model, "speed", metric, value, variant=label)


def test_merge_keeps_the_other_label_and_replaces_its_own() -> None:
    before = [_rec("before", "make_run", "wall_seconds", 100.0)]
    after_1 = [_rec("after", "make_run", "wall_seconds", 80.0)]
    merged = speed.merge_records(before, after_1, "after")
    assert merged == before + after_1

    after_2 = [_rec("after", "make_run", "wall_seconds", 70.0)]
    merged = speed.merge_records(merged, after_2, "after")
    assert [(r.get("variant"), r.value) for r in merged] == [("before", 100.0), ("after", 70.0)]


def test_merge_after_only_keeps_the_labels_other_measurements() -> None:
    old = [
        _rec("before", "cli_import", "cli_import_seconds", 2.0),
        _rec("before", "make_run", "wall_seconds", 100.0),
    ]
    new = [_rec("before", "cli_import", "cli_import_seconds", 1.0)]
    merged = speed.merge_records(old, new, "before")
    assert {(r.model, r.value) for r in merged} == {("make_run", 100.0), ("cli_import", 1.0)}


def test_write_speed_keeps_the_other_labels_records_and_run(tmp_path: Path) -> None:
    out = tmp_path / "speed.json"
    params = {"data": {"dataset": "chickenpox"}}
    before = [_rec("before", "make_run", "wall_seconds", 100.0)]
    speed.write_speed(out, before, "before", params)
    after = [_rec("after", "make_run", "wall_seconds", 80.0)]
    assert speed.write_speed(out, after, "after", params) == out

    data = json.loads(out.read_text())
    assert list(data) == ["created", "command", "machine", "params", "runs", "records"]
    assert list(data["runs"]) == ["before", "after"]
    assert data["runs"]["after"]["params"] == params
    assert data["records"] == [r.to_json() for r in before + after]
    assert read_records(out) == before + after


# A parent that starts a child which holds ~200 MB of touched pages for a moment.
CHILD = "import time; b = b'x' * (200 << 20); time.sleep(1.5)"
PARENT = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {CHILD!r}], check=True)"


def test_tree_memory_sums_the_descendants() -> None:
    proc = subprocess.Popen([sys.executable, "-c", PARENT])
    with speed_probes.TreeMemory(proc.pid, interval=0.05) as memory:
        assert proc.wait(timeout=30) == 0
    assert memory.samples > 5
    assert memory.peak_single >= 200 * MB  # the child, not the parent
    assert "python" in memory.peak_single_name
    assert memory.peak_total > memory.peak_single  # the parent's RSS is added on top


def test_tree_memory_of_a_finished_process_reads_nothing() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    memory = speed_probes.TreeMemory(proc.pid)
    memory.sample()
    assert (memory.samples, memory.peak_total) == (0, 0)


def test_first_complete_trial_in_a_real_optuna_study(tmp_path: Path) -> None:
    db = tmp_path / "optuna.db"
    assert not speed_probes.optuna_trial_complete(db)  # no file yet
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(storage=f"sqlite:///{db}", study_name="s")
    assert not speed_probes.optuna_trial_complete(db)  # tables, no trial

    def pruned(trial: optuna.Trial) -> float:
        raise optuna.TrialPruned

    study.optimize(pruned, n_trials=1)
    assert not speed_probes.optuna_trial_complete(db)  # pruned is not complete

    started = time.perf_counter()
    done = threading.Event()

    def later() -> None:
        time.sleep(0.6)
        study.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=1)
        done.set()

    worker = threading.Thread(target=later)
    probes = {"first_trial": lambda: speed_probes.optuna_trial_complete(db)}
    with speed_probes.Milestones(probes, started, interval=0.05) as seen:
        worker.start()
        assert done.wait(timeout=15)
        worker.join()
    assert speed_probes.optuna_trial_complete(db)
    assert 0.6 <= seen.seconds["first_trial"] < 5.0
    assert db.stat().st_size > 0


def test_milestone_never_reached_is_absent() -> None:
    with speed_probes.Milestones({"never": lambda: False}, time.perf_counter(), 0.01) as seen:
        time.sleep(0.05)
    assert seen.seconds == {}


def test_import_top_sums_self_time_per_package() -> None:
    stderr = "\n".join(
        [
            "import time: self [us] | cumulative | imported package",
            "import time:      2000 |       2000 |     rich.console",
            "import time:      1000 |       3000 |   rich",
            "import time:      1500 |       1500 | typer",
        ]
    )
    assert speed_probes.import_top(stderr, 2) == [("rich", 3.0), ("typer", 1.5)]


def test_own_time_takes_the_leaf_of_each_sample() -> None:
    frames = [
        {"name": 'process 1:"dvc repro"', "file": None},
        {"name": "main", "file": "/a/tokfrag/cli.py"},
        {"name": "fit", "file": "/a/tokfrag/train/loop.py"},
    ]
    profiles = [
        {"samples": [[0, 1, 2], [0, 1, 2], [0, 1]], "weights": [0.02, 0.02, 0.02]},
        {"samples": [[0]], "weights": [0.02]},
    ]
    top = speed_probes.own_time({"shared": {"frames": frames}, "profiles": profiles})
    assert top[0] == ("fit (train/loop.py)", pytest.approx(0.04))
    assert {name for name, _ in top} == {
        "fit (train/loop.py)",
        "main (tokfrag/cli.py)",
        '(no Python frame) process 1:"dvc repro"',
    }
