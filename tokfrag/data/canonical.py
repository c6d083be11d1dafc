"""The canonical on-disk form of a series dataset (the `ingest` stage's output).

``<dir>/values.parquet``  column ``t`` then one float column per node, rows in time order
``<dir>/edges.parquet``   ``source``, ``target`` (node names), ``weight``
``<dir>/meta.json``       dataset name, kind, upstream files and their sha256 (and, for your
                          own series, ``missing``: what ``data.missing`` did; see
                          :func:`tokfrag.data.missing.apply_policy`)
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tokfrag.atomic import staged_dir, write_json
from tokfrag.data.registry import DataError
from tokfrag.data.series import SeriesData

VALUES = "values.parquet"
EDGES = "edges.parquet"
META = "meta.json"
META_ATTR = "tokfrag_meta"  # values.attrs[META_ATTR]: what a loader adds to meta.json


def write_canonical(
    values: pd.DataFrame, edges: pd.DataFrame, meta: dict[str, Any], out_dir: Path
) -> Path:
    """Write the three files into ``out_dir`` atomically: all of them or none. Fields a
    loader left in ``values.attrs[META_ATTR]`` (what it did to the data) join ``meta``; the
    attrs themselves are not written into the Parquet file."""
    added = dict(values.attrs.get(META_ATTR) or {})
    meta = {**meta, **added}
    if _repairs(added) and "sha256" in meta:
        # The same files under another data.missing setting are other data: the policy joins
        # the digest every stage keys on (tuning studies, prepared folders, registry tags).
        meta["source_sha256"] = meta["sha256"]
        folded = json.dumps({"sha256": meta["sha256"], **_repairs(added)}, sort_keys=True)
        meta["sha256"] = hashlib.sha256(folded.encode()).hexdigest()
    if values.attrs:
        values = values.copy(deep=False)
        values.attrs = {}
    with staged_dir(Path(out_dir)) as staging:
        values.to_parquet(staging / VALUES, index=False)
        edges.to_parquet(staging / EDGES, index=False)
        write_json(staging / META, meta)
    return out_dir


def _repairs(added: dict[str, Any]) -> dict[str, Any]:
    """The ``data.missing`` settings a loader recorded, when any differs from the default
    (which repairs nothing): they change what the same upstream files become."""
    from tokfrag.config import MISSING_DEFAULTS

    record = added.get("missing")
    if not record:
        return {}
    settings = {"missing": record.get("policy", "refuse")}
    settings.update({k: record.get(k) for k in MISSING_DEFAULTS if k != "missing"})
    return settings if any(settings[k] != v for k, v in MISSING_DEFAULTS.items()) else {}


def read_canonical(in_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    in_dir = Path(in_dir)
    missing = [f for f in (VALUES, EDGES, META) if not (in_dir / f).is_file()]
    if missing:
        raise DataError(f"{in_dir}: missing {', '.join(missing)}; run `tokfrag ingest` first")
    meta = json.loads((in_dir / META).read_text())
    return pd.read_parquet(in_dir / VALUES), pd.read_parquet(in_dir / EDGES), meta


def to_series(values: pd.DataFrame, edges: pd.DataFrame, meta: dict[str, Any]) -> SeriesData:
    """Turn validated canonical tables into arrays (node names become column positions)."""
    node_ids = tuple(str(c) for c in values.columns if c != "t")
    position = {name: i for i, name in enumerate(node_ids)}
    unknown = sorted(set(edges["source"]).union(edges["target"]) - set(position))
    if unknown:
        raise DataError(
            f"edges reference unknown nodes {unknown[:5]}; every edge must join two value columns"
        )
    edge_index = (
        np.stack(
            [
                edges["source"].map(position).to_numpy(np.int64),
                edges["target"].map(position).to_numpy(np.int64),
            ]
        )
        if len(edges)
        else np.zeros((2, 0), dtype=np.int64)
    )
    return SeriesData(
        name=str(meta["name"]),
        values=values[list(node_ids)].to_numpy(np.float64),
        time=_time_index(values["t"]),
        node_ids=node_ids,
        edge_index=edge_index,
        edge_weight=edges["weight"].to_numpy(np.float64),
        sha256=str(meta["sha256"]),
        time_unit="ns" if pd.api.types.is_datetime64_any_dtype(values["t"]) else "steps",
        clock=dict(meta.get("clock") or {}),
    )


def _time_index(column: pd.Series) -> np.ndarray:
    """Step numbers as they are; dates as epoch nanoseconds, whatever their resolution."""
    if pd.api.types.is_datetime64_any_dtype(column):
        if getattr(column.dt, "tz", None) is not None:
            column = column.dt.tz_convert("UTC").dt.tz_localize(None)
        return column.to_numpy().astype("datetime64[ns]").astype(np.int64)
    return column.to_numpy(np.int64)


def load_series(in_dir: Path) -> SeriesData:
    return to_series(*read_canonical(in_dir))


def canonical_digest(in_dir: Path) -> str:
    """sha256 over every canonical file's name and bytes (any dataset kind): what the
    validation gate checked, exactly."""
    in_dir = Path(in_dir)
    files = sorted(p for p in in_dir.iterdir() if p.is_file()) if in_dir.is_dir() else []
    if not any(p.name == META for p in files):
        raise DataError(f"{in_dir}: no canonical dataset here; run `tokfrag ingest` first")
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()
