"""A corpus of bad inputs, made from the real datasets, for the end-to-end error tests.

Each :class:`Variant` is one thing a person could get wrong when bringing their own data (see
"Bring your own data" in the README): a file to drop into the project's ``inputs/`` folder
(bytes, or a DataFrame written as CSV), changes to ``params.yaml`` (dotted keys, each value
replacing what was there), the CLI commands to run in order, and what the error message must
name (the file, the column or the row) plus a word of the fix.

The base files are the ones ``tests/e2e/test_own_data.py`` makes: Chickenpox as a user's sensor
CSV (a ``week`` column, one column per county) with an edge list (``from``, ``to``, ``w``), and
a slice of TREC as a user's JSONL of questions (``q``, ``kind``, ``part``).

Most variants must fail. A few are inputs the product documents as accepted and repaired
(``accepted=True``: unsorted rows are sorted, a constant series is scaled by 1, a test document
repeating a training one is dropped); the test checks the repair instead of an error. A variant
with ``bug`` set is one the product gets wrong today (the reason says how); the test marks it
``xfail(strict=True)`` so that fixing the product turns it into a failure to update. A
variant's ``env`` is set for its commands (the resource limits are lowered that way).

Write the whole corpus to a folder, to look at it::

    python tests/tokfrag_testing/bad_inputs.py /tmp/bad-inputs
"""

from __future__ import annotations

import copy
import io
import json
import os
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

SERIES_DATASET = "my_sensors"
TEXT_DATASET = "my_questions"

# data.source of the good project: Chickenpox as a user's CSV with an edge list.
SERIES_SOURCE = {
    "kind": "series",
    "path": "inputs/readings.csv",
    "time": "week",
    "edges": "inputs/edges.csv",
    "edge_source": "from",
    "edge_target": "to",
    "edge_weight": "w",
}
# data.source for the text variants: a TREC slice as a user's JSONL.
TEXT_SOURCE = {
    "kind": "text",
    "path": "inputs/questions.jsonl",
    "text": "q",
    "label": "kind",
    "split": "part",
}
TEXT_PARAMS = {"data.dataset": TEXT_DATASET, "data.source": TEXT_SOURCE}

Content = bytes | pd.DataFrame


@dataclass(frozen=True)
class Variant:
    """One bad input and what the product must say about it."""

    name: str
    about: str  # what is wrong, in a few words
    files: dict[str, Content]  # file name under inputs/ -> its bytes, or a frame (CSV)
    params: dict[str, Any]  # dotted params.yaml key -> the value that replaces it
    commands: tuple[tuple[str, ...], ...]  # CLI arguments, run in order until one fails
    expect: tuple[str, ...] = ()  # fragments the error message must contain
    fix: str = ""  # a word of the fix the message must give
    accepted: bool = False  # documented as accepted (and repaired): exit 0
    bug: str | None = None  # what the product does wrong today (the test xfails)
    # for the accepted variants' checks; max_lines: the most lines a refusal may take
    extra: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)  # environment for its commands

    @property
    def fails_on(self) -> tuple[str, ...]:
        """The command expected to fail (the last one)."""
        return self.commands[-1]


# --------------------------------------------------------------------------------------------
# The real data, as a user would have it
# --------------------------------------------------------------------------------------------


