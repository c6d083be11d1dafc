"""Atomic outputs: readers see the previous file or folder, or the new one, never half of one.

Everything tokfrag writes goes to a temporary sibling first, is flushed to disk (the file,
then its folder) and renamed into place, so a failed, killed or powered-off stage leaves the
last good output untouched.

A temporary sibling's name carries its writer's process id (``.<name>.<pid>.<random>``), so
what a killed writer left behind can be told from a live writer's work: the next write of
the same output (or :func:`recover_tree`) removes it. A folder is replaced by two renames
(the old one aside to ``.<name>.old``, the new one into place); a kill between them leaves
only ``.<name>.old``, and the next write of that output or :func:`recover_tree` puts it back.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_UMASK = os.umask(0)
os.umask(_UMASK)
_STAGED = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[^.]+$")  # .<name>.<pid>.<random>


def write_bytes(path: Path, data: bytes) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _sweep(path)
    fd, tmp = tempfile.mkstemp(prefix=_prefix(path), dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; outputs are ordinary files
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text(path: Path, text: str) -> Path:
    if not isinstance(text, str):
        raise TypeError(f"write_text({path}): expected str, got {type(text).__name__}")
    return write_bytes(path, text.encode("utf-8"))


def write_json(path: Path, payload: Any) -> Path:
    return write_text(path, json.dumps(payload, indent=2, sort_keys=True) + "\n")


@contextmanager
def staged_dir(final: Path) -> Iterator[Path]:
    """Yield an empty staging folder beside ``final``; when the block succeeds it replaces
    ``final``; when it raises, ``final`` is left as it was. A previous writer's leftovers
    (a staging folder of a dead process, a ``.old`` folder) are dealt with first."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    recover(final)
    staging = Path(tempfile.mkdtemp(prefix=_prefix(final), dir=final.parent))
    os.chmod(staging, 0o777 & ~_UMASK)  # mkdtemp makes 0700; outputs are ordinary folders
    retired = _retired(final)
    try:
        yield staging
        _fsync_tree(staging)
        # Two renames, not delete-then-rename: at no moment is the only good copy gone, and
        # the window in which `final` is absent is one rename long.
        if final.exists():
            final.rename(retired)
        staging.rename(final)
        _fsync_dir(final.parent)
        shutil.rmtree(retired, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def recover(final: Path) -> None:
    """Undo what a killed writer of ``final`` left: restore ``final`` from ``.<name>.old``
    when the kill fell between the two renames, drop a ``.old`` that is no longer needed,
    and remove the staging folders and temporary files of writers that are not running."""
    final = Path(final)
    retired = _retired(final)
    if retired.is_dir():
        if final.exists():
            shutil.rmtree(retired, ignore_errors=True)
        else:
            retired.rename(final)
    _sweep(final)


def recover_tree(root: Path) -> list[Path]:
    """:func:`recover` every output under ``root`` that shows a killed writer's traces;
    returns the outputs it touched. Call it only where no other process writes under
    ``root`` (tokfrag's commands hold the project lock)."""
    root = Path(root)
    if not root.is_dir():
        return []
    touched = set()
    for folder, dirs, files in os.walk(root):
        for entry in (*dirs, *files):
            if entry.endswith(".old") and entry.startswith("."):
                touched.add(Path(folder) / entry[1 : -len(".old")])
            elif (match := _STAGED.match(entry)) and not _alive(int(match["pid"])):
                touched.add(Path(folder) / match["name"])
        dirs[:] = [d for d in dirs if not d.startswith(".")]
    for final in sorted(touched):
        recover(final)
    return sorted(touched)


def _prefix(final: Path) -> str:
    return f".{final.name}.{os.getpid()}."


def _retired(final: Path) -> Path:
    return final.with_name(f".{final.name}.old")


def _sweep(final: Path) -> None:
    """Remove temporary siblings of ``final`` whose writer process is gone."""
    if not final.parent.is_dir():
        return
    for entry in final.parent.iterdir():
        match = _STAGED.match(entry.name)
        if match and match["name"] == final.name and not _alive(int(match["pid"])):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _fsync_tree(folder: Path) -> None:
    """Flush every file under ``folder`` and the folders themselves to disk."""
    for parent, _dirs, files in os.walk(folder):
        for name in files:
            path = os.path.join(parent, name)
            if os.path.islink(path):
                continue
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(parent))


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
