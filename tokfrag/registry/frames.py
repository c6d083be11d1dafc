"""The served model's table contract: long DataFrames in, long DataFrames out.

A served forecaster is called by people and programs that think in rows, not in
``(S, N, L)`` tensors, so the pyfunc wrapper speaks a long table:

* input: columns ``window`` (int; several windows may be sent at once), ``node`` (str) and
  ``lag_L, ..., lag_1`` (float; ``lag_1`` is the most recent step). Every window holds each
  node of :attr:`ForecastContract.node_ids` exactly once, in any row order.
* output: columns ``window``, ``node``, ``h1, ..., hH``, one row per (window, node), rows
  sorted by window and then in ``node_ids`` order.

This module holds only pandas/numpy code (no MLflow), so the conversion is testable and
reusable on its own; :mod:`tokfrag.registry.pyfunc` wires it into MLflow.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

CONTRACT_FILE = "contract.json"
WINDOW_COL = "window"
NODE_COL = "node"


@dataclass(frozen=True)
class ForecastContract:
    """What a served forecaster expects and returns; saved beside it as ``contract.json``."""

    node_ids: tuple[str, ...]
    lags: int
    horizon: int
    dataset: str
    family: str

    def __post_init__(self) -> None:
        # JSON gives lists and callers may pass numpy ints: normalise so equality and
        # hashing behave, then check the few things that would make every request fail.
        object.__setattr__(self, "node_ids", tuple(str(n) for n in self.node_ids))
        object.__setattr__(self, "lags", int(self.lags))
        object.__setattr__(self, "horizon", int(self.horizon))
        if not self.node_ids:
            raise ValueError("contract: node_ids is empty; a forecaster needs at least one node")
        if len(set(self.node_ids)) != len(self.node_ids):
            dupes = sorted({n for n in self.node_ids if self.node_ids.count(n) > 1})
            raise ValueError(f"contract: node_ids has duplicates {dupes}; node ids must be unique")
        if self.lags < 1 or self.horizon < 1:
            raise ValueError(
                f"contract: lags ({self.lags}) and horizon ({self.horizon}) must be >= 1"
            )

    @property
    def lag_columns(self) -> list[str]:
        """Input value columns, oldest first: ``lag_L, ..., lag_1``."""
        return lag_columns(self.lags)

    @property
    def horizon_columns(self) -> list[str]:
        """Output columns ``h1, ..., hH`` (``h1`` is the next step)."""
        return [f"h{h}" for h in range(1, self.horizon + 1)]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["node_ids"] = list(self.node_ids)
        return data

    def write(self, folder: Path) -> Path:
        path = Path(folder) / CONTRACT_FILE
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        return path

    @classmethod
    def read(cls, path: Path) -> ForecastContract:
        """Read ``contract.json`` (``path`` may be the file or its folder)."""
        path = Path(path)
        if path.is_dir():
            path = path / CONTRACT_FILE
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            node_ids=tuple(data["node_ids"]),
            lags=data["lags"],
            horizon=data["horizon"],
            dataset=data["dataset"],
            family=data["family"],
        )


def lag_columns(lags: int) -> list[str]:
    """``lag_L, ..., lag_1``: column order matches the window's time order (oldest first)."""
    return [f"lag_{k}" for k in range(lags, 0, -1)]


def windows_to_frame(
    windows: np.ndarray,
    node_ids: tuple[str, ...] | list[str],
    window_ids: np.ndarray | list[int] | None = None,
) -> pd.DataFrame:
    """Turn windows ``(S, N, L)`` (oldest step first) into the long input table.

    ``window_ids`` default to ``0..S-1``. This is how input examples and clients build a
    request from the arrays the rest of tokfrag uses.
    """
    windows = np.asarray(windows, dtype=np.float64)
    if windows.ndim != 3 or windows.shape[1] != len(node_ids):
        raise ValueError(f"expected windows of shape (S, {len(node_ids)}, L), got {windows.shape}")
    s, n, lags = windows.shape
    ids = np.arange(s) if window_ids is None else np.asarray(window_ids)
    if ids.shape != (s,):
        raise ValueError(f"window_ids must have one id per window ({s}), got shape {ids.shape}")
    frame = pd.DataFrame(windows.reshape(s * n, lags), columns=lag_columns(lags))  # (S*N, L)
    frame.insert(0, NODE_COL, np.tile(np.asarray(node_ids, dtype=object), s))
    frame.insert(0, WINDOW_COL, np.repeat(ids.astype(np.int64), n))
    return frame


