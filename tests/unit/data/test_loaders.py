"""load_pgt_json on the real PyTorch Geometric Temporal files and on damaged copies."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tokfrag.data.loaders import load_pgt_json
from tokfrag.data.registry import DataError

COUNTIES = [
    "BACS", "BARANYA", "BEKES", "BORSOD", "BUDAPEST", "CSONGRAD", "FEJER", "GYOR", "HAJDU",
    "HEVES", "JASZ", "KOMAROM", "NOGRAD", "PEST", "SOMOGY", "SZABOLCS", "TOLNA", "VAS",
    "VESZPREM", "ZALA",
]  # fmt: skip


@pytest.fixture(scope="module")
def raw(chickenpox_file) -> dict:
    return json.loads(chickenpox_file.read_text())


def test_chickenpox_values(chickenpox_file, raw):
    values, _ = load_pgt_json(chickenpox_file)
    assert values.shape == (521, 21)
    assert list(values.columns) == ["t", *COUNTIES]
    assert values["t"].dtype == np.int64
    np.testing.assert_array_equal(values["t"], np.arange(521))
    fx = np.asarray(raw["FX"])
    for name, position in raw["node_ids"].items():  # columns follow node_ids positions
        np.testing.assert_array_equal(values[name].to_numpy(), fx[:, position])


def test_chickenpox_edges_carry_names(chickenpox_file, raw):
    _, edges = load_pgt_json(chickenpox_file)
    assert list(edges.columns) == ["source", "target", "weight"]
    assert len(edges) == 102
    assert set(edges["source"]) | set(edges["target"]) <= set(COUNTIES)
    assert (edges["weight"] == 1.0).all()
    names = {position: name for name, position in raw["node_ids"].items()}
    expected = [(names[s], names[t]) for s, t in raw["edges"]]
    assert list(zip(edges["source"], edges["target"], strict=True)) == expected


def test_pedalme_x_key_and_weights(mirror):
    path = mirror / "pedalme_london" / "pedalme_london.json"
    if not path.is_file():
        pytest.skip(f"{path} not in the mirror")
    raw = json.loads(path.read_text())
    values, edges = load_pgt_json(path)
    assert values.shape == (35, 16)
    assert list(values.columns) == ["t"] + [f"node_{i}" for i in range(15)]  # no node_ids
    assert len(edges) == 225
    np.testing.assert_array_equal(edges["weight"], raw["weights"])


def test_edge_index_out_of_range_stays_visible(chickenpox_file, raw, tmp_path):
    damaged = dict(raw, edges=raw["edges"] + [[0, 20], [-1, 3]])
    path = tmp_path / "chickenpox.json"
    path.write_text(json.dumps(damaged))
    _, edges = load_pgt_json(path)
    assert len(edges) == 104
    assert tuple(edges.iloc[102][["source", "target"]]) == ("BACS", "node_20")
    assert tuple(edges.iloc[103][["source", "target"]]) == ("node_-1", "BORSOD")


@pytest.mark.parametrize(
    "text, match",
    [
        ("{not json", "not valid UTF-8 JSON"),
        (json.dumps({"edges": []}), "expected keys"),
        (json.dumps({"FX": [[1.0]]}), "expected keys"),
        (json.dumps({"FX": [1.0, 2.0], "edges": []}), "T x N"),
    ],
)
def test_malformed_files_raise_data_error_naming_the_file(tmp_path, text, match):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(DataError, match=match) as info:
        load_pgt_json(path)
    assert str(path) in str(info.value)


def test_empty_edge_list_gives_empty_frame(tmp_path):
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps({"X": [[1.0, 2.0], [3.0, 4.0]], "edges": []}))
    values, edges = load_pgt_json(path)
    pd.testing.assert_frame_equal(
        values, pd.DataFrame({"t": [0, 1], "node_0": [1.0, 3.0], "node_1": [2.0, 4.0]})
    )
    assert len(edges) == 0 and list(edges.columns) == ["source", "target", "weight"]
