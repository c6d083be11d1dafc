"""Gaps in a real sensor file through the CLI: Chickenpox as a user's CSV with runs of empty
weeks (a few counties, one week in every county) and one county that starts reporting late,
ingested with ``data.missing: interpolate``, a ``max_gap`` that covers the gaps and a
``max_missing_per_node`` that drops the late county; then validated and prepared. The file is
made here from the real data (never committed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tokfrag_testing.bad_inputs import SERIES_DATASET, series_frames, series_project

TOKFRAG = [sys.executable, "-m", "tokfrag.cli"]
LATE = "ZALA"  # reports from week 300 on: 300 of 521 weeks missing, every training week
RUNS = {  # county -> (first empty week, weeks)
    "BUDAPEST": [(40, 3), (200, 1), (410, 4)],
    "PEST": [(41, 2), (333, 4)],
    "VAS": [(100, 1), (101 + 50, 2)],
    "BARANYA": [(5, 4)],
}
ALL_COUNTIES_EMPTY = 260  # a week no county reported
MAX_GAP = 4
TRAIN_ROWS = 107  # the rows training windows read under Chickenpox's PGT split


def _tokfrag(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [*TOKFRAG, *args], cwd=cwd, capture_output=True, text=True, env=dict(os.environ)
    )
    assert done.returncode == 0, f"tokfrag {' '.join(args)}:\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def gappy(mirror: Path) -> pd.DataFrame:
    readings, _ = series_frames(mirror)
    out = readings.copy()
    for county, runs in RUNS.items():
        for start, weeks in runs:
            out.loc[start : start + weeks - 1, county] = np.nan
    out.loc[ALL_COUNTIES_EMPTY, out.columns[1:]] = np.nan
    out.loc[:299, LATE] = np.nan
    return out


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, shrunk_params: dict, mirror: Path, gappy):
    root = tmp_path_factory.mktemp("missing-data") / "project"
    data = {"missing": "interpolate", "max_gap": MAX_GAP, "max_missing_per_node": 0.5}
    series_project(root, shrunk_params, mirror, data=data)
    gappy.to_csv(root / "inputs" / "readings.csv", index=False)
    ingest = _tokfrag("ingest", cwd=root)
    _tokfrag("validate", cwd=root)
    _tokfrag("prepare", cwd=root)
    return root, ingest.stderr


def test_canonical_values_are_the_interpolated_file(project, gappy: pd.DataFrame) -> None:
    root, _ = project
    values = pd.read_parquet(root / f"data/{SERIES_DATASET}/values.parquet")
    kept = [c for c in gappy.columns[1:] if c != LATE]
    assert list(values.columns) == ["t", *kept]
    np.testing.assert_array_equal(values["t"], gappy["week"])
    # pandas' own linear interpolation of the same cells, inside each county's series, for
    # the gaps in the training rows; the gaps after them stay missing (masked): filling them
    # would read a test reading.
    expected = gappy[kept].copy()
    inside = gappy[kept].interpolate(method="linear", limit_area="inside")
    expected.iloc[:TRAIN_ROWS] = inside.iloc[:TRAIN_ROWS]
    assert not expected.iloc[:TRAIN_ROWS].isna().any().any()
    assert expected.iloc[TRAIN_ROWS:].isna().sum().sum() == 4 + 4 + 1 + 2 + len(kept)
    np.testing.assert_allclose(values[kept].to_numpy(), expected.to_numpy(), rtol=0, atol=1e-12)
    # And numpy's, for one county: np.interp over the weeks with a reading.
    seen = gappy["BUDAPEST"].notna().to_numpy()
    direct = np.interp(
        np.arange(len(gappy)), np.flatnonzero(seen), gappy["BUDAPEST"].to_numpy()[seen]
    )
    np.testing.assert_allclose(
        values["BUDAPEST"][:TRAIN_ROWS], direct[:TRAIN_ROWS], rtol=0, atol=1e-12
    )


def test_meta_json_records_the_policy_and_the_dropped_county(project, gappy) -> None:
    root, stderr = project
    meta = json.loads((root / f"data/{SERIES_DATASET}/meta.json").read_text())
    missing = meta["missing"]
    assert missing["policy"] == "interpolate" and missing["max_gap"] == MAX_GAP
    assert missing["max_missing_per_node"] == 0.5
    assert list(missing["dropped_nodes"]) == [LATE]
    # Dropping counts the rows training reads (the first 107 weeks under the PGT split):
    # the late county has none of them, though it has 42% of all weeks.
    assert missing["dropped_by_share_of"] == "training steps"
    assert missing["dropped_nodes"][LATE] == 1.0
    kept = [c for c in gappy.columns[1:] if c != LATE]
    assert missing["interpolated_cells"] == int(gappy[kept].iloc[:TRAIN_ROWS].isna().sum().sum())
    assert missing["masked_cells"] == int(gappy[kept].iloc[TRAIN_ROWS:].isna().sum().sum())
    assert missing["missing_cells"] == int(gappy.iloc[:, 1:].isna().sum().sum())
    assert missing["missing_share_per_node"]["BUDAPEST"] == pytest.approx(9 / 521, abs=1e-6)
    assert "dropped 1 of 20 nodes" in stderr and f"'{LATE}'" in stderr  # the log names it


def test_the_dropped_county_is_gone_from_the_graph(project, mirror: Path) -> None:
    root, _ = project
    edges = pd.read_parquet(root / f"data/{SERIES_DATASET}/edges.parquet")
    assert LATE not in set(edges["source"]) | set(edges["target"])
    _, original = series_frames(mirror)
    touching = (original["from"] == LATE) | (original["to"] == LATE)
    assert len(edges) == len(original) - int(touching.sum())
    meta = json.loads((root / f"data/{SERIES_DATASET}/meta.json").read_text())
    assert meta["missing"]["dropped_edges"] == int(touching.sum())

    prepared = root / f"outputs/{SERIES_DATASET}/prepared"
    split = json.loads((prepared / "split.json").read_text())
    assert LATE not in split["node_ids"] and len(split["node_ids"]) == 19
    graph = json.loads((prepared / "graph.json").read_text())
    assert graph["source"] == "given"
    assert np.asarray(graph["edge_index"]).max() < 19
    assert len(graph["edge_weight"]) == len(edges)
    gate = json.loads((root / f"outputs/{SERIES_DATASET}/validation.json").read_text())
    assert gate["success"] is True
