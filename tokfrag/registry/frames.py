"""The served models' table contracts, one per kind of data: DataFrames in, DataFrames out.

A served model is called by people and programs that think in rows, not in tensors, so the
pyfunc wrapper speaks a table. Which table depends on the contract's ``kind``:

* ``"series"`` (:class:`ForecastContract`, forecasting):

  - input: columns ``window`` (int; several windows may be sent at once), ``node`` (str)
    and ``lag_L, ..., lag_1`` (float; ``lag_1`` is the most recent step). Every window
    holds each node of :attr:`ForecastContract.node_ids` exactly once, in any row order.
    A column ``time`` gives the time of each window's ``lag_1`` step (the same on all its
    rows): a step number, or a date when the contract's ``time_unit`` is ``"ns"``. Models
    with calendar covariates need it; the others ignore it.
  - output: columns ``window``, ``node``, ``h1, ..., hH``, one row per (window, node), rows
    sorted by window and then in ``node_ids`` order.

* ``"text"`` (:class:`ClassifyContract`, classification):

  - input: a column ``text`` of non-empty strings, one document per row (other columns are
    ignored).
  - output: columns ``label`` (the most probable class name) and ``proba_<name>`` (float),
    one per class in :attr:`ClassifyContract.label_names` order; one row per input row, in
    input order, on a fresh ``0..B-1`` index.

Both contracts are saved beside the model as ``contract.json`` with a ``kind`` field, and
:func:`read_contract` gives back the right class. Each contract also says how its models are
ranked (:attr:`primary_metric`, :attr:`higher_is_better`) and what two candidates must share
to be comparable (:meth:`task_key`).

This module holds only pandas/numpy code (no MLflow), so the conversion is testable and
reusable on its own; :mod:`tokfrag.registry.pyfunc` wires it into MLflow.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

CONTRACT_FILE = "contract.json"
SERIES = "series"
TEXT = "text"
WINDOW_COL = "window"
NODE_COL = "node"
TIME_COL = "time"
TEXT_COL = "text"
LABEL_COL = "label"
PROBA_PREFIX = "proba_"


@dataclass(frozen=True)
class ForecastContract:
    """What a served forecaster expects and returns; saved beside it as ``contract.json``."""

    node_ids: tuple[str, ...]
    lags: int
    horizon: int
    dataset: str
    family: str
    time_unit: str = "steps"  # the `time` column: "steps" (step numbers) or "ns" (dates)
    # data.missing: mask or interpolate: an empty (NaN) lag value is a missing reading, which
    # the model reads as such; otherwise every lag value must be a finite number.
    gaps: bool = False

    kind: ClassVar[str] = SERIES
    primary_metric: ClassVar[str] = "test_mse"  # champion: the lowest
    higher_is_better: ClassVar[bool] = False

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

    def task_key(self) -> dict[str, Any]:
        """What two candidates must share to be compared: the same windows of the same nodes."""
        return {"lags": self.lags, "horizon": self.horizon, "node_ids": self.node_ids}

    def tags(self) -> dict[str, str]:
        """Registry version tags describing the task (besides family, metrics, data, commit)."""
        return {"lags": str(self.lags), "horizon": str(self.horizon)}

    def example_frame(self, example: Any) -> pd.DataFrame:
        """The input table for a real example: windows ``(1, N, L)`` (any ``S >= 1`` works),
        or ``(windows, times)`` with each window's time (then the table has ``time``)."""
        times = None
        if isinstance(example, tuple):
            example, times = example
        shape = np.shape(example)
        if len(shape) != 3 or shape[0] < 1 or shape[1:] != (len(self.node_ids), self.lags):
            raise ValueError(
                f"example windows have shape {shape}, expected (1, {len(self.node_ids)}, "
                f"{self.lags})"
            )
        if times is not None and self.time_unit == "ns":
            times = np.asarray(times).astype("datetime64[ns]")
        return windows_to_frame(np.asarray(example), self.node_ids, times=times)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["node_ids"] = list(self.node_ids)
        return {"kind": self.kind, **data}

    def write(self, folder: Path) -> Path:
        return _write(self.to_dict(), folder)

    @classmethod
    def read(cls, path: Path) -> ForecastContract:
        """Read ``contract.json`` (``path`` may be the file or its folder)."""
        data = _read(path, cls.kind)
        return cls(
            node_ids=tuple(data["node_ids"]),
            lags=data["lags"],
            horizon=data["horizon"],
            dataset=data["dataset"],
            family=data["family"],
            time_unit=data.get("time_unit", "steps"),
            gaps=bool(data.get("gaps", False)),
        )


