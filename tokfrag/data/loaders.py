"""Parsers from upstream formats into the canonical tables.

Each loader returns ``(values, edges)``: ``values`` has a ``t`` column and one float column per
node (rows in time order); ``edges`` has ``source``, ``target`` (node names) and ``weight``.
Parsers keep what they read as it is (an edge to an unknown node stays visible) so that the
validation gate, not a parser crash, reports what is wrong with the data.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from tokfrag.data.canonical import META_ATTR
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


# --- Los-loop (T-GCN's CSV pair) ------------------------------------------------------------

LOS_LOOP_MISSING_VALUE = 0.0  # the detectors' "no reading" (as in METR-LA and PEMS)


def _read_csv_rows(path: Path) -> list[list[str]]:
    """All rows of a comma-separated file as strings; blank lines at the end are dropped."""
    try:
        with Path(path).open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.reader(handle))
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: not valid UTF-8 text ({err})") from None
    except csv.Error as err:
        raise DataError(f"{path}: not a readable CSV file ({err})") from None
    while rows and not any(cell.strip() for cell in rows[-1]):
        rows.pop()
    return rows


def _cell(text: str) -> float:
    """One numeric cell; a blank cell is missing (NaN). Raises ValueError on anything else."""
    return float(text) if text.strip() else math.nan


def _numeric(
    path: Path, rows: list[list[str]], first_line: int, columns: list[str] | None = None
) -> np.ndarray:
    """Rows of numeric text -> a float64 matrix. A non-numeric cell is a :class:`DataError`
    naming its file line (1-based, as an editor shows it) and column."""
    try:
        return np.asarray(rows, dtype=np.float64)
    except ValueError:
        pass  # a blank or non-numeric cell somewhere: find it (slow path, cell by cell)
    out = np.empty((len(rows), len(rows[0]) if rows else 0), dtype=np.float64)
    for i, row in enumerate(rows):
        for j, text in enumerate(row):
            try:
                out[i, j] = _cell(text)
            except ValueError:
                column = f"column {j + 1}" + (f" (sensor {columns[j]!r})" if columns else "")
                raise DataError(
                    f"{path}: line {first_line + i}, {column}: {text!r} is not a number; "
                    "fix the file or re-download it"
                ) from None
    return out


def first_repeat(names: list[str]) -> tuple[str, int, int] | None:
    """The first name that appears twice, with both 1-based positions; None if all differ."""
    seen: dict[str, int] = {}
    for j, name in enumerate(names, start=1):
        if name in seen:
            return name, seen[name], j
        seen[name] = j
    return None


def load_los_loop(speed_path: Path, adj_path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """T-GCN's Los-loop pair: ``los_speed.csv`` and ``los_adj.csv``.

    ``los_speed.csv``: a header row of sensor ids (the METR-LA loop detectors), then one row
    per five-minute step (Los Angeles highways, 1-7 March 2012: 2016 steps = 7 days x 288) of
    speeds in mph. The file holds no timestamps, so ``t`` is the step number ``0 .. T-1``; step
    ``t`` is ``t * 5`` minutes after the first reading (the registry entry's ``clock``). A
    blank cell is read as NaN and left for the validation gate; a non-numeric one is an error.
    A speed of 0 is METR-LA's "no reading" and is declared missing: the mirrored file has
    none (its minimum is 1.0 mph), ``meta.json`` records the count under ``sentinel``, and
    another release with zeros is refused with the keys that read it as your own series.

    ``los_adj.csv``: a square ``N x N`` matrix with no header, row/column ``i`` being the
    ``i``-th sensor of the speed header. Every non-zero entry ``A[i, j]`` becomes the edge
    ``sensor_i -> sensor_j`` with weight ``A[i, j]``, in row-major order. The mirrored file is
    not 0/1: it holds Gaussian-kernel weights in ``[0.1, 1]`` (the METR-LA road-distance
    kernel, thresholded at 0.1); it is exactly symmetric, so every edge appears in both
    directions, and its diagonal is all 1.0, so the 2833 edges include 207 self loops (2626
    edges between distinct sensors). Self loops are kept as they are in the file.

    Raises:
        DataError: naming the file, line and column for a non-numeric cell, a row of the wrong
            length, a non-square adjacency, an adjacency whose size differs from the number of
            sensors in the speed header, a non-finite adjacency entry, or a blank or repeated
            sensor id.
    """
    speed_rows = _read_csv_rows(speed_path)
    if len(speed_rows) < 2:
        raise DataError(
            f"{speed_path}: expected a header row of sensor ids and at least one row of "
            f"speeds, found {len(speed_rows)} row(s)"
        )
    names = [cell.strip() for cell in speed_rows[0]]
    blank = [j + 1 for j, name in enumerate(names) if not name]
    if blank:
        raise DataError(f"{speed_path}: line 1 (header): column(s) {blank[:5]} have no sensor id")
    if repeat := first_repeat(names):
        name, first, second = repeat
        raise DataError(
            f"{speed_path}: line 1 (header): sensor id {name!r} appears in columns "
            f"{first} and {second}; every column must be a distinct sensor"
        )
    data_rows = speed_rows[1:]
    for i, row in enumerate(data_rows):
        if len(row) != len(names):
            raise DataError(
                f"{speed_path}: line {i + 2} has {len(row)} fields but the header names "
                f"{len(names)} sensors; every row needs one speed per sensor"
            )
    speeds = _numeric(speed_path, data_rows, first_line=2, columns=names)

    adj_rows = _read_csv_rows(adj_path)
    size = len(adj_rows)
    for i, row in enumerate(adj_rows):
        if len(row) != size:
            raise DataError(
                f"{adj_path}: the adjacency must be square, but it has {size} rows and line "
                f"{i + 1} has {len(row)} columns"
            )
    if size != len(names):
        raise DataError(
            f"{adj_path}: a {size} x {size} adjacency does not match the {len(names)} sensors "
            f"in the header of {speed_path}; the two files must come from the same release"
        )
    adj = _numeric(adj_path, adj_rows, first_line=1)
    bad = np.argwhere(~np.isfinite(adj))
    if len(bad):
        i, j = (int(k) for k in bad[0])
        raise DataError(
            f"{adj_path}: line {i + 1}, column {j + 1}: adjacency entry is "
            f"{adj_rows[i][j]!r}; every entry must be a finite number ({len(bad)} are not)"
        )

    # METR-LA's loop detectors write 0 mph for "no reading" (DCRNN and Graph WaveNet mask
    # those cells): a zero here is declared missing, never a speed to learn or score.
    zeros = speeds == LOS_LOOP_MISSING_VALUE
    if zeros.any():
        step, column = (int(k) for k in np.argwhere(zeros)[0])
        raise DataError(
            f"{speed_path}: {int(zeros.sum())} readings are {LOS_LOOP_MISSING_VALUE:g} mph, which "
            f"METR-LA's detectors write for no reading (first: line {step + 2}, sensor "
            f"{names[column]!r}); the built-in Los-loop has none, so this is another release. "
            "Read it as your own series (data.source) with data.missing_value: 0 and "
            "data.missing: mask"
        )
    values = pd.DataFrame(speeds, columns=names)
    values.insert(0, "t", np.arange(len(speeds), dtype=np.int64))
    values.attrs[META_ATTR] = {
        "sentinel": {"missing_value": LOS_LOOP_MISSING_VALUE, "cells": int(zeros.sum())}
    }
    source, target = np.nonzero(adj)
    node = np.asarray(names, dtype=object)
    edges = pd.DataFrame(
        {
            "source": node[source].tolist(),
            "target": node[target].tolist(),
            "weight": adj[source, target],
        }
    )
    return values, edges
