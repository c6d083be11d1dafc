"""The series table contract's conversions: long window tables <-> ``(S, N, L)`` arrays.

A request to a served forecaster is a long table (columns ``window``, ``node``,
``lag_L, ..., lag_1`` and optionally ``time``; see :mod:`tokfrag.registry.contracts`):
:func:`frame_to_windows` checks it and pivots it into windows, :func:`forecasts_to_frame`
turns the forecasts back into the long output table, and :func:`windows_to_frame` builds a
request (input examples, clients) from the arrays the rest of tokfrag uses. Every error
names the column, window and node at fault. pandas and numpy only, no MLflow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from tokfrag.registry.contracts import ForecastContract

WINDOW_COL = "window"
NODE_COL = "node"
TIME_COL = "time"


def lag_columns(lags: int) -> list[str]:
    """``lag_L, ..., lag_1``: column order matches the window's time order (oldest first)."""
    return [f"lag_{k}" for k in range(lags, 0, -1)]


def windows_to_frame(
    windows: np.ndarray,
    node_ids: tuple[str, ...] | list[str],
    window_ids: np.ndarray | list[int] | None = None,
    times: np.ndarray | None = None,
) -> pd.DataFrame:
    """Turn windows ``(S, N, L)`` (oldest step first) into the long input table.

    ``window_ids`` default to ``0..S-1``; ``times`` ``(S,)`` (each window's ``lag_1`` step:
    step numbers or datetime64) add the ``time`` column. This is how input examples and
    clients build a request from the arrays the rest of tokfrag uses.
    """
    windows = np.asarray(windows, dtype=np.float64)
    if windows.ndim != 3 or windows.shape[1] != len(node_ids):
        raise ValueError(f"expected windows of shape (S, {len(node_ids)}, L), got {windows.shape}")
    s, n, lags = windows.shape
    ids = np.arange(s) if window_ids is None else np.asarray(window_ids)
    if ids.shape != (s,):
        raise ValueError(f"window_ids must have one id per window ({s}), got shape {ids.shape}")
    if times is not None:
        times = np.asarray(times)
        if times.shape != (s,):
            raise ValueError(f"times must have one time per window ({s}), got {times.shape}")
    return _long_table(windows, lag_columns(lags), node_ids, ids.astype(np.int64), times)


def frame_to_windows(
    frame: pd.DataFrame, contract: ForecastContract
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Validate the long input table and pivot it to ``(window_ids, windows (S, N, L),
    times (S,) or None)``; times are int64 step numbers, or epoch nanoseconds for dates.

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
    bad = (np.isinf(values) if contract.gaps else ~np.isfinite(values)).any(axis=1)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        allowed = (
            "finite numbers, or empty for a missing reading"
            if contract.gaps
            else "finite numbers (this model was trained without gaps: data.missing refuse)"
        )
        raise ValueError(
            f"window {_plain(window_ids[row])!r}, node {nodes[row]!r}: lag values must be "
            f"{allowed}, got {values[row].tolist()}"
        )

    windows = np.empty((len(unique_ids), len(contract.node_ids), contract.lags))  # (S, N, L)
    windows[window_pos, node_pos] = values
    times = _times(frame, window_ids, window_pos, len(unique_ids), contract.time_unit)
    return unique_ids, windows, times


def _times(
    frame: pd.DataFrame,
    window_ids: np.ndarray,
    window_pos: np.ndarray,
    num_windows: int,
    time_unit: str,
) -> np.ndarray | None:
    """The ``time`` column as one int64 per window (dates as epoch nanoseconds), checked to
    be of the contract's kind (step numbers, or dates for ``time_unit="ns"``), given and
    equal on every row of a window; ``None`` without the column."""
    if TIME_COL not in frame.columns:
        return None
    column = frame[TIME_COL]
    if column.isna().any():
        row = int(np.flatnonzero(column.isna().to_numpy())[0])
        raise ValueError(f"window {_plain(window_ids[row])!r}: the time column is empty")
    dates = pd.api.types.is_datetime64_any_dtype(column)
    if time_unit == "ns" and not dates:
        raise ValueError(
            f"the time column holds {column.dtype} values, but this model's data has dates: "
            "give the date of each window's lag_1 step (e.g. 2024-01-31T12:00)"
        )
    if time_unit != "ns" and not pd.api.types.is_integer_dtype(column):
        raise ValueError(
            f"the time column holds {column.dtype} values, but this model's data counts "
            "steps: give the step number of each window's lag_1 step (an integer)"
        )
    if dates:
        stamps = pd.to_datetime(column, utc=True).dt.tz_localize(None)
        values = stamps.to_numpy("datetime64[ns]").astype(np.int64)
    else:
        values = column.to_numpy(np.int64)
    times = np.zeros(num_windows, dtype=np.int64)
    times[window_pos] = values
    if not (times[window_pos] == values).all():
        row = int(np.flatnonzero(times[window_pos] != values)[0])
        raise ValueError(
            f"window {_plain(window_ids[row])!r}: its rows give different times; a window's "
            "rows must share the time of its lag_1 step"
        )
    return times


def forecasts_to_frame(
    window_ids: np.ndarray, forecasts: np.ndarray, contract: ForecastContract
) -> pd.DataFrame:
    """Turn forecasts ``(S, N, H)`` back into the long output table."""
    return _long_table(
        np.asarray(forecasts, dtype=np.float64),
        contract.horizon_columns,
        contract.node_ids,
        np.asarray(window_ids),
    )


def _long_table(
    values: np.ndarray,
    columns: list[str],
    node_ids: tuple[str, ...] | list[str],
    window_ids: np.ndarray,
    times: np.ndarray | None = None,
) -> pd.DataFrame:
    """Values ``(S, N, C)`` as the long table: ``window`` [, ``time``], ``node``, then one
    column per ``columns``; one row per (window, node), windows in order, nodes in
    ``node_ids`` order. ``window_ids`` and ``times`` hold one entry per window."""
    s, n, width = values.shape
    frame = pd.DataFrame(values.reshape(s * n, width), columns=columns)  # (S*N, C)
    frame.insert(0, NODE_COL, np.tile(np.asarray(node_ids, dtype=object), s))
    if times is not None:
        frame.insert(0, TIME_COL, np.repeat(times, n))
    frame.insert(0, WINDOW_COL, np.repeat(window_ids, n))
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
