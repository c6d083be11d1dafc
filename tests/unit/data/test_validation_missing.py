"""The validation gate under data.missing mask / interpolate: real Great Expectations, small
synthetic series (40 steps, three nodes) so that every gap is placed by hand."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from tokfrag.data.splits import chronological_split
from tokfrag.data.validation import ValidationReport, validate_series

STEPS = 40
PROTOCOL = {"lags": 4, "horizon": 1, "train_ratio": 0.5, "val_fraction": 0.2}
SPLIT = chronological_split(STEPS, **PROTOCOL)
TRAIN_END = SPLIT.train_steps_end  # 22: rows [0, 22) are read by training windows
FIRST_TEST = SPLIT.first_test_target  # 22

NOT_NULL = "expect_column_values_to_not_be_null"
FINITE = "expect_column_values_to_be_between"
PAIR_EQUAL = "expect_column_pair_values_to_be_equal"
IN_SET = "expect_column_values_to_be_in_set"
SUM = "expect_column_sum_to_be_between"


def _values(**gaps: list[int]) -> pd.DataFrame:
    """t, a, b, c with NaN at the given rows of each node."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"t": np.arange(STEPS)})
    for node in "abc":
        column = rng.normal(10.0, 2.0, STEPS)
        column[gaps.get(node, [])] = np.nan
        frame[node] = column
    return frame


EDGES = pd.DataFrame({"source": ["a", "b"], "target": ["b", "c"], "weight": [1.0, 0.5]})


def _record(values: pd.DataFrame, policy: str, **overrides: object) -> dict:
    """The 'missing' record ingest writes for ``values`` (its NaN counted), with overrides."""
    per_node = {n: int(values[n].isna().sum()) for n in "abc" if values[n].isna().any()}
    record = {
        "policy": policy,
        "max_gap": 3 if policy == "interpolate" else None,
        "max_missing_per_node": 1.0,
        "missing_value": None,
        "masked_cells": sum(per_node.values()),
        "masked_cells_per_node": per_node,
    }
    return {**record, **overrides}


def _validate(values: pd.DataFrame, missing: dict | None, **kwargs) -> ValidationReport:
    return validate_series(values, EDGES, dataset="mine", **{**PROTOCOL, **kwargs}, missing=missing)


def _failure(report: ValidationReport, expectation: str, table: str):
    hits = [f for f in report.failures if f.expectation == expectation and f.table == table]
    assert len(hits) == 1, report.summary()
    return hits[0]


def _suite_names(report: ValidationReport) -> list[str]:
    return [r["suite_name"] for r in report.gx_results]


def test_mask_lets_the_recorded_gaps_through():
    values = _values(a=[3, 4, 5], b=[30])  # a gap in the training steps and one in test
    report = _validate(values, _record(values, "mask"))

    assert report.success, report.summary()
    assert _suite_names(report) == [
        "tokfrag_values",
        "tokfrag_edges",
        "tokfrag_mask",
        "tokfrag_observed",
    ]
    json.dumps(report.to_dict(include_gx=True), allow_nan=False)
    # the type and finite checks still ran on the node columns (GX leaves the nulls out)
    ran = {(o["expectation"], o["column"]) for o in report.outcomes()}
    assert {(FINITE, "a"), ("expect_column_values_to_be_in_type_list", "a")} <= ran


def test_mask_still_refuses_infinite_values():
    values = _values(a=[3, 4, 5])
    values.loc[7, "a"] = np.inf
    report = _validate(values, _record(values, "mask"))

    assert [(f.expectation, f.table, f.column) for f in report.failures] == [
        (FINITE, "values", "a")
    ]
    assert "row 7" in report.failures[0].detail


@pytest.mark.parametrize("missing", [None, "refuse"])
def test_refuse_fails_on_nan_as_before(missing):
    values = _values(a=[3, 4, 5])
    record = None if missing is None else _record(values, "refuse")
    report = _validate(values, record)

    assert not report.success
    failure = _failure(report, NOT_NULL, "values")
    assert failure.column == "a"
    for fragment in ("'a'", "3 null", "rows 3, 4, 5", "fill or drop", "data.missing: mask"):
        assert fragment in failure.detail, failure.detail
    assert _suite_names(report) == ["tokfrag_values", "tokfrag_edges"]  # no derived suites


def test_a_recorded_count_that_differs_from_the_nan_count_fails_naming_the_node():
    values = _values(a=[3, 4, 5], b=[30])
    # 'a' holds 3 NaN but 2 are recorded; 'c' is recorded but holds none
    record = _record(values, "mask", masked_cells_per_node={"a": 2, "b": 1, "c": 4})
    report = _validate(values, record)

    assert not report.success
    assert len(report.failures) == 1, report.summary()
    failure = _failure(report, PAIR_EQUAL, "mask")
    for fragment in (
        "'a' holds 3 NaN cells, recorded 2",
        "'c' holds 0 NaN cells, recorded 4",
        "masked_cells_per_node",
        "tokfrag ingest",
        "edited by hand",
    ):
        assert fragment in failure.detail, failure.detail
    assert "'b'" not in failure.detail


