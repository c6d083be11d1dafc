"""What every section shares: the frozen, unknown-key-rejecting base model, and the checks
that keep names and paths from ``params.yaml`` inside the project folder."""

from __future__ import annotations

import os
from pathlib import PurePath
from typing import overload

from pydantic import BaseModel, ConfigDict


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _inside_project(key: str, value: str | None) -> str | None:
    """A relative path must stay inside the project folder (params.yaml's folder)."""
    if value is None:
        return value
    if not value.strip():
        raise ValueError(f"{key} is empty; give a file path")
    path = PurePath(value)
    if not path.is_absolute() and os.path.normpath(path).split(os.sep)[0] == "..":
        raise ValueError(
            f"{key} {value!r} leaves the project folder; give a path inside the "
            "folder of params.yaml, or an absolute path"
        )
    return value


def check_dataset_name(value: str) -> str:
    """A dataset name becomes a folder under data/, outputs/ and reports/: keep it a plain
    name (letters, digits, '-', '_'), so no name can reach outside those folders."""
    if not value or not all(c.isalnum() or c in "-_" for c in value):
        raise ValueError(f"dataset name {value!r} must be letters, digits, '-' or '_' only")
    return value


@overload
def _store_inside_project(key: str, value: str) -> str: ...
@overload
def _store_inside_project(key: str, value: None) -> None: ...
def _store_inside_project(key: str, value: str | None) -> str | None:
    """A store given as a relative path (``mlartifacts``, ``sqlite:///mlruns.db``,
    ``journal:optuna.log``) must stay inside the project folder; absolute paths and server
    URLs (``postgresql://...``, ``http://...``) are yours to choose."""
    if value is None:
        return value
    for prefix in ("sqlite:///", "journal:", "file://"):
        if value.startswith(prefix):
            _inside_project(key, value[len(prefix) :] or ".")
            return value
    if "://" not in value:
        _inside_project(key, value)
    return value
