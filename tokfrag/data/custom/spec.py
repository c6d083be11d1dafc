"""Your own data as a dataset: :func:`custom_spec` turns ``data.source`` into a registry entry.

The entry is a :class:`~tokfrag.data.specs.DatasetSpec` whose files are yours (with the sha256 of
their bytes now) and whose loader is :func:`~tokfrag.data.custom.series.load_series` or
:func:`~tokfrag.data.custom.text.load_text`, looked up in :mod:`tokfrag.data.custom` by name.
:func:`parse_file` parses another file with the same mapping (`tokfrag validate PATH`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tokfrag.config import MISSING_DEFAULTS
from tokfrag.data.limits import check_input_size
from tokfrag.data.resolution import sha256_file
from tokfrag.data.specs import DataError, DatasetSpec

MODULE = "tokfrag.data.custom"  # the loaders are looked up by name in the package


def source_paths(source: Any, root: str | Path) -> dict[str, Path]:
    """The files of ``source`` (a :class:`~tokfrag.config.SourceConfig`): ``path`` and, when
    set, ``edges``, keyed by the path as written in params.yaml; relative to ``root``."""
    paths = {source.path: Path(root) / source.path}
    if getattr(source, "edges", None):
        paths[source.edges] = Path(root) / source.edges
    for key, path in zip(("path", "edges"), paths.values(), strict=False):
        if not path.is_file():
            raise DataError(
                f"{path}: no such file (data.source.{key} in params.yaml); relative paths are "
                "read from the folder of params.yaml"
            )
        check_input_size(path, key)  # before its sha256 or its parse reads a byte
    return paths


def custom_spec(
    name: str,
    source: Any,
    root: str | Path,
    *,
    missing: dict[str, Any] | None = None,
    split: dict[str, Any] | None = None,
) -> tuple[DatasetSpec, dict[str, Path]]:
    """A registry entry for your files, and their paths: files -> sha256 of their bytes now,
    loader -> :func:`load_series` or :func:`load_text` with the column mapping.

    Series only: ``missing`` (``Params.data.missing_policy()``; None: the defaults) says what
    becomes of gaps, and ``split`` (``Params.split`` as a dict), when given, tells the policy
    which rows training reads, so nothing it sees is filled or decided from later rows."""
    paths = source_paths(source, root)
    mapping = source.model_dump(exclude={"kind", "path", "edges"})
    keys: tuple[str, ...]
    if source.kind == "series":
        keys = ("layout", "time", "node", "value", "edge_source", "edge_target", "edge_weight")
        kwargs = {"file_format": source.file_format, **{k: mapping[k] for k in keys}}
        # data.missing and the keys beside it (tokfrag.data.missing), and the split it respects
        kwargs["missing_policy"] = dict(missing or MISSING_DEFAULTS)
        kwargs["split"] = dict(split) if split is not None else None
        loader = "load_series"
    else:
        keys = ("text", "label", "split", "test_fraction", "seed")
        kwargs = {"file_format": source.file_format, **{k: mapping[k] for k in keys}}
        loader = "load_text"
    spec = DatasetSpec(
        name=name,
        kind=source.kind,
        files={key: sha256_file(path) for key, path in paths.items()},
        urls={},
        module=MODULE,
        loader=loader,
        loader_kwargs=kwargs,
        description=f"your own {source.kind} data from {', '.join(paths)} (data.source)",
        license="(your data)",
    )
    return spec, paths


def parse_file(
    source: Any, root: str | Path, path: str | Path, **policy: Any
) -> tuple[DatasetSpec, Any]:
    """Parse ``path`` (instead of ``source.path``) with the mapping of ``source``: what
    `tokfrag validate PATH` checks. ``policy``: ``missing`` and ``split``, as for
    :func:`custom_spec`. Returns the spec and what its loader returned."""
    path = Path(path).resolve()
    spec, paths = custom_spec("", source.model_copy(update={"path": str(path)}), root, **policy)
    return spec, spec.parse(paths)
