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