def series_frames(mirror: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Chickenpox as a user's ``readings.csv`` (``week`` + one column per county) and
    ``edges.csv`` (``from``, ``to``, ``w``)."""
    from tokfrag.data.loaders import load_pgt_json

    values, edges = load_pgt_json(Path(mirror) / "chickenpox" / "chickenpox.json")
    readings = values.rename(columns={"t": "week"}).reset_index(drop=True)
    edge_list = edges.rename(columns={"source": "from", "target": "to", "weight": "w"})
    return readings, edge_list.reset_index(drop=True)


def text_frame(mirror: Path, per_split: int = 150) -> pd.DataFrame:
    """A slice of TREC as a user's questions (``q``, ``kind``, ``part``): the first
    ``per_split`` documents of each split, in file order."""
    from tokfrag.data.text_loaders import load_textgcn

    docs = load_textgcn(
        Path(mirror) / "trec" / "TREC.txt",
        Path(mirror) / "trec" / "TREC.meta.txt",
        strip_first_word=True,
    )
    docs = docs.groupby("split", sort=False).head(per_split).reset_index(drop=True)
    return pd.DataFrame({"q": docs["text"], "kind": docs["label"], "part": docs["split"]})


def jsonl(frame: pd.DataFrame) -> bytes:
    """One JSON object per row, UTF-8."""
    lines = (json.dumps(row, ensure_ascii=False) for row in frame.to_dict(orient="records"))
    return ("\n".join(lines) + "\n").encode("utf-8")


def csv_bytes(frame: pd.DataFrame) -> bytes:
    out = io.StringIO()
    frame.to_csv(out, index=False)
    return out.getvalue().encode("utf-8")


def good_files(mirror: Path) -> dict[str, Content]:
    """The good project's inputs/: the sensor CSV and its edge list."""
    readings, edges = series_frames(mirror)
    return {"readings.csv": readings, "edges.csv": edges}


def _with(frame: pd.DataFrame, row: int, column: str, value: Any) -> pd.DataFrame:
    """``frame`` with one cell replaced (the column becomes object when the value needs it)."""
    out = frame.copy()
    if isinstance(value, str) and out[column].dtype != object:
        out[column] = out[column].astype(object)
    out.loc[row, column] = value
    return out


def _validate(name: str) -> tuple[tuple[str, ...], ...]:
    """`tokfrag validate inputs/<name>`: the gate alone on a file, nothing written."""
    return (("validate", f"inputs/{name}"),)


INGEST: tuple[tuple[str, ...], ...] = (("ingest",),)
INGEST_VALIDATE: tuple[tuple[str, ...], ...] = (("ingest",), ("validate",))


# --------------------------------------------------------------------------------------------
# The corpus
# --------------------------------------------------------------------------------------------


def series_variants(mirror: Path) -> list[Variant]:
    from tokfrag.data.splits import minimum_steps

    readings, edges = series_frames(mirror)
    node, other = str(readings.columns[1]), str(readings.columns[-1])  # BUDAPEST, ZALA
    out: list[Variant] = []

    out.append(
        Variant(
            "series_nan_cell",
            "a missing reading (empty CSV cell), under the default data.missing: refuse",
            {"readings_nan.csv": _with(readings, 7, node, np.nan)},
            {},
            _validate("readings_nan.csv"),
            ("readings_nan.csv", f"'{node}'", "row 7", "data.missing: interpolate"),
            "fill",
        )
    )
    out.append(
        Variant(
            "series_nan_cell_ingested",
            "a missing reading, through ingest (refused before anything is written)",
            {"readings.csv": _with(readings, 7, node, np.nan)},
            {},
            INGEST,
            ("readings.csv", f"'{node}'", "row 7", "data.missing is refuse"),
            "fill",
        )
    )
    out.append(
        Variant(
            "series_inf_cell",
            "an infinite reading",
            {"readings_inf.csv": _with(readings, 9, other, np.inf)},
            {},
            _validate("readings_inf.csv"),
            ("readings_inf.csv", f"values.{other}", "row 9", "inf"),
            "replace",
        )
    )
    out.append(
        Variant(
            "series_text_in_numeric_column",
            "a word in a node column (wrong dtype)",
            {"readings.csv": _with(readings, 3, node, "twelve")},
            {},
            INGEST,
            ("readings.csv", f"'{node}'", "row 3", "line 5", "'twelve'"),
            "fix those cells",
        )
    )
    dup = readings.copy()
    dup.loc[10, "week"] = dup.loc[9, "week"]
    out.append(
        Variant(
            "series_duplicated_time",
            "the same week twice",
            {"readings_dup.csv": dup},
            {},
            _validate("readings_dup.csv"),
            ("readings_dup.csv", "values.t", "row 10", "repeated"),
            "keep one row per time step",
        )
    )
    shuffled = readings.sample(frac=1.0, random_state=0).reset_index(drop=True)
    out.append(
        Variant(
            "series_unsorted_time",
            "rows out of time order: documented to be sorted by the loader",
            {"readings_shuffled.csv": shuffled},
            {
                "data.dataset": "my_sensors_shuffled",
                "data.source.path": "inputs/readings_shuffled.csv",
            },
            INGEST_VALIDATE,
            accepted=True,
            extra={"dataset": "my_sensors_shuffled"},
        )
    )
    gappy = readings.drop(index=range(50, 60)).reset_index(drop=True)
    out.append(
        Variant(
            "series_irregular_time",
            "ten weeks missing in the middle (irregular time steps)",
            {"readings_gappy.csv": gappy},
            {},
            _validate("readings_gappy.csv"),
            ("readings_gappy.csv", "expect_time_steps_to_be_even", "49 -> 60"),
            "missing steps",
        )
    )
    unknown = pd.concat(
        [edges, pd.DataFrame({"from": [node], "to": ["ATLANTIS"], "w": [1.0]})],
        ignore_index=True,
    )
    out.append(
        Variant(
            "series_edge_to_unknown_node",
            "an edge to a node that has no column in the readings",
            {"edges_unknown.csv": unknown},
            {"data.source.edges": "inputs/edges_unknown.csv"},
            _validate("readings.csv"),
            ("edges.target", "'ATLANTIS'", f"row {len(edges)}"),
            "add the missing node series",
        )
    )
    blank = _with(edges, 4, "to", np.nan)
    out.append(
        Variant(
            "series_edge_without_target",
            "an edge whose target cell is empty",
            {"edges_blank.csv": blank},
            {"data.source.edges": "inputs/edges_blank.csv"},
            INGEST,
            ("edges_blank.csv", "'to'", "row 4", "line 6"),
            "two node names",
        )
    )
    out.append(
        Variant(
            "series_negative_weight",
            "a negative edge weight",
            {"edges_negative.csv": _with(edges, 0, "w", -1.0)},
            {"data.source.edges": "inputs/edges_negative.csv"},
            _validate("readings.csv"),
            ("edges.weight", "row 0", "-1.0"),
            ">= 0",
        )
    )
    out.append(
        Variant(
            "series_weight_not_a_number",
            "a word in the edge weight column",
            {"edges_word.csv": _with(edges, 2, "w", "heavy")},
            {"data.source.edges": "inputs/edges_word.csv"},
            INGEST,
            ("edges_word.csv", "'w'", "row 2", "'heavy'"),
            "fix those cells",
        )
    )
    # params.yaml's split (lags 4, horizon 1, ratios 0.2) needs 14 steps: give one fewer.
    needed = minimum_steps(lags=4, horizon=1, train_ratio=0.2, val_fraction=0.2) or 0
    out.append(
        Variant(
            "series_too_short",
            f"{needed - 1} weeks: one too few for lags + horizon and the split",
            {"readings_short.csv": readings.head(needed - 1)},
            {},
            _validate("readings_short.csv"),
            ("readings_short.csv", f"{needed - 1} rows", "lags=4", f"at least {needed}"),
            "longer series",
        )
    )
    constant = readings.copy()
    constant[node] = 0.0
    out.append(
        Variant(
            "series_constant_column",
            "a node that never changes (zero scale): documented to pass (scale 1.0)",
            {"readings_constant.csv": constant},
            {},
            _validate("readings_constant.csv"),
            accepted=True,
        )
    )
    out.append(
        Variant(
            "series_missing_time_column",
            "params.yaml names a time column the file does not have",
            {"readings.csv": readings.rename(columns={"week": "date"})},
            {},
            INGEST,
            ("readings.csv", "'week'", "data.source.time"),
            "set",
        )
    )
    out.append(
        Variant(
            "series_time_not_a_time",
            "a time cell that is neither a step number nor a date",
            {"readings_badtime.csv": _with(readings, 4, "week", "last week")},
            {},
            _validate("readings_badtime.csv"),
            ("readings_badtime.csv", "'week'", "row 4", "line 6", "'last week'"),
            "fix those cells",
        )
    )
    header = csv_bytes(readings).split(b"\n", 1)
    columns = header[0].split(b",")
    columns[2] = columns[1]  # two columns called BUDAPEST
    out.append(
        Variant(
            "series_duplicated_header",
            "two node columns with the same name",
            {"readings.csv": b",".join(columns) + b"\n" + header[1]},
            {},
            INGEST,
            ("readings.csv", "line 1", f"'{node}'"),
            "own name",
        )
    )
    # "BUDAPESTé" in Latin-1: the byte 0xe9 alone is not UTF-8.
    latin1 = csv_bytes(readings).replace(node.encode(), node.encode() + b"\xe9", 1)
    out.append(
        Variant(
            "series_not_utf8",
            "a CSV saved as Latin-1 (a byte that is not UTF-8 in the header)",
            {"readings_latin1.csv": latin1},
            {},
            _validate("readings_latin1.csv"),
            ("readings_latin1.csv", "UTF-8"),
            "save it as UTF-8",
        )
    )
    out += spreadsheet_and_graph_variants(readings, edges, node)
    out += format_and_resource_variants(readings, node)
    return out


def spreadsheet_and_graph_variants(
    readings: pd.DataFrame, edges: pd.DataFrame, node: str
) -> list[Variant]:
    """Inputs from spreadsheets and hand-made graphs: an index column, one node, values out
    of range, nothing that changes, times stored oddly, and edge lists that link nothing."""
    out: list[Variant] = []
    indexed = readings.copy()
    indexed.insert(0, "Unnamed: 0", range(len(indexed)))
    out.append(
        Variant(
            "series_pandas_index_column",
            "an index column written by pandas or Excel (an unnamed first column)",
            {"readings_indexed.csv": indexed},
            {},
            _validate("readings_indexed.csv"),
            ("readings_indexed.csv", "'Unnamed: 0'", "no name"),
            "drop that column",
        )
    )
    out.append(
        Variant(
            "series_single_node",
            "one node: a single series, no graph",
            {"readings_one.csv": readings[["week", node]]},
            {},
            _validate("readings_one.csv"),
            ("readings_one.csv", "one node", f"'{node}'"),
            "at least two nodes",
        )
    )
    huge = _with(readings, 12, node, 1e39)
    out.append(
        Variant(
            "series_beyond_float32",
            "a reading beyond float32's range (passes a float64 check)",
            {"readings_huge.csv": huge},
            {},
            _validate("readings_huge.csv"),
            ("readings_huge.csv", f"'{node}'", "float32"),
            "rescale",
        )
    )
    flat = readings.copy()
    flat[[c for c in flat.columns if c != "week"]] = 0.0
    out.append(
        Variant(
            "series_all_zero",
            "every series all zero (nothing to forecast)",
            {"readings_zero.csv": flat},
            {},
            _validate("readings_zero.csv"),
            ("readings_zero.csv", "constant"),
            "value columns",
        )
    )
    flags = readings.copy()
    flags["week"] = [i % 2 == 0 for i in range(len(flags))]
    out.append(
        Variant(
            "series_time_as_booleans",
            "a time column of true/false (Parquet)",
            {"readings_bool.parquet": flags},
            {"data.source.path": "inputs/readings_bool.parquet"},
            INGEST,
            ("readings_bool.parquet", "'week'", "true/false"),
            "step numbers or ISO dates",
        )
    )
    texts = readings.copy()
    texts["week"] = texts["week"].astype(str)
    out.append(
        Variant(
            "series_time_numbers_as_text",
            "whole step numbers stored as text (Parquet): documented to be read as steps",
            {"readings_text_time.parquet": texts},
            {
                "data.dataset": "my_sensors_text_time",
                "data.source.path": "inputs/readings_text_time.parquet",
            },
            INGEST_VALIDATE,
            accepted=True,
            extra={"dataset": "my_sensors_text_time"},
        )
    )
    out.append(
        Variant(
            "series_empty_edge_file",
            "an edge file with a header and no rows (no silent correlation graph)",
            {"edges_empty.csv": edges.head(0)},
            {"data.source.edges": "inputs/edges_empty.csv"},
            INGEST,
            ("edges_empty.csv", "no edges"),
            "remove data.source.edges",
        )
    )
    loops = pd.DataFrame({"from": [node, "ZALA"], "to": [node, "ZALA"], "w": [1.0, 1.0]})
    out.append(
        Variant(
            "series_self_loops_only",
            "an edge list of self-loops only",
            {"edges_loops.csv": loops},
            {"data.source.edges": "inputs/edges_loops.csv"},
            INGEST,
            ("edges_loops.csv", "to itself"),
            "edges between nodes",
        )
    )
    out.append(
        Variant(
            "series_all_zero_weights",
            "every edge weight 0",
            {"edges_zero.csv": edges.assign(w=0.0)},
            {"data.source.edges": "inputs/edges_zero.csv"},
            INGEST,
            ("edges_zero.csv", "'w'", "is 0"),
            "fix the weights",
        )
    )
    twice = pd.concat([edges, edges.iloc[[3]]], ignore_index=True)
    out.append(
        Variant(
            "series_duplicate_edge",
            "the same edge twice",
            {"edges_twice.csv": twice},
            {"data.source.edges": "inputs/edges_twice.csv"},
            INGEST,
            ("edges_twice.csv", f"row {len(edges)}", "given again"),
            "keep one row per edge",
        )
    )
    return out


def _xlsx_bytes() -> bytes:
    """The first bytes of a workbook: a zip archive holding an (empty) Excel sheet."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook/>')
        archive.writestr("xl/worksheets/sheet1.xml", '<?xml version="1.0"?><worksheet/>')
    return out.getvalue()


def format_and_resource_variants(readings: pd.DataFrame, node: str) -> list[Variant]:
    """Files as other programs and other settings write them (European CSV, a workbook named
    .csv, an id column, dates with offsets or in two formats, a long table with gaps, decimal
    steps), and inputs too large for memory (the limits lowered through the environment)."""
    out: list[Variant] = []
    european = readings.to_csv(index=False, sep=";", decimal=",").encode("utf-8")
    out.append(
        Variant(
            "series_european_csv",
            "a CSV with ';' between columns and decimal commas (European settings)",
            {"readings_eu.csv": european},
            {},
            _validate("readings_eu.csv"),
            ("readings_eu.csv", "line 1", "';'", "decimal comma"),
            "',' as the separator and '.' as the decimal point",
        )
    )
    out.append(
        Variant(
            "series_binary_as_csv",
            "an Excel workbook (a zip archive) saved under the name readings.csv",
            {"readings.csv": _xlsx_bytes()},
            {},
            INGEST,
            ("readings.csv", "not a text CSV file", "zip archive"),
            "save or export it as CSV",
        )
    )
    station = readings.copy()
    station.insert(1, "station", "HU-KSH-01")
    out.append(
        Variant(
            "series_id_column",
            "a text id column (station) beside the node columns of a wide table",
            {"readings_station.csv": station},
            {},
            _validate("readings_station.csv"),
            ("readings_station.csv", "'station'", "text in every row", "'HU-KSH-01'"),
            "drop that column",
        )
    )
    # Hourly local times in Budapest with their offsets, across the change to summer time
    # (2024-03-31 02:00 +01:00 -> 03:00 +02:00): regular in UTC.
    hours = pd.date_range("2024-03-29", periods=len(readings), freq="h", tz="Europe/Budapest")
    dst = readings.assign(week=[h.isoformat(timespec="minutes") for h in hours])
    out.append(
        Variant(
            "series_dates_across_dst",
            "hourly dates with UTC offsets across a daylight-saving change: read in UTC",
            {"readings_dst.csv": dst},
            {"data.dataset": "my_sensors_dst", "data.source.path": "inputs/readings_dst.csv"},
            INGEST_VALIDATE,
            accepted=True,
            extra={"dataset": "my_sensors_dst", "start": "2024-03-28T23:00"},
        )
    )
    weeks = pd.date_range("2005-01-10", periods=len(readings), freq="7D")
    mixed = readings.assign(
        week=[w.strftime("%m/%d/%Y" if i % 5 == 3 else "%Y-%m-%d") for i, w in enumerate(weeks)]
    )
    out.append(
        Variant(
            "series_mixed_date_formats",
            "dates in two formats in one column (2005-01-10 and 01/31/2005)",
            {"readings_mixed.csv": mixed},
            {},
            _validate("readings_mixed.csv"),
            ("readings_mixed.csv", "'week'", "mixes date formats", "row 3 (line 5)"),
            "ISO 8601",
        )
    )
    long = readings.melt(id_vars="week", var_name="county", value_name="cases")
    gaps = long.drop(index=[7, 600, 601]).reset_index(drop=True)
    out.append(
        Variant(
            "series_long_missing_pairs",
            "a long table (week, county, cases) with three (week, county) rows absent",
            {"readings_long.csv": gaps},
            {
                "data.source.layout": "long",
                "data.source.node": "county",
                "data.source.value": "cases",
            },
            _validate("readings_long.csv"),
            (
                "readings_long.csv",
                "3 (time, node) pairs",
                f"week 7, node '{long.loc[7, 'county']}'",
            ),
            "Add a row for each",
        )
    )
    out.append(
        Variant(
            "series_time_as_decimals",
            "whole step numbers stored as decimals (Parquet 0.0, 1.0, ...): read as steps",
            {"readings_decimal_time.parquet": readings.astype({"week": "float64"})},
            {
                "data.dataset": "my_sensors_decimal_time",
                "data.source.path": "inputs/readings_decimal_time.parquet",
            },
            INGEST_VALIDATE,
            accepted=True,
            extra={"dataset": "my_sensors_decimal_time"},
        )
    )
    halves = readings.assign(week=readings["week"] / 2.0)
    out.append(
        Variant(
            "series_time_fractional",
            "half steps in the time column (Parquet 0.0, 0.5, 1.0, ...)",
            {"readings_half.parquet": halves},
            {"data.source.path": "inputs/readings_half.parquet"},
            INGEST,
            ("readings_half.parquet", "'week'", "row 1", "0.5 is not a whole number"),
            "fix those cells",
        )
    )
    out.append(
        Variant(
            "series_file_too_large",
            "a file larger than tokfrag reads into memory (the limit lowered to 10 kB)",
            {},
            {},
            INGEST,
            ("readings.csv", "data.source.path", "TOKFRAG_MAX_INPUT_BYTES", "nothing was read"),
            "Make the file smaller",
            env={"TOKFRAG_MAX_INPUT_BYTES": "10000"},
        )
    )
    nodes = readings.shape[1] - 1
    out.append(
        Variant(
            "series_graph_too_large",
            "no edge list, and more nodes than a dense correlation matrix fits (limit 1 kB)",
            {},
            {"data.source.edges": None},
            INGEST,
            ("readings.csv", f"{nodes} nodes", f"{nodes} x {nodes}", "TOKFRAG_MAX_GRAPH_BYTES"),
            "give an edge list in data.source.edges",
            env={"TOKFRAG_MAX_GRAPH_BYTES": "1000"},
        )
    )
    return out


def text_variants(mirror: Path) -> list[Variant]:
    docs = text_frame(mirror)
    first_test = int(np.flatnonzero((docs["part"] == "test").to_numpy())[0])
    out: list[Variant] = []

    def params(name: str, **more: Any) -> dict[str, Any]:
        return {**TEXT_PARAMS, "data.source.path": f"inputs/{name}", **more}

    out.append(
        Variant(
            "text_empty_document",
            "an empty and a blank document",
            {"questions_empty.jsonl": jsonl(_with(_with(docs, 5, "q", ""), 6, "q", "   "))},
            params("questions.jsonl"),
            _validate("questions_empty.jsonl"),
            ("questions_empty.jsonl", "documents.text", "rows 5, 6"),
            "drop them",
        )
    )
    raw = jsonl(docs).split(b"\n")
    raw[3] = raw[3].replace(b'"q": "', b'"q": "caf\xe9 ', 1)  # Latin-1 e-acute: not UTF-8
    out.append(
        Variant(
            "text_not_utf8",
            "a byte that is not UTF-8 on line 4 of the JSONL",
            {"questions_latin1.jsonl": b"\n".join(raw)},
            params("questions.jsonl"),
            _validate("questions_latin1.jsonl"),
            ("questions_latin1.jsonl", "UTF-8"),
            "save it as UTF-8",
        )
    )
    out.append(
        Variant(
            "text_single_class",
            "every document has the same label",
            {"questions_one.jsonl": jsonl(docs.assign(kind="DESC"))},
            params("questions.jsonl"),
            _validate("questions_one.jsonl"),
            ("questions_one.jsonl", "label", "DESC"),
            "another class",
        )
    )
    out.append(
        Variant(
            "text_label_only_in_test",
            "a label that no training document has (unknown to the model)",
            {"questions_unknown.jsonl": jsonl(_with(docs, first_test, "kind", "ALIEN"))},
            params("questions.jsonl"),
            _validate("questions_unknown.jsonl"),
            ("questions_unknown.jsonl", "'ALIEN'", "no training document"),
            "move some of their documents into train",
        )
    )
    leak = _with(docs, first_test, "q", docs.loc[0, "q"])
    out.append(
        Variant(
            "text_same_document_in_train_and_test",
            "a test document identical to a training one: documented to be dropped at ingest",
            {"questions_leak.jsonl": jsonl(leak)},
            params("questions_leak.jsonl", **{"data.dataset": "my_questions_leak"}),
            INGEST_VALIDATE,
            accepted=True,
            extra={"dataset": "my_questions_leak", "text": docs.loc[0, "q"]},
        )
    )
    out.append(
        Variant(
            "text_missing_label_column",
            "params.yaml names a label column the file does not have",
            {"questions.jsonl": jsonl(docs.rename(columns={"kind": "category"}))},
            params("questions.jsonl"),
            INGEST,
            ("questions.jsonl", "'kind'", "data.source.label"),
            "set",
        )
    )
    out.append(
        Variant(
            "text_missing_label_cell",
            "a document without a label",
            {"questions.jsonl": jsonl(_with(docs, 8, "kind", None))},
            params("questions.jsonl"),
            INGEST,
            ("questions.jsonl", "row 8", "line 9", "'kind'"),
            "label them or remove them",
        )
    )
    out.append(
        Variant(
            "text_unknown_split",
            "a split value other than train/test",
            {"questions_split.jsonl": jsonl(_with(docs, 2, "part", "validation"))},
            params("questions.jsonl"),
            _validate("questions_split.jsonl"),
            ("questions_split.jsonl", "documents.split", "row 2", "'validation'"),
            "'train'/'test'",
        )
    )
    huge = _with(docs, 1, "q", "word " * (2 * 1024 * 1024))  # a 10 MiB line
    out.append(
        Variant(
            "text_10mb_line",
            "one document of 10 MiB on a single line",
            {"questions_huge.jsonl": jsonl(huge)},
            params("questions.jsonl"),
            _validate("questions_huge.jsonl"),
            ("questions_huge.jsonl", "row 1", "1,000,000 characters"),
            "split",
        )
    )
    no_split = {**TEXT_SOURCE, "path": "inputs/questions_nosplit.jsonl", "split": None}
    lonely = docs.drop(columns="part")
    lonely.loc[0, "kind"] = "LONELY"
    out.append(
        Variant(
            "text_label_with_one_document",
            "no split column, and a label held by one document (cannot stratify)",
            {"questions_nosplit.jsonl": jsonl(lonely)},
            {**TEXT_PARAMS, "data.source": no_split},
            INGEST,
            ("questions_nosplit.jsonl", "two rows"),
            "add a split column",
        )
    )
    out += text_hygiene_variants(docs, first_test, params)
    out.append(
        Variant(
            "text_no_rows",
            "an empty file",
            {"questions.jsonl": b""},
            params("questions.jsonl"),
            INGEST,
            ("questions.jsonl", "no rows"),
            "data.source.path",
        )
    )
    return out


def text_hygiene_variants(docs: pd.DataFrame, first_test: int, params: Any) -> list[Variant]:
    """Labels and documents as exports and copy-paste leave them: labels that differ only in
    case, blank labels, invisible documents, near-copies across the split, a byte-order mark,
    list-valued cells and a truncated last line."""
    import unicodedata

    out: list[Variant] = []
    first = str(docs.loc[0, "kind"])
    out.append(
        Variant(
            "text_label_case",
            "one label spelt in two cases (DESC and desc)",
            {"questions_case.jsonl": jsonl(_with(docs, 4, "kind", first.lower()))},
            params("questions.jsonl"),
            _validate("questions_case.jsonl"),
            ("questions_case.jsonl", f"'{first}'", f"'{first.lower()}'", "row 4"),
            "use one spelling",
        )
    )
    out.append(
        Variant(
            "text_blank_label",
            "a label of spaces only",
            {"questions_blank.jsonl": jsonl(_with(docs, 6, "kind", "   "))},
            params("questions.jsonl"),
            _validate("questions_blank.jsonl"),
            ("questions_blank.jsonl", "row 6", "blank"),
            "label them or remove them",
        )
    )
    out.append(
        Variant(
            "text_zero_width_document",
            "a document made only of zero-width characters",
            {"questions_zw.jsonl": jsonl(_with(docs, 5, "q", "\u200b\u200d \u2060"))},
            params("questions.jsonl"),
            _validate("questions_zw.jsonl"),
            ("questions_zw.jsonl", "documents.text", "row 5"),
            "drop them",
        )
    )
    original = str(docs.loc[0, "q"])
    near = "  " + unicodedata.normalize("NFD", original.upper()).replace(" ", "   ") + " "
    out.append(
        Variant(
            "text_near_duplicate_across_split",
            "a test document copying a training one but for case, NFD and spaces: dropped",
            {"questions_near.jsonl": jsonl(_with(docs, first_test, "q", near))},
            params("questions_near.jsonl", **{"data.dataset": "my_questions_near"}),
            INGEST_VALIDATE,
            accepted=True,
            extra={"dataset": "my_questions_near", "text": near.strip()},
        )
    )
    out.append(
        Variant(
            "text_jsonl_bom",
            "a JSONL file starting with a byte-order mark: documented to be read",
            {"questions_bom.jsonl": b"\xef\xbb\xbf" + jsonl(docs)},
            params("questions_bom.jsonl", **{"data.dataset": "my_questions_bom"}),
            INGEST_VALIDATE,
            accepted=True,
            extra={"dataset": "my_questions_bom", "documents": len(docs)},
        )
    )
    listed = docs.astype({"q": object})
    listed.at[3, "q"] = ["what", "is", "this"]
    out.append(
        Variant(
            "text_list_cell",
            "a document given as a JSON list of words",
            {"questions_list.jsonl": jsonl(listed)},
            params("questions.jsonl"),
            _validate("questions_list.jsonl"),
            ("questions_list.jsonl", "row 3", "'q'", "list"),
            "one string",
        )
    )
    whole = jsonl(docs)
    out.append(
        Variant(
            "text_truncated_last_line",
            "a JSONL file cut off in its last line",
            {"questions_cut.jsonl": whole[: len(whole) - 25]},
            params("questions.jsonl"),
            _validate("questions_cut.jsonl"),
            ("questions_cut.jsonl", f"line {len(docs)}", "not valid JSON"),
            "fix or remove that line",
        )
    )
    return out


def params_variants(mirror: Path) -> list[Variant]:
    return [
        Variant(
            "params_dataset_with_dotdot",
            "a dataset name that climbs out of data/ and outputs/",
            {},
            {"data.dataset": "../evil"},
            INGEST,
            ("params.yaml", "data.dataset", "'../evil'"),
            "letters, digits",
        ),
        Variant(
            "params_unknown_key",
            "a misspelt key (train.epoch)",
            {},
            {"train.epoch": 3},
            INGEST,
            ("params.yaml", "'epoch'", "'train'"),
            "Fix the spelling",
        ),
        Variant(
            "params_wrong_type",
            "a word where a number belongs (split.lags: four)",
            {},
            {"split.lags": "four"},
            INGEST,
            ("params.yaml", "split.lags", "'four'"),
            "valid integer",
        ),
        Variant(
            "params_source_path_escapes",
            "data.source.path leaving the project with ..",
            {},
            {"data.source.path": "../../outside/readings.csv"},
            INGEST,
            ("params.yaml", "data.source.path", "leaves the project folder"),
            "inside",
        ),
        Variant(
            "params_source_file_missing",
            "data.source.path names a file that does not exist",
            {},
            {"data.source.path": "inputs/no_such_file.csv"},
            INGEST,
            ("no_such_file.csv", "data.source.path"),
            "folder of params.yaml",
        ),
        Variant(
            "params_source_under_builtin_name",
            "your own file under a built-in dataset's name",
            {},
            {"data.dataset": "chickenpox"},
            INGEST,
            ("params.yaml", "'chickenpox'", "built-in"),
            "another name",
        ),
    ]


def _empty_from(readings: pd.DataFrame, row: int) -> pd.DataFrame:
    """``readings`` with every node's cells empty from ``row`` on."""
    out = readings.copy()
    out.loc[row:, out.columns[1:]] = np.nan
    return out


def missing_variants(mirror: Path) -> list[Variant]:
    """Gaps in the readings and the data.missing keys (tokfrag/data/missing.py)."""
    readings, _ = series_frames(mirror)
    counties = [str(c) for c in readings.columns[1:]]
    gappy = readings.copy()
    for i, county in enumerate(counties):  # three runs of 1 to 6 empty weeks in every county
        for k in range(3):
            start = 30 + 150 * k + 7 * i
            gappy.loc[start : start + (i + k) % 6, county] = np.nan
    return [
        Variant(
            "series_gaps_in_every_column",
            "runs of empty weeks in all 20 counties: one summary, not a line per column",
            {"readings.csv": gappy},
            {},
            INGEST,
            (
                "readings.csv",
                "in 20 of 20 nodes",
                "Worst nodes:",
                "Longest gap: node",
                "(6 steps; rows",
                "data.max_missing_per_node",
                "data.missing_value",
                "mask",
            ),
            "data.missing: interpolate with data.max_gap: 6",
            extra={"max_lines": 4},  # the share, the worst nodes, the longest gap, the keys
        ),
        Variant(
            "series_mask_test_part_empty",
            "data.missing: mask, but no county reported after week 106 (the training "
            "weeks): no test target to score",
            {"readings.csv": _empty_from(readings, 107)},
            {"data.missing": "mask"},
            INGEST,
            ("values", "the test part has no observed target", "rows"),
            "split.train_ratio",
        ),
        Variant(
            "params_missing_unknown",
            "data.missing: drop, a policy that does not exist",
            {},
            {"data.missing": "drop"},
            INGEST,
            ("params.yaml", "data.missing", "'drop'", "refuse, mask, interpolate"),
            "mask keeps the gaps",
        ),
        Variant(
            "params_max_gap_zero",
            "data.max_gap: 0 with data.missing: interpolate",
            {},
            {"data.missing": "interpolate", "data.max_gap": 0},
            INGEST,
            ("params.yaml", "data.max_gap", "(got 0)"),
            "at least 1",
        ),
    ]


def variants(mirror: Path) -> list[Variant]:
    """The whole corpus, series then text then params.yaml."""
    corpus = series_variants(mirror) + text_variants(mirror) + params_variants(mirror)
    corpus += missing_variants(mirror)
    names = [v.name for v in corpus]
    assert len(names) == len(set(names)), "variant names must be unique"
    return corpus


# --------------------------------------------------------------------------------------------
# Writing a variant into a project
# --------------------------------------------------------------------------------------------


def apply_overrides(params: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """``params`` with each dotted key set to its value (a missing section is created; a
    ``None`` value inside a ``data.source`` mapping drops that key)."""
    out = copy.deepcopy(params)
    for dotted, value in overrides.items():
        *path, key = dotted.split(".")
        node = out
        for part in path:
            node = node.setdefault(part, {})
        if isinstance(value, dict):
            value = {k: v for k, v in value.items() if v is not None}
        node[key] = copy.deepcopy(value)
    return out


def write_file(path: Path, content: Content) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, pd.DataFrame) and path.suffix == ".parquet":
        content.to_parquet(path, index=False)
    elif isinstance(content, pd.DataFrame):
        content.to_csv(path, index=False)
    else:
        path.write_bytes(content)


def series_project(root: Path, base: dict[str, Any], mirror: Path, **sections: Any) -> Path:
    """A project at ``root`` whose data is Chickenpox as a user's sensor CSV (``inputs/``),
    trained quickly: ``base`` params with two epochs, one final fit, no tuning and 100
    bootstrap resamples, then ``sections`` (merged section by section). Returns the path of
    its params.yaml."""
    from tokfrag_testing.params import merge

    for name, content in good_files(mirror).items():
        write_file(root / "inputs" / name, content)
    quick = {
        "data": {"dataset": SERIES_DATASET, "source": SERIES_SOURCE},
        "train": {"epochs": 2, "repeats": 1},
        "tune": {"n_trials": 0},
        "verdict": {"resamples": 100},
    }
    raw = merge(merge(base, quick), sections)
    params = root / "params.yaml"
    params.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return params


def write_variant(variant: Variant, root: Path) -> None:
    """Put ``variant`` into the project at ``root``: its files under inputs/ and its changes
    in params.yaml."""
    for name, content in variant.files.items():
        write_file(root / "inputs" / name, content)
    if variant.params:
        path = root / "params.yaml"
        params = yaml.safe_load(path.read_text(encoding="utf-8"))
        path.write_text(
            yaml.safe_dump(apply_overrides(params, variant.params), sort_keys=False),
            encoding="utf-8",
        )


def write_corpus(mirror: Path, folder: Path) -> list[Path]:
    """Every variant in its own folder: inputs/, params-overrides.yaml and variant.yaml
    (commands, expected message fragments, whether it is a known bug)."""
    written = []
    for variant in variants(mirror):
        where = Path(folder) / variant.name
        for name, content in variant.files.items():
            write_file(where / "inputs" / name, content)
        description = {
            "about": variant.about,
            "params": variant.params,
            "commands": [list(c) for c in variant.commands],
            "expect": list(variant.expect),
            "fix": variant.fix,
            "accepted": variant.accepted,
            "bug": variant.bug,
            "env": variant.env,
        }
        where.mkdir(parents=True, exist_ok=True)
        (where / "variant.yaml").write_text(
            yaml.safe_dump(description, sort_keys=False, allow_unicode=True), encoding="utf-8"
        )
        written.append(where)
    return written


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tests/tokfrag_testing/bad_inputs.py OUTPUT_FOLDER")
    repo = Path(__file__).resolve().parents[2]
    sys.path.insert(0, str(repo))
    mirror_dir = Path(os.environ.get("TOKFRAG_DATA_MIRROR", repo.parent / "shared" / "data"))
    for written_dir in write_corpus(mirror_dir, Path(sys.argv[1])):
        print(written_dir)
