"""Reading columns of your files: readings as numbers and the time column as times.

Each refuses what it cannot read with a :class:`DataError` naming the file, the row (as
:func:`~tokfrag.data.custom.formats.row_at` gives it), the column and the fix. Dates with UTC
offsets are converted to UTC, so a daylight-saving change is no gap in the steps.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tokfrag.data.custom.formats import row_at
from tokfrag.data.specs import DataError


def to_numbers(path: Path, column: pd.Series, hint: str, file_format: str) -> np.ndarray:
    """A column as float64; a cell that is present but not a number is a :class:`DataError`
    naming the row (missing cells become NaN for the gate to report)."""
    numeric = pd.to_numeric(column, errors="coerce")
    bad = numeric.isna() & column.notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        cell = column.iloc[row]
        comma = (
            " (a comma in a number: write '.' as the decimal point, with no thousands separator)"
            if isinstance(cell, str) and _DECIMAL_COMMA.match(cell)
            else ""
        )
        raise DataError(
            f"{path.name}: {row_at(path, row, file_format)}, column {column.name!r} "
            f"({hint}): {cell!r} is not a number ({int(bad.sum())} cells in "
            f"the column are not){comma}; fix those cells"
        )
    return numeric.to_numpy(np.float64)


_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d{1,3}(?:[ .]\d{3})*,\d+\s*$|^\s*[-+]?\d+,\d+\s*$")


def check_text_columns(
    path: Path, frame: pd.DataFrame, columns: list[Any], time: str, file_format: str
) -> None:
    """A column of a wide table with text in every row (a station id, a name) is not a
    node's readings: refuse it by name, before each of its cells is called a bad number."""
    for c in columns:
        column = frame[c]
        present = column.notna()
        if not present.any() or pd.api.types.is_numeric_dtype(column):
            continue
        cells = column[present]
        if cells.astype(str).str.match(_DECIMAL_COMMA).any():
            continue  # readings with decimal commas: the number check names the comma
        if pd.to_numeric(cells, errors="coerce").isna().all():
            shown = ", ".join(repr(v) for v in pd.unique(cells)[:3])
            raise DataError(
                f"{path.name}: column {c!r} holds text in every row ({shown}), not readings; "
                f"in a wide table every column but data.source.time ({time!r}) is a node: "
                "drop that column if it is an id or a name, or, if the table has one row per "
                f"time and node, set data.source.layout: long with data.source.node: {c}"
            )


def parse_time(path: Path, column: pd.Series, file_format: str) -> pd.Series:
    """The time column as int64 (step numbers) or datetime64 (dates); a missing or unreadable
    time is a :class:`DataError` naming the row (rows could not be put in order)."""
    missing = column.isna()
    if missing.any():
        row = int(np.flatnonzero(missing.to_numpy())[0])
        raise DataError(
            f"{path.name}: {row_at(path, row, file_format)}, column {column.name!r} "
            "(data.source.time) is empty; every row needs a time"
        )
    if pd.api.types.is_bool_dtype(column):
        raise DataError(
            f"{path.name}: column {column.name!r} (data.source.time) holds true/false, not "
            "times; use step numbers or ISO dates (2024-01-31 or 2024-01-31T12:00)"
        )
    if pd.api.types.is_datetime64_any_dtype(column):
        parsed = column
    elif pd.api.types.is_integer_dtype(column):
        return column.astype(np.int64)
    elif pd.api.types.is_float_dtype(column) and (column % 1 == 0).all():
        return column.astype(np.int64)
    else:
        numbers = pd.to_numeric(column, errors="coerce")
        if numbers.notna().mean() >= 0.5:  # step numbers, with some cells that are not
            bad = (numbers.isna() | (numbers % 1 != 0)).to_numpy()
            if not bad.any():  # whole numbers stored as text or decimals: step numbers
                return numbers.astype(np.int64)
            row = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"{path.name}: {row_at(path, row, file_format)}, column {column.name!r} "
                f"(data.source.time): {_plain(column.iloc[row])!r} is not a whole number, but the "
                f"column holds step numbers ({int(bad.sum())} cells are not); fix those cells "
                "(steps are counted 0, 1, 2, ...; for times in between, use dates)"
            )
        with warnings.catch_warnings():  # "could not infer format": the check below says it
            warnings.simplefilter("ignore", UserWarning)
            # Offsets (+01:00, +02:00 across a daylight-saving change) are converted to UTC.
            parsed = pd.to_datetime(column, errors="coerce", utc=True)
        bad = parsed.isna()
        if bad.any():
            _unreadable_dates(path, column, bad.to_numpy(), file_format)
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return parsed.astype("datetime64[ns]")


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds (``0.5``, not ``np.float64(0.5)``)."""
    return value.item() if isinstance(value, np.generic) else value


def _unreadable_dates(path: Path, column: pd.Series, bad: np.ndarray, file_format: str) -> None:
    """Raise for the time cells that did not parse in the format the column's first date
    set: a cell that is no date at all, else every date written another way (mixed
    formats, e.g. 2024-01-31 and 01/02/2024, which could be read day-first or month-first)."""
    rows = np.flatnonzero(bad)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        alone = pd.to_datetime(column.iloc[rows], format="mixed", errors="coerce", utc=True)
    garbage = rows[alone.isna().to_numpy()]
    where = f"column {column.name!r} (data.source.time)"
    if len(garbage):
        row = int(garbage[0])
        raise DataError(
            f"{path.name}: {row_at(path, row, file_format)}, {where}: {column.iloc[row]!r} is "
            "neither a whole number nor a date; use step numbers or ISO dates (2024-01-31 or "
            "2024-01-31T12:00)"
        )
    first = int(np.flatnonzero(~bad)[0])
    shown = ", ".join(
        f"{row_at(path, int(r), file_format)} {column.iloc[int(r)]!r}" for r in rows[:3]
    )
    raise DataError(
        f"{path.name}: {where} mixes date formats: {row_at(path, first, file_format)} reads "
        f"{column.iloc[first]!r}, but {len(rows)} rows are written another way: {shown}"
        f"{', ...' if len(rows) > 3 else ''}; write every date in one format, ISO 8601 "
        "(2024-01-31 or 2024-01-31T12:00)"
    )


def format_time(t: Any) -> str:
    """A time as the person wrote it: a step number, or an ISO date."""
    if isinstance(t, np.datetime64 | pd.Timestamp):
        return pd.Timestamp(t).isoformat()
    return str(t)
