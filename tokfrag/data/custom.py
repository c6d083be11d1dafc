"""Your own data: files described by ``data.source`` in params.yaml, read with pandas.

:func:`custom_spec` turns the mapping into a :class:`~tokfrag.data.registry.DatasetSpec` whose
files are yours (with the sha256 of their bytes now) and whose loader is :func:`load_series` or
:func:`load_text` below, so `ingest` treats your data exactly as a built-in dataset: the same
canonical tables, the same meta (files and sha256, so a change in your data is visible
downstream), the same validation gate and everything after it.

The loaders return what the built-in loaders return (see :mod:`tokfrag.data.loaders` and
:mod:`tokfrag.data.text_loaders`):

series  ``(values, edges)``: ``values`` has ``t`` (int64, or datetime64 when the time column
        holds dates) then one float64 column per node, rows sorted by time; ``edges`` has
        ``source``, ``target`` (node names, str) and ``weight`` (float64; 1.0 without a weight
        column). No edge list gives an empty edge table: `prepare` then builds the graph from
        the correlations of the training steps, as for any dataset without a graph.
text    ``documents`` with ``doc_id`` (the row's 0-based position in your file), ``text``,
        ``label`` and ``split`` (str). Without a split column, a stratified (by label)
        ``test_fraction`` of the rows is the test split
        (``sklearn.model_selection.train_test_split(random_state=seed)``, as SMS Spam's loader
        does), so the same file and seed always give the same split. Test documents identical
        to a training document are dropped, as for the built-in datasets.

Like the built-in loaders, these keep what they read (an edge to an unknown node, a repeated
time, a blank document) for the validation gate to report; they raise :class:`DataError`,
naming the file, the column or row and the fix, only for what they cannot read at all, and
for gaps in series that ``data.missing`` refuses (:mod:`tokfrag.data.missing`: one summary
for the whole file).

Before a file is read, :func:`source_paths` refuses one too large for memory and
:func:`read_table` one that is not text (a workbook or archive named ``.csv``) or a CSV with
``;`` or tabs between columns (see :mod:`tokfrag.data.limits`). Dates with UTC offsets are
converted to UTC, so a daylight-saving change is no gap in the steps.
"""

from __future__ import annotations

import csv
import json
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tokfrag.config import MISSING_DEFAULTS
from tokfrag.data.limits import check_dense_graph, check_input_size
from tokfrag.data.registry import DataError, DatasetSpec, sha256_file

MODULE = "tokfrag.data.custom"
_MAX_LISTED = 12  # column names shown in an error message


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


# --------------------------------------------------------------------------------------------
# Reading files
# --------------------------------------------------------------------------------------------


def _suffix_format(path: Path) -> str:
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
        _text_file(path, file_format)
    try:
        if file_format == "csv":
            _comma_separated(path)
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


def _text_file(path: Path, file_format: str) -> None:
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


def _comma_separated(path: Path) -> None:
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


def _require(path: Path, frame: pd.DataFrame, columns: dict[str, str | None]) -> None:
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


def _line(path: Path, row: int, file_format: str) -> str:
    """Where 0-based data row ``row`` is, as a person finds it in the file."""
    if file_format == "csv":
        return f"row {row} (line {row + 2})"
    if file_format == "jsonl":
        return f"row {row} (line {row + 1})"
    return f"row {row}"


def _numbers(path: Path, column: pd.Series, hint: str, file_format: str) -> np.ndarray:
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
            f"{path.name}: {_line(path, row, file_format)}, column {column.name!r} "
            f"({hint}): {cell!r} is not a number ({int(bad.sum())} cells in "
            f"the column are not){comma}; fix those cells"
        )
    return numeric.to_numpy(np.float64)


_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d{1,3}(?:[ .]\d{3})*,\d+\s*$|^\s*[-+]?\d+,\d+\s*$")


