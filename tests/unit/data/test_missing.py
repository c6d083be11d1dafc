"""Gaps in your own series (``data.missing``): the sentinel, dropping nodes, linear
interpolation within ``max_gap`` steps, one summary message for what is refused, the record in
meta.json, and the config keys' validation."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pytest

from tokfrag.config import ParamsError, parse_params
from tokfrag.data.canonical import META_ATTR, read_canonical, write_canonical
from tokfrag.data.custom import custom_spec
from tokfrag.data.missing import Gap, apply_policy, find_gaps
from tokfrag.data.registry import DataError
from tokfrag.data.validation import validate_series

NAN = np.nan
INTERPOLATE = {"missing": "interpolate", "max_gap": 2}


def _frame(t=None, **columns) -> pd.DataFrame:
    steps = len(next(iter(columns.values())))
    t = np.arange(steps, dtype=np.int64) if t is None else t
    return pd.DataFrame({"t": t, **{k: np.asarray(v, np.float64) for k, v in columns.items()}})


def _edges(*pairs) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source": [a for a, _ in pairs],
            "target": [b for _, b in pairs],
            "weight": np.ones(len(pairs)),
        }
    )


def _record(values: pd.DataFrame) -> dict:
    return values.attrs[META_ATTR]["missing"]


# --- the runs of missing readings -------------------------------------------------------------


def test_find_gaps_lists_each_run_per_node():
    missing = np.array([[1, 0], [1, 0], [0, 1], [1, 1], [0, 0]], dtype=bool)
    assert find_gaps(missing) == [Gap(0, 0, 2), Gap(0, 3, 4), Gap(1, 2, 4)]
    assert [g.interior(5) for g in find_gaps(missing)] == [False, True, True]


# --- interpolate --------------------------------------------------------------------------------


def test_interpolation_fills_interior_gaps_on_the_straight_line():
    values = _frame(
        a=[1.0, NAN, NAN, 4.0, 5.0, 6.0, NAN, 10.0],  # gaps of 2 (== max_gap) and 1
        b=[2.0, 2.0, 2.0, NAN, -2.0, 0.0, 0.0, 1.0],  # a gap of 1 between 2 and -2
    )
    out, edges = apply_policy(values, _edges(("a", "b")), INTERPOLATE, where="r.csv")
    np.testing.assert_array_equal(out["a"], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0])
    np.testing.assert_array_equal(out["b"], [2.0, 2.0, 2.0, 0.0, -2.0, 0.0, 0.0, 1.0])
    np.testing.assert_array_equal(out["t"], values["t"])
    assert list(out.columns) == ["t", "a", "b"] and len(edges) == 1
    record = _record(out)
    assert record["policy"] == "interpolate" and record["max_gap"] == 2
    assert record["interpolated_cells"] == 4 and record["interpolated_gaps"] == 3
    assert record["missing_cells"] == 4 and record["cells"] == 16
    assert record["missing_share"] == 0.25
    assert record["missing_share_per_node"] == {"a": 0.375, "b": 0.125}
    assert record["dropped_nodes"] == {} and record["dropped_edges"] == 0


def test_interpolation_matches_numpy_interp_on_dates():
    t = pd.date_range("2024-01-01", periods=9, freq="D").to_numpy()
    a = np.array([0.5, NAN, NAN, NAN, 4.1, 3.0, NAN, 1.0, 2.0])
    values = _frame(t=t, a=a, b=np.arange(9.0))
    out, _ = apply_policy(values, _edges(), {"missing": "interpolate", "max_gap": 3}, where="r")
    seen = ~np.isnan(a)
    expected = np.interp(np.arange(9), np.flatnonzero(seen), a[seen])
    np.testing.assert_allclose(out["a"], expected, rtol=0, atol=1e-12)
    pd.testing.assert_series_equal(out["t"], values["t"])


def test_gaps_longer_than_max_gap_stay_missing_and_are_recorded(caplog):
    values = _frame(a=[1.0, NAN, NAN, NAN, 5.0, 6.0], b=[1.0, 2.0, NAN, 4.0, 5.0, 6.0])
    with caplog.at_level(logging.INFO, logger="tokfrag.data.missing"):
        out, _ = apply_policy(values, _edges(), INTERPOLATE, where="r.csv", time="week")
    assert out["b"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]  # 1 step <= max_gap 2: filled
    assert out["a"].isna().tolist() == [False, True, True, True, False, False]  # 3: masked
    record = _record(out)
    assert record["interpolated_cells"] == 1 and record["interpolated_gaps"] == 1
    assert record["masked_cells"] == 3 and record["masked_cells_per_node"] == {"a": 3}
    assert "filled 1 readings in 1 of 2 gaps" in caplog.text


@pytest.mark.parametrize("column", [[NAN, 1.0, 2.0, 3.0], [1.0, 2.0, 3.0, NAN]])
def test_leading_and_trailing_gaps_are_not_extrapolated(column):
    values = _frame(a=column, b=[1.0, 2.0, 3.0, 4.0])
    out, _ = apply_policy(values, _edges(), INTERPOLATE, where="r.csv", time="week")
    np.testing.assert_array_equal(out["a"].isna(), np.isnan(column))
    assert _record(out)["interpolated_cells"] == 0 and _record(out)["masked_cells"] == 1


def test_mask_keeps_every_gap_and_counts_them_per_node():
    values = _frame(a=[1.0, NAN, NAN, 4.0, NAN], b=[NAN, 2.0, 3.0, 4.0, 5.0], c=[1.0] * 5)
    out, _ = apply_policy(values, _edges(), {"missing": "mask"}, where="r.csv")
    pd.testing.assert_frame_equal(out[["a", "b", "c"]], values[["a", "b", "c"]])
    record = _record(out)
    assert record["policy"] == "mask" and record["interpolated_cells"] == 0
    assert record["masked_cells"] == 4 and record["masked_cells_per_node"] == {"a": 3, "b": 1}


def test_mask_refuses_a_node_with_no_training_reading_naming_it():
    values = _frame(a=[NAN, NAN, NAN, 4.0, 5.0, 6.0], b=np.arange(6.0))
    with pytest.raises(DataError) as info:
        apply_policy(values, _edges(), {"missing": "mask"}, where="r.csv", train_steps=3)
    message = str(info.value)
    assert message.startswith("r.csv: 1 node(s) have no reading in the training rows (rows 0-2")
    assert "'a'" in message and "data.max_missing_per_node" in message
    out, _ = apply_policy(values, _edges(), {"missing": "mask"}, where="r.csv", train_steps=4)
    assert _record(out)["masked_cells"] == 3


# --- refuse: one summary message -----------------------------------------------------------------


def test_refuse_is_one_summary_not_a_line_per_column():
    rng = np.random.default_rng(0)
    steps, nodes = 200, 70
    matrix = rng.normal(size=(steps, nodes))
    matrix[rng.random((steps, nodes)) < 0.5] = NAN
    matrix[10:60, 7] = NAN  # the longest gap: node S07, 50 steps from 2020-01-11
    matrix[9, 7] = matrix[60, 7] = 1.0
    t = pd.date_range("2020-01-01", periods=steps, freq="D").to_numpy()
    values = pd.DataFrame({"t": t, **{f"S{i:02d}": matrix[:, i] for i in range(nodes)}})
    with pytest.raises(DataError) as info:
        apply_policy(values, _edges(), None, where="pm10.csv", time="date")
    message = str(info.value)
    lines = message.splitlines()
    assert len(lines) == 4  # the share, the worst nodes, the longest gap, the keys to set
    missing = int(np.isnan(matrix).sum())
    assert lines[0].startswith(f"pm10.csv: {missing:,} of {steps * nodes:,} readings (")
    assert "in 70 of 70 nodes, and data.missing is refuse (the default)" in lines[0]
    assert "Worst nodes: 'S07'" in lines[1] and "and 65 more node(s) with gaps" in lines[1]
    assert lines[1].count("%") == 5
    assert "node 'S07' from date 2020-01-11 to 2020-02-29 (50 steps; rows 10-59)" in lines[2]
    for key in (
        "data.missing: interpolate",
        "data.max_gap",
        "data.max_missing_per_node",
        "data.missing_value",
        "mask",
    ):
        assert key in lines[3]
    # The column names appear only where the summary names them, not once per column.
    assert sum(f"'S{i:02d}'" in message for i in range(nodes)) == 5


def test_refuse_passes_complete_data_and_records_the_policy():
    values = _frame(a=[1.0, 2.0], b=[3.0, 4.0])
    out, _ = apply_policy(values, _edges(("a", "b")), {}, where="r.csv")
    pd.testing.assert_frame_equal(out, values)
    record = _record(out)
    assert record["policy"] == "refuse" and record["missing_share"] == 0.0
    assert record["missing_share_per_node"] == {} and record["interpolated_cells"] == 0


def test_refuse_names_the_single_cell():
    values = _frame(a=[1.0, 2.0, NAN, 4.0], b=[1.0, 2.0, 3.0, 4.0])
    with pytest.raises(DataError) as info:
        apply_policy(values, _edges(), {}, where="r.csv", time="week")
    message = str(info.value)
    assert "node 'a' at week 2 (1 step; row 2)" in message
    assert "data.max_gap: 1 fills each gap" in message  # the gap that interpolation would fill


# --- the sentinel -------------------------------------------------------------------------------


def test_missing_value_marks_gaps_before_anything_else():
    values = _frame(a=[1.0, 0.0, 3.0, 4.0], b=[0.0, 0.0, 0.0, 0.0], c=[1.0, 1.0, 2.0, 0.5])
    policy = {**INTERPOLATE, "missing_value": 0, "max_missing_per_node": 0.5}
    out, _ = apply_policy(values, _edges(("a", "c"), ("b", "c")), policy, where="r.csv")
    np.testing.assert_array_equal(out["a"], [1.0, 2.0, 3.0, 4.0])
    assert list(out.columns) == ["t", "a", "c"]  # b was all zeros: all missing, dropped
    record = _record(out)
    assert record["sentinel_cells"] == 5 and record["missing_value"] == 0
    assert record["dropped_nodes"] == {"b": 1.0}


def test_missing_value_gaps_are_refused_by_default():
    values = _frame(a=[1.0, -9999.0, 3.0], b=[1.0, 2.0, 3.0])
    with pytest.raises(DataError, match=r"equal to data.missing_value -9999") as info:
        apply_policy(values, _edges(), {"missing_value": -9999.0}, where="r.csv")
    assert "(now -9999)" in str(info.value)


# --- dropping nodes -----------------------------------------------------------------------------


def test_nodes_above_the_share_are_dropped_with_their_edges_and_logged(caplog):
    values = _frame(
        a=[1.0, 2.0, 3.0, 4.0],
        late=[NAN, NAN, NAN, 4.0],  # 75% missing
        half=[NAN, NAN, 3.0, 4.0],  # 50%: not above 0.5, kept (then refused: a leading gap)
        c=[4.0, 3.0, 2.0, 1.0],
    )
    edges = _edges(("a", "late"), ("late", "c"), ("a", "c"), ("c", "a"))
    policy = {"max_missing_per_node": 0.5}
    with caplog.at_level(logging.WARNING, logger="tokfrag.data.missing"):
        with pytest.raises(DataError, match="'half'"):
            apply_policy(values, edges, policy, where="r.csv")
    assert "'late' (75.0% missing)" in caplog.text and "'half'" not in caplog.text
    caplog.clear()

    with caplog.at_level(logging.WARNING, logger="tokfrag.data.missing"):
        out, kept = apply_policy(values.drop(columns="half"), edges, policy, where="r.csv")
    assert list(out.columns) == ["t", "a", "c"]
    assert kept[["source", "target"]].values.tolist() == [["a", "c"], ["c", "a"]]
    record = _record(out)
    assert record["dropped_nodes"] == {"late": 0.75} and record["dropped_edges"] == 2
    assert record["missing_share_per_node"] == {"late": 0.75}  # before the drop
    assert "r.csv: data.max_missing_per_node 0.5 dropped 1 of 3 nodes" in caplog.text
    assert "'late' (75.0% missing)" in caplog.text


def test_dropping_all_but_one_node_is_an_error():
    values = _frame(a=[1.0, NAN, NAN], b=[NAN, NAN, 3.0], c=[1.0, 2.0, 3.0])
    with pytest.raises(DataError) as info:
        apply_policy(values, _edges(), {"max_missing_per_node": 0.5}, where="r.csv")
    message = str(info.value)
    assert "drops 2 of 3 nodes" in message and "leaving 1" in message
    assert "at least two nodes" in message and "raise data.max_missing_per_node" in message


def test_dropping_every_edge_is_an_error():
    values = _frame(a=[1.0, 2.0, 3.0], b=[NAN, NAN, 3.0], c=[1.0, 2.0, 3.0], d=[3.0, 2.0, 1.0])
    with pytest.raises(DataError, match="every edge of the edge list"):
        apply_policy(
            values, _edges(("a", "b"), ("b", "c")), {"max_missing_per_node": 0.5}, where="r"
        )


def test_a_node_with_no_reading_is_an_error_naming_it():
    values = _frame(a=[1.0, 2.0], empty=[NAN, NAN], b=[1.0, 2.0])
    with pytest.raises(DataError) as info:
        apply_policy(values, _edges(), INTERPOLATE, where="r.csv")
    message = str(info.value)
    assert "'empty'" in message and "no reading at all" in message
    assert "data.max_missing_per_node below 1" in message


# --- through the loader, meta.json and the gate -------------------------------------------------


def _project(tmp_path, frame: pd.DataFrame, **data) -> object:
    frame.to_csv(tmp_path / "readings.csv", index=False)
    pd.DataFrame({"from": ["a", "b"], "to": ["b", "c"]}).to_csv(tmp_path / "edges.csv", index=False)
    source = {
        "kind": "series",
        "path": "readings.csv",
        "time": "week",
        "edges": "edges.csv",
        "edge_source": "from",
        "edge_target": "to",
    }
    return parse_params({"data": {"dataset": "mine", "source": source, **data}})


def test_the_policy_reaches_the_loader_and_meta_json(tmp_path):
    steps = 40
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {"week": np.arange(steps), **{n: rng.normal(size=steps) for n in ("a", "b", "c")}}
    )
    frame.loc[[5, 6], "a"] = np.nan
    frame.loc[20, "b"] = -1.0  # the sentinel
    frame.loc[:30, "c"] = np.nan  # 31 of 40 missing: dropped
    params = _project(
        tmp_path,
        frame,
        missing="interpolate",
        max_gap=2,
        missing_value=-1,
        max_missing_per_node=0.5,
    )
    spec, paths = custom_spec(
        "mine", params.data.source, tmp_path, missing=params.data.missing_policy()
    )
    values, edges = spec.parse(paths)
    assert list(values.columns) == ["t", "a", "b"]
    assert edges[["source", "target"]].values.tolist() == [["a", "b"]]
    a = frame["a"].to_numpy()
    np.testing.assert_allclose(values["a"].iloc[5:7], a[4] + (a[7] - a[4]) * np.array([1, 2]) / 3)

    report = validate_series(
        values, edges, dataset="mine", lags=4, horizon=1, train_ratio=0.5, val_fraction=0.2
    )
    assert report.success, report.summary()  # the gate passes on the repaired data

    out = write_canonical(values, edges, {"name": "mine"}, tmp_path / "data")
    stored, stored_edges, meta = read_canonical(out)
    assert stored.attrs == {}  # the record is in meta.json, not in the Parquet file
    pd.testing.assert_frame_equal(stored, values)
    missing = meta["missing"]
    assert missing["policy"] == "interpolate" and missing["max_gap"] == 2
    assert missing["missing_value"] == -1.0 and missing["sentinel_cells"] == 1
    assert missing["dropped_nodes"] == {"c": 0.775} and missing["dropped_edges"] == 1
    assert missing["interpolated_cells"] == 3 and missing["cells"] == 3 * steps
    assert missing["missing_share_per_node"] == {"a": 0.05, "b": 0.025, "c": 0.775}
    json.dumps(meta, allow_nan=False)

    # The same upstream file under another policy is other data: another sha256, which
    # tuning studies, prepared folders and registry tags key on; the default repairs nothing
    # and keeps the upstream digest.
    upstream = "0" * 64
    out = write_canonical(values, edges, {"name": "mine", "sha256": upstream}, tmp_path / "d2")
    meta = read_canonical(out)[2]
    assert meta["source_sha256"] == upstream and meta["sha256"] not in ("", upstream)
    plain = values.copy()
    plain.attrs = {
        META_ATTR: {
            "missing": {
                **missing,
                "policy": "refuse",
                "max_gap": None,
                "missing_value": None,
                "max_missing_per_node": 1.0,
            }
        }
    }
    out = write_canonical(plain, edges, {"name": "mine", "sha256": upstream}, tmp_path / "d3")
    assert read_canonical(out)[2]["sha256"] == upstream


def test_the_default_policy_refuses_through_the_loader(tmp_path):
    frame = pd.DataFrame({"week": range(10), "a": np.arange(10.0), "b": np.arange(10.0)})
    frame["c"] = frame["a"] * 2
    frame.loc[4, "b"] = np.nan
    params = _project(tmp_path, frame)
    spec, paths = custom_spec(
        "mine", params.data.source, tmp_path, missing=params.data.missing_policy()
    )
    with pytest.raises(DataError) as info:
        spec.parse(paths)
    assert str(info.value).startswith("readings.csv: 1 of 30 readings")
    assert "node 'b' at week 4 (1 step; row 4)" in str(info.value)


def test_the_gate_still_refuses_nan_in_canonical_data():
    values = _frame(a=[1.0, 2.0, NAN, 4.0, 5.0, 6.0, 7.0, 8.0], b=np.arange(8.0))
    report = validate_series(
        values, _edges(), dataset="x", lags=1, horizon=1, train_ratio=0.5, val_fraction=0.2
    )
    assert not report.success
    assert any(
        f.expectation == "expect_column_values_to_not_be_null" and f.column == "a"
        for f in report.failures
    )


def test_long_layout_gaps_are_interpolated(tmp_path):
    long = pd.DataFrame(
        {
            "t": [0, 0, 1, 1, 2, 2, 3, 3],
            "node": ["x", "y"] * 4,
            "v": [1.0, 5.0, NAN, 6.0, 3.0, 7.0, 4.0, 8.0],
        }
    )
    long.to_csv(tmp_path / "long.csv", index=False)
    source = {"kind": "series", "path": "long.csv", "layout": "long", "time": "t"}
    source |= {"node": "node", "value": "v"}
    params = parse_params(
        {"data": {"dataset": "mine", "source": source, "missing": "interpolate", "max_gap": 1}}
    )
    spec, paths = custom_spec(
        "mine", params.data.source, tmp_path, missing=params.data.missing_policy()
    )
    values, _ = spec.parse(paths)
    np.testing.assert_array_equal(values["x"], [1.0, 2.0, 3.0, 4.0])


# --- params.yaml ------------------------------------------------------------------------------

SOURCE = {"kind": "series", "path": "inputs/r.csv", "time": "week"}


def _data(**keys) -> dict:
    return {"data": {"dataset": "mine", "source": SOURCE, **keys}}


@pytest.mark.parametrize(
    ("keys", "fragments"),
    [
        ({"missing": "drop"}, ("data.missing", "refuse, mask, interpolate", "'drop'")),
        ({"missing": "interpolate", "max_gap": 0}, ("data.max_gap", "at least 1", "(got 0)")),
        ({"missing": "interpolate", "max_gap": 1.5}, ("data.max_gap", "whole number")),
        ({"missing": "interpolate"}, ("data.missing: interpolate needs data.max_gap",)),
        ({"max_gap": 3}, ("data.max_gap applies to data.missing: interpolate only",)),
        ({"max_missing_per_node": 1.5}, ("data.max_missing_per_node", "between 0 and 1")),
        ({"max_missing_per_node": -0.1}, ("data.max_missing_per_node",)),
        ({"missing_value": "zero"}, ("data.missing_value", "finite number", "'zero'")),
        ({"missing_value": float("nan")}, ("data.missing_value", "finite number")),
        ({"missing_value": True}, ("data.missing_value",)),
        ({"max_missing": 0.5}, ("unknown key 'max_missing'", "'data'", "max_missing_per_node")),
    ],
)
def test_bad_missing_keys_are_refused_naming_the_key(keys, fragments):
    with pytest.raises(ParamsError) as info:
        parse_params(_data(**keys))
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)


def test_mask_with_a_token_variant_that_cannot_read_gaps_is_refused():
    with pytest.raises(ParamsError, match="token.variant quantized cannot read them"):
        parse_params({**_data(missing="mask"), "token": {"variant": "quantized"}})
    assert parse_params({**_data(missing="mask"), "token": {"variant": "patch"}})


def test_missing_keys_apply_only_to_your_own_series():
    with pytest.raises(ParamsError, match="not to a built-in dataset"):
        parse_params({"data": {"dataset": "chickenpox", "missing_value": 0}})
    text = {"kind": "text", "path": "q.jsonl", "text": "q", "label": "y"}
    with pytest.raises(ParamsError, match=r"data\.missing, data\.max_gap apply .* not to text"):
        parse_params(
            {"data": {"dataset": "q", "source": text, "missing": "interpolate", "max_gap": 2}}
        )


def test_missing_keys_reach_the_policy_and_survive_overrides():
    params = parse_params(
        _data(missing="interpolate", max_gap=3, max_missing_per_node=0.4, missing_value=0)
    )
    expected = {"missing": "interpolate", "max_gap": 3, "max_missing_per_node": 0.4}
    assert params.data.missing_policy() == {**expected, "missing_value": 0.0}
    assert params.with_overrides({"data.max_gap": 5}).data.missing_policy()["max_gap"] == 5
    assert parse_params(_data()).data.missing_policy() == {
        "missing": "refuse",
        "max_gap": None,
        "max_missing_per_node": 1.0,
        "missing_value": None,
    }


def _straddling(steps: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"t": np.arange(steps), "a": rng.normal(size=steps)})
    frame["b"] = rng.normal(size=steps)
    return frame


def test_interpolation_never_fills_training_rows_from_later_rows():
    # Training reads rows [0, 20): a gap of rows 18-19 would be filled from row 20, a test
    # reading. Left missing (masked); the same gap with no split known is filled; a gap
    # wholly after the training rows stays missing too (filling it from the reading after it
    # would put part of a test target into the inputs that forecast it).
    frame = _straddling()
    frame.loc[[18, 19], "a"] = np.nan
    policy = {"missing": "interpolate", "max_gap": 3}
    kept, _ = apply_policy(frame, _edges(), policy, where="v.csv", train_steps=20)
    assert kept["a"].isna().sum() == 2 and _record(kept)["interpolated_cells"] == 0
    filled, _ = apply_policy(frame, _edges(), policy, where="v.csv")
    assert not filled["a"].isna().any()
    later = _straddling()
    later.loc[[25, 26], "a"] = np.nan
    kept, _ = apply_policy(later, _edges(), policy, where="v.csv", train_steps=20)
    assert kept["a"].isna().sum() == 2 and _record(kept)["interpolated_cells"] == 0
    earlier = _straddling()
    earlier.loc[[17, 18], "a"] = np.nan  # its right-hand reading, row 19, is a training row
    filled, _ = apply_policy(earlier, _edges(), policy, where="v.csv", train_steps=20)
    assert not filled["a"].isna().any() and _record(filled)["interpolated_cells"] == 2


def test_dropping_counts_only_the_training_rows_when_the_split_is_known():
    # Node b misses half of all rows, all of them after the training rows: kept when only
    # the training rows count, dropped when every row does.
    frame = _straddling()
    frame["c"] = frame["a"] * 2
    frame.loc[20:, "b"] = np.nan
    policy = {"missing": "refuse", "max_missing_per_node": 0.3}
    edges = _edges()
    with pytest.raises(DataError, match="refuse"):  # kept, so its gap is refused
        apply_policy(frame, edges, policy, where="v.csv", train_steps=20)
    out, _ = apply_policy(frame, edges, policy, where="v.csv")
    record = out.attrs[META_ATTR]["missing"]
    assert record["dropped_nodes"] == {"b": 0.5} and "b" not in out.columns
    assert record["dropped_by_share_of"] == "all steps"


def test_the_policy_is_described_in_one_line_for_the_registry():
    from tokfrag.stages.registration import missing_label

    assert missing_label(parse_params(_data())) == "refuse"
    params = parse_params(
        _data(missing="interpolate", max_gap=3, max_missing_per_node=0.4, missing_value=0)
    )
    assert missing_label(params) == (
        "interpolate, max_gap 3, max_missing_per_node 0.4, missing_value 0"
    )
