"""Prefect caching that agrees with DVC about what is stale.

A stage's cache key is a digest of exactly what ``dvc.yaml`` says the stage depends on: its
``deps`` (the fetched data, upstream outputs and tokfrag's code, hashed file by file) and
its ``params`` sections, with the task's own source added by Prefect's ``TASK_SOURCE``. So
a change to ``fragment.model`` re-runs the fragment stages and what follows them, and
nothing else, in the flow just as in ``dvc repro``.

A cache hit must also mean the stage's outputs are still on disk: a result that says
"prepared" is no use once ``outputs/<dataset>/prepared`` is gone. After a stage runs, its
task writes a stamp (the key and a digest of its ``outs``); before the flow calls a stage it
compares the outputs with that stamp, and refreshes the cache entry when they differ or are
missing, which re-runs the stage. Results and stamps live under ``outputs/.prefect/``.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from prefect.cache_policies import CachePolicy
from prefect.context import TaskRunContext

import tokfrag
from tokfrag import atomic
from tokfrag.config import Params

_PACKAGE_ROOT = Path(tokfrag.__file__).resolve().parent.parent
_SKIPPED = {"__pycache__", ".ipynb_checkpoints"}


@dataclass(frozen=True)
class StageSpec:
    """One stage of ``dvc.yaml``, with ``${data.dataset}`` filled in."""

    name: str
    deps: tuple[str, ...]
    params: tuple[str, ...]
    outs: tuple[str, ...]


def stage_name(task_name: str, family: str | None) -> str:
    """The ``dvc.yaml`` stage a task runs: ``tune`` for ``token`` is ``tune_token``."""
    return f"{task_name}_{family}" if family else task_name


def pipeline_file(root: str | Path) -> Path | None:
    """The project's ``dvc.yaml``, else the one beside tokfrag's source (a checkout or an
    editable install); ``None`` when neither exists, and then nothing is cached."""
    for candidate in (Path(root) / "dvc.yaml", _PACKAGE_ROOT / "dvc.yaml"):
        if candidate.is_file():
            return candidate.resolve()
    return None


@lru_cache(maxsize=64)
def _stages(path: Path, mtime_ns: int) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())["stages"]


def _paths(entries: Iterable[Any]) -> tuple[str, ...]:
    # An entry is a path, or a one-key mapping {path: {cache: false, ...}}.
    return tuple(next(iter(e)) if isinstance(e, dict) else str(e) for e in entries)


def stage_spec(root: str | Path, stage: str, dataset: str) -> StageSpec | None:
    path = pipeline_file(root)
    if path is None:
        return None
    raw = _stages(path, path.stat().st_mtime_ns).get(stage)
    if raw is None:
        raise KeyError(f"{path}: no stage {stage!r}; the flow and dvc.yaml disagree")

    def fill(items: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(item.replace("${data.dataset}", dataset) for item in items)

    outs = _paths(raw.get("outs", [])) + _paths(raw.get("metrics", []))
    return StageSpec(
        stage, fill(_paths(raw.get("deps", []))), _paths(raw.get("params", [])), fill(outs)
    )


def _locate(root: Path, dep: str) -> Path:
    # Code is hashed where it is imported from (the code that will run), data and outputs
    # where the project keeps them.
    if dep.split("/", 1)[0] == "tokfrag":
        return _PACKAGE_ROOT / dep
    return root / dep


def tree_digest(root: Path, paths: Iterable[str]) -> str:
    """SHA-256 over each path's name and content: every file below a folder, in sorted
    order; a missing path hashes as missing."""
    digest = hashlib.sha256()
    for rel in paths:
        path = _locate(root, rel)
        digest.update(f"\0{rel}\0".encode())
        if path.is_file():
            files = [path]
        elif path.is_dir():
            files = sorted(
                p for p in path.rglob("*") if p.is_file() and not _SKIPPED & set(p.parts)
            )
        else:
            digest.update(b"<missing>")
            continue
        for file in files:
            digest.update(f"{file.relative_to(path).as_posix()}\0".encode())
            with file.open("rb") as handle:
                digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()


def _source_files(spec: StageSpec, params: Params) -> tuple[str, ...]:
    """Your own data files (``data.source``) for the ingest stage, wherever they are: DVC
    sees them only under ``inputs/``, the flow's cache sees them anywhere."""
    source = params.data.source
    if spec.name != "ingest" or source is None:
        return ()
    return tuple(path for path in (source.path, source.edges) if path is not None)


def inputs_key(spec: StageSpec, params: Params, root: str | Path) -> str:
    """What the stage reads: its dependencies' content and its params sections."""
    sections = {name: params.value_at(name).model_dump(mode="json") for name in spec.params}
    digest = hashlib.sha256(json.dumps(sections, sort_keys=True).encode())
    digest.update(tree_digest(Path(root), spec.deps + _source_files(spec, params)).encode())
    return f"{spec.name}-{digest.hexdigest()[:32]}"


def results_dir(root: str | Path) -> Path:
    return Path(root).resolve() / "outputs" / ".prefect" / "results"


def _stamp(root: str | Path, dataset: str, stage: str) -> Path:
    return Path(root).resolve() / "outputs" / ".prefect" / "stamps" / dataset / f"{stage}.json"


def record(params: Params, root: str | Path, stage: str) -> None:
    """After a stage ran: remember its inputs key and what its outputs were."""
    spec = stage_spec(root, stage, params.data.dataset)
    if spec is None:
        return
    atomic.write_json(
        _stamp(root, params.data.dataset, stage),
        {"key": inputs_key(spec, params, root), "outs": tree_digest(Path(root), spec.outs)},
    )


def outputs_current(params: Params, root: str | Path, stage: str) -> bool:
    """True when the stage's outputs are those it wrote for today's inputs."""
    spec = stage_spec(root, stage, params.data.dataset)
    stamp = _stamp(root, params.data.dataset, stage)
    if spec is None or not stamp.is_file():
        return False
    try:
        recorded = json.loads(stamp.read_text())
    except (OSError, ValueError):
        return False
    return recorded == {
        "key": inputs_key(spec, params, root),
        "outs": tree_digest(Path(root), spec.outs),
    }


@dataclass
class StageInputs(CachePolicy):
    """Key a stage task by what ``dvc.yaml`` says it reads (see the module docstring). The
    task must take ``params`` and ``root``, and ``family`` when it runs once per family."""

    def compute_key(
        self,
        task_ctx: TaskRunContext,
        inputs: dict[str, Any],
        flow_parameters: dict[str, Any],
        **kwargs: Any,
    ) -> str | None:
        params: Params = inputs["params"]
        root = inputs["root"]
        stage = stage_name(task_ctx.task.name, inputs.get("family"))
        spec = stage_spec(root, stage, params.data.dataset)
        if spec is None:
            # No declaration to key on: a key no run shares, so nothing is ever reused (a
            # None would leave only the task's source in the compound key: a false hit).
            return f"{stage}-uncached-{uuid.uuid4().hex}"
        return inputs_key(spec, params, root)
