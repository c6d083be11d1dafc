"""Your own data (``data.source``): files made here from the real mirror data must give the
canonical tables the built-in loaders give; bad mappings fail naming the file and column."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from tokfrag import stages
from tokfrag.config import parse_params
from tokfrag.data.canonical import read_canonical
from tokfrag.data.custom import custom_spec, load_series, load_text
from tokfrag.data.loaders import load_pgt_json
from tokfrag.data.registry import DataError, sha256_file
from tokfrag.data.text_canonical import read_text_canonical
from tokfrag.data.text_loaders import DROPPED, load_textgcn, near_duplicate_key

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def chickenpox(chickenpox_file):
    return load_pgt_json(chickenpox_file)


@pytest.fixture(scope="module")
def trec_raw(mirror):
    # keep_test_duplicates: the custom loader must drop the same leaked copies itself.
    return load_textgcn(
        mirror / "trec" / "TREC.txt",
        mirror / "trec" / "TREC.meta.txt",
        strip_first_word=True,
        keep_test_duplicates=True,
    )


def _wide_csv(values: pd.DataFrame, folder: Path) -> Path:
    path = folder / "readings.csv"
    values.rename(columns={"t": "week"}).to_csv(path, index=False)
    return path


def _edges_csv(edges: pd.DataFrame, folder: Path) -> Path:
    path = folder / "edges.csv"
    edges.rename(columns={"source": "from", "target": "to", "weight": "w"}).to_csv(
        path, index=False
    )
    return path


def _series_kwargs(**overrides):
    kwargs = {
        "file_format": "csv",
        "layout": "wide",
        "time": "week",
        "edge_source": "from",
        "edge_target": "to",
        "edge_weight": "w",
    }
    return {**kwargs, **overrides}


# --- series ----------------------------------------------------------------------------------


def test_wide_csv_and_edge_list_equal_the_builtin_tables(chickenpox, tmp_path):
    values, edges = chickenpox
    got_values, got_edges = load_series(
        _wide_csv(values, tmp_path), _edges_csv(edges, tmp_path), **_series_kwargs()
    )
    pd.testing.assert_frame_equal(got_values, values)
    pd.testing.assert_frame_equal(got_edges, edges)


def test_long_parquet_in_any_row_order_equals_the_wide_table(chickenpox, tmp_path):
    values, _ = chickenpox
    long = values.melt(id_vars="t", var_name="county", value_name="cases")
    # Time-major, newest week first: the loader puts rows in time order, nodes in the order
    # they first appear (here the county columns' order).
    order = np.lexsort((np.arange(len(long)) // len(values), -long["t"].to_numpy()))
    long = long.iloc[order].reset_index(drop=True)
    path = tmp_path / "readings.parquet"
    long.to_parquet(path, index=False)
    got_values, got_edges = load_series(
        path, file_format="parquet", layout="long", time="t", node="county", value="cases"
    )
    pd.testing.assert_frame_equal(got_values, values)
    assert got_edges.empty and list(got_edges.columns) == ["source", "target", "weight"]


def test_unweighted_edges_weigh_one_and_dates_become_datetimes(chickenpox, tmp_path):
    values, edges = chickenpox
    dated = values.assign(t=pd.date_range("2005-01-03", periods=len(values), freq="7D"))
    path = _wide_csv(dated.assign(t=dated["t"].dt.strftime("%Y-%m-%d")), tmp_path)
    got_values, got_edges = load_series(
        path, _edges_csv(edges.drop(columns="weight"), tmp_path), **_series_kwargs(edge_weight=None)
    )
    assert got_values["t"].dtype == "datetime64[ns]"
    assert (got_values["t"] == dated["t"].to_numpy()).all()
    np.testing.assert_array_equal(got_edges["weight"], np.ones(len(edges)))


def test_missing_time_column_names_file_column_and_key(chickenpox, tmp_path):
    path = _wide_csv(chickenpox[0], tmp_path)
    with pytest.raises(DataError) as info:
        load_series(path, **_series_kwargs(time="timestamp"))
    message = str(info.value)
    assert "readings.csv" in message and "'timestamp'" in message
    assert "'week'" in message and "data.source.time" in message


def test_non_numeric_reading_names_row_line_and_column(chickenpox, tmp_path):
    values = chickenpox[0].astype({"BUDAPEST": object})
    values.loc[6, "BUDAPEST"] = "n/a?"
    path = _wide_csv(values, tmp_path)
    with pytest.raises(DataError, match=r"readings.csv: row 6 \(line 8\), column 'BUDAPEST'"):
        load_series(path, **_series_kwargs())


def test_long_reading_given_twice_is_an_error(tmp_path):
    path = tmp_path / "long.csv"
    pd.DataFrame({"t": [0, 0, 1, 0], "n": ["a", "b", "a", "a"], "v": [1.0, 2, 3, 4]}).to_csv(
        path, index=False
    )
    with pytest.raises(DataError, match=r"row 3 \(line 5\): node 'a' at time 0 is given twice"):
        load_series(path, file_format="csv", layout="long", time="t", node="n", value="v")


def test_edge_list_without_mapped_column_names_it(chickenpox, tmp_path):
    values, edges = chickenpox
    with pytest.raises(DataError) as info:
        load_series(
            _wide_csv(values, tmp_path),
            _edges_csv(edges, tmp_path),
            **_series_kwargs(edge_source="source"),
        )
    assert "edges.csv: column 'source' not found" in str(info.value)
    assert "data.source.edge_source" in str(info.value)


def test_custom_spec_records_each_file_sha256(chickenpox, tmp_path):
    values, edges = chickenpox
    _wide_csv(values, tmp_path)
    _edges_csv(edges, tmp_path)
    source = parse_params(_series_params("mine", edges=True)).data.source
    spec, paths = custom_spec("mine", source, tmp_path)
    assert spec.kind == "series" and spec.name == "mine"
    assert spec.files == {
        "readings.csv": sha256_file(tmp_path / "readings.csv"),
        "edges.csv": sha256_file(tmp_path / "edges.csv"),
    }
    got_values, got_edges = spec.parse(paths)
    pd.testing.assert_frame_equal(got_values, values)
    pd.testing.assert_frame_equal(got_edges, edges)

    (tmp_path / "missing").mkdir()
    with pytest.raises(DataError, match=r"missing/readings.csv: no such file \(data.source.path"):
        custom_spec("mine", source, tmp_path / "missing")


# --- text ------------------------------------------------------------------------------------


def test_jsonl_with_split_column_equals_the_builtin_documents(trec_raw, mirror, tmp_path):
    builtin = load_textgcn(
        mirror / "trec" / "TREC.txt", mirror / "trec" / "TREC.meta.txt", strip_first_word=True
    )
    path = tmp_path / "questions.jsonl"
    rows = trec_raw.rename(columns={"text": "question", "label": "class", "split": "part"})
    rows[["question", "class", "part"]].to_json(path, orient="records", lines=True)
    got = load_text(path, file_format="jsonl", text="question", label="class", split="part")
    # Your own documents are also checked for near-copies across the split (case, NFC/NFD,
    # whitespace), which the built-in loader (the published protocol) keeps.
    extra = sorted(set(got.attrs[DROPPED]) - set(builtin.attrs[DROPPED]))
    assert set(builtin.attrs[DROPPED]) <= set(got.attrs[DROPPED])
    kept = builtin.loc[~builtin["doc_id"].isin(extra)].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, kept, check_like=False, check_exact=True)
    train_keys = set(builtin.loc[builtin["split"] == "train", "text"].map(near_duplicate_key))
    for text in builtin.loc[builtin["doc_id"].isin(extra), "text"]:
        assert near_duplicate_key(text) in train_keys, text


def test_csv_without_split_column_gets_a_seeded_stratified_split(trec_raw, tmp_path):
    path = tmp_path / "questions.csv"
    trec_raw[["text", "label"]].to_csv(path, index=False)
    first = load_text(path, file_format="csv", text="text", label="label")
    again = load_text(path, file_format="csv", text="text", label="label")
    other = load_text(path, file_format="csv", text="text", label="label", seed=1)
    pd.testing.assert_frame_equal(first, again)
    assert not first["split"].equals(other["split"])
    # 20% of the rows per class (before dropped test copies of training texts).
    test_share = (first["split"] == "test").sum() / len(trec_raw)
    assert 0.18 < test_share <= 0.2
    counts = first.groupby("label")["split"].apply(lambda s: (s == "test").mean())
    assert counts.between(0.1, 0.25).all()
    kept = trec_raw.set_index("doc_id").loc[first["doc_id"]]
    assert (first["text"].to_numpy() == kept["text"].to_numpy()).all()


def test_text_na_strings_stay_text_and_missing_labels_are_named(tmp_path):
    path = tmp_path / "docs.csv"
    pd.DataFrame({"t": ["NA", "null", "ok"], "y": ["a", "b", None]}).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"docs.csv: row 2 \(line 4\) has no label in column 'y'"):
        load_text(path, file_format="csv", text="t", label="y")
    pd.DataFrame({"t": ["NA", "null"], "y": ["a", "b"], "s": ["Train", "test "]}).to_csv(
        path, index=False
    )
    got = load_text(path, file_format="csv", text="t", label="y", split="s")
    assert got["text"].tolist() == ["NA", "null"] and got["split"].tolist() == ["train", "test"]


# --- the stages, end to end on a custom project ------------------------------------------------


def _series_params(name: str, edges: bool) -> dict:
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    source = {"kind": "series", "path": "readings.csv", "time": "week"}
    if edges:
        source |= {"edges": "edges.csv", "edge_source": "from", "edge_target": "to"}
        source["edge_weight"] = "w"
    raw["data"] = {"dataset": name, "source": source}
    return raw


def test_ingest_validate_prepare_on_a_custom_csv_project(chickenpox, tmp_path):
    values, _ = chickenpox
    _wide_csv(values, tmp_path)
    params = parse_params(_series_params("mine", edges=False))
    out = stages.ingest(params, tmp_path)
    assert out == tmp_path / "data" / "mine"
    got_values, got_edges, meta = read_canonical(out)
    pd.testing.assert_frame_equal(got_values, values)
    assert got_edges.empty
    assert meta["kind"] == "series"
    assert meta["sha256"] == sha256_file(tmp_path / "readings.csv")

    assert stages.validate(params, tmp_path).success
    prepared = stages.prepare(params, tmp_path)
    graph = json.loads((prepared / "graph.json").read_text())
    assert graph["source"].startswith("correlation")  # no edge list: built from training steps


def test_text_project_and_validate_file_report(trec_raw, tmp_path):
    trec_raw[["text", "label"]].to_csv(tmp_path / "questions.csv", index=False)
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    raw["data"] = {
        "dataset": "my_questions",
        "source": {"kind": "text", "path": "questions.csv", "text": "text", "label": "label"},
    }
    params = parse_params(raw)
    documents, meta = read_text_canonical(stages.ingest(params, tmp_path))
    assert meta["label_names"] == ["ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"]
    assert meta["files"] == {"questions.csv": sha256_file(tmp_path / "questions.csv")}
    assert set(documents["split"]) == {"train", "test"}
    assert stages.validate(params, tmp_path).success

    # The gate alone on another file, read with the same mapping; nothing is written.
    bad = trec_raw[["text", "label"]].copy()
    bad.loc[3, "text"] = "   "
    bad.to_csv(tmp_path / "other.csv", index=False)
    report = stages.check_file(params, tmp_path, tmp_path / "other.csv")
    assert not report.success
    assert any(f.column == "text" and "3" in f.detail for f in report.failures)
    outcomes = report.outcomes()
    assert any(o["success"] for o in outcomes) and not all(o["success"] for o in outcomes)


def test_cli_validate_path_reports_each_expectation_and_fails_on_bad_data(chickenpox, tmp_path):
    from typer.testing import CliRunner

    from tokfrag.cli import app

    values, _ = chickenpox
    _wide_csv(values, tmp_path)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(_series_params("mine", edges=False)))
    bad = values.rename(columns={"t": "week"})
    bad.loc[3, "BUDAPEST"] = np.inf
    bad.to_csv(tmp_path / "bad.csv", index=False)
    gap = values.rename(columns={"t": "week"})
    gap.loc[3, "BUDAPEST"] = np.nan
    gap.to_csv(tmp_path / "gap.csv", index=False)
    runner = CliRunner()
    params = ["--params", str(tmp_path / "params.yaml")]

    good = runner.invoke(app, ["validate", str(tmp_path / "readings.csv"), *params])
    assert good.exit_code == 0, good.output
    assert "pass values.BUDAPEST: expect_column_values_to_not_be_null" in good.output
    assert "expectations passed" in good.output
    assert not (tmp_path / "data").exists()  # the check alone writes nothing

    failed = runner.invoke(app, ["validate", str(tmp_path / "bad.csv"), *params])
    assert failed.exit_code == 1
    assert "FAIL values.BUDAPEST: expect_column_values_to_be_between" in failed.output
    assert "[values.BUDAPEST]" in failed.output and "row 3" in failed.output

    # A missing reading is refused before the gate (data.missing: refuse), in one summary.
    refused = runner.invoke(app, ["validate", str(tmp_path / "gap.csv"), *params])
    assert refused.exit_code == 1
    assert "'BUDAPEST'" in refused.output and "row 3" in refused.output
    assert "data.missing: interpolate" in refused.output

    builtin = tmp_path / "builtin"
    builtin.mkdir()
    (builtin / "params.yaml").write_text("data: {dataset: chickenpox}\n")
    no_source = runner.invoke(
        app, ["validate", str(tmp_path / "bad.csv"), "--params", str(builtin / "params.yaml")]
    )
    assert no_source.exit_code == 1 and "no data.source" in no_source.output


def test_repeated_wide_header_and_long_table_read_as_wide_are_named(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("week,a,b,a\n0,1,2,3\n1,4,5,6\n")
    with pytest.raises(DataError, match=r"r.csv: line 1 \(header\): column 'a' appears in"):
        load_series(path, **_series_kwargs())
    path.write_text("week,sensor,reading\n0,s1,1.5\n0,s2,2.5\n")
    with pytest.raises(DataError, match="column 'sensor'.*data.source.layout: long"):
        load_series(path, **_series_kwargs())
