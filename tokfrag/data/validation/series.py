"""The series suites (``values``, ``edges``, ``split``) and :func:`validate_series`.

``VALUES_SUITE`` and ``EDGES_SUITE`` list what is checked, each expectation beside the
function that words its failure; what each checks is in :mod:`tokfrag.data.validation`.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from tokfrag.data.splits import SplitError, chronological_split, minimum_steps
from tokfrag.data.validation import engine
from tokfrag.data.validation.missing_suites import GAP_POLICIES, gap_policy, missing_batches
from tokfrag.data.validation.report import Failure, ValidationReport
from tokfrag.data.validation.suite import EDGES, SPLIT, VALUES, Block, Failed, From, expect

TIME_TYPES = (
    "int", "int64", "int32", "int16", "int8", "uint64", "uint32", "uint16", "uint8",
    "datetime64[ns]", "datetime64[us]", "datetime64[ms]", "datetime64[s]",
)  # fmt: skip
# "float" / "int" also admit Python numbers held in an object column (to_series converts them).
NUMERIC_TYPES = (
    "float", "float64", "float32", "float16", "int",
    "int64", "int32", "int16", "int8", "uint64", "uint32", "uint16", "uint8",
)  # fmt: skip
_FINITE = sys.float_info.max  # between -max and +max <=> finite (NaN is left to the null check)


# --------------------------------------------------------------------------------------------
# The messages, one per expectation
# --------------------------------------------------------------------------------------------


def _no_column(f: Failed) -> str:
    return (
        f"the {f.table} table has no column {f.column!r} (columns: {list(f.frame.columns)[:8]}); "
        f"the canonical {f.table} table needs it, fix the loader"
    )


def _nulls(f: Failed) -> str:
    return f"{f.label} has {f.count} null/NaN values{f.rows}; fill or drop them before ingest"


def _null_readings(f: Failed) -> str:
    return _nulls(f) + (
        "; or, if the series really has gaps, keep them with data.missing: mask (or "
        "interpolate, with data.max_gap) in params.yaml and re-ingest with tokfrag ingest"
    )


def _wrong_type(f: Failed) -> str:
    if "observed_value" in f.result:
        return (
            f"{f.label} has dtype {f.result['observed_value']}, expected one of "
            f"{', '.join(f.kwargs['type_list'][:4])}, ...; convert it (pd.to_numeric / "
            "astype) in the loader"
        )
    return (
        f"{f.label} has {f.count} values of the wrong type{f.rows}, e.g. {f.examples}; "
        "convert the column to a numeric dtype in the loader"
    )


def _infinite(f: Failed) -> str:
    return (
        f"{f.label} has {f.count} infinite values{f.rows}: {f.examples}; replace +/-inf (e.g. "
        "with NaN, then fill) before ingest"
    )


def _negative_weights(f: Failed) -> str:
    return (
        f"{f.label} has {f.count} negative values{f.rows}: {f.examples}; edge weights must be "
        ">= 0 (use the absolute value, or drop those edges)"
    )


def _not_increasing(f: Failed) -> str:
    return (
        f"{f.label} is not strictly increasing: {f.count} values do not exceed the previous "
        f"one{f.rows}, values {f.examples}; sort the rows by 't' and drop repeated time steps"
    )


def _repeated_times(f: Failed) -> str:
    return (
        f"{f.label} has {f.count} rows with a repeated value{f.rows}, values {f.examples}; "
        "keep one row per time step"
    )


def _unknown_nodes(f: Failed) -> str:
    return (
        f"{f.label} has {f.count} values that are not node columns of values{f.rows}: "
        f"{f.examples}; drop those edges or add the missing node series"
    )


def _no_node_column(f: Failed) -> str:
    return (
        f"the values table has {f.result.get('observed_value')} columns, so no node column "
        "besides 't'; the loader must write one float column per node"
    )


def _column_count(f: Failed) -> str:
    names = [str(c) for c in f.frame.columns]
    repeated = sorted(c for c, n in Counter(names).items() if n > 1)
    why = []
    if repeated:
        why.append(f"duplicated column names {repeated}")
    if "t" not in names:
        why.append("no 't' column")
    value = f.kwargs["value"]
    return (
        f"the values table has {f.result.get('observed_value')} columns but 't' plus "
        f"{value - 1} distinct node names make {value}"
        f"{' (' + '; '.join(why) + ')' if why else ''}; give every node exactly one column"
    )


def _too_few_rows(f: Failed) -> str:
    c = f.context
    return (
        f"{c['split_error']} The values table has {f.result.get('observed_value')} rows; "
        f"lags={c['lags']}, horizon={c['horizon']}, train_ratio={c['train_ratio']}, "
        f"val_fraction={c['val_fraction']}, split by {c['split_by']} need at least "
        f"{f.kwargs['min_value']}."
    )


# --------------------------------------------------------------------------------------------
# The suites
# --------------------------------------------------------------------------------------------

_NOT_NULL = "ExpectColumnValuesToNotBeNull"
_TYPES = "ExpectColumnValuesToBeInTypeList"
_BETWEEN = "ExpectColumnValuesToBeBetween"

VALUES_SUITE = (
    Block(VALUES, (
        expect("ExpectColumnToExist", _no_column, column="t"),
        expect("ExpectTableColumnCountToBeBetween", _no_node_column, min_value=2),
        # 't' + one per distinct node name: fails on a repeated name
        expect("ExpectTableColumnCountToEqual", _column_count, value=From("column_count")),
    )),
    Block(VALUES, (  # 't', unless absent or repeated (the counts above report those)
        expect(_NOT_NULL, _nulls),
        expect(_TYPES, _wrong_type, type_list=list(TIME_TYPES)),
        expect("ExpectColumnValuesToBeIncreasing", _not_increasing, strictly=True),
        expect("ExpectColumnValuesToBeUnique", _repeated_times),
    ), each=From("time")),
    Block(VALUES, (  # each node named once (GX cannot address a repeated name)
        # mostly=0.0 under a gap policy: passes whatever the share, but puts each node's
        # missing percentage in the results and data docs (the missing suites check gaps).
        expect(_NOT_NULL, _null_readings, mostly=From("mostly")),
        # GX leaves nulls out of the type and range checks: NaN gaps pass them.
        expect(_TYPES, _wrong_type, type_list=list(NUMERIC_TYPES)),
        expect(_BETWEEN, _infinite, min_value=-_FINITE, max_value=_FINITE),
    ), each=From("single_nodes")),
    Block(SPLIT, (
        expect("ExpectTableRowCountToBeBetween", _too_few_rows, min_value=From("min_rows")),
    ), when="min_rows"),
)  # fmt: skip

EDGES_SUITE = (
    Block(EDGES, (expect("ExpectColumnToExist", _no_column),),
          each=("source", "target", "weight"), absent_too=True),
    Block(EDGES, (
        expect(_NOT_NULL, _nulls),
        expect("ExpectColumnValuesToBeInSet", _unknown_nodes, value_set=From("nodes")),
    ), each=("source", "target")),
    Block(EDGES, (
        expect(_NOT_NULL, _nulls),
        expect(_TYPES, _wrong_type, type_list=list(NUMERIC_TYPES)),
        # Graph convolutions normalise by weighted degrees: a negative weight can make a
        # degree zero or negative, and the propagation meaningless.
        expect(_BETWEEN, _negative_weights, min_value=0.0, max_value=_FINITE),
    ), each=("weight",)),
)  # fmt: skip


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def _uneven_steps(values: pd.DataFrame) -> Failure | None:
    """Time steps must be evenly spaced: a window of ``lags`` steps has to mean the same span
    of time everywhere (dates stepping by months or longer are not checked: calendar months
    differ in length). Missing, unsorted or repeated times are reported by the suite."""
    if "t" not in values.columns or len(values) < 3:
        return None
    t = values["t"]
    try:
        if t.isna().any() or not t.is_monotonic_increasing or t.duplicated().any():
            return None
        steps = t.diff().iloc[1:]
        usual = steps.mode().iloc[0]
        if isinstance(usual, pd.Timedelta) and usual >= pd.Timedelta(days=28):
            return None  # months, quarters and years vary in length: not checked
        odd = (steps != usual).to_numpy().nonzero()[0] + 1  # rows after an odd step
    except (TypeError, ValueError):  # a time column of the wrong type: the suite says so
        return None
    if len(odd) == 0:
        return None
    row = int(odd[0])
    return Failure(
        "expect_time_steps_to_be_even",
        VALUES,
        "t",
        f"{len(odd)} time steps differ from the usual step {usual} (first at row {row}: "
        f"{t.iloc[row - 1]} -> {t.iloc[row]}); insert the missing steps (as NaN rows, then "
        "fill them) or resample the series to one regular step",
    )


def validate_series(
    values: pd.DataFrame,
    edges: pd.DataFrame,
    *,
    dataset: str,
    lags: int,
    horizon: int,
    train_ratio: float,
    val_fraction: float,
    split_by: str = "snapshots",
    docs_dir: Path | None = None,
    missing: Mapping[str, Any] | None = None,
) -> ValidationReport:
    """Validate canonical ``values`` and ``edges`` tables with Great Expectations.

    Never raises for bad data: every problem becomes a :class:`Failure` in the report (call
    ``report.raise_if_failed()`` to stop a pipeline). Row numbers in the details are 0-based
    positions in the table. With ``docs_dir``, GX's HTML data docs for this run are written
    there (``index.html``, one page per suite and per validation).

    ``missing``: the ``missing`` record of ``meta.json`` (``policy``, ``max_gap``,
    ``masked_cells_per_node``, ...). None, or policy ``refuse``, refuses any NaN in a node
    column; ``mask`` and ``interpolate`` let the recorded gaps through and check them (see the
    module notes). Raises ``ValueError`` for a policy that is none of these.
    """
    policy = gap_policy(missing)
    start = time.perf_counter()
    # Positional rows and string column names, whatever the caller's index/labels (no copy of
    # the data under pandas copy-on-write).
    values = values.set_axis([str(c) for c in values.columns], axis=1).reset_index(drop=True)
    edges = edges.set_axis([str(c) for c in edges.columns], axis=1).reset_index(drop=True)
    nodes = list(dict.fromkeys(c for c in values.columns if c != "t"))
    duplicated = {c for c, n in Counter(values.columns).items() if n > 1}
    gaps_allowed = policy in GAP_POLICIES

    context: dict[str, Any] = {
        "lags": lags,
        "horizon": horizon,
        "train_ratio": train_ratio,
        "val_fraction": val_fraction,
        "split_by": split_by,
        "split_error": "",
        "num_steps": len(values),
        "policy": policy,
        "max_gap": None if missing is None else missing.get("max_gap"),
        "nodes": nodes,  # every distinct node name: what an edge may name
        "single_nodes": [n for n in nodes if n not in duplicated],
        "time": ["t"] if "t" in values.columns and "t" not in duplicated else [],
        "column_count": 1 + len(nodes),
        "mostly": 0.0 if gaps_allowed else None,
        "min_rows": None,
    }
    split = None
    split_failures: list[Failure] = []
    if lags < 1 or horizon < 1:
        split_failures.append(
            Failure(
                "chronological_split",
                SPLIT,
                None,
                f"lags={lags} and horizon={horizon} must both be at least 1; fix the config",
            )
        )
    else:
        min_rows = minimum_steps(lags, horizon, train_ratio, val_fraction, split_by)
        context["min_rows"] = min_rows
        try:
            split = chronological_split(
                len(values), lags, horizon, train_ratio, val_fraction, split_by
            )
            context["train_end"] = split.train_steps_end
            context["first_test_target"] = split.first_test_target
        except SplitError as err:
            context["split_error"] = str(err)
            # Otherwise the GX row-count expectation reports it. Plain failure when no length
            # works (a ratio problem GX cannot express) or the ratios break monotonicity.
            if min_rows is None or len(values) >= min_rows:
                split_failures.append(Failure("chronological_split", SPLIT, None, str(err)))

    uneven = _uneven_steps(values)
    if uneven is not None:
        split_failures.append(uneven)

    batches: list[engine.Batch] = [(VALUES, values, VALUES_SUITE), (EDGES, edges, EDGES_SUITE)]
    if gaps_allowed:
        assert missing is not None  # a gap policy comes from a record
        batches += missing_batches(values, context["single_nodes"], missing, policy, split)
    found, checked, gx_results = engine.run(batches, context, dataset=dataset, docs_dir=docs_dir)
    failures = tuple(found) + tuple(split_failures)
    # + the chronological split when no row count could be asked, + the even steps
    checked += (1 if context["min_rows"] is None else 0) + 1
    return ValidationReport(
        dataset=dataset,
        success=not failures,
        failures=failures,
        checked=checked,
        seconds=time.perf_counter() - start,
        gx_results=gx_results,
    )
