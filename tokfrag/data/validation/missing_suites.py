"""The missing-value suites: gaps left as NaN under ``data.missing: mask`` or ``interpolate``.

Each checks a small table derived from ``values`` (see the notes in
:mod:`tokfrag.data.validation`): ``mask`` (NaN cells per node against meta.json's record),
``gaps`` (no gap left that interpolation would have filled, by :meth:`Gap.fillable
<tokfrag.data.gaps.Gap.fillable>`) and ``observed`` (every node read in training, some test
target read). The messages name every offender from the derived table, not only GX's
partial list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from tokfrag.data.gaps import find_gaps
from tokfrag.data.validation.suite import (
    GAPS,
    MASK,
    OBSERVED,
    SHOWN,
    Block,
    Failed,
    expect,
    listing,
)

GAP_POLICIES = ("mask", "interpolate")  # data.missing values that leave NaN in the values
MISSING_POLICIES = ("refuse", *GAP_POLICIES)
_REINGEST = (
    "re-ingest with `tokfrag ingest` (the canonical data was edited by hand, or meta.json "
    "belongs to another ingest)"
)


def gap_policy(missing: Mapping[str, Any] | None) -> str:
    """``missing["policy"]``: ``refuse`` when there is no record."""
    if missing is None:
        return "refuse"
    policy = str(missing.get("policy") or "refuse")
    if policy not in MISSING_POLICIES:
        raise ValueError(
            f"missing['policy'] is {policy!r}; expected one of {', '.join(MISSING_POLICIES)} "
            "(the 'missing' record of meta.json)"
        )
    return policy


# --------------------------------------------------------------------------------------------
# The derived tables
# --------------------------------------------------------------------------------------------


def _mask_frame(
    values: pd.DataFrame, nodes: Sequence[str], missing: Mapping[str, Any]
) -> pd.DataFrame:
    """One row per node: ``nan_cells`` counted in ``values``, ``recorded`` from the record
    (a recorded node that is no column of ``values`` gets a row with ``nan_cells`` 0)."""
    recorded = {
        str(node): int(count)
        for node, count in dict(missing.get("masked_cells_per_node") or {}).items()
    }
    present = set(str(c) for c in values.columns)
    rows = [(node, int(values[node].isna().sum()), recorded.get(node, 0), True) for node in nodes]
    rows += [(node, 0, count, False) for node, count in recorded.items() if node not in present]
    frame = pd.DataFrame(rows, columns=["node", "nan_cells", "recorded", "in_values"])
    return frame.astype({"node": object, "nan_cells": "int64", "recorded": "int64"})


def _gaps_frame(
    values: pd.DataFrame, nodes: Sequence[str], max_gap: int, train_end: int
) -> pd.DataFrame:
    """One row per gap left in ``values``, with the parts of :meth:`Gap.fillable` (whether
    interpolate with ``max_gap`` fills it) beside its verdict."""
    num_steps = len(values)
    rows = [
        (
            nodes[gap.node],
            gap.start,
            gap.stop,
            gap.steps,
            gap.interior(num_steps),
            gap.reads_test(train_end),
            gap.fillable(num_steps, max_gap, train_end),
        )
        for gap in find_gaps(values[list(nodes)].isna().to_numpy())
    ]
    columns = ["node", "start", "stop", "steps", "interior", "reads_test", "fillable"]
    return pd.DataFrame(rows, columns=columns).astype(
        {"node": object, "start": "int64", "stop": "int64", "steps": "int64"}
        | {"interior": bool, "reads_test": bool, "fillable": bool}
    )


def _observed_frame(
    values: pd.DataFrame, nodes: Sequence[str], train_end: int, first_test_target: int
) -> pd.DataFrame:
    """One row per node: its readings in the training steps and among the test targets."""
    rows = [
        (
            node,
            int(values[node].iloc[:train_end].notna().sum()),
            int(values[node].iloc[first_test_target:].notna().sum()),
        )
        for node in nodes
    ]
    frame = pd.DataFrame(rows, columns=["node", "train_observed", "test_observed"])
    return frame.astype({"node": object, "train_observed": "int64", "test_observed": "int64"})


# --------------------------------------------------------------------------------------------
# The messages
# --------------------------------------------------------------------------------------------


def _rows_span(start: int, stop: int) -> str:
    return f"row {start}" if stop - start == 1 else f"rows {start}-{stop - 1}"


def _mask_mismatch(f: Failed) -> str:
    bad = f.frame.loc[f.frame["nan_cells"] != f.frame["recorded"]]
    parts = [
        f"{r.node!r} holds {r.nan_cells} NaN cells, recorded {r.recorded}"
        if r.in_values
        else f"{r.node!r} is recorded with {r.recorded} masked cells but is no column"
        for r in bad.head(SHOWN).itertuples()
    ]
    more = f"; and {len(bad) - SHOWN} more node(s)" if len(bad) > SHOWN else ""
    return (
        f"values columns do not match meta.json's missing.masked_cells_per_node (policy "
        f"{f.context['policy']}) for {len(bad)} node(s): {'; '.join(parts)}{more}; the gaps "
        f"in the canonical data are not the ones ingest left: {_REINGEST}"
    )


def _fillable_gaps(f: Failed) -> str:
    bad = f.frame.loc[f.frame["fillable"]]
    parts = [
        f"node {r.node!r} {_rows_span(r.start, r.stop)} ({r.steps} step(s))"
        for r in bad.head(SHOWN).itertuples()
    ]
    more = f", and {len(bad) - SHOWN} more" if len(bad) > SHOWN else ""
    max_gap, train_end = f.context["max_gap"], f.context["train_end"]
    return (
        f"{len(bad)} gap(s) left as NaN in values that data.missing: interpolate with "
        f"data.max_gap {max_gap} would have filled (readings on both sides, at most "
        f"{max_gap} steps, within the training rows 0-{train_end - 1}): "
        f"{', '.join(parts)}{more}; {_REINGEST}"
    )


def _no_training_reading(f: Failed) -> str:
    empty = f.frame.loc[f.frame["train_observed"] < 1, "node"].tolist()
    return (
        f"node(s) {listing([str(n) for n in empty], len(empty))} have no observed reading in "
        f"the training steps (values rows 0-{f.context['train_end'] - 1}: all NaN), so nothing "
        "can be learnt or scaled for them; drop them with data.max_missing_per_node (a share "
        "below 1, e.g. 0.9: nodes missing more of their training steps are dropped) or move "
        "split.train_ratio so that training reaches their readings, then re-ingest with "
        "`tokfrag ingest`"
    )


def _no_test_target(f: Failed) -> str:
    return (
        f"the test part has no observed target: values rows {f.context['first_test_target']}-"
        f"{f.context['num_steps'] - 1} (the test snapshots' targets) are NaN in every node, so "
        "no test metric can be computed; move split.train_ratio (lower it) so that the test "
        "part reaches observed readings, or drop the empty tail of the series, then re-ingest "
        "with `tokfrag ingest`"
    )


# --------------------------------------------------------------------------------------------
# The suites
# --------------------------------------------------------------------------------------------

MASK_SUITE = (
    Block(MASK, (
        expect("ExpectColumnPairValuesToBeEqual", _mask_mismatch,
               column_A="nan_cells", column_B="recorded"),
    )),
)  # fmt: skip
GAPS_SUITE = (
    Block(GAPS, (expect("ExpectColumnValuesToBeInSet", _fillable_gaps, value_set=[False]),),
          each=("fillable",), absent_too=True),
)  # fmt: skip
OBSERVED_SUITE = (
    Block(OBSERVED, (
        expect("ExpectColumnValuesToBeBetween", _no_training_reading, min_value=1),
    ), each=("train_observed",), absent_too=True),
    Block(OBSERVED, (
        expect("ExpectColumnSumToBeBetween", _no_test_target, min_value=1),
    ), each=("test_observed",), absent_too=True),
)  # fmt: skip


def missing_batches(
    values: pd.DataFrame,
    nodes: Sequence[str],
    missing: Mapping[str, Any],
    policy: str,
    split: Any,
) -> list[tuple[str, pd.DataFrame, tuple[Block, ...]]]:
    """The derived tables and their suites; ``split``: the chronological split, or None when
    it does not fit (then only the mask check runs)."""
    batches: list[tuple[str, pd.DataFrame, tuple[Block, ...]]] = [
        (MASK, _mask_frame(values, nodes, missing), MASK_SUITE)
    ]
    if split is None or not nodes:
        return batches
    train_end = split.train_steps_end
    if policy == "interpolate":
        max_gap = int(missing.get("max_gap") or 0)
        batches.append((GAPS, _gaps_frame(values, nodes, max_gap, train_end), GAPS_SUITE))
    observed = _observed_frame(values, nodes, train_end, split.first_test_target)
    batches.append((OBSERVED, observed, OBSERVED_SUITE))
    return batches
