"""Atomic outputs: readers see the previous file or folder, or the new one, never half of one.

Everything tokfrag writes goes to a temporary sibling first and is renamed into place, so a
failed or killed stage leaves the last good output untouched.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_UMASK = os.umask(0)
os.umask(_UMASK)


def write_text(path: Path, text: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; outputs are ordinary files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json(path: Path, payload: Any) -> Path:
    return write_text(path, json.dumps(payload, indent=2, sort_keys=True) + "\n")


@contextmanager
def staged_dir(final: Path) -> Iterator[Path]:
    """Yield an empty staging folder beside ``final``; when the block succeeds it replaces
    ``final``; when it raises, ``final`` is left as it was."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    os.chmod(staging, 0o777 & ~_UMASK)  # mkdtemp makes 0700; outputs are ordinary folders
    retired = final.with_name(f".{final.name}.old")
    try:
        yield staging
        # Two renames, not delete-then-rename: at no moment is the only good copy gone, and
        # the window in which `final` is absent is one rename long.
        shutil.rmtree(retired, ignore_errors=True)
        if final.exists():
            final.rename(retired)
        staging.rename(final)
        shutil.rmtree(retired, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
