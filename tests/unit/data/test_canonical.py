"""The canonical Parquet form: write, read back, turn into arrays."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tokfrag.data.canonical import EDGES, META, VALUES, read_canonical, to_series, write_canonical
from tokfrag.data.loaders import load_pgt_json
from tokfrag.data.registry import DataError, get_spec


@pytest.fixture(scope="module")
def tables(chickenpox_file):
    return load_pgt_json(chickenpox_file)


def _meta() -> dict:
    spec = get_spec("chickenpox")
    return {"name": "chickenpox", "kind": "series", "sha256": spec.files["chickenpox.json"]}


def test_write_read_round_trip(tables, tmp_path):
    values, edges = tables
    out = write_canonical(values, edges, _meta(), tmp_path / "chickenpox")
    assert sorted(p.name for p in out.iterdir()) == sorted([VALUES, EDGES, META])
    values2, edges2, meta2 = read_canonical(out)
    pd.testing.assert_frame_equal(values2, values)
    pd.testing.assert_frame_equal(edges2, edges)
    assert meta2 == _meta()


def test_to_series_matches_the_raw_file(tables, tmp_path, chickenpox_file):
    values, edges = tables
    write_canonical(values, edges, _meta(), tmp_path / "c")
    series = to_series(*read_canonical(tmp_path / "c"))
    raw = json.loads(chickenpox_file.read_text())
    assert series.name == "chickenpox" and series.sha256 == _meta()["sha256"]
    assert series.num_steps == 521 and series.num_nodes == 20
    assert series.node_ids == tuple(sorted(raw["node_ids"], key=raw["node_ids"].get))
    np.testing.assert_array_equal(series.values, np.asarray(raw["FX"]))
    np.testing.assert_array_equal(series.time, np.arange(521))
    # node_ids order equals the upstream positions, so the edge index is the upstream one.
    np.testing.assert_array_equal(series.edge_index, np.asarray(raw["edges"]).T)
    assert series.edge_index.dtype == np.int64 and series.edge_weight.shape == (102,)


def test_write_replaces_previous_output(tables, tmp_path):
    values, edges = tables
    write_canonical(values, edges, _meta(), tmp_path / "c")
    write_canonical(values.iloc[:10], edges.iloc[:3], _meta(), tmp_path / "c")
    values2, edges2, _ = read_canonical(tmp_path / "c")
    assert len(values2) == 10 and len(edges2) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c"]


def test_read_missing_files_names_them(tables, tmp_path):
    values, edges = tables
    write_canonical(values, edges, _meta(), tmp_path / "c")
    (tmp_path / "c" / EDGES).unlink()
    with pytest.raises(DataError, match=EDGES) as info:
        read_canonical(tmp_path / "c")
    assert VALUES not in str(info.value) and "tokfrag ingest" in str(info.value)


def test_unknown_node_in_edges_is_reported_not_crashed(chickenpox_file, tmp_path):
    raw = json.loads(chickenpox_file.read_text())
    damaged = tmp_path / "damaged.json"
    damaged.write_text(json.dumps(dict(raw, edges=raw["edges"] + [[0, 20]])))
    values, edges = load_pgt_json(damaged)  # parsing keeps the bad edge visible
    assert "node_20" in set(edges["target"])
    write_canonical(values, edges, _meta(), tmp_path / "c")
    with pytest.raises(DataError, match="node_20"):
        to_series(*read_canonical(tmp_path / "c"))


def test_no_edges_gives_empty_edge_index(tables):
    values, edges = tables
    series = to_series(values, edges.iloc[:0], _meta())
    assert series.edge_index.shape == (2, 0) and series.edge_weight.shape == (0,)
