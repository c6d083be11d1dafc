"""The Great Expectations validation gate, on the real Chickenpox file and corrupted copies."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tokfrag.data.loaders import load_pgt_json
from tokfrag.data.registry import DataError
from tokfrag.data.splits import SplitError, chronological_split, minimum_steps
from tokfrag.data.validation import (
    Failure,
    ValidationFailed,
    ValidationReport,
    validate_series,
)

PROTOCOL = {"lags": 4, "horizon": 1, "train_ratio": 0.2, "val_fraction": 0.2}

NOT_NULL = "expect_column_values_to_not_be_null"
FINITE = "expect_column_values_to_be_between"
INCREASING = "expect_column_values_to_be_increasing"
UNIQUE = "expect_column_values_to_be_unique"
IN_SET = "expect_column_values_to_be_in_set"
TYPE = "expect_column_values_to_be_in_type_list"
EXISTS = "expect_column_to_exist"
COLUMN_COUNT = "expect_table_column_count_to_equal"
MIN_COLUMNS = "expect_table_column_count_to_be_between"
ROW_COUNT = "expect_table_row_count_to_be_between"


def _chickenpox_path() -> Path:
    mirror = os.environ.get("TOKFRAG_DATA_MIRROR")
    root = Path(mirror) if mirror else Path(__file__).resolve().parents[3].parent / "shared/data"
    return root / "chickenpox" / "chickenpox.json"


@pytest.fixture(scope="module")
def chickenpox() -> tuple[pd.DataFrame, pd.DataFrame]:
    path = _chickenpox_path()
    if not path.is_file():
        pytest.skip(f"real data not found at {path} (set TOKFRAG_DATA_MIRROR)")
    return load_pgt_json(path)


def _validate(values: pd.DataFrame, edges: pd.DataFrame, **overrides: float) -> ValidationReport:
    return validate_series(values, edges, dataset="chickenpox", **{**PROTOCOL, **overrides})


def _keys(report: ValidationReport) -> set[tuple[str, str, str | None]]:
    return {(f.expectation, f.table, f.column) for f in report.failures}


def _only(report: ValidationReport, expectation: str, column: str | None) -> Failure:
    hits = [f for f in report.failures if f.expectation == expectation and f.column == column]
    assert len(hits) == 1, report.summary()
    return hits[0]


def test_real_chickenpox_passes(chickenpox):
    values, edges = chickenpox
    report = _validate(values, edges)

    assert report.success, report.summary()
    assert report.failures == ()
    # t: exists + 4 checks + even steps; 20 nodes x 3; 2 column counts; split rows; edges: 10
    assert report.checked == 1 + 4 + 1 + 20 * 3 + 2 + 1 + 10
    assert "passed" in report.summary()
    as_dict = json.loads(json.dumps(report.to_dict()))
    assert as_dict["success"] is True and as_dict["checked"] == report.checked
    assert as_dict["failures"] == []
    gx = report.to_dict(include_gx=True)["gx_results"]
    assert len(gx) == 2 and all(r["success"] for r in gx)


def test_validation_does_not_touch_its_inputs_and_prints_nothing(chickenpox, capfd):
    values, edges = chickenpox
    before_values, before_edges = values.copy(), edges.copy()
    _validate(values, edges)

    pd.testing.assert_frame_equal(values, before_values)
    pd.testing.assert_frame_equal(edges, before_edges)
    out, err = capfd.readouterr()
    assert out == "" and err == ""  # no GX progress bars or banners


def test_validation_opens_no_network_connection(chickenpox, monkeypatch):
    import socket

    attempts: list[object] = []

    def refuse(self, address, *args, **kwargs):
        attempts.append(address)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    assert _validate(*chickenpox).success
    assert attempts == []  # no analytics, no version check


def _set(frame: pd.DataFrame, row: int, column: str, value: object) -> pd.DataFrame:
    frame = frame.copy()
    frame.loc[row, column] = value
    return frame


def _nan(v, e):
    return _set(v, 10, "BACS", np.nan), e, {}


def _two_nans(v, e):
    return _set(_set(v, 10, "BACS", np.nan), 11, "BACS", np.nan), e, {}


def _inf(v, e):
    return _set(v, 20, "BUDAPEST", np.inf), e, {}


def _minus_inf(v, e):
    return _set(v, 21, "PEST", -np.inf), e, {}


def _duplicated_t(v, e):
    return _set(v, 30, "t", 29), e, {}


def _unsorted_t(v, e):
    v = v.copy()
    v.loc[[40, 41], "t"] = [41, 40]
    return v, e, {}


def _unknown_target(v, e):
    extra = pd.DataFrame({"source": ["BACS"], "target": ["ATLANTIS"], "weight": [1.0]})
    return v, pd.concat([e, extra], ignore_index=True), {}


def _dropped_node(v, e):
    return v.drop(columns=["ZALA"]), e, {}


def _too_short(v, e):
    return v.head(5), e, {}


def _string_column(v, e):
    v = v.copy()
    v["PEST"] = v["PEST"].astype(str)
    return v, e, {}


def _one_string_value(v, e):
    v = v.copy()
    v["VAS"] = v["VAS"].astype(object)
    v.loc[3, "VAS"] = "n/a"
    return v, e, {}


def _duplicated_column(v, e):
    v = v.copy()
    v.columns = [*v.columns[:-1], "BACS"]  # ZALA's column renamed to an existing node
    return v, e, {}


def _no_t(v, e):
    return v.drop(columns=["t"]), e, {}


def _no_nodes(v, e):
    return v[["t"]], e.iloc[0:0], {}


def _no_weight(v, e):
    return v, e.drop(columns=["weight"]), {}


def _null_weight(v, e):
    return v, _set(e, 5, "weight", np.nan), {}


def _inf_weight(v, e):
    return v, _set(e, 6, "weight", np.inf), {}


def _null_source(v, e):
    e = e.copy()
    e["source"] = e["source"].astype(object)
    e.loc[7, "source"] = None
    return v, e, {}


def _long_horizon(v, e):
    return v, e, {"lags": 300, "horizon": 222}


# (corrupt, {(expectation, table, column): substrings the detail must contain})
CASES: dict[str, tuple[Callable, dict[tuple[str, str, str | None], tuple[str, ...]]]] = {
    "nan": (_nan, {(NOT_NULL, "values", "BACS"): ("'BACS'", "1 null", "row 10", "fill or drop")}),
    "two_nans": (_two_nans, {(NOT_NULL, "values", "BACS"): ("2 null", "rows 10, 11")}),
    "inf": (_inf, {(FINITE, "values", "BUDAPEST"): ("'BUDAPEST'", "infinite", "row 20", "inf")}),
    "minus_inf": (_minus_inf, {(FINITE, "values", "PEST"): ("row 21", "-inf")}),
    "duplicated_t": (
        _duplicated_t,
        {
            (UNIQUE, "values", "t"): ("'t'", "rows 29, 30", "29"),
            (INCREASING, "values", "t"): ("strictly increasing", "row 30"),
        },
    ),
    "unsorted_t": (_unsorted_t, {(INCREASING, "values", "t"): ("row 41", "sort the rows")}),
    "unknown_target": (
        _unknown_target,
        {(IN_SET, "edges", "target"): ("'target'", "row 102", "'ATLANTIS'")},
    ),
    "dropped_node": (
        _dropped_node,
        {
            (IN_SET, "edges", "source"): ("'source'", "'ZALA'", "4 values"),
            (IN_SET, "edges", "target"): ("'target'", "'ZALA'", "4 values"),
        },
    ),
    "too_short": (
        _too_short,
        {(ROW_COUNT, "split", None): ("5 time steps", "5 rows", "lags=4", "at least 14")},
    ),
    "long_horizon": (
        _long_horizon,
        {(ROW_COUNT, "split", None): ("521 rows", "lags=300", "horizon=222")},
    ),
    "string_column": (_string_column, {(TYPE, "values", "PEST"): ("'PEST'", "dtype", "convert")}),
    "one_string_value": (_one_string_value, {(TYPE, "values", "VAS"): ("row 3", "'n/a'")}),
    "duplicated_column": (
        _duplicated_column,
        {
            (COLUMN_COUNT, "values", None): ("21 columns", "duplicated column names ['BACS']"),
            # the renamed column took ZALA's place, so ZALA's edges now point nowhere
            (IN_SET, "edges", "source"): ("'ZALA'",),
            (IN_SET, "edges", "target"): ("'ZALA'",),
        },
    ),
    "no_t": (
        _no_t,
        {
            (EXISTS, "values", "t"): ("no column 't'",),
            (COLUMN_COUNT, "values", None): ("no 't' column",),
        },
    ),
    "no_nodes": (_no_nodes, {(MIN_COLUMNS, "values", None): ("no node column",)}),
    "no_weight": (_no_weight, {(EXISTS, "edges", "weight"): ("no column 'weight'",)}),
    "null_weight": (_null_weight, {(NOT_NULL, "edges", "weight"): ("row 5",)}),
    "inf_weight": (_inf_weight, {(FINITE, "edges", "weight"): ("row 6", "inf")}),
    "null_source": (_null_source, {(NOT_NULL, "edges", "source"): ("row 7",)}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_corrupted_copy_fails_with_the_right_expectation(chickenpox, case):
    corrupt, expected = CASES[case]
    values, edges, overrides = corrupt(*chickenpox)
    report = _validate(values, edges, **overrides)

    assert not report.success
    assert _keys(report) == set(expected), report.summary()
    for (expectation, _table, column), fragments in expected.items():
        detail = _only(report, expectation, column).detail
        for fragment in fragments:
            assert fragment in detail, f"{fragment!r} not in {detail!r}"
    assert report.checked > len(report.failures)


def test_summary_lists_every_failed_expectation(chickenpox):
    values, edges = chickenpox
    values = _set(_set(values, 10, "BACS", np.nan), 20, "BUDAPEST", np.inf)
    values = _set(values, 30, "t", 29).drop(columns=["ZALA"])
    report = _validate(values, edges)

    summary = report.summary()
    lines = summary.splitlines()
    assert "failed" in lines[0] and f"{len(report.failures)} of {report.checked}" in lines[0]
    assert len(lines) == 1 + len(report.failures) >= 5
    for failure, line in zip(report.failures, lines[1:], strict=True):
        assert failure.expectation in line and failure.detail in line
    expected = {NOT_NULL, FINITE, UNIQUE, INCREASING, IN_SET}
    assert {f.expectation for f in report.failures} == expected
    json.dumps(report.to_dict(include_gx=True), allow_nan=False)  # strict JSON despite inf/NaN
    # values before edges, in column order
    assert [f.table for f in report.failures] == sorted(
        (f.table for f in report.failures), key=["values", "edges", "split"].index
    )
    as_dict = report.to_dict()
    assert as_dict["failed"] == len(report.failures)
    assert [f["expectation"] for f in as_dict["failures"]] == [
        f.expectation for f in report.failures
    ]


def test_validation_failed_carries_the_report(chickenpox):
    values, edges = chickenpox
    report = _validate(values.head(5), edges)

    with pytest.raises(ValidationFailed) as caught:
        report.raise_if_failed()
    assert caught.value.report is report
    assert str(caught.value) == report.summary()
    assert isinstance(caught.value, RuntimeError) and isinstance(caught.value, DataError)
    assert _validate(values, edges).raise_if_failed().success


def test_impossible_ratios_are_a_split_failure(chickenpox):
    values, edges = chickenpox
    report = _validate(values, edges, train_ratio=1.0)

    assert _keys(report) == {("chronological_split", "split", None)}
    assert "0 test" in report.failures[0].detail


@pytest.mark.parametrize(
    ("lags", "horizon", "train_ratio", "val_fraction"),
    [(4, 1, 0.2, 0.2), (12, 3, 0.8, 0.1), (1, 1, 0.5, 0.0), (8, 12, 0.05, 0.5)],
)
def test_minimum_steps_is_the_shortest_series_that_splits(lags, horizon, train_ratio, val_fraction):
    need = minimum_steps(lags, horizon, train_ratio, val_fraction)
    assert need is not None
    split = chronological_split(need, lags, horizon, train_ratio, val_fraction)
    assert len(split.fit) >= 1 and len(split.val) >= 1 and len(split.test) >= 1
    with pytest.raises(SplitError):
        chronological_split(need - 1, lags, horizon, train_ratio, val_fraction)


def test_minimum_steps_is_none_when_no_length_works():
    assert minimum_steps(4, 1, 1.0, 0.2) is None


def test_a_gap_in_time_is_an_uneven_step(chickenpox):
    values, edges = chickenpox
    gappy = values.drop(index=range(50, 60)).reset_index(drop=True)  # ten weeks missing
    failure = _only(_validate(gappy, edges), "expect_time_steps_to_be_even", "t")
    assert "1 time steps differ from the usual step 1" in failure.detail
    assert "row 50: 49 -> 60" in failure.detail
    assert "insert the missing steps" in failure.detail


def test_monthly_dates_are_not_uneven(chickenpox):
    values, edges = chickenpox
    monthly = values.assign(t=pd.date_range("1980-01-31", periods=len(values), freq="ME"))
    report = _validate(monthly, edges)
    assert not [f for f in report.failures if f.expectation == "expect_time_steps_to_be_even"]
