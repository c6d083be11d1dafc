"""Where a dataset's files are found, and how they are verified.

A dataset file is found, in order:

1. in a local mirror folder, ``$TOKFRAG_DATA_MIRROR/<dataset>/<file>`` (read-only, never written);
2. in the download cache, ``$TOKFRAG_CACHE`` (default ``~/.cache/tokfrag``);
3. at its upstream URL, downloaded into the cache through a temporary file and an atomic rename,
   so an interrupted download never leaves a partial file under the final name. A file with no
   stable upstream URL (SMS Spam's csv) must be put in the mirror; resolving it otherwise raises
   a :class:`DataError` that says so. A download that sends nothing for
   :data:`DOWNLOAD_TIMEOUT_S` seconds, takes longer than :data:`DOWNLOAD_DEADLINE_S` in all, or
   is larger than :data:`DOWNLOAD_MAX_BYTES` is stopped with a :class:`DataError` and nothing
   is kept (environment variables :data:`DOWNLOAD_TIMEOUT_ENV`, :data:`DOWNLOAD_DEADLINE_ENV`
   and :data:`DOWNLOAD_MAX_BYTES_ENV` change the limits).

Every read checks the sha256. A mismatch in the mirror is an error that names the file; a
mismatch in the cache (a corrupted or truncated earlier download) is fetched again.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tokfrag.data.specs import DataError, DatasetSpec

MIRROR_ENV = "TOKFRAG_DATA_MIRROR"
CACHE_ENV = "TOKFRAG_CACHE"
DOWNLOAD_TIMEOUT_ENV = "TOKFRAG_DOWNLOAD_TIMEOUT"
DOWNLOAD_DEADLINE_ENV = "TOKFRAG_DOWNLOAD_DEADLINE"
DOWNLOAD_MAX_BYTES_ENV = "TOKFRAG_DOWNLOAD_MAX_BYTES"
DOWNLOAD_TIMEOUT_S = 60.0  # seconds without a byte (connecting, or between reads)
DOWNLOAD_DEADLINE_S = 1800.0  # seconds for the whole download (a server that drips)
DOWNLOAD_MAX_BYTES = 1 << 30  # the registry's largest file is a few MB
_CHUNK = 1 << 16


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "tokfrag")


def _download_limits() -> tuple[float, float, int]:
    """(seconds without a byte, seconds in all, bytes): the defaults, or the environment's."""
    from tokfrag.data.limits import env_number

    return (
        env_number(DOWNLOAD_TIMEOUT_ENV, DOWNLOAD_TIMEOUT_S),
        env_number(DOWNLOAD_DEADLINE_ENV, DOWNLOAD_DEADLINE_S),
        int(env_number(DOWNLOAD_MAX_BYTES_ENV, DOWNLOAD_MAX_BYTES)),
    )


def _download(url: str, dest: Path, opener: Callable[..., Any] | None = None) -> None:
    """Stream ``url`` into ``dest`` through a temporary file in the same folder, then rename.

    Stops with a :class:`DataError`, keeping nothing, when the server sends nothing for the
    timeout, the whole transfer outlasts the deadline, or the file is larger than the size
    limit (by its Content-Length, before a byte of the body is read, or as it arrives)."""
    timeout, deadline, max_bytes = _download_limits()
    fix = (
        f"nothing was kept. Put the file in the mirror ({MIRROR_ENV}/<dataset>/{dest.name}), "
        "or retry"
    )
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    started = time.monotonic()
    try:
        with (
            os.fdopen(fd, "wb") as out,
            (opener or urllib.request.urlopen)(url, timeout=timeout) as response,
        ):
            declared = (getattr(response, "headers", None) or {}).get("Content-Length")
            if declared and declared.strip().isdigit() and int(declared) > max_bytes:
                raise DataError(
                    f"{url}: the server announces {int(declared):,} bytes, more than the "
                    f"download limit of {max_bytes:,} ({DOWNLOAD_MAX_BYTES_ENV}); {fix}"
                )
            read = getattr(response, "read1", None) or response.read
            received = 0
            for chunk in iter(lambda: read(_CHUNK), b""):
                received += len(chunk)
                if received > max_bytes:
                    raise DataError(
                        f"{url}: more than the download limit of {max_bytes:,} bytes "
                        f"({DOWNLOAD_MAX_BYTES_ENV}) arrived; {fix}"
                    )
                if time.monotonic() - started > deadline:
                    raise DataError(
                        f"{url}: the download took more than {deadline:g} s "
                        f"({DOWNLOAD_DEADLINE_ENV}; {received:,} bytes arrived); {fix}"
                    )
                out.write(chunk)
        os.replace(tmp, dest)
    except (TimeoutError, urllib.error.URLError) as err:
        tmp.unlink(missing_ok=True)
        reason = getattr(err, "reason", err)
        if isinstance(err, TimeoutError) or isinstance(reason, TimeoutError):
            raise DataError(
                f"{url}: the server sent nothing for {timeout:g} s ({DOWNLOAD_TIMEOUT_ENV}); {fix}"
            ) from None
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def resolve_file(spec: DatasetSpec, file_name: str, *, allow_download: bool = True) -> Path:
    """Return a verified local path to one file of ``spec`` (mirror, then cache, then upstream)."""
    if file_name not in spec.files:
        raise DataError(
            f"{spec.name} has no file {file_name!r}; its files are {sorted(spec.files)}"
        )
    expected = spec.files[file_name]
    url = spec.urls.get(file_name)
    origin = url or spec.source or "its upstream source"
    mirror = os.environ.get(MIRROR_ENV)
    if mirror:
        candidate = Path(mirror) / spec.name / file_name
        if candidate.is_file():
            actual = sha256_file(candidate)
            if actual != expected:
                raise DataError(
                    f"{candidate}: sha256 {actual} does not match the registry's {expected}. "
                    f"The mirror copy is corrupted or a different version; replace it with the "
                    f"upstream file ({origin}) or unset {MIRROR_ENV}."
                )
            return candidate

    cached = cache_dir() / spec.name / file_name
    if cached.is_file() and sha256_file(cached) == expected:
        return cached
    if url is None:
        raise DataError(
            f"{spec.name}/{file_name}: not in the mirror ({MIRROR_ENV}={mirror or 'unset'}) nor "
            f"in the cache ({cached}), and it has no stable download URL. Get it from {origin} "
            f"and put it at $TOKFRAG_DATA_MIRROR/{spec.name}/{file_name} (sha256 {expected})."
        )
    if not allow_download:
        raise DataError(
            f"{spec.name}/{file_name}: not in the mirror ({MIRROR_ENV}={mirror or 'unset'}) "
            f"nor in the cache ({cached}), and downloading is off."
        )
    try:
        _download(url, cached)
    except DataError as err:
        raise DataError(f"{spec.name}/{file_name}: {err}") from None
    except OSError as err:
        raise DataError(
            f"{spec.name}/{file_name}: not in the mirror ({MIRROR_ENV}={mirror or 'unset'}) and "
            f"the download from {url} failed ({err}). Point {MIRROR_ENV} at a "
            f"folder holding {spec.name}/{file_name}."
        ) from None
    actual = sha256_file(cached)
    if actual != expected:
        cached.unlink(missing_ok=True)
        raise DataError(
            f"{url}: downloaded file has sha256 {actual}, expected {expected}; "
            "the upstream file changed or the transfer was corrupted. Nothing was kept."
        )
    return cached
