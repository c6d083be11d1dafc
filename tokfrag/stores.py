"""Where the embedded stores live: paths and SQLite URLs resolved under the project folder
(never the current directory), shared by the MLflow store and the Optuna study."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SQLITE_PREFIX = "sqlite:///"


def redact_url(url: str) -> str:
    """``url`` with any password hidden, fit to print, log or put on a command line:
    ``postgresql://user:secret@db/x`` becomes ``postgresql://user:***@db/x``; a
    ``password=`` query parameter is hidden too. URLs without credentials pass unchanged."""
    from urllib.parse import parse_qsl, urlencode, urlsplit

    if "://" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:  # not a URL we can take apart: show the scheme only
        return url.split("://", 1)[0] + "://***"
    shown = url
    if "@" in parts.netloc:
        userinfo, host = parts.netloc.rsplit("@", 1)
        user, has_password, _ = userinfo.partition(":")
        if has_password:
            shown = shown.replace(f"//{parts.netloc}", f"//{user}:***@{host}", 1)
    secret = ("password", "passwd", "pwd", "token")
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if any(k.lower() in secret for k, _ in pairs):
        hidden = [(k, "***" if k.lower() in secret else v) for k, v in pairs]
        shown = shown.replace(f"?{parts.query}", f"?{urlencode(hidden, safe='*')}", 1)
    return shown


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
    with _sqlite_lock(uri, ".lock"):
        yield


@contextmanager
def registry_lock(uri: str) -> Iterator[None]:
    """Hold an exclusive lock on ``<file>.register.lock`` beside an SQLite registry while a
    round of registration reads the champion, runs the promotion gate and moves the aliases:
    two pipelines registering into one store at once take turns, so the second one's gate
    compares against the first one's champion. A server store passes through (its
    registrations are not serialised; see the README)."""
    with _sqlite_lock(uri, ".register.lock"):
        yield


@contextmanager
def _sqlite_lock(uri: str, suffix: str) -> Iterator[None]:
    file = sqlite_file(uri) if uri.startswith(SQLITE_PREFIX) else None
    if file is None:
        yield
        return
    file.parent.mkdir(parents=True, exist_ok=True)
    with open(file.with_name(file.name + suffix), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class ProjectBusy(RuntimeError):
    """Another tokfrag process is writing into this project folder."""


PROJECT_LOCK = ".tokfrag.lock"  # in the project folder, beside params.yaml
_HELD_ENV = "TOKFRAG_PROJECT_LOCK"  # set while held: child processes inherit the hold


@contextmanager
def project_lock(root: str | Path, command: str) -> Iterator[None]:
    """Hold the project folder for one writing command (a stage, or a whole flow run).

    Two runs in one folder would mix their outputs (one run's ``train`` replacing the model
    between the other's ``evaluate`` and ``register``), so the second stops at once with
    :class:`ProjectBusy` naming the holder. The lock is an ``flock``: the kernel drops it when
    the holder exits, even on SIGKILL, so it never goes stale. Processes started under the
    holder (flow workers, DVC stages of a held run) inherit it through the environment.
    """
    root = Path(root).resolve()
    if os.environ.get(_HELD_ENV) == str(root):
        yield
        return
    path = root / PROJECT_LOCK
    handle = open(path, "a+")  # noqa: SIM115 (held across the yield)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise ProjectBusy(
                f"another tokfrag command is writing into {root} ({holder}); wait for it to "
                f"finish, or run in a copy of the project"
            ) from None
        handle.seek(0)
        handle.truncate()
        started = time.strftime("%Y-%m-%d %H:%M:%S")
        handle.write(f"pid {os.getpid()}, `tokfrag {command}`, since {started}\n")
        handle.flush()
        os.environ[_HELD_ENV] = str(root)
        try:
            yield
        finally:
            os.environ.pop(_HELD_ENV, None)
            handle.seek(0)
            handle.truncate()
    finally:
        handle.close()  # closing releases the flock
