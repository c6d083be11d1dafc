"""Parsers from upstream formats into the canonical tables.

Each loader returns ``(values, edges)``: ``values`` has a ``t`` column and one float column per
node (rows in time order); ``edges`` has ``source``, ``target`` (node names) and ``weight``.
Parsers keep what they read as it is (an edge to an unknown node stays visible) so that the
validation gate, not a parser crash, reports what is wrong with the data.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from tokfrag.data.registry import DataError


def _array(path: Path, raw: dict, key: str, dtype: type, shape_hint: str) -> np.ndarray:
    try:
        return np.asarray(raw[key], dtype=dtype)
    except (TypeError, ValueError) as err:
        raise DataError(
            f"{path}: '{key}' must be {shape_hint} of {dtype.__name__} values ({err}); "
            "fix the file or re-download it"
        ) from None


def load_pgt_json(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """PyTorch Geometric Temporal's JSON: ``FX`` or ``X`` (T x N), ``edges``, optional
    ``weights`` and ``node_ids`` (name -> column position)."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DataError(f"{path}: not valid UTF-8 JSON ({err})") from None
    if not isinstance(raw, dict):
        raise DataError(f"{path}: expected a JSON object, got {type(raw).__name__}")
    key = "FX" if "FX" in raw else "X" if "X" in raw else None
    if key is None or "edges" not in raw:
        raise DataError(f"{path}: expected keys 'FX' (or 'X') and 'edges', found {sorted(raw)}")
    matrix = _array(path, raw, key, np.float64, "a rectangular T x N matrix")
    if matrix.ndim != 2:
        raise DataError(f"{path}: '{key}' must be a T x N matrix, got shape {matrix.shape}")
    num_nodes = matrix.shape[1]
    names = [f"node_{i}" for i in range(num_nodes)]
    if "node_ids" in raw:
        try:
            by_position = {int(pos): str(name) for name, pos in dict(raw["node_ids"]).items()}
        except (TypeError, ValueError) as err:
            raise DataError(
                f"{path}: 'node_ids' must map node names to integer column positions ({err})"
            ) from None
        names = [by_position.get(i, f"node_{i}") for i in range(num_nodes)]

    values = pd.DataFrame(matrix, columns=names)
    values.insert(0, "t", np.arange(matrix.shape[0], dtype=np.int64))

    pairs = _array(path, raw, "edges", np.int64, "a list of [source, target] pairs")
    if pairs.size and (pairs.ndim != 2 or pairs.shape[1] != 2):
        raise DataError(f"{path}: 'edges' must be [source, target] pairs, got shape {pairs.shape}")
    pairs = pairs.reshape(-1, 2)
    if "weights" in raw:
        weights = _array(path, raw, "weights", np.float64, "a list")
        if weights.shape != (len(pairs),):
            raise DataError(
                f"{path}: {len(pairs)} edges but {weights.size} weights; give one weight per edge"
            )
    else:
        weights = np.ones(len(pairs))

    def name(i: int) -> str:
        return names[i] if 0 <= i < num_nodes else f"node_{i}"

    edges = pd.DataFrame(
        {
            "source": [name(int(s)) for s in pairs[:, 0]],
            "target": [name(int(t)) for t in pairs[:, 1]],
            "weight": weights,
        }
    )
    return values, edges
