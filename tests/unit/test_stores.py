"""The locks in tokfrag.stores, between real processes: one writer per project folder, and
one registration round at a time per SQLite registry."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tokfrag.stores import PROJECT_LOCK, ProjectBusy, project_lock

TOKFRAG = [sys.executable, "-m", "tokfrag.cli"]

# Hold the project lock (as `tokfrag <command>` would) until killed; say so on stdout.
HOLDER = """
import sys, time
from tokfrag.stores import project_lock
with project_lock(sys.argv[1], "train token"):
    print("held", flush=True)
    time.sleep(600)
"""


def _hold(root: Path) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(root)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def test_a_second_writer_stops_with_the_holders_name(tmp_path: Path) -> None:
    holder = _hold(tmp_path)
    try:
        with pytest.raises(ProjectBusy) as busy, project_lock(tmp_path, "ingest"):
            pass
        message = str(busy.value)
        assert str(tmp_path.resolve()) in message
        assert f"pid {holder.pid}" in message and "`tokfrag train token`" in message
        assert "wait for it to finish" in message
    finally:
        holder.send_signal(signal.SIGKILL)  # the kernel drops an flock with its holder
        holder.wait()
    with project_lock(tmp_path, "ingest"):  # free again at once, nothing stale
        assert "`tokfrag ingest`" in (tmp_path / PROJECT_LOCK).read_text()
    assert (tmp_path / PROJECT_LOCK).read_text() == ""  # cleared on release


def test_the_holder_and_its_children_pass_through(tmp_path: Path) -> None:
    with project_lock(tmp_path, "run"):
        with project_lock(tmp_path, "run (subflow)"):  # a subflow in the same process
            pass
        # A process started under the hold (a flow's worker, a stage of a held run).
        child = subprocess.run(
            [sys.executable, "-c", HOLDER.replace("time.sleep(600)", "pass"), str(tmp_path)],
            capture_output=True,
            text=True,
        )
        assert child.returncode == 0 and child.stdout.strip() == "held", child.stderr
    assert "TOKFRAG_PROJECT_LOCK" not in os.environ


def test_the_cli_refuses_to_write_into_a_busy_project(project: Path) -> None:
    """`tokfrag ingest` while another command holds the folder: a clean error, no traceback,
    nothing written."""
    root = project.parent
    holder = _hold(root)
    try:
        result = subprocess.run(
            [*TOKFRAG, "ingest"], cwd=root, capture_output=True, text=True, env=dict(os.environ)
        )
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 1, result.stderr
    assert result.stderr.lstrip().startswith("error:") and "Traceback" not in result.stderr
    assert "another tokfrag command is writing into" in result.stderr
    assert not (root / "data").exists()


REGISTRAR = """
import sys, time
from pathlib import Path
from tokfrag.stores import registry_lock
log = Path(sys.argv[2])
with registry_lock(sys.argv[1]):
    with log.open("a") as out:
        out.write(f"{sys.argv[3]} in\\n")
    time.sleep(float(sys.argv[4]))
    with log.open("a") as out:
        out.write(f"{sys.argv[3]} out\\n")
"""


def test_registration_rounds_on_one_sqlite_registry_take_turns(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'mlruns.db'}"
    log = tmp_path / "log"

    def start(name: str, hold: float) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-c", REGISTRAR, uri, str(log), name, str(hold)])

    first = start("a", 2.0)
    deadline = time.monotonic() + 60
    while not (log.exists() and log.read_text().startswith("a in")):
        assert time.monotonic() < deadline and first.poll() is None
        time.sleep(0.02)
    second = start("b", 0.0)
    assert first.wait(60) == 0 and second.wait(60) == 0
    # Never interleaved: b entered only after a left.
    assert log.read_text().splitlines() == ["a in", "a out", "b in", "b out"]
