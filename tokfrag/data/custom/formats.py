"""Reading your files: the format, the bytes, the header and where a row is.

:func:`read_table` reads a CSV, Parquet or JSONL file as a frame, after refusing one that is
not text (a workbook or archive named ``.csv``, UTF-16) or a CSV with ``;`` or tabs between
columns. :func:`read_header` reads a header without the rows; :func:`require_columns` names a
mapped column that is absent; :func:`row_at` says where a data row is in the file.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd

from tokfrag.data.specs import DataError

_MAX_LISTED = 12  # column names shown in an error message


def suffix_format(path: Path) -> str:
    suffix = path.suffix.lower()
    formats = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl"}
    if suffix not in formats:
        raise DataError(f"{path}: cannot tell the format from {suffix!r}; use .csv or .parquet")
    return formats[suffix]


def read_table(
    path: Path, file_format: str, text_columns: tuple[str, ...] = (), *, documents: bool = False
) -> pd.DataFrame:
    """A CSV, Parquet or JSONL file as a frame; ``text_columns`` are read as strings (CSV),
    so ``007`` stays ``007`` and a label ``1`` is ``"1"``. With ``documents``, only an empty
    CSV cell is missing (a document reading "NA" or "null" is text, not a gap)."""
    path = Path(path)
    if file_format in ("csv", "jsonl"):
        check_text_file(path, file_format)
    try:
        if file_format == "csv":
            check_comma_separated(path)
            header = pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns
            dtype = {c: "str" for c in text_columns if c in header}
            missing = {"keep_default_na": False, "na_values": [""]} if documents else {}
            return pd.read_csv(path, dtype=dtype or None, encoding="utf-8-sig", **missing)
        if file_format == "parquet":
            return pd.read_parquet(path)
        if file_format == "jsonl":
            _json_lines(path)
            return pd.read_json(path, lines=True, dtype=False, encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: not valid UTF-8 text ({err}); save it as UTF-8") from None
    except (ValueError, OSError, pd.errors.ParserError, json.JSONDecodeError) as err:
        raise DataError(
            f"{path}: cannot be read as {file_format} ({err}); fix the file or set "
            "data.source.format"
        ) from None
    raise DataError(f"{path}: unknown format {file_format!r}; use csv, parquet or jsonl")


NUL = b"\x00"
# The first bytes of files that are not text, and what a person would call them.
_MAGIC = (
    (b"PK\x03\x04", "a zip archive (an Excel .xlsx or OpenDocument .ods workbook is one)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls workbook (an Office file)"),
    (b"PAR1", "a Parquet file"),
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"%PDF", "a PDF document"),
    (b"SQLite format 3\x00", "an SQLite database"),
)


def check_text_file(path: Path, file_format: str) -> None:
    """A CSV or JSONL file must be text: refuse a workbook, an archive or other binary data
    saved under a text name, and UTF-16 (Excel's "Unicode text"), naming what it looks like."""
    with path.open("rb") as handle:
        head = handle.read(8192)
    name = file_format.upper()
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DataError(
            f"{path.name}: a UTF-16 text file (it starts with a UTF-16 byte-order mark), not "
            f"UTF-8; save it as UTF-8 ({name} UTF-8 in a spreadsheet's 'Save as')"
        )
    what = next((what for magic, what in _MAGIC if head.startswith(magic)), None)
    if what is None and NUL in head:
        what = f"binary data (a NUL byte at byte {head.index(NUL)})"
    if what is not None:
        raise DataError(
            f"{path.name}: not a text {name} file: its bytes are {what}; save or export it "
            f"as {name} (UTF-8) from the program that made it, or, if it is Parquet, name it "
            ".parquet or set data.source.format: parquet"
        )


def check_comma_separated(path: Path) -> None:
    """A CSV must have ',' between columns: refuse one whose header is split by ';' (as
    spreadsheets with European settings export it, with decimal commas) or by tabs."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle), [])
    except csv.Error:
        return  # pandas says what is wrong with the file
    if len(header) != 1:
        return
    for separator, called in ((";", "';'"), ("\t", "a tab")):
        if len([f for f in header[0].split(separator) if f.strip()]) > 1:
            raise DataError(
                f"{path.name}: line 1 (header) has no ',' between columns but {called} "
                f"({header[0][:60]!r}): a CSV with {called} between columns (and often a decimal "
                "comma, 1,5), as spreadsheets with European settings export it; tokfrag reads "
                "',' between columns and '.' in numbers: export it again with ',' as the "
                "separator and '.' as the decimal point"
            )


def _json_lines(path: Path) -> None:
    """Every non-blank line of a JSONL file must be one JSON object: name the first that is
    not (a truncated last line, a pasted fragment). A byte-order mark is allowed."""
    with path.open(encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as err:
                raise DataError(
                    f"{path.name}: line {number} is not valid JSON ({err.msg} at column "
                    f"{err.colno}); a truncated last line means the file was not written "
                    "completely: fix or remove that line"
                ) from None
            if not isinstance(value, dict):
                raise DataError(
                    f"{path.name}: line {number} is a JSON {type(value).__name__}, not an "
                    'object; write one object per line ({"text": ..., "label": ...})'
                )


def require_columns(path: Path, frame: pd.DataFrame, columns: dict[str, str | None]) -> None:
    """Every mapped column (``params key -> column name``) must be in ``frame``."""
    if frame.empty and len(frame.columns) == 0:
        raise DataError(
            f"{path.name}: the file has no rows and no columns; check that data.source.path "
            "names the right file and that it was written completely"
        )
    have = [str(c) for c in frame.columns]
    for key, column in columns.items():
        if column is not None and column not in have:
            shown = have[:_MAX_LISTED] + (["..."] if len(have) > _MAX_LISTED else [])
            raise DataError(
                f"{path.name}: column {column!r} not found; columns are {shown}; set "
                f"data.source.{key} to one of them"
            )


def row_at(path: Path, row: int, file_format: str) -> str:
    """Where 0-based data row ``row`` is, as a person finds it in the file."""
    if file_format == "csv":
        return f"row {row} (line {row + 2})"
    if file_format == "jsonl":
        return f"row {row} (line {row + 1})"
    return f"row {row}"


def read_header(path: Path, file_format: str) -> list[str] | None:
    """The column names of a CSV or Parquet file, read without reading its rows; None when
    they cannot be read this way (:func:`read_table` then says why)."""
    try:
        if file_format == "csv":
            check_text_file(path, file_format)
            check_comma_separated(path)
            with path.open(encoding="utf-8-sig", newline="") as handle:
                return next(csv.reader(handle), [])
        if file_format == "parquet":
            import pyarrow.parquet as pq

            return list(pq.read_schema(path).names)
    except (OSError, ValueError, csv.Error):
        return None
    return None


def check_distinct_header(path: Path, file_format: str) -> None:
    """pandas renames a repeated CSV header (``a``, ``a.1``): catch it, as the gate would."""
    if file_format != "csv":
        return
    with path.open(encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader(handle), [])
    from tokfrag.data.loaders import first_repeat

    if repeat := first_repeat(header):
        name, first, second = repeat
        raise DataError(
            f"{path.name}: line 1 (header): column {name!r} appears in columns "
            f"{first} and {second}; every node column needs its own name"
        )