def _text_columns(
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


def _time(path: Path, column: pd.Series, file_format: str) -> pd.Series:
    """The time column as int64 (step numbers) or datetime64 (dates); a missing or unreadable
    time is a :class:`DataError` naming the row (rows could not be put in order)."""
    missing = column.isna()
    if missing.any():
        row = int(np.flatnonzero(missing.to_numpy())[0])
        raise DataError(
            f"{path.name}: {_line(path, row, file_format)}, column {column.name!r} "
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
                f"{path.name}: {_line(path, row, file_format)}, column {column.name!r} "
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
            f"{path.name}: {_line(path, row, file_format)}, {where}: {column.iloc[row]!r} is "
            "neither a whole number nor a date; use step numbers or ISO dates (2024-01-31 or "
            "2024-01-31T12:00)"
        )
    first = int(np.flatnonzero(~bad)[0])
    shown = ", ".join(
        f"{_line(path, int(r), file_format)} {column.iloc[int(r)]!r}" for r in rows[:3]
    )
    raise DataError(
        f"{path.name}: {where} mixes date formats: {_line(path, first, file_format)} reads "
        f"{column.iloc[first]!r}, but {len(rows)} rows are written another way: {shown}"
        f"{', ...' if len(rows) > 3 else ''}; write every date in one format, ISO 8601 "
        "(2024-01-31 or 2024-01-31T12:00)"
    )


# --------------------------------------------------------------------------------------------
# Series
# --------------------------------------------------------------------------------------------


def load_series(
    values_path: Path,
    edges_path: Path | None = None,
    *,
    file_format: str,
    layout: str | None,
    time: str,
    node: str | None = None,
    value: str | None = None,
    edge_source: str = "source",
    edge_target: str = "target",
    edge_weight: str | None = None,
    missing_policy: dict[str, Any] | None = None,
    split: dict[str, Any] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Your node series (wide or long) and optional edge list -> ``(values, edges)``, the
    tables :func:`tokfrag.data.loaders.load_pgt_json` returns.

    ``missing_policy`` (``data.missing`` and the keys beside it, as
    :meth:`~tokfrag.config.DataConfig.missing_policy` gives them; :func:`custom_spec` always
    passes it) is applied last, by :func:`tokfrag.data.missing.apply_policy`: missing
    readings are refused in one summary, or interpolated, and nodes dropped; what was done
    goes to ``meta.json``. Without it (None), empty cells stay NaN for the gate to report.
    ``split`` (``lags``, ``horizon``, ``by``, ``train_ratio``, ``val_fraction``) gives the
    policy the rows training reads.

    Wide: every column but ``time`` is a node, in file order. Long: one row per (time, node)
    reading; nodes in order of first appearance; a (time, node) pair that is absent, or
    given twice, is an error (a reading that is present but empty is NaN: a gap, for
    ``missing_policy`` below).

    Without an edge list, the node count must leave room for the dense correlation graph
    `prepare` builds (:func:`tokfrag.data.limits.check_dense_graph`); a wide table's header
    is counted before the file is read.
    """
    values_path = Path(values_path)
    layout = layout or "wide"
    if layout == "wide" and edges_path is None:
        header = _header(values_path, file_format)
        if header is not None:
            _graph_fits(values_path, len([c for c in header if c != time]))
    frame = read_table(values_path, file_format, (node,) if node else ())
    if layout == "wide":
        _require(values_path, frame, {"time": time})
        _distinct_header(values_path, file_format)
        nodes = [c for c in frame.columns if c != time]
        if not nodes:
            raise DataError(
                f"{values_path.name}: only the time column {time!r}; a wide table needs one "
                "column per node (or set data.source.layout: long)"
            )
        for c in nodes:
            if str(c).startswith("Unnamed: ") or not str(c).strip():
                raise DataError(
                    f"{values_path.name}: column {c!r} has no name in the header: an index "
                    "written by pandas (to_csv without index=False) or a spreadsheet; drop "
                    "that column, or name it if it is a node"
                )
        _text_columns(values_path, frame, nodes, time, file_format)
        t = _time(values_path, frame[time], file_format)
        matrix = {
            str(c): _numbers(
                values_path,
                frame[c],
                "a node: every column but data.source.time; is the table long? set "
                "data.source.layout: long",
                file_format,
            )
            for c in nodes
        }
        values = pd.DataFrame(matrix)
    else:
        _require(values_path, frame, {"time": time, "node": node, "value": value})
        empty = frame[node].isna()
        if empty.any():
            row = int(np.flatnonzero(empty.to_numpy())[0])
            raise DataError(
                f"{values_path.name}: {_line(values_path, row, file_format)}, column {node!r} "
                "(data.source.node) is empty; every reading needs a node"
            )
        long = pd.DataFrame(
            {
                "t": _time(values_path, frame[time], file_format),
                "node": frame[node].astype(str).to_numpy(),
                "value": _numbers(values_path, frame[value], "data.source.value", file_format),
            }
        )
        repeated = long.duplicated(["t", "node"], keep="first")
        if repeated.any():
            row = int(np.flatnonzero(repeated.to_numpy())[0])
            raise DataError(
                f"{values_path.name}: {_line(values_path, row, file_format)}: node "
                f"{long['node'].iloc[row]!r} at time {frame[time].iloc[row]} is given twice "
                f"({int(repeated.sum())} repeats); keep one reading per node and time"
            )
        order = list(pd.unique(long["node"]))
        if edges_path is None:
            _graph_fits(values_path, len(order))
        _all_pairs(values_path, long, order, frame[time].name)
        wide = long.pivot(index="t", columns="node", values="value")
        wide = wide.reindex(columns=order)
        t = pd.Series(wide.index.to_numpy())
        values = pd.DataFrame(
            {str(c): wide[c].to_numpy(np.float64) for c in order}, index=range(len(wide))
        )
    _check_values(values_path, values, t, file_format)
    if "t" in values.columns:
        raise DataError(
            f"{values_path.name}: a node is named 't', the name the canonical table gives the "
            "time column; rename that node"
        )
    values.insert(0, "t", np.asarray(t))
    # Rows in time order (stable: repeated times stay visible to the gate, which rejects them).
    values = values.sort_values("t", kind="stable").reset_index(drop=True)
    edges = _edges(edges_path, edge_source, edge_target, edge_weight)
    if missing_policy is None:
        return values, edges
    from tokfrag.data.missing import apply_policy

    return apply_policy(
        values,
        edges,
        missing_policy,
        where=values_path.name,
        time=str(time),
        train_steps=_train_steps(len(values), split),
    )


def _train_steps(num_steps: int, split: dict[str, Any] | None) -> int | None:
    """The rows ``[0, n)`` a training window reads under ``split``; None when no split is
    given, or the series is too short for it (the gate then says so)."""
    if split is None:
        return None
    from tokfrag.data.splits import SplitError, chronological_split

    try:
        return chronological_split(
            num_steps,
            split["lags"],
            split["horizon"],
            split["train_ratio"],
            split["val_fraction"],
            by=split["by"],
        ).train_steps_end
    except SplitError:
        return None


def _header(path: Path, file_format: str) -> list[str] | None:
    """The column names of a CSV or Parquet file, read without reading its rows; None when
    they cannot be read this way (:func:`read_table` then says why)."""
    try:
        if file_format == "csv":
            _text_file(path, file_format)
            _comma_separated(path)
            with path.open(encoding="utf-8-sig", newline="") as handle:
                return next(csv.reader(handle), [])
        if file_format == "parquet":
            import pyarrow.parquet as pq

            return list(pq.read_schema(path).names)
    except (OSError, ValueError, csv.Error):
        return None
    return None


def _graph_fits(path: Path, num_nodes: int) -> None:
    check_dense_graph(
        num_nodes,
        f"{path.name} (no edge list)",
        "give an edge list in data.source.edges (then no correlation graph is built), or "
        "fewer nodes",
    )


def _all_pairs(path: Path, long: pd.DataFrame, order: list[Any], time: Any) -> None:
    """A long table needs a row for every (time, node) pair: name how many are absent."""
    times = pd.unique(long["t"])
    if len(long) == len(times) * len(order):  # pairs are distinct here: all are present
        return
    present = pd.MultiIndex.from_frame(long[["t", "node"]])
    every = pd.MultiIndex.from_product([np.sort(times), order], names=["t", "node"])
    absent = every[~every.isin(present)]
    shown = "; ".join(f"{time} {_when(t)}, node {n!r}" for t, n in absent[:3])
    raise DataError(
        f"{path.name}: {len(absent)} (time, node) pairs have no row: {len(times)} times x "
        f"{len(order)} nodes need {len(every)} rows, the long table has {len(long)}; for "
        f"example {shown}{'; ...' if len(absent) > 3 else ''}. Add a row for each (with an "
        "empty value where the reading is missing: data.missing then refuses or fills it)"
    )


def _when(t: Any) -> str:
    """A time as the person wrote it: a step number, or an ISO date."""
    if isinstance(t, np.datetime64 | pd.Timestamp):
        return pd.Timestamp(t).isoformat()
    return str(t)


def _check_values(path: Path, values: pd.DataFrame, t: Any, file_format: str) -> None:
    """What the canonical table cannot hold or learn from: one node, readings beyond
    float32 (the models' precision), or no node that ever changes."""
    if values.shape[1] < 2:
        raise DataError(
            f"{path.name}: one node ({list(values.columns)}); tokfrag compares models over a "
            "graph of series and needs at least two nodes (columns in a wide table, distinct "
            "data.source.node values in a long one)"
        )
    limit = float(np.finfo(np.float32).max)
    magnitude = np.abs(values.to_numpy(np.float64))
    big = np.isfinite(magnitude) & (magnitude > limit)  # inf and NaN: the gate names them
    if big.any():
        row, col = (int(i[0]) for i in np.nonzero(big))
        raise DataError(
            f"{path.name}: time {np.asarray(t)[row]}, node {values.columns[col]!r}: "
            f"{float(values.iat[row, col])!r} is beyond float32's range (|x| <= {limit:.3g}), "
            f"which the models compute in ({int(big.sum())} such readings); rescale the "
            "values (e.g. to thousands or millions of the unit)"
        )
    spread = values.max() - values.min()
    if len(values) > 1 and not (spread > 0).any():
        raise DataError(
            f"{path.name}: every node's series is constant (all {values.shape[1]} nodes); "
            "there is nothing to forecast; check that the value columns hold the readings"
        )


def _distinct_header(path: Path, file_format: str) -> None:
    """pandas renames a repeated CSV header (``a``, ``a.1``): catch it, as the gate would."""
    if file_format != "csv":
        return
    import csv

    with path.open(encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader(handle), [])
    from tokfrag.data.loaders import first_repeat

    if repeat := first_repeat(header):
        name, first, second = repeat
        raise DataError(
            f"{path.name}: line 1 (header): column {name!r} appears in columns "
            f"{first} and {second}; every node column needs its own name"
        )


def _edges(path: Path | None, source: str, target: str, weight: str | None) -> pd.DataFrame:
    if path is None:
        return pd.DataFrame(
            {
                "source": pd.Series([], dtype=object),
                "target": pd.Series([], dtype=object),
                "weight": pd.Series([], dtype=np.float64),
            }
        )
    path = Path(path)
    file_format = _suffix_format(path)
    frame = read_table(path, file_format, (source, target))
    _require(path, frame, {"edge_source": source, "edge_target": target, "edge_weight": weight})
    for key, column in (("edge_source", source), ("edge_target", target)):
        empty = frame[column].isna()
        if empty.any():
            row = int(np.flatnonzero(empty.to_numpy())[0])
            raise DataError(
                f"{path.name}: {_line(path, row, file_format)}, column {column!r} "
                f"(data.source.{key}) is empty; every edge needs two node names"
            )
    if frame.empty:
        raise DataError(
            f"{path.name}: no edges (a header and no rows); add the edges, or remove "
            "data.source.edges to let tokfrag build a correlation graph from the training steps"
        )
    weights = (
        _numbers(path, frame[weight], "data.source.edge_weight", file_format)
        if weight is not None
        else np.ones(len(frame))
    )
    edges = pd.DataFrame(
        {
            "source": frame[source].astype(str).tolist(),
            "target": frame[target].astype(str).tolist(),
            "weight": weights,
        }
    )
    repeated = edges.duplicated(["source", "target"], keep="first")
    if repeated.any():
        row = int(np.flatnonzero(repeated.to_numpy())[0])
        raise DataError(
            f"{path.name}: {_line(path, row, file_format)}: the edge "
            f"{edges['source'].iloc[row]!r} -> {edges['target'].iloc[row]!r} is given again "
            f"({int(repeated.sum())} repeats); keep one row per edge (sum their weights "
            "yourself if that is what they mean)"
        )
    if (edges["source"] == edges["target"]).all():
        raise DataError(
            f"{path.name}: every edge joins a node to itself, so the graph links no two "
            "nodes; add the edges between nodes, or remove data.source.edges for a "
            "correlation graph"
        )
    if weight is not None and not (np.nan_to_num(weights) != 0).any():
        raise DataError(
            f"{path.name}: every weight in column {weight!r} (data.source.edge_weight) is 0, "
            "so the graph has no edges in effect; fix the weights, or remove "
            "data.source.edge_weight to weigh every edge 1"
        )
    return edges


# --------------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------------


def load_text(
    path: Path,
    *,
    file_format: str,
    text: str,
    label: str,
    split: str | None = None,
    test_fraction: float = 0.2,
    seed: int = 0,
    keep_test_duplicates: bool = False,
) -> pd.DataFrame:
    """Your labelled documents -> the ``documents`` frame the built-in text loaders return."""
    from tokfrag.data.text_loaders import _finish, _frame, near_duplicate_key, stratified_split

    path = Path(path)
    columns = (text, label) + ((split,) if split else ())
    frame = read_table(path, file_format, columns, documents=True)
    _require(path, frame, {"text": text, "label": label, "split": split})
    if frame.empty:
        raise DataError(f"{path.name}: no rows; a text dataset needs labelled documents")
    no_label = frame[label].isna()
    if no_label.any():
        rows = np.flatnonzero(no_label.to_numpy())
        raise DataError(
            f"{path.name}: {_line(path, int(rows[0]), file_format)} has no label in column "
            f"{label!r} (data.source.label), and {len(rows) - 1} more rows; label them or "
            "remove them"
        )
    _scalars(path, frame, text, "data.source.text", file_format)
    _scalars(path, frame, label, "data.source.label", file_format)
    texts = [_visible(t) for t in frame[text]]
    labels = [str(v).strip() for v in frame[label]]
    _check_labels(path, labels, label, file_format)
    positions = np.arange(len(frame))
    if split is not None:
        # "Train" or " test " are what a person meant; anything else is left for the gate.
        splits = [("" if pd.isna(s) else str(s)).strip().lower() for s in frame[split]]
    else:
        splits = stratified_split(
            labels, test_fraction, seed, f"{path.name}: {len(labels)} rows",
            "add a split column (data.source.split) or change data.source.test_fraction",
        )  # fmt: skip
    # Your own documents: copies that differ only in case, NFC/NFD or whitespace count as
    # the same document (a test copy of a training document is dropped, as an exact one is).
    documents = _frame(positions.tolist(), texts, labels, splits)
    return _finish(documents, keep_test_duplicates, key=near_duplicate_key)


ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def _visible(cell: Any) -> str:
    """A text cell, stripped; one made only of whitespace and zero-width characters is
    empty (the gate reports empty documents by row)."""
    if cell is None or (isinstance(cell, float) and np.isnan(cell)):
        return ""
    stripped = str(cell).strip()
    return stripped if stripped.translate(ZERO_WIDTH).strip() else ""


def _scalars(path: Path, frame: pd.DataFrame, column: str, key: str, file_format: str) -> None:
    """A JSON list or object in a text or label cell is not text: refuse it by row."""
    nested = frame[column].map(lambda v: isinstance(v, (list, dict, tuple)))
    if nested.any():
        row = int(np.flatnonzero(nested.to_numpy())[0])
        kind = type(frame[column].iloc[row]).__name__
        raise DataError(
            f"{path.name}: {_line(path, row, file_format)}, column {column!r} ({key}) holds a "
            f"{kind}, not text ({int(nested.sum())} such cells); write each cell as one string "
            "(join the parts yourself)"
        )


def _check_labels(path: Path, labels: list[str], column: str, file_format: str) -> None:
    """Blank labels, and labels that differ only in case, would become classes of their own."""
    blank = [i for i, v in enumerate(labels) if not v.translate(ZERO_WIDTH).strip()]
    if blank:
        raise DataError(
            f"{path.name}: {_line(path, blank[0], file_format)}, column {column!r} "
            f"(data.source.label) is blank ({len(blank)} rows); label them or remove them"
        )
    spellings: dict[str, dict[str, int]] = {}
    for i, v in enumerate(labels):
        spellings.setdefault(v.casefold(), {}).setdefault(v, i)
    for forms in spellings.values():
        if len(forms) > 1:
            shown = ", ".join(
                f"{name!r} ({_line(path, row, file_format)})" for name, row in forms.items()
            )
            raise DataError(
                f"{path.name}: column {column!r} (data.source.label) spells one label "
                f"{len(forms)} ways that differ only in case: {shown}; they would become "
                "separate classes: use one spelling"
            )


def parse_file(
    source: Any, root: str | Path, path: str | Path, **policy: Any
) -> tuple[DatasetSpec, Any]:
    """Parse ``path`` (instead of ``source.path``) with the mapping of ``source``: what
    `tokfrag validate PATH` checks. ``policy``: ``missing`` and ``split``, as for
    :func:`custom_spec`. Returns the spec and what its loader returned."""
    path = Path(path).resolve()
    spec, paths = custom_spec("", source.model_copy(update={"path": str(path)}), root, **policy)
    return spec, spec.parse(paths)
