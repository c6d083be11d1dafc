"""Los-loop (T-GCN's CSV pair) through the registry and load_los_loop, real and damaged files."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from tokfrag.data.canonical import META_ATTR, to_series
from tokfrag.data.loaders import load_los_loop
from tokfrag.data.registry import DataError, get_spec, resolve_file

SPEED, ADJ = "los_speed.csv", "los_adj.csv"


@pytest.fixture(scope="module")
def los_paths(mirror: Path) -> dict[str, Path]:
    if not (mirror / "los_loop" / SPEED).is_file():
        pytest.skip(f"Los-loop not in the mirror at {mirror}")
    spec = get_spec("los_loop")
    return {name: resolve_file(spec, name, allow_download=False) for name in spec.files}


@pytest.fixture(scope="module")
def loaded(los_paths):
    return get_spec("los_loop").parse(los_paths)


def test_registry_entry():
    spec = get_spec("los_loop")
    assert spec.kind == "series" and spec.loader == "load_los_loop"
    assert list(spec.files) == [SPEED, ADJ]  # the loader's argument order
    assert spec.files[SPEED].startswith("7b732d86") and spec.files[ADJ].startswith("7a6eb41e")
    for name in spec.files:
        assert spec.urls[name].startswith("https://raw.githubusercontent.com/lehaifeng/T-GCN/")
        assert spec.urls[name].endswith(f"/data/{name}")


def test_files_resolve_from_the_mirror_with_their_sha256(los_paths, mirror):
    assert los_paths == {name: mirror / "los_loop" / name for name in (SPEED, ADJ)}


def test_values_shape_names_and_steps(loaded, los_paths):
    values, _ = loaded
    assert values.shape == (2016, 208)  # 7 days x 288 five-minute steps, 207 sensors
    header = los_paths[SPEED].read_text().splitlines()[0].split(",")
    assert list(values.columns) == ["t", *header]
    assert header[:3] == ["773869", "767541", "767542"]
    np.testing.assert_array_equal(values["t"], np.arange(2016))
    assert values["t"].dtype == np.int64
    speeds = values.drop(columns="t").to_numpy()
    assert speeds.dtype == np.float64 and np.isfinite(speeds).all()
    assert values.iloc[0, 1] == 64.375 and 1.0 <= speeds.min() and speeds.max() <= 70.0


def test_edges_from_the_weighted_symmetric_adjacency(loaded):
    values, edges = loaded
    assert list(edges.columns) == ["source", "target", "weight"]
    assert len(edges) == 2833
    loops = edges["source"] == edges["target"]
    assert loops.sum() == 207 and (edges.loc[loops, "weight"] == 1.0).all()
    assert edges["weight"].between(0.1, 1.0).all()  # Gaussian-kernel weights, not 0/1
    pairs = {(s, t): w for s, t, w in edges.itertuples(index=False)}
    assert all(pairs[(t, s)] == w for (s, t), w in pairs.items())  # symmetric
    assert set(edges["source"]) == set(values.columns[1:])
    series = to_series(values, edges, {"name": "los_loop", "sha256": "x"})
    assert series.values.shape == (2016, 207) and series.edge_index.shape == (2, 2833)


def _copy(los_paths, tmp_path: Path) -> tuple[Path, Path]:
    speed, adj = tmp_path / SPEED, tmp_path / ADJ
    shutil.copyfile(los_paths[SPEED], speed)
    shutil.copyfile(los_paths[ADJ], adj)
    return speed, adj


def test_adjacency_missing_a_row_is_not_square(los_paths, tmp_path):
    speed, adj = _copy(los_paths, tmp_path)
    adj.write_text("\n".join(adj.read_text().splitlines()[:-1]) + "\n")
    with pytest.raises(DataError, match=r"must be square.*206 rows and line 1 has 207") as info:
        load_los_loop(speed, adj)
    assert str(adj) in str(info.value)


def test_adjacency_of_the_wrong_size_names_both_files(los_paths, tmp_path):
    speed, adj = _copy(los_paths, tmp_path)
    rows = [line.rsplit(",", 1)[0] for line in adj.read_text().splitlines()[:-1]]
    adj.write_text("\n".join(rows) + "\n")  # a square 206 x 206 matrix
    with pytest.raises(DataError, match=r"206 x 206 adjacency does not match the 207 sensors"):
        load_los_loop(speed, adj)


def test_corrupted_mirror_copy_fails_the_sha256(los_paths, tmp_path, monkeypatch):
    folder = tmp_path / "los_loop"
    folder.mkdir()
    _, adj = _copy(los_paths, folder)
    adj.write_bytes(adj.read_bytes().replace(b"0.260935932", b"0.260935933", 1))
    monkeypatch.setenv("TOKFRAG_DATA_MIRROR", str(tmp_path))
    with pytest.raises(DataError, match="does not match the registry"):
        resolve_file(get_spec("los_loop"), ADJ, allow_download=False)


def _write(tmp_path: Path, speed: str, adj: str) -> tuple[Path, Path]:
    (tmp_path / SPEED).write_text(speed)
    (tmp_path / ADJ).write_text(adj)
    return tmp_path / SPEED, tmp_path / ADJ


ADJ_2 = "1,0.5\n0.5,1\n"


@pytest.mark.parametrize(
    "speed, adj, match",
    [
        ("a,b\n1,2\n3,x\n", ADJ_2, r"los_speed.csv: line 3, column 2 \(sensor 'b'\): 'x'"),
        ("a,b\n1,2\n3\n", ADJ_2, r"line 3 has 1 fields but the header names 2 sensors"),
        ("a,a\n1,2\n", ADJ_2, r"line 1 \(header\): sensor id 'a' appears in columns 1 and 2"),
        ("a,\n1,2\n", ADJ_2, r"line 1 \(header\): column\(s\) \[2\] have no sensor id"),
        ("a,b\n", ADJ_2, r"at least one row of speeds"),
        ("a,b\n1,2\n", "1,0\n0,one\n", r"los_adj.csv: line 2, column 2: 'one' is not a number"),
        ("a,b\n1,2\n", "1,0\n0,\n", r"los_adj.csv: line 2, column 2: adjacency entry is ''"),
        ("a,b\n1,2\n", "1,0,0\n0,1,0\n", r"must be square.*2 rows and line 1 has 3"),
        ("a,b,c\n1,2,3\n", ADJ_2, r"2 x 2 adjacency does not match the 3 sensors"),
    ],
    ids=[
        "speed-text", "speed-short-row", "duplicate-id", "blank-id", "no-rows",
        "adj-text", "adj-blank", "adj-not-square", "adj-size",
    ],
)  # fmt: skip
def test_malformed_files_raise_clear_errors(tmp_path, speed, adj, match):
    with pytest.raises(DataError, match=match):
        load_los_loop(*_write(tmp_path, speed, adj))


def test_small_pair_parses_and_keeps_blank_speeds_for_the_gate(tmp_path):
    values, edges = load_los_loop(*_write(tmp_path, "a,b\n1,2.5\n,4\n\n", "1,0.5\n0,0\n"))
    assert list(values.columns) == ["t", "a", "b"] and values["t"].tolist() == [0, 1]
    assert np.isnan(values.loc[1, "a"]) and values.loc[1, "b"] == 4.0
    assert edges.to_dict("list") == {
        "source": ["a", "a"],
        "target": ["a", "b"],
        "weight": [1.0, 0.5],
    }


def test_zero_speeds_are_declared_missing_and_counted(loaded):
    # METR-LA's detectors write 0 mph for "no reading"; the mirrored file has none, and
    # meta.json says so (the protocol line in the evaluation reads it).
    values, _ = loaded
    assert values.attrs[META_ATTR]["sentinel"] == {"missing_value": 0.0, "cells": 0}


def test_a_release_with_zero_speeds_is_refused_naming_the_keys(los_paths, tmp_path):
    speed, adj = _copy(los_paths, tmp_path)
    lines = speed.read_text().splitlines()
    cells = lines[3].split(",")
    cells[2] = "0"
    lines[3] = ",".join(cells)
    speed.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError) as info:
        load_los_loop(speed, adj)
    message = str(info.value)
    assert "1 readings are 0 mph" in message and "line 4" in message
    assert "data.missing_value: 0" in message and "data.missing: mask" in message