@dataclass(frozen=True)
class ClassifyContract:
    """What a served text classifier expects and returns; saved beside it as ``contract.json``.

    ``label_names`` are the class names in the classifier's probability-column order.
    """

    label_names: tuple[str, ...]
    dataset: str
    family: str

    kind: ClassVar[str] = TEXT
    primary_metric: ClassVar[str] = "test_accuracy"  # champion: the highest
    higher_is_better: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if isinstance(self.label_names, str):
            raise ValueError("contract: label_names must be a sequence of class names")
        object.__setattr__(self, "label_names", tuple(str(n) for n in self.label_names))
        if not self.label_names:
            raise ValueError("contract: label_names is empty; a classifier needs its classes")
        if any(not name for name in self.label_names):
            raise ValueError(f"contract: label_names {list(self.label_names)} has an empty name")
        if len(set(self.label_names)) != len(self.label_names):
            dupes = sorted({n for n in self.label_names if self.label_names.count(n) > 1})
            raise ValueError(f"contract: label_names has duplicates {dupes}; names must be unique")

    @property
    def proba_columns(self) -> list[str]:
        """Output probability columns ``proba_<name>``, in ``label_names`` order."""
        return [f"{PROBA_PREFIX}{name}" for name in self.label_names]

    @property
    def output_columns(self) -> list[str]:
        return [LABEL_COL, *self.proba_columns]

    def task_key(self) -> dict[str, Any]:
        """What two candidates must share to be compared: the same classes in the same order."""
        return {"label_names": self.label_names}

    def tags(self) -> dict[str, str]:
        """Registry version tags describing the task (besides family, metrics, data, commit)."""
        return {"label_names": json.dumps(list(self.label_names))}

    def example_frame(self, example: Any) -> pd.DataFrame:
        """The input table for a real example: a non-empty list of documents."""
        return texts_to_frame(example)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["label_names"] = list(self.label_names)
        return {"kind": self.kind, **data}

    def write(self, folder: Path) -> Path:
        return _write(self.to_dict(), folder)

    @classmethod
    def read(cls, path: Path) -> ClassifyContract:
        """Read ``contract.json`` (``path`` may be the file or its folder)."""
        data = _read(path, cls.kind)
        return cls(
            label_names=tuple(data["label_names"]),
            dataset=data["dataset"],
            family=data["family"],
        )


Contract = ForecastContract | ClassifyContract
CONTRACTS: dict[str, type[ForecastContract] | type[ClassifyContract]] = {
    SERIES: ForecastContract,
    TEXT: ClassifyContract,
}


def read_contract(path: Path) -> Contract:
    """Read any ``contract.json`` (file or folder) as the class its ``kind`` names."""
    kind = _load(path).get("kind", SERIES)  # contracts written before kinds were series
    if kind not in CONTRACTS:
        raise ValueError(f"{path}: unknown contract kind {kind!r}; known: {sorted(CONTRACTS)}")
    return CONTRACTS[kind].read(path)


def _contract_path(path: Path) -> Path:
    path = Path(path)
    return path / CONTRACT_FILE if path.is_dir() else path


def _load(path: Path) -> dict[str, Any]:
    return json.loads(_contract_path(path).read_text(encoding="utf-8"))


def _read(path: Path, kind: str) -> dict[str, Any]:
    data = _load(path)
    found = data.get("kind", SERIES)
    if found != kind:
        raise ValueError(
            f"{_contract_path(path)} is a {found!r} contract, not {kind!r}; use read_contract"
        )
    return data


def _write(data: dict[str, Any], folder: Path) -> Path:
    path = Path(folder) / CONTRACT_FILE
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path


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
    frame = pd.DataFrame(windows.reshape(s * n, lags), columns=lag_columns(lags))  # (S*N, L)
    frame.insert(0, NODE_COL, np.tile(np.asarray(node_ids, dtype=object), s))
    if times is not None:
        times = np.asarray(times)
        if times.shape != (s,):
            raise ValueError(f"times must have one time per window ({s}), got {times.shape}")
        frame.insert(0, TIME_COL, np.repeat(times, n))
    frame.insert(0, WINDOW_COL, np.repeat(ids.astype(np.int64), n))
    return frame


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


# --- text ---------------------------------------------------------------------------------

_TEXT_FIX = f"send one non-empty string per row in column {TEXT_COL!r}"


def texts_to_frame(texts: Any) -> pd.DataFrame:
    """Turn documents (a list of strings) into the text input table (one ``text`` column)."""
    if isinstance(texts, str):
        raise ValueError("expected a list of documents, got one string; wrap it in a list")
    try:
        texts = list(texts)
    except TypeError as err:
        raise ValueError(f"expected a list of documents, got {type(texts).__name__}") from err
    frame = pd.DataFrame({TEXT_COL: pd.Series(texts, dtype=object)})
    frame_to_texts(frame)  # the same checks a served request gets
    return frame


def frame_to_texts(frame: pd.DataFrame) -> list[str]:
    """Validate the text input table and return its documents in row order.

    Raises ``ValueError`` naming the first bad row (0-based position), what is wrong with it
    and how to fix the request.
    """
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(
            f"expected a pandas DataFrame, got {type(frame).__name__}; "
            f"send pd.DataFrame({{{TEXT_COL!r}: [...]}})"
        )
    if TEXT_COL not in frame.columns:
        raise ValueError(
            f"input is missing column {TEXT_COL!r} (got {[str(c) for c in frame.columns]}); "
            f"{_TEXT_FIX}"
        )
    if frame.empty:
        raise ValueError(f"input has no rows; {_TEXT_FIX}")
    texts = frame[TEXT_COL].tolist()
    for row, text in enumerate(texts):
        if not isinstance(text, str):
            what = "null" if _is_null(text) else f"{type(text).__name__} {text!r:.60}, not a string"
            raise ValueError(f"row {row}: text is {what}; {_TEXT_FIX}")
        if not text.strip():
            raise ValueError(f"row {row}: text is empty; {_TEXT_FIX}")
    return texts


def probabilities_to_frame(probabilities: np.ndarray, contract: ClassifyContract) -> pd.DataFrame:
    """Turn class probabilities ``(B, C)`` into the text output table, rows in input order."""
    proba = np.asarray(probabilities, dtype=np.float64)
    if proba.ndim != 2 or proba.shape[1] != len(contract.label_names):
        raise ValueError(
            f"expected probabilities of shape (B, {len(contract.label_names)}), got {proba.shape}"
        )
    names = np.asarray(contract.label_names, dtype=object)
    frame = pd.DataFrame(proba, columns=contract.proba_columns)
    frame.insert(0, LABEL_COL, names[proba.argmax(axis=1)] if len(proba) else names[:0])
    return frame


def _is_null(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # lists, arrays: not a scalar, so not a null
        return False
