"""Your own files as other programs write them, and files too large to read: European CSV, a
workbook under a .csv name, an id column in a wide table, dates with offsets or in two
formats, a long table with absent pairs, decimal steps, and the memory limits (lowered
through the environment) checked before anything is read or built."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tokfrag.data.custom import custom_spec, load_series, load_text
from tokfrag.data.limits import (
    GRAPH_BYTES_ENV,
    INPUT_BYTES_ENV,
    check_dense_graph,
    dense_matrix_bytes,
    human,
    memory_limit,
)
from tokfrag.data.registry import DataError
from tokfrag.families.fragment.graph import correlation_graph


def _wide(rows: int = 30, nodes: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(rows, nodes)), columns=[f"n{i}" for i in range(nodes)])
    frame.insert(0, "week", np.arange(rows))
    return frame


def _series(path: Path, **kwargs):
    options = {"file_format": "csv", "layout": "wide", "time": "week", **kwargs}
    return load_series(path, **options)


@pytest.fixture(autouse=True)
def _default_limits(monkeypatch):
    monkeypatch.delenv(INPUT_BYTES_ENV, raising=False)
    monkeypatch.delenv(GRAPH_BYTES_ENV, raising=False)


# --- Formats --------------------------------------------------------------------------------


@pytest.mark.parametrize("sep, called", [(";", "';'"), ("\t", "a tab")])
def test_european_and_tab_separated_csv_are_refused_naming_line_1(tmp_path, sep, called):
    path = tmp_path / "eu.csv"
    _wide().to_csv(path, index=False, sep=sep, decimal=",")
    with pytest.raises(DataError) as info:
        _series(path)
    message = str(info.value)
    assert message.startswith("eu.csv: line 1 (header)") and called in message
    assert "',' as the separator and '.' as the decimal point" in message


def test_a_single_column_csv_without_separators_is_not_called_european(tmp_path):
    path = tmp_path / "docs.csv"
    path.write_text("q\nwhat is it; who knows\n")  # ';' in a document, not in the header
    with pytest.raises(DataError, match="column 'kind' not found"):
        load_text(path, file_format="csv", text="q", label="kind")


def test_a_decimal_comma_in_a_quoted_cell_is_named(tmp_path):
    path = tmp_path / "r.csv"
    frame = _wide().astype({"n1": object})
    frame.loc[4, "n1"] = "1,5"
    frame.to_csv(path, index=False)
    with pytest.raises(DataError, match=r"row 4 \(line 6\).*'1,5'.*decimal point"):
        _series(path)


def _zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    return out.getvalue()


@pytest.mark.parametrize(
    "content, what",
    [
        (_zip_bytes(), "zip archive"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64), "old Excel .xls"),
        (b"PAR1" + bytes(64), "Parquet"),
        (b"week,a\n0,1\n" + bytes(range(256)), "NUL byte at byte 11"),
    ],
)
def test_binary_file_named_csv_or_jsonl_is_not_text(tmp_path, content, what):
    for name, fmt in (("readings.csv", "csv"), ("docs.jsonl", "jsonl")):
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(DataError) as info:
            if fmt == "csv":
                _series(path)
            else:
                load_text(path, file_format="jsonl", text="q", label="kind")
        message = str(info.value)
        assert message.startswith(f"{name}: not a text {fmt.upper()} file"), message
        assert what in message and f"export it as {fmt.upper()}" in message


def test_utf16_csv_is_told_to_be_saved_as_utf8(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes(_wide().to_csv(index=False).encode("utf-16"))
    with pytest.raises(DataError, match="r.csv: a UTF-16 text file.*save it as UTF-8"):
        _series(path)


def test_text_id_column_in_a_wide_table_is_named_not_made_a_node(tmp_path):
    path = tmp_path / "r.csv"
    frame = _wide()
    frame.insert(1, "station", ["S-1", "S-2"] * 15)
    frame.to_csv(path, index=False)
    with pytest.raises(DataError) as info:
        _series(path)
    message = str(info.value)
    assert "column 'station' holds text in every row ('S-1', 'S-2')" in message
    assert "drop that column" in message and "data.source.layout: long" in message
    # One word among numbers stays a bad cell, named by row.
    frame = _wide().astype({"n2": object})
    frame.loc[3, "n2"] = "twelve"
    frame.to_csv(path, index=False)
    with pytest.raises(DataError, match=r"row 3 \(line 5\), column 'n2'.*fix those cells"):
        _series(path)


# --- Time -----------------------------------------------------------------------------------


def test_offsets_across_a_daylight_saving_change_are_read_in_utc(tmp_path):
    hours = pd.date_range("2024-10-26T22:00", periods=30, freq="h", tz="Europe/Berlin")
    frame = _wide().assign(week=[h.isoformat() for h in hours])  # +02:00 then +01:00
    assert {h[-6:] for h in frame["week"]} == {"+02:00", "+01:00"}
    path = tmp_path / "r.csv"
    frame.to_csv(path, index=False)
    values, _ = _series(path)
    assert values["t"].dtype == "datetime64[ns]"
    assert values["t"].iloc[0] == pd.Timestamp("2024-10-26T20:00")
    assert set(values["t"].diff().dropna()) == {pd.Timedelta(hours=1)}  # 25 local hours: no gap


def test_mixed_date_formats_are_refused_naming_the_column_and_rows(tmp_path):
    days = pd.date_range("2024-01-01", periods=30, freq="D")
    frame = _wide().assign(
        week=[d.strftime("%d/%m/%Y" if i in (2, 9) else "%Y-%m-%d") for i, d in enumerate(days)]
    )
    path = tmp_path / "r.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(DataError) as info:
        _series(path)
    message = str(info.value)
    assert "column 'week' (data.source.time) mixes date formats" in message
    assert "row 0 (line 2) reads '2024-01-01'" in message
    assert "2 rows are written another way: row 2 (line 4) '03/01/2024', row 9" in message
    assert "ISO 8601" in message
    # A cell that is no date at all is still named as such.
    frame.loc[5, "week"] = "soon"
    frame.to_csv(path, index=False)
    with pytest.raises(DataError, match=r"row 5 \(line 7\).*'soon' is neither a whole number"):
        _series(path)


def test_decimal_steps_whole_are_steps_and_fractional_are_named(tmp_path):
    path = tmp_path / "r.parquet"
    _wide().astype({"week": "float64"}).to_parquet(path, index=False)
    values, _ = _series(path, file_format="parquet")
    assert values["t"].dtype == np.int64 and values["t"].tolist() == list(range(30))
    _wide().assign(week=np.arange(30) / 2).to_parquet(path, index=False)
    with pytest.raises(DataError, match=r"row 1, column 'week'.*0\.5 is not a whole number"):
        _series(path, file_format="parquet")


def test_long_table_with_absent_pairs_names_how_many_and_examples(tmp_path):
    long = _wide().melt(id_vars="week", var_name="sensor", value_name="v")
    path = tmp_path / "long.csv"
    long.drop(index=[4, 35, 36, 70, 80]).to_csv(path, index=False)
    with pytest.raises(DataError) as info:
        _series(path, layout="long", node="sensor", value="v")
    message = str(info.value)
    assert "5 (time, node) pairs have no row: 30 times x 3 nodes need 90 rows" in message
    assert "week 4, node 'n0'; week 5, node 'n1'; week 6, node 'n1'; ..." in message
    assert "Add a row for each" in message
    # A row that is present with an empty value is NaN for the gate, as before.
    long.loc[4, "v"] = np.nan
    long.to_csv(path, index=False)
    values, _ = _series(path, layout="long", node="sensor", value="v")
    assert np.isnan(values.loc[4, "n0"])


# --- Resources ------------------------------------------------------------------------------


def test_file_larger_than_the_limit_is_refused_before_it_is_read(tmp_path, monkeypatch):
    from tokfrag.config import SourceConfig

    path = tmp_path / "inputs" / "readings.csv"
    path.parent.mkdir()
    _wide().to_csv(path, index=False)
    source = SourceConfig(kind="series", path="inputs/readings.csv", time="week")
    custom_spec("mine", source, tmp_path)  # under the default limit: fine
    size = path.stat().st_size
    monkeypatch.setenv(INPUT_BYTES_ENV, str(size - 1))
    opened = []
    monkeypatch.setattr(Path, "open", lambda *a, **k: opened.append(a) or open(*a, **k))
    with pytest.raises(DataError) as info:
        custom_spec("mine", source, tmp_path)
    assert not opened  # not even hashed
    message = str(info.value)
    assert str(path) in message and "data.source.path" in message
    assert f"set by {INPUT_BYTES_ENV}" in message and "Make the file smaller" in message


def test_limits_default_to_a_share_of_available_memory(monkeypatch):
    limit, how = memory_limit(INPUT_BYTES_ENV)
    assert limit > 0 and INPUT_BYTES_ENV in how
    monkeypatch.setenv(INPUT_BYTES_ENV, "lots")
    with pytest.raises(DataError, match=f"{INPUT_BYTES_ENV}='lots' is not a positive number"):
        memory_limit(INPUT_BYTES_ENV)
    assert human(3200) == "3.2 kB" and human(12) == "12 bytes"
    assert dense_matrix_bytes(20) == 3200


def test_node_count_too_large_for_a_dense_graph_is_refused_from_the_header(tmp_path, monkeypatch):
    path = tmp_path / "r.csv"
    # 200 node columns, and a row pandas cannot read: the header alone decides.
    header = "week," + ",".join(f"n{i}" for i in range(200))
    path.write_text(header + "\n" + ",".join(["1"] * 201) + "\n" + ",".join(["1"] * 203) + "\n")
    monkeypatch.setenv(GRAPH_BYTES_ENV, str(dense_matrix_bytes(200) - 1))
    with pytest.raises(DataError) as info:
        _series(path)
    message = str(info.value)
    assert message.startswith("r.csv (no edge list): 200 nodes")
    assert "200 x 200 float64 matrix of 320.0 kB" in message
    assert "data.source.edges" in message
    # With an edge list, no correlation graph is built: the limit does not apply.
    edges = tmp_path / "e.csv"
    edges.write_text("source,target\nn0,n1\n")
    with pytest.raises(DataError, match="fields"):  # the broken row, not the graph
        _series(path, edges_path=edges)


def test_correlation_graph_checks_the_limit_before_building(monkeypatch):
    values = np.random.default_rng(0).normal(size=(10, 6))
    assert correlation_graph(values, 2)[0].shape[0] == 2
    monkeypatch.setenv(GRAPH_BYTES_ENV, "100")
    with pytest.raises(DataError, match="6 nodes.*fragment.graph.source: given"):
        correlation_graph(values, 2)
    with pytest.raises(DataError, match="6 x 6"):
        check_dense_graph(6, "here", "fix")
