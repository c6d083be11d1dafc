"""Where the embedded stores live: paths and SQLite URLs resolved under the project folder
(never the current directory), shared by the MLflow store and the Optuna study."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SQLITE_PREFIX = "sqlite:///"


def under(root: Path, path: str | Path) -> Path:
    """``path`` made absolute under ``root``; an absolute path passes through."""
    path = Path(path)
    return path if path.is_absolute() else (Path(root) / path).resolve()


def sqlite_file(uri: str) -> Path | None:
    """The database file of an ``sqlite:///`` URL; None for one that names no file (an
    in-memory database, which would vanish between the processes that share it)."""
    name = uri[len(SQLITE_PREFIX) :]
    return None if name in ("", ":memory:") else Path(name)


def sqlite_url(uri: str, root: Path) -> str | None:
    """An ``sqlite:///`` URL with its file made absolute under ``root`` (None: in-memory)."""
    file = sqlite_file(uri)
    return None if file is None else SQLITE_PREFIX + str(under(root, file))


@contextmanager
def first_use_lock(uri: str) -> Iterator[None]:
    """Hold an exclusive lock on ``<file>.lock`` beside an SQLite store while it is opened:
    two processes that open a new file at once (the two families of a flow) race in the
    schema migrations, and one of them fails. Other URLs (servers) pass through."""
    file = sqlite_file(uri) if uri.startswith(SQLITE_PREFIX) else None
    if file is None:
        yield
        return
    file.parent.mkdir(parents=True, exist_ok=True)
    with open(file.with_name(file.name + ".lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
