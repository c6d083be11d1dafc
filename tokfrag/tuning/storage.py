"""Where studies live: an SQLAlchemy URL (SQLite in write-ahead-log mode, PostgreSQL, MySQL)
with heartbeats and retries, or an Optuna journal file; URLs made absolute under the
project and redacted before they are logged."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import JournalStorage, RDBStorage, RetryHeartbeatStaleTrialCallback
from optuna.storages.journal import JournalFileBackend

from tokfrag.stores import SQLITE_PREFIX, first_use_lock, redact_url, sqlite_url, under
from tokfrag.tuning.settings import StudySettings, TuningError

JOURNAL_PREFIX = "journal:"


def resolve_storage(storage: str | None, root: Path) -> str:
    """``None`` -> ``sqlite:///<root>/optuna.db``; a relative SQLite URL or journal path is
    made absolute under ``root``; other URLs (``postgresql://``, ``mysql://``) pass through.
    A plain path (or ``journal:PATH``) means Optuna's journal file storage."""
    root = Path(root).resolve()
    if storage is None:
        return f"{SQLITE_PREFIX}{root / 'optuna.db'}"
    if storage.startswith(SQLITE_PREFIX):
        url = sqlite_url(storage, root)
        if url is None:
            raise TuningError(
                f"tune.storage {storage!r} has no database file: a killed run could not resume; "
                "use e.g. 'sqlite:///optuna.db'"
            )
        return url
    if "://" in storage:
        return storage
    return f"{JOURNAL_PREFIX}{under(root, storage.removeprefix(JOURNAL_PREFIX))}"


def redact(storage: str) -> str:
    """The storage URL with any password hidden, fit to be logged."""
    return redact_url(storage)


def make_storage(settings: StudySettings) -> optuna.storages.BaseStorage:
    """An RDB storage with heartbeats and retries, or a journal file (no heartbeats: a trial
    killed there stays RUNNING and is not retried; prefer an RDB URL for that)."""
    if settings.storage.startswith(JOURNAL_PREFIX):
        path = Path(settings.storage[len(JOURNAL_PREFIX) :])
        path.parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(str(path)))
    engine_kwargs: dict[str, Any] = {}
    if settings.storage.startswith(SQLITE_PREFIX):
        Path(settings.storage.removeprefix(SQLITE_PREFIX)).parent.mkdir(parents=True, exist_ok=True)
        # Several workers share the file: wait for a lock instead of failing at once.
        engine_kwargs["connect_args"] = {"timeout": 60}
    else:
        engine_kwargs["pool_pre_ping"] = True
    try:
        # The first open creates the schema; concurrent first opens of one file must queue.
        with warnings.catch_warnings(), first_use_lock(settings.storage):
            # Heartbeats are marked experimental; they are what makes a killed trial retry.
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            retry = RetryHeartbeatStaleTrialCallback(max_retry=settings.max_retries)
            storage = RDBStorage(
                settings.storage,
                engine_kwargs=engine_kwargs,
                heartbeat_interval=settings.heartbeat_seconds,
                grace_period=settings.grace_seconds,
                heartbeat_stale_trial_callback=retry,
            )
            if settings.storage.startswith(SQLITE_PREFIX):
                _write_ahead(storage)
        return storage
    except Exception as err:
        raise TuningError(
            f"tune.storage {redact(settings.storage)}: cannot open the study storage ({err}); "
            "check the URL, that the server is up, and that its driver is installed"
        ) from None


def _write_ahead(storage: RDBStorage) -> None:
    """SQLite in write-ahead-log mode, without an fsync per commit: a trial reports every
    epoch, and the default journal made those writes a tenth of a small model's epoch.
    A killed process loses nothing committed (only a power cut could lose the last
    commits); keep the file on a local disk, as WAL needs."""
    from sqlalchemy import event

    def on_connect(connection: Any, _record: Any) -> None:
        connection.execute("PRAGMA synchronous=NORMAL")

    event.listen(storage.engine, "connect", on_connect)
    with storage.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA journal_mode=WAL")  # stored in the file itself
    storage.engine.dispose()  # later connections get synchronous=NORMAL