def test_nan_that_the_record_does_not_know_fails():
    values = _values(a=[3, 4, 5])
    record = _record(values, "mask", masked_cells=0, masked_cells_per_node={})
    failure = _failure(_validate(values, record), PAIR_EQUAL, "mask")
    assert "'a' holds 3 NaN cells, recorded 0" in failure.detail


@pytest.mark.parametrize(
    ("rows", "fails"),
    [
        ([5, 6], True),  # interior, 2 <= max_gap 3: interpolate would have filled it
        ([5, 6, 7], True),  # exactly max_gap
        ([5, 6, 7, 8, 9], False),  # longer than max_gap: left as NaN
        ([0, 1], False),  # at the start: a reading on one side only
        ([TRAIN_END - 1, TRAIN_END], False),  # crosses the end of the training steps
        ([TRAIN_END + 3, TRAIN_END + 4], False),  # in the test part: reads a test reading
        ([TRAIN_END - 3, TRAIN_END - 2], True),  # right-hand reading the last training row
    ],
)
def test_interpolate_refuses_a_gap_it_would_have_filled(rows, fails):
    values = _values(a=rows)
    report = _validate(values, _record(values, "interpolate", max_gap=3))

    assert "tokfrag_gaps" in _suite_names(report)
    if not fails:
        assert report.success, report.summary()
        return
    assert len(report.failures) == 1, report.summary()
    failure = _failure(report, IN_SET, "gaps")
    assert failure.column == "fillable"
    span = f"rows {rows[0]}-{rows[-1]} ({len(rows)} step(s))"
    for fragment in ("node 'a'", span, "data.max_gap 3", "tokfrag ingest"):
        assert fragment in failure.detail, failure.detail


def test_a_node_with_no_training_observation_fails():
    values = _values(c=list(range(TRAIN_END)))  # c is observed in the test part only
    report = _validate(values, _record(values, "mask"))

    assert len(report.failures) == 1, report.summary()
    failure = _failure(report, FINITE, "observed")
    assert failure.column == "train_observed"
    for fragment in (
        "'c'",
        f"rows 0-{TRAIN_END - 1}",
        "data.max_missing_per_node",
        "split.train_ratio",
    ):
        assert fragment in failure.detail, failure.detail
    assert "'a'" not in failure.detail and "'b'" not in failure.detail


def test_a_test_part_with_no_observed_target_fails():
    tail = list(range(FIRST_TEST, STEPS))
    values = _values(a=tail, b=tail, c=tail)
    report = _validate(values, _record(values, "mask"))

    assert len(report.failures) == 1, report.summary()
    failure = _failure(report, SUM, "observed")
    assert failure.column == "test_observed"
    for fragment in (
        "test part has no observed target",
        f"rows {FIRST_TEST}-{STEPS - 1}",
        "split.train_ratio",
    ):
        assert fragment in failure.detail, failure.detail


def test_a_split_that_does_not_fit_skips_the_split_checks_but_not_the_mask():
    values = _values(a=[2]).head(7)  # 8 steps are the fewest that split
    report = _validate(values, _record(values, "interpolate"))

    assert [f.table for f in report.failures] == ["split"], report.summary()
    assert _suite_names(report) == ["tokfrag_values", "tokfrag_edges", "tokfrag_mask"]


def test_an_unknown_policy_is_a_caller_error():
    with pytest.raises(ValueError, match="'drop'"):
        _validate(_values(), {"policy": "drop"})


def test_data_docs_show_each_nodes_missing_share(tmp_path):
    values = _values(a=[3, 4, 5], b=[38, 39])  # longer than max_gap 1; at the end
    docs = tmp_path / "docs"
    report = _validate(values, _record(values, "interpolate", max_gap=1), docs_dir=docs)

    assert report.success, report.summary()
    assert (docs / "index.html").is_file()
    pages = "\n".join(p.read_text() for p in docs.rglob("*.html"))
    for suite in ("tokfrag_values", "tokfrag_mask", "tokfrag_gaps", "tokfrag_observed"):
        assert suite in pages
    (page,) = (docs / "validations" / "tokfrag_values").rglob("*.html")
    text = " ".join(re.sub(r"<[^>]+>", " ", page.read_text()).split())
    assert "92.5% not null" in text  # node a: 3 of 40 steps missing
    values_result = report.to_dict(include_gx=True)["gx_results"][0]
    not_null = {
        r["expectation_config"]["kwargs"]["column"]: r
        for r in values_result["results"]
        if r["expectation_config"]["type"] == "expect_column_values_to_not_be_null"
    }
    assert not_null["a"]["expectation_config"]["kwargs"]["mostly"] == 0.0
    assert not_null["a"]["result"]["unexpected_percent"] == pytest.approx(100 * 3 / STEPS)
    assert not_null["b"]["result"]["unexpected_percent"] == pytest.approx(100 * 2 / STEPS)
    assert not_null["c"]["result"]["unexpected_percent"] == 0.0
    assert not_null["t"]["expectation_config"]["kwargs"].get("mostly", 1.0) == 1.0
