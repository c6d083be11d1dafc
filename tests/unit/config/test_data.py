"""The data sections: dataset names stay plain names; ``data.source`` describes your own files."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tokfrag.config import ParamsError, parse_params

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("name", ["../x", "a/b", "", "chicken pox", "x;rm"])
def test_unsafe_dataset_name_rejected(name):
    with pytest.raises(ParamsError, match=r"data\.dataset"):
        parse_params({"data": {"dataset": name}})


def test_safe_dataset_name_accepted():
    assert parse_params({"data": {"dataset": "pedalme_london-2"}}).data.dataset == (
        "pedalme_london-2"
    )


# --- data.source: your own data ---------------------------------------------------------------


def _source(**source) -> dict:
    return {"data": {"dataset": "mine", "source": source}}


def test_source_defaults_to_a_builtin_dataset_and_reads_the_kind():
    assert parse_params({}).data.source is None and parse_params({}).data.kind == "series"
    params = parse_params(_source(kind="text", path="in/docs.jsonl", text="t", label="y"))
    assert params.data.kind == "text" and params.data.source.file_format == "jsonl"
    series = parse_params(_source(kind="series", path="/abs/r.parquet", time="ts"))
    assert series.data.source.file_format == "parquet" and series.data.source.layout is None


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ({"kind": "series", "path": "r.csv", "layout": "long", "time": "t"}, "node, value"),
        ({"kind": "text", "path": "d.csv", "text": "t"}, "label: <column>"),
        ({"kind": "series", "path": "r.txt", "time": "t"}, "set format: csv, parquet or jsonl"),
        ({"kind": "series", "path": "r.jsonl", "time": "t"}, "jsonl is for text"),
        ({"kind": "text", "path": "d.csv", "text": "t", "label": "y", "time": "x"}, "time"),
        ({"kind": "series", "path": "../r.csv", "time": "t"}, "leaves the project folder"),
        ({"kind": "series", "path": "a/../../r.csv", "time": "t"}, "leaves the project folder"),
        ({"kind": "series", "path": "r.csv", "time": "t", "edges": "../e.csv"}, "edges '../e.csv'"),
        ({"kind": "series", "path": "r.csv", "time": "t", "colour": 1}, "'data.source'"),
    ],
)
def test_bad_source_mapping_names_the_key_and_fix(source, expected):
    with pytest.raises(ParamsError) as info:
        parse_params(_source(**source))
    assert expected in str(info.value)
    assert "data.source" in str(info.value)


def test_source_may_not_reuse_a_builtin_name():
    raw = {"data": {"dataset": "chickenpox", "source": {"kind": "series", "path": "r.csv"}}}
    raw["data"]["source"]["time"] = "t"
    with pytest.raises(ParamsError, match="is a built-in dataset.*my_chickenpox"):
        parse_params(raw)


def test_repo_params_example_source_is_valid():
    # The commented example in params.yaml, uncommented, must load.
    lines = (REPO / "params.yaml").read_text().split("\n")
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("# dataset: my_"))
    block = []
    for line in lines[start:]:
        if not line.strip().startswith("#") or line.strip().startswith("#   #"):
            break
        block.append(line.replace("# ", "", 1))
    raw = {"data": yaml.safe_load("\n".join(block))}
    assert parse_params(raw).data.source.edges == "inputs/edges.csv"