def frame_to_windows(
    frame: pd.DataFrame, contract: ForecastContract
) -> tuple[np.ndarray, np.ndarray]:
    """Validate the long input table and pivot it to ``(window_ids, windows (S, N, L))``.

    Windows come back sorted by id, nodes in ``contract.node_ids`` order, steps oldest first.
    Raises ``ValueError`` naming the column, window and node at fault.
    """
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"expected a pandas DataFrame, got {type(frame).__name__}")
    needed = [WINDOW_COL, NODE_COL, *contract.lag_columns]
    missing_cols = [c for c in needed if c not in frame.columns]
    if missing_cols:
        raise ValueError(
            f"input is missing column(s) {missing_cols}; expected {needed} "
            f"(lag_1 is the most recent step)"
        )
    if frame.empty:
        raise ValueError("input has no rows; send at least one window")

    nodes = frame[NODE_COL].astype(str).to_numpy()
    window_ids = frame[WINDOW_COL].to_numpy()
    _check_nodes_per_window(window_ids, nodes, contract.node_ids)

    position = {node: i for i, node in enumerate(contract.node_ids)}
    node_pos = np.fromiter((position[n] for n in nodes), dtype=np.int64, count=len(nodes))
    unique_ids, window_pos = np.unique(window_ids, return_inverse=True)

    values = frame[contract.lag_columns].to_numpy(dtype=np.float64)  # (rows, L)
    bad = ~np.isfinite(values).all(axis=1)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"window {_plain(window_ids[row])!r}, node {nodes[row]!r}: lag values must be finite "
            f"numbers, got {values[row].tolist()}"
        )

    windows = np.empty((len(unique_ids), len(contract.node_ids), contract.lags))  # (S, N, L)
    windows[window_pos, node_pos] = values
    return unique_ids, windows


def forecasts_to_frame(
    window_ids: np.ndarray, forecasts: np.ndarray, contract: ForecastContract
) -> pd.DataFrame:
    """Turn forecasts ``(S, N, H)`` back into the long output table."""
    s, n, h = forecasts.shape
    frame = pd.DataFrame(
        np.asarray(forecasts, dtype=np.float64).reshape(s * n, h),
        columns=contract.horizon_columns,
    )
    frame.insert(0, NODE_COL, np.tile(np.asarray(contract.node_ids, dtype=object), s))
    frame.insert(0, WINDOW_COL, np.repeat(np.asarray(window_ids), n))
    return frame


def _check_nodes_per_window(
    window_ids: np.ndarray, nodes: np.ndarray, node_ids: tuple[str, ...]
) -> None:
    """Every window must hold each known node exactly once; name the first window that does not."""
    known = set(node_ids)
    table = pd.DataFrame({WINDOW_COL: window_ids, NODE_COL: nodes})
    unknown = table[~table[NODE_COL].isin(known)]
    if not unknown.empty:
        first = unknown.iloc[0]
        raise ValueError(
            f"window {_plain(first[WINDOW_COL])!r}: unknown node {first[NODE_COL]!r}; "
            f"this model knows {len(node_ids)} nodes: {list(node_ids)}"
        )
    dupes = table[table.duplicated([WINDOW_COL, NODE_COL], keep=False)]
    if not dupes.empty:
        first = dupes.iloc[0]
        count = int(
            ((table[WINDOW_COL] == first[WINDOW_COL]) & (table[NODE_COL] == first[NODE_COL])).sum()
        )
        raise ValueError(
            f"window {_plain(first[WINDOW_COL])!r}: node {first[NODE_COL]!r} appears "
            f"{count} times; send each node once per window"
        )
    counts = table.groupby(WINDOW_COL, sort=True)[NODE_COL].nunique()
    short = counts[counts < len(node_ids)]
    if not short.empty:
        window = short.index[0]
        present = set(table.loc[table[WINDOW_COL] == window, NODE_COL])
        absent = [n for n in node_ids if n not in present]
        raise ValueError(
            f"window {_plain(window)!r}: missing node(s) {absent}; every window needs all "
            f"{len(node_ids)} nodes"
        )


def _plain(value: Any) -> Any:
    """numpy scalars as Python ones, so messages read ``window 7`` not ``np.int64(7)``."""
    return value.item() if isinstance(value, np.generic) else value
