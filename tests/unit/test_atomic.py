"""Atomic writes: the previous output or the new one, never half of one, with ordinary modes."""

from __future__ import annotations

import json
import os
import stat

import pytest

from tokfrag.atomic import staged_dir, write_json, write_text


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_write_text_replaces_and_leaves_no_temp_files(tmp_path):
    path = tmp_path / "out" / "a.txt"
    write_text(path, "first\n")
    assert path.read_text() == "first\n"
    write_text(path, "second\n")
    assert path.read_text() == "second\n"
    assert sorted(p.name for p in path.parent.iterdir()) == ["a.txt"]


def test_write_text_failure_keeps_previous_file(tmp_path):
    path = tmp_path / "a.txt"
    write_text(path, "good\n")
    with pytest.raises(TypeError):
        write_text(path, 123)  # type: ignore[arg-type]
    assert path.read_text() == "good\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_write_json_round_trip(tmp_path):
    payload = {"b": [1, 2.5], "a": {"x": None}}
    path = write_json(tmp_path / "m.json", payload)
    assert json.loads(path.read_text()) == payload
    assert path.read_text().endswith("\n")


def test_file_and_folder_modes_are_not_private(tmp_path):
    path = write_text(tmp_path / "a.txt", "x")
    assert _mode(path) == 0o666 & ~_umask()
    assert _mode(path) != 0o600
    with staged_dir(tmp_path / "folder") as staging:
        (staging / "f").write_text("y")
    assert _mode(tmp_path / "folder") == 0o777 & ~_umask()
    assert _mode(tmp_path / "folder") != 0o700


def test_staged_dir_replaces_on_success(tmp_path):
    final = tmp_path / "out"
    final.mkdir()
    (final / "old.txt").write_text("old")
    with staged_dir(final) as staging:
        assert staging != final and staging.parent == final.parent
        assert list(staging.iterdir()) == []
        (staging / "new.txt").write_text("new")
        assert (final / "old.txt").read_text() == "old"  # untouched until the block ends
    assert sorted(p.name for p in final.iterdir()) == ["new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_staged_dir_keeps_previous_folder_when_block_raises(tmp_path):
    final = tmp_path / "out"
    final.mkdir()
    (final / "old.txt").write_text("old")
    with pytest.raises(RuntimeError, match="boom"):
        with staged_dir(final) as staging:
            (staging / "half.txt").write_text("half")
            raise RuntimeError("boom")
    assert sorted(p.name for p in final.iterdir()) == ["old.txt"]
    assert (final / "old.txt").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # staging removed


def test_staged_dir_creates_new_folder_and_parents(tmp_path):
    final = tmp_path / "a" / "b" / "out"
    with staged_dir(final) as staging:
        (staging / "f.txt").write_text("f")
    assert (final / "f.txt").read_text() == "f"
    with pytest.raises(ValueError):
        with staged_dir(tmp_path / "a" / "never") as staging:
            raise ValueError
    assert not (tmp_path / "a" / "never").exists()
    assert sorted(p.name for p in (tmp_path / "a" / "b").iterdir()) == ["out"]


# A child process that stages a new version of an output and is SIGKILLed at a chosen point:
# "staging" (inside the block), "between" (after the old folder is moved aside, before the
# new one is moved in) or "replace" (write_text, before its temporary file is renamed).
KILLED_WRITER = """
import os, signal, sys
from pathlib import Path
import tokfrag.atomic as atomic

where, target = sys.argv[1], Path(sys.argv[2])
die = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)
if where == "replace":
    atomic.os.replace = die
    atomic.write_text(target, "half")
real_rename = Path.rename
def rename(self, to):
    out = real_rename(self, to)
    if where == "between" and Path(to).name.endswith(".old"):
        die()
    return out
Path.rename = rename
with atomic.staged_dir(target) as staging:
    (staging / "new.txt").write_text("new")
    if where == "staging":
        die()
"""


def _killed_writer(where: str, target) -> None:
    import signal
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", KILLED_WRITER, where, str(target)])
    assert done.returncode == -signal.SIGKILL


def _old_output(tmp_path):
    final = tmp_path / "out"
    with staged_dir(final) as staging:
        (staging / "old.txt").write_text("old")
    return final


def test_a_writer_killed_while_staging_leaves_the_output_and_its_leftovers_are_swept(tmp_path):
    final = _old_output(tmp_path)
    _killed_writer("staging", final)
    assert sorted(p.name for p in final.iterdir()) == ["old.txt"]  # untouched
    left = [p.name for p in tmp_path.iterdir() if p.name != "out"]
    assert len(left) == 1 and left[0].startswith(".out.")  # the dead writer's staging
    with staged_dir(final) as staging:  # the next write sweeps it
        (staging / "next.txt").write_text("next")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert sorted(p.name for p in final.iterdir()) == ["next.txt"]


def test_a_writer_killed_between_the_two_renames_is_undone_on_start(tmp_path):
    from tokfrag.atomic import recover_tree

    final = _old_output(tmp_path)
    _killed_writer("between", final)
    assert not final.exists() and (tmp_path / ".out.old" / "old.txt").is_file()
    assert recover_tree(tmp_path) == [final]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert (final / "old.txt").read_text() == "old"  # the last good output is back


def test_a_write_killed_before_its_rename_leaves_the_file_and_is_swept(tmp_path):
    path = write_text(tmp_path / "a.txt", "good\n")
    _killed_writer("replace", path)
    assert path.read_text() == "good\n"
    assert len(list(tmp_path.iterdir())) == 2  # a.txt and the dead writer's temporary file
    write_text(path, "next\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_a_live_writers_staging_is_left_alone(tmp_path):
    from tokfrag.atomic import recover_tree

    final = _old_output(tmp_path)
    with staged_dir(final) as staging:  # this process is alive: its staging is not stale
        (staging / "f").write_text("x")
        assert recover_tree(tmp_path) == []
        assert staging.is_dir()
    assert (final / "f").read_text() == "x"


def test_files_and_folders_are_flushed_before_the_rename(tmp_path, monkeypatch):
    import tokfrag.atomic as atomic

    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        kind = "dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"
        events.append(kind)
        real_fsync(fd)

    def replace(a, b) -> None:
        events.append("replace")
        real_replace(a, b)

    monkeypatch.setattr(atomic.os, "fsync", fsync)
    monkeypatch.setattr(atomic.os, "replace", replace)
    write_text(tmp_path / "a.txt", "x")
    assert events == ["file", "replace", "dir"]
    events.clear()
    with staged_dir(tmp_path / "out") as staging:
        (staging / "f").write_text("y")
    assert events[:2] == ["file", "dir"] and events[-1] == "dir"
