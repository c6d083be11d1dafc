"""The validation gate for spatio-temporal series data (Great Expectations 1.x).

``validate_series(values, edges, ...)`` runs one expectation suite per canonical table (see
:mod:`tokfrag.data.canonical`) in a fresh in-memory GX context and turns GX's results into a
:class:`ValidationReport` whose failures name the table, the column, the offending rows and the fix.

What is checked:

``values``  column ``t`` exists, has no nulls, is of an integer or datetime type, is strictly
            increasing and unique; every node column (every column but ``t``) has no nulls/NaN,
            is of a float or integer type and holds finite values only; there is at least one
            node column and no column name appears twice (column count = 1 + distinct nodes).
``edges``   columns ``source``, ``target`` and ``weight`` exist; ``source`` and ``target`` are
            non-null node names (columns of ``values``); ``weight`` is numeric, non-null, finite.
``split``   the series is long enough for a fit, a validation and a test snapshot with the
            requested lags, horizon and ratios (:func:`tokfrag.data.splits.chronological_split`),
            expressed as a minimum row count of ``values``.

With ``missing`` (the ``missing`` record of ``meta.json``, see :mod:`tokfrag.data.missing`) and
its ``policy`` ``mask`` or ``interpolate``, gaps may stay in the node columns as NaN: each node's
not-null expectation takes ``mostly=0.0`` (it cannot fail; the data docs show the node's missing
percentage), and the gaps are checked on small derived tables instead, one suite each:

``mask``      one row per node: ``nan_cells`` (counted in ``values``) equals ``recorded`` (from
              ``masked_cells_per_node``, 0 when absent): the mask is the one ingest wrote.
``gaps``      (interpolate) one row per run of NaN in a node: ``node``, ``start``, ``stop``
              (rows ``start .. stop - 1``), ``steps``, ``interior`` (a reading on both sides),
              ``reads_test`` (its right-hand reading is not a training row) and ``fillable``
              (interior, at most ``max_gap`` steps, within the training rows); no gap left may
              be fillable.
``observed``  one row per node: ``train_observed`` (readings in the training steps, rows
              ``[0, train_steps_end)``) at least 1, and the sum of ``test_observed`` (readings
              in rows ``[first_test_target, end)``) at least 1. Skipped, like ``gaps``, when
              the split does not fit (that failure is reported already).

Under ``refuse`` (or ``missing=None``) none of this runs and any NaN fails as before.

``validate_text(documents, ...)`` is the text suite (see :mod:`tokfrag.data.text_canonical`), in
three batches:

``documents``    columns ``doc_id``, ``text``, ``label`` and ``split`` exist; ``doc_id`` is
                 non-null and unique; ``text`` is non-null and matches a regex for one
                 non-whitespace character (empty and blank documents fail); ``label`` is
                 non-null and in the declared ``label_names``; ``split`` is non-null and in
                 {train, test}.
``train``        the training rows: their distinct labels contain every declared class (a class
                 with no training document cannot be learned, only guessed).
``cross_split``  one row per distinct training text plus one per distinct test text, and
                 ``text`` unique over that frame: a text that repeats there is in both splits (a
                 leak of test documents into training). Repeats inside one split are not leaks
                 and collapse before the check.

Great Expectations is imported lazily (importing it takes seconds), only here, and its context is
configured with analytics off and no progress bars; a data docs site only when the caller
asks for HTML data docs (``docs_dir``). The GX 1.24.1 build installed
here ships no analytics client at all (``GX_ANALYTICS_ENABLED`` is not read anywhere); setting
``analytics_enabled=False`` in the context config is what upstream GX honours, so it is set too.
"""

from __future__ import annotations

import math
import sys
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tokfrag.data.registry import DataError
from tokfrag.data.splits import SplitError, chronological_split, minimum_steps

VALUES = "values"
EDGES = "edges"
SPLIT = "split"
DOCUMENTS = "documents"
TRAIN = "train"
CROSS_SPLIT = "cross_split"
MASK = "mask"  # derived from values under data.missing mask/interpolate, see the notes
GAPS = "gaps"
OBSERVED = "observed"
_TABLE_RANK = {
    VALUES: 0, EDGES: 1, SPLIT: 2, DOCUMENTS: 3, TRAIN: 4, CROSS_SPLIT: 5,
    MASK: 6, GAPS: 7, OBSERVED: 8,
}  # fmt: skip
GAP_POLICIES = ("mask", "interpolate")  # data.missing values that leave NaN in the values
MISSING_POLICIES = ("refuse", *GAP_POLICIES)
TEXT_COLUMNS = ("doc_id", "text", "label", "split")
MAX_DOCUMENT_CHARS = 1_000_000  # longer is a parsing accident, not a document
TEXT_SPLITS = ("train", "test")
DOCS_SITE = "tokfrag"  # the GX data docs site's name

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
_SHOWN = 10  # offending rows / values quoted per failure (GX's partial_unexpected_count)


@dataclass(frozen=True)
class Failure:
    """One failed expectation."""

    expectation: str  # GX expectation type, e.g. "expect_column_values_to_not_be_null"
    table: str  # "values" | "edges" | "split"; text: "documents" | "train" | "cross_split"
    column: str | None
    detail: str  # a sentence naming the column / rows and the fix

    def to_dict(self) -> dict[str, Any]:
        return {
            "expectation": self.expectation,
            "table": self.table,
            "column": self.column,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class ValidationReport:
    """The outcome of :func:`validate_series` or :func:`validate_text`.

    ``gx_results`` keeps GX's own JSON results (one per table suite) for callers that want to
    archive them; it is left out of equality and of ``to_dict()`` unless asked for.
    """

    dataset: str
    success: bool
    failures: tuple[Failure, ...]
    checked: int  # number of expectations evaluated
    seconds: float = field(default=0.0, compare=False)
    gx_results: tuple[dict[str, Any], ...] = field(default=(), repr=False, compare=False)

    def to_dict(self, *, include_gx: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "dataset": self.dataset,
            "success": self.success,
            "checked": self.checked,
            "failed": len(self.failures),
            "seconds": round(self.seconds, 3),
            "failures": [f.to_dict() for f in self.failures],
        }
        if include_gx:
            out["gx_results"] = list(self.gx_results)
        return out

    def summary(self) -> str:
        if self.success:
            return f"{self.dataset}: data validation passed ({self.checked} expectations)."
        lines = [
            f"{self.dataset}: data validation failed: {len(self.failures)} of {self.checked} "
            "expectations failed"
        ]
        for f in self.failures:
            where = f"{f.table}.{f.column}" if f.column is not None else f.table
            lines.append(f"  - [{where}] {f.expectation}: {f.detail}")
        return "\n".join(lines)

    def outcomes(self) -> list[dict[str, Any]]:
        """Every GX expectation run, in order: ``table``, ``expectation``, ``column`` (or
        None) and ``success``; for a report that lists what passed as well as what failed."""
        out = []
        for result in self.gx_results:
            for item in result.get("results", []):
                config = item.get("expectation_config", {})
                kwargs = config.get("kwargs", {})
                out.append(
                    {
                        "table": (config.get("meta") or {}).get("table", result.get("suite_name")),
                        "expectation": config.get("type"),
                        "column": kwargs.get("column", kwargs.get("column_list")),
                        "success": bool(item.get("success")),
                    }
                )
        return out

    def raise_if_failed(self) -> ValidationReport:
        """Return ``self`` when validation passed, else raise :class:`ValidationFailed`."""
        if not self.success:
            raise ValidationFailed(self)
        return self


class ValidationFailed(DataError):
    """The data did not pass the validation gate; ``.report`` holds every failure.

    A :class:`~tokfrag.data.registry.DataError` (hence a ``RuntimeError``), so callers that
    already turn data errors into clean messages handle this one too.
    """

    def __init__(self, report: ValidationReport, note: str = "") -> None:
        self.report = report
        self.note = note  # a last line: what was (not) written, where the data docs are
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(part for part in (self.report.summary(), self.note) if part)

    def __reduce__(self) -> tuple[Any, ...]:  # survives pickling (process task runners)
        return (type(self), (self.report, self.note))


# --------------------------------------------------------------------------------------------
# The suites
# --------------------------------------------------------------------------------------------


def _meta(table: str, order: int) -> dict[str, Any]:
    return {"table": table, "order": order}


def _values_expectations(
    gx: Any, values: pd.DataFrame, min_rows: int | None, gaps_allowed: bool = False
) -> list[Any]:
    E = gx.expectations
    columns = [str(c) for c in values.columns]
    nodes = list(dict.fromkeys(c for c in columns if c != "t"))  # distinct, in column order
    duplicated = {c for c, n in Counter(columns).items() if n > 1}
    out: list[Any] = []

    def add(table: str, expectation_cls: Any, **kwargs: Any) -> None:
        out.append(expectation_cls(meta=_meta(table, len(out)), **kwargs))

    add(VALUES, E.ExpectColumnToExist, column="t")
    add(VALUES, E.ExpectTableColumnCountToBeBetween, min_value=2)  # t + at least one node
    add(VALUES, E.ExpectTableColumnCountToEqual, value=1 + len(nodes))  # no duplicated names
    if "t" in columns and "t" not in duplicated:
        add(VALUES, E.ExpectColumnValuesToNotBeNull, column="t")
        add(VALUES, E.ExpectColumnValuesToBeInTypeList, column="t", type_list=list(TIME_TYPES))
        add(VALUES, E.ExpectColumnValuesToBeIncreasing, column="t", strictly=True)
        add(VALUES, E.ExpectColumnValuesToBeUnique, column="t")
    for node in nodes:
        if node in duplicated:  # GX cannot address a repeated name; the count check reports it
            continue
        if gaps_allowed:
            # Passes whatever the share: it puts each node's missing percentage in the
            # results and data docs; the mask/gaps/observed suites check the gaps themselves.
            add(VALUES, E.ExpectColumnValuesToNotBeNull, column=node, mostly=0.0)
        else:
            add(VALUES, E.ExpectColumnValuesToNotBeNull, column=node)
        # GX leaves nulls out of the type and range checks below: NaN gaps pass them.
        add(VALUES, E.ExpectColumnValuesToBeInTypeList, column=node, type_list=list(NUMERIC_TYPES))
        add(VALUES, E.ExpectColumnValuesToBeBetween, column=node, min_value=-_FINITE,
            max_value=_FINITE)  # fmt: skip
    if min_rows is not None:
        add(SPLIT, E.ExpectTableRowCountToBeBetween, min_value=min_rows)
    return out


def _edges_expectations(gx: Any, edges: pd.DataFrame, nodes: Sequence[str]) -> list[Any]:
    E = gx.expectations
    columns = [str(c) for c in edges.columns]
    out: list[Any] = []

    def add(expectation_cls: Any, **kwargs: Any) -> None:
        out.append(expectation_cls(meta=_meta(EDGES, len(out)), **kwargs))

    for column in ("source", "target", "weight"):
        add(E.ExpectColumnToExist, column=column)
    for column in ("source", "target"):
        if column in columns:
            add(E.ExpectColumnValuesToNotBeNull, column=column)
            add(E.ExpectColumnValuesToBeInSet, column=column, value_set=list(nodes))
    if "weight" in columns:
        add(E.ExpectColumnValuesToNotBeNull, column="weight")
        add(E.ExpectColumnValuesToBeInTypeList, column="weight", type_list=list(NUMERIC_TYPES))
        # Graph convolutions normalise by weighted degrees: a negative weight can make a
        # degree zero or negative, and the propagation meaningless.
        add(E.ExpectColumnValuesToBeBetween, column="weight", min_value=0.0,
            max_value=_FINITE)  # fmt: skip
    return out


# --------------------------------------------------------------------------------------------
# The missing-value suites (data.missing: mask | interpolate)
# --------------------------------------------------------------------------------------------

_DERIVED = (MASK, GAPS, OBSERVED)
_REINGEST = (
    "re-ingest with `tokfrag ingest` (the canonical data was edited by hand, or meta.json "
    "belongs to another ingest)"
)


def _gap_policy(missing: Mapping[str, Any] | None) -> str:
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


def _nan_runs(column: pd.Series) -> list[tuple[int, int]]:
    """``(start, stop)`` of every run of nulls in ``column`` (rows ``start .. stop - 1``)."""
    flags = column.isna().to_numpy().astype(np.int8)
    steps = np.diff(np.concatenate(([0], flags, [0])))
    starts, stops = np.flatnonzero(steps == 1), np.flatnonzero(steps == -1)
    return [(int(a), int(b)) for a, b in zip(starts, stops, strict=True)]


def _gaps_frame(
    values: pd.DataFrame, nodes: Sequence[str], max_gap: int, train_end: int
) -> pd.DataFrame:
    """One row per gap left in ``values``; ``fillable``: one that interpolate with
    ``max_gap`` fills (interior, short enough, and its right-hand reading a training row: a
    gap that reads a test reading stays masked)."""
    num_steps = len(values)
    rows = []
    for node in nodes:
        for start, stop in _nan_runs(values[node]):
            interior = start > 0 and stop < num_steps
            reads_test = stop >= train_end  # its right-hand reading is not a training row
            fillable = interior and stop - start <= max_gap and not reads_test
            rows.append((node, start, stop, stop - start, interior, reads_test, fillable))
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


def _missing_suites(
    gx: Any,
    values: pd.DataFrame,
    nodes: Sequence[str],
    missing: Mapping[str, Any],
    policy: str,
    split: Any,
) -> list[tuple[str, pd.DataFrame, list[Any]]]:
    """The derived tables and their expectations; ``split``: the chronological split, or
    None when it does not fit (then only the mask check runs)."""
    E = gx.expectations
    suites = [
        (
            MASK,
            _mask_frame(values, nodes, missing),
            [
                E.ExpectColumnPairValuesToBeEqual(
                    column_A="nan_cells", column_B="recorded", meta=_meta(MASK, 0)
                )
            ],
        )
    ]
    if split is None or not nodes:
        return suites
    train_end = split.train_steps_end
    if policy == "interpolate":
        max_gap = int(missing.get("max_gap") or 0)
        gaps = _gaps_frame(values, nodes, max_gap, train_end)
        expectation = E.ExpectColumnValuesToBeInSet(
            column="fillable", value_set=[False], meta=_meta(GAPS, 0)
        )
        suites.append((GAPS, gaps, [expectation]))
    observed = _observed_frame(values, nodes, train_end, split.first_test_target)
    suites.append(
        (
            OBSERVED,
            observed,
            [
                E.ExpectColumnValuesToBeBetween(
                    column="train_observed", min_value=1, meta=_meta(OBSERVED, 0)
                ),
                E.ExpectColumnSumToBeBetween(
                    column="test_observed", min_value=1, meta=_meta(OBSERVED, 1)
                ),
            ],
        )
    )
    return suites


def _rows_span(start: int, stop: int) -> str:
    return f"row {start}" if stop - start == 1 else f"rows {start}-{stop - 1}"


def _names(nodes: Sequence[Any]) -> str:
    return _listing([str(n) for n in nodes], len(nodes))


def _missing_detail(kind: str, table: str, frame: pd.DataFrame, params: dict[str, Any]) -> str:
    """The messages of the derived tables; ``frame`` is the derived table, so every offender
    is named (not only GX's partial list)."""
    train_end, num_steps = params.get("train_end"), params["num_steps"]
    if table == MASK:
        bad = frame.loc[frame["nan_cells"] != frame["recorded"]]
        parts = [
            f"{r.node!r} holds {r.nan_cells} NaN cells, recorded {r.recorded}"
            if r.in_values
            else f"{r.node!r} is recorded with {r.recorded} masked cells but is no column"
            for r in bad.head(_SHOWN).itertuples()
        ]
        more = f"; and {len(bad) - _SHOWN} more node(s)" if len(bad) > _SHOWN else ""
        return (
            f"values columns do not match meta.json's missing.masked_cells_per_node (policy "
            f"{params['policy']}) for {len(bad)} node(s): {'; '.join(parts)}{more}; the gaps "
            f"in the canonical data are not the ones ingest left: {_REINGEST}"
        )
    if table == GAPS:
        bad = frame.loc[frame["fillable"]]
        parts = [
            f"node {r.node!r} {_rows_span(r.start, r.stop)} ({r.steps} step(s))"
            for r in bad.head(_SHOWN).itertuples()
        ]
        more = f", and {len(bad) - _SHOWN} more" if len(bad) > _SHOWN else ""
        return (
            f"{len(bad)} gap(s) left as NaN in values that data.missing: interpolate with "
            f"data.max_gap {params['max_gap']} would have filled (readings on both sides, at most "
            f"{params['max_gap']} steps, within the training rows 0-{train_end - 1}): "
            f"{', '.join(parts)}{more}; {_REINGEST}"
        )
    if kind == "expect_column_values_to_be_between":  # OBSERVED: train_observed >= 1
        empty = frame.loc[frame["train_observed"] < 1, "node"].tolist()
        return (
            f"node(s) {_names(empty)} have no observed reading in the training steps (values "
            f"rows 0-{train_end - 1}: all NaN), so nothing can be learnt or scaled for them; "
            "drop them with data.max_missing_per_node (a share below 1, e.g. 0.9: nodes "
            "missing more of their training steps are dropped) or move split.train_ratio so "
            "that training reaches their readings, then re-ingest with `tokfrag ingest`"
        )
    return (  # OBSERVED: sum(test_observed) >= 1
        f"the test part has no observed target: values rows {params['first_test_target']}-"
        f"{num_steps - 1} (the test snapshots' targets) are NaN in every node, so no test "
        "metric can be computed; move split.train_ratio (lower it) so that the test part "
        "reaches observed readings, or drop the empty tail of the series, then re-ingest "
        "with `tokfrag ingest`"
    )


def _import_gx() -> Any:
    import great_expectations as gx

    return gx


def _context(gx: Any, docs_dir: Path | None = None) -> Any:
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    sites = {}
    if docs_dir is not None:
        # GX's own static site (index + one page per suite and per validation) written
        # straight into ``docs_dir``.
        sites[DOCS_SITE] = {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(docs_dir),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
        analytics_enabled=False,
        data_docs_sites=sites,
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def _run_suite(
    gx: Any, context: Any, table: str, frame: pd.DataFrame, expectations: list, run_name: str
) -> Any:
    """One table's suite as a GX checkpoint (suite + validation definition in the in-memory
    context); with a docs site configured, the checkpoint also renders the data docs."""
    from great_expectations.checkpoint import UpdateDataDocsAction
    from great_expectations.core.run_identifier import RunIdentifier

    batch_definition = (
        context.data_sources.add_pandas(f"{table}_source")
        .add_dataframe_asset(table)
        .add_batch_definition_whole_dataframe("all")
    )
    suite = context.suites.add(
        gx.ExpectationSuite(name=f"tokfrag_{table}", expectations=expectations)
    )
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=table, data=batch_definition, suite=suite)
    )
    docs = [UpdateDataDocsAction(name="data_docs")] if context.get_site_names() else []
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name=f"tokfrag_{table}",
            validation_definitions=[definition],
            actions=docs,
            result_format={"result_format": "SUMMARY", "partial_unexpected_count": _SHOWN},
        )
    )
    result = checkpoint.run(
        batch_parameters={"dataframe": frame}, run_id=RunIdentifier(run_name=run_name)
    )
    return next(iter(result.run_results.values()))


def _prune_docs(docs_dir: Path | None) -> None:
    """Drop GX's bundled fonts and pictures (4 MB a site); the pages use only the favicon."""
    if docs_dir is None:
        return
    static = Path(docs_dir) / "static"
    for path in sorted(static.rglob("*"), reverse=True):
        if path.is_file() and path.name != "favicon.ico" and "images" in path.parts:
            path.unlink()
        elif path.is_file() and "fonts" in path.parts:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()


# --------------------------------------------------------------------------------------------
# From GX results to failures
# --------------------------------------------------------------------------------------------


def _fmt(value: Any) -> str:
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return repr(value) if isinstance(value, str) else str(value)


def _listing(items: Sequence[Any], total: int) -> str:
    shown = ", ".join(_fmt(v) for v in items[:_SHOWN])
    more = total - min(len(items), _SHOWN)
    return f"{shown}, ... and {more} more" if more > 0 else shown


def _rows(result: dict[str, Any]) -> str:
    index = list(result.get("partial_unexpected_index_list") or [])
    count = int(result.get("unexpected_count") or len(index))
    if not index:
        return ""
    word = "row" if count == 1 else "rows"
    return f" ({word} {_listing(index, count)})"


def _examples(result: dict[str, Any]) -> str:
    seen = list(result.get("partial_unexpected_list") or [])
    return ", ".join(_fmt(v) for v in dict.fromkeys(seen)) if seen else ""


def _json_safe(obj: Any) -> Any:
    """GX's JSON results quote offending values as they are; NaN and +/-inf become strings so
    that the result is strict JSON."""
    if isinstance(obj, dict):
        return {key: _json_safe(value) for key, value in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_safe(value) for value in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return _fmt(obj) if math.isinf(obj) else "nan"
    return obj


def _exception_message(evr: Any) -> str | None:
    info = getattr(evr, "exception_info", None) or {}
    if info.get("raised_exception"):
        return str(info.get("exception_message"))
    for nested in info.values():  # keyed by metric id when a metric failed to resolve
        if isinstance(nested, dict) and nested.get("raised_exception"):
            return str(nested.get("exception_message"))
    return None


def _detail(  # one branch per expectation type keeps the messages side by side
    kind: str,
    table: str,
    column: str | None,
    kwargs: dict[str, Any],
    result: dict[str, Any],
    frame: pd.DataFrame,
    params: dict[str, Any],
) -> str:
    if table in _DERIVED:
        return _missing_detail(kind, table, frame, params)
    count = int(result.get("unexpected_count") or 0)
    rows = _rows(result)
    examples = _examples(result)
    label = f"{table} column {column!r}"
    if kind == "expect_column_to_exist":
        return (
            f"the {table} table has no column {column!r} (columns: {list(frame.columns)[:8]}); "
            f"the canonical {table} table needs it, fix the loader"
        )
    if kind == "expect_column_values_to_not_be_null":
        hint = (
            "; or, if the series really has gaps, keep them with data.missing: mask (or "
            "interpolate, with data.max_gap) in params.yaml and re-ingest with tokfrag ingest"
            if table == VALUES and column != "t"
            else ""
        )
        return f"{label} has {count} null/NaN values{rows}; fill or drop them before ingest{hint}"
    if kind == "expect_column_values_to_be_in_type_list":
        if "observed_value" in result:
            return (
                f"{label} has dtype {result['observed_value']}, expected one of "
                f"{', '.join(kwargs['type_list'][:4])}, ...; convert it (pd.to_numeric / "
                "astype) in the loader"
            )
        return (
            f"{label} has {count} values of the wrong type{rows}, e.g. {examples}; "
            "convert the column to a numeric dtype in the loader"
        )
    if kind == "expect_column_values_to_be_between" and kwargs.get("min_value") == 0.0:
        return (
            f"{label} has {count} negative values{rows}: {examples}; edge weights must be "
            ">= 0 (use the absolute value, or drop those edges)"
        )
    if kind == "expect_column_values_to_be_between":
        return (
            f"{label} has {count} infinite values{rows}: {examples}; replace +/-inf (e.g. with "
            "NaN, then fill) before ingest"
        )
    if kind == "expect_column_values_to_be_increasing":
        return (
            f"{label} is not strictly increasing: {count} values do not exceed the previous "
            f"one{rows}, values {examples}; sort the rows by 't' and drop repeated time steps"
        )
    if kind == "expect_column_values_to_be_unique":
        return (
            f"{label} has {count} rows with a repeated value{rows}, values {examples}; keep one "
            "row per time step"
        )
    if kind == "expect_column_values_to_be_in_set":
        return (
            f"{label} has {count} values that are not node columns of values{rows}: "
            f"{examples}; drop those edges or add the missing node series"
        )
    if kind == "expect_table_column_count_to_be_between":
        return (
            f"the values table has {result.get('observed_value')} columns, so no node column "
            "besides 't'; the loader must write one float column per node"
        )
    if kind == "expect_table_column_count_to_equal":
        names = [str(c) for c in frame.columns]
        repeated = sorted(c for c, n in Counter(names).items() if n > 1)
        why = []
        if repeated:
            why.append(f"duplicated column names {repeated}")
        if "t" not in names:
            why.append("no 't' column")
        return (
            f"the values table has {result.get('observed_value')} columns but 't' plus "
            f"{kwargs['value'] - 1} distinct node names make {kwargs['value']}"
            f"{' (' + '; '.join(why) + ')' if why else ''}; give every node exactly one column"
        )
    if kind == "expect_table_row_count_to_be_between":
        return (
            f"{params['split_error']} The values table has {result.get('observed_value')} rows; "
            f"lags={params['lags']}, horizon={params['horizon']}, "
            f"train_ratio={params['train_ratio']}, val_fraction={params['val_fraction']}, "
            f"split by {params['split_by']} need at least {kwargs['min_value']}."
        )
    return f"{label} failed {kind} with {kwargs}: {result}"


def _failures(
    suite_result: Any,
    frame: pd.DataFrame,
    params: dict[str, Any],
    detail_fn: Any = _detail,
) -> list[tuple[tuple[int, int], Failure]]:
    found: list[tuple[tuple[int, int], Failure]] = []
    failed_type_checks: set[tuple[str, str | None]] = set()
    raised: list[tuple[tuple[int, int], str, str, str | None, str]] = []
    for evr in suite_result.results:
        if evr.success:
            continue
        config = evr.expectation_config
        kind = str(config.type)
        meta = dict(config.meta or {})
        table = str(meta.get("table", VALUES))
        kwargs = dict(config.kwargs)
        column = kwargs.get("column")
        key = (_TABLE_RANK.get(table, 9), int(meta.get("order", 0)))
        message = _exception_message(evr)
        if message is not None:
            raised.append((key, kind, table, column, message))
            continue
        if kind == "expect_column_values_to_be_in_type_list":
            failed_type_checks.add((table, column))
        detail = detail_fn(kind, table, column, kwargs, dict(evr.result or {}), frame, params)
        found.append((key, Failure(kind, table, column, detail)))
    for key, kind, table, column, message in raised:
        if (table, column) in failed_type_checks:
            continue  # e.g. a range check on a string column: the type failure says it all
        detail = (
            f"{table} column {column!r}: GX could not evaluate {kind} ({message}); "
            "check the column's dtype and contents"
        )
        found.append((key, Failure(kind, table, column, detail)))
    return found


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
    policy = _gap_policy(missing)
    start = time.perf_counter()
    # Positional rows and string column names, whatever the caller's index/labels (no copy of
    # the data under pandas copy-on-write).
    values = values.set_axis([str(c) for c in values.columns], axis=1).reset_index(drop=True)
    edges = edges.set_axis([str(c) for c in edges.columns], axis=1).reset_index(drop=True)
    nodes = list(dict.fromkeys(c for c in values.columns if c != "t"))

    params = {
        "lags": lags,
        "horizon": horizon,
        "train_ratio": train_ratio,
        "val_fraction": val_fraction,
        "split_by": split_by,
        "split_error": "",
        "num_steps": len(values),
        "policy": policy,
        "max_gap": None if missing is None else missing.get("max_gap"),
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
        min_rows = None
    else:
        min_rows = minimum_steps(lags, horizon, train_ratio, val_fraction, split_by)
        try:
            split = chronological_split(
                len(values), lags, horizon, train_ratio, val_fraction, split_by
            )
            params["train_end"] = split.train_steps_end
            params["first_test_target"] = split.first_test_target
        except SplitError as err:
            params["split_error"] = str(err)
            # Otherwise the GX row-count expectation reports it. Plain failure when no length
            # works (a ratio problem GX cannot express) or the ratios break monotonicity.
            if min_rows is None or len(values) >= min_rows:
                split_failures.append(Failure("chronological_split", SPLIT, None, str(err)))

    uneven = _uneven_steps(values)
    if uneven is not None:
        split_failures.append(uneven)

    gx = _import_gx()
    gx_context = _context(gx, docs_dir)
    gaps_allowed = policy in GAP_POLICIES
    batches: list[tuple[str, pd.DataFrame, list[Any]]] = [
        (VALUES, values, _values_expectations(gx, values, min_rows, gaps_allowed)),
        (EDGES, edges, _edges_expectations(gx, edges, nodes)),
    ]
    if gaps_allowed:
        assert missing is not None  # a gap policy comes from a record
        duplicated = {c for c, n in Counter(values.columns).items() if n > 1}
        single = [n for n in nodes if n not in duplicated]  # the column count check reports those
        batches += _missing_suites(gx, values, single, missing, policy, split)

    keyed: list[tuple[tuple[int, int], Failure]] = []
    gx_results: list[dict[str, Any]] = []
    for table, frame, expectations in batches:
        result = _run_suite(gx, gx_context, table, frame, expectations, dataset)
        keyed += _failures(result, frame, params)
        gx_results.append(_json_safe(result.to_json_dict()))
    _prune_docs(docs_dir)

    keyed.sort(key=lambda pair: pair[0])
    failures = tuple(f for _, f in keyed) + tuple(split_failures)
    checked = sum(len(e) for _, _, e in batches) + (1 if min_rows is None else 0) + 1
    return ValidationReport(
        dataset=dataset,
        success=not failures,
        failures=failures,
        checked=checked,
        seconds=time.perf_counter() - start,
        gx_results=tuple(gx_results),
    )


# --------------------------------------------------------------------------------------------
# The text suite
# --------------------------------------------------------------------------------------------

_NON_BLANK = r"\S"  # a document needs one non-whitespace character


def _short(text: Any, width: int = 60) -> str:
    text = str(text)
    return repr(text if len(text) <= width else text[: width - 3] + "...")


def _text_expectations(gx: Any, documents: pd.DataFrame, label_names: Sequence[str]) -> list[Any]:
    E = gx.expectations
    columns = set(documents.columns)
    out: list[Any] = []

    def add(expectation_cls: Any, **kwargs: Any) -> None:
        out.append(expectation_cls(meta=_meta(DOCUMENTS, len(out)), **kwargs))

    for column in TEXT_COLUMNS:
        add(E.ExpectColumnToExist, column=column)
    if "doc_id" in columns:
        add(E.ExpectColumnValuesToNotBeNull, column="doc_id")
        add(E.ExpectColumnValuesToBeUnique, column="doc_id")
    if "text" in columns:
        add(E.ExpectColumnValuesToNotBeNull, column="text")
        add(E.ExpectColumnValuesToMatchRegex, column="text", regex=_NON_BLANK)
        add(E.ExpectColumnValueLengthsToBeBetween, column="text", max_value=MAX_DOCUMENT_CHARS)
    if "label" in columns:
        add(E.ExpectColumnValuesToNotBeNull, column="label")
        add(E.ExpectColumnValuesToBeInSet, column="label", value_set=list(label_names))
    if "split" in columns:
        add(E.ExpectColumnValuesToNotBeNull, column="split")
        add(E.ExpectColumnValuesToBeInSet, column="split", value_set=list(TEXT_SPLITS))
    return out


def _train_expectations(gx: Any, label_names: Sequence[str]) -> list[Any]:
    E = gx.expectations
    return [
        E.ExpectColumnDistinctValuesToContainSet(
            column="label", value_set=list(label_names), meta=_meta(TRAIN, 0)
        ),
        # One class leaves nothing to classify (and every metric trivially perfect).
        E.ExpectColumnUniqueValueCountToBeBetween(
            column="label", min_value=2, meta=_meta(TRAIN, 1)
        ),
    ]


def _cross_split_expectations(gx: Any) -> list[Any]:
    return [gx.expectations.ExpectColumnValuesToBeUnique(column="text", meta=_meta(CROSS_SPLIT, 0))]


def _cross_split_frame(documents: pd.DataFrame) -> pd.DataFrame:
    """One row per distinct train text and one per distinct test text: a text that repeats
    here is in both splits."""
    parts = [
        pd.DataFrame(
            {"text": documents.loc[documents["split"] == s, "text"].dropna().unique()}
        ).assign(split=s)
        for s in TEXT_SPLITS
    ]
    return pd.concat(parts, ignore_index=True)


def _text_detail(
    kind: str,
    table: str,
    column: str | None,
    kwargs: dict[str, Any],
    result: dict[str, Any],
    frame: pd.DataFrame,
    params: dict[str, Any],
) -> str:
    count = int(result.get("unexpected_count") or 0)
    rows = _rows(result)
    seen = list(dict.fromkeys(result.get("partial_unexpected_list") or []))
    examples = ", ".join(_short(v) for v in seen)
    label = f"documents column {column!r}"
    if kind == "expect_column_to_exist":
        return (
            f"the documents table has no column {column!r} (columns: {list(frame.columns)[:8]}); "
            f"canonical documents need {list(TEXT_COLUMNS)}: fix the loader"
        )
    if kind == "expect_column_values_to_not_be_null":
        return f"{label} has {count} null values{rows}; drop those documents or fix the loader"
    if kind == "expect_column_values_to_be_unique":
        if table == CROSS_SPLIT:
            documents = params["documents"]
            is_test = documents["split"] == "test"
            # GX's partial list quotes a few texts; the rows come from the whole table.
            leaked = set(documents.loc[is_test, "text"].dropna()) & set(
                documents.loc[documents["split"] == "train", "text"].dropna()
            )
            test_rows = documents.index[
                (documents["split"] == "test") & documents["text"].isin(leaked)
            ].tolist()
            train_rows = documents.index[
                (documents["split"] == "train") & documents["text"].isin(leaked)
            ].tolist()
            total = count // 2  # each leaked text appears once per split in the check's frame
            return (
                f"{total} texts are in both train and test (documents rows: test "
                f"{_listing(test_rows, len(test_rows))}; train "
                f"{_listing(train_rows, len(train_rows))}), e.g. {examples}; drop the test "
                "copies (the loaders do: drop_test_duplicates) so no test document is seen in "
                "training"
            )
        return (
            f"{label} has {count} rows with a repeated id{rows}: {_examples(result)}; give every "
            "document its own id (its 0-based line number upstream)"
        )
    if kind == "expect_column_values_to_match_regex":
        return (
            f"{label} has {count} empty or whitespace-only documents{rows}; drop them or fix "
            "the loader (e.g. a TREC line that held only its label word)"
        )
    if kind == "expect_column_values_to_be_in_set":
        allowed = list(kwargs["value_set"])
        if column == "split":
            return (
                f"{label} has {count} values other than 'train'/'test'{rows}: {examples}; fix "
                "the split column of the meta file"
            )
        return (
            f"{label} has {count} labels outside the declared classes {allowed}{rows}: "
            f"{examples}; fix those labels or declare the class in the registry entry's "
            "label_names"
        )
    if kind == "expect_column_unique_value_count_to_be_between":
        present = sorted({str(v) for v in frame["label"].dropna()})  # frame: the train rows
        return (
            f"the training documents have {len(present)} class(es) {present}; a classifier "
            "needs at least two: add documents of another class"
        )
    if kind == "expect_column_value_lengths_to_be_between":
        return (
            f"{label} has {count} documents longer than {MAX_DOCUMENT_CHARS:,} characters"
            f"{rows}; such a document is usually several run together (a missing newline or "
            "an unclosed quote): split or drop it"
        )
    if kind == "expect_column_distinct_values_to_contain_set":
        present = sorted({str(v) for v in frame["label"].dropna()})  # frame: the train rows
        missing = sorted(
            result.get("partial_missing_list") or set(kwargs["value_set"]) - set(present)
        )
        return (
            f"classes {missing} have no training document (training labels: {present}); no "
            "model can learn them: move some of their documents into train or re-split"
        )
    return f"{table} column {column!r} failed {kind} with {kwargs}: {result}"


def validate_text(
    documents: pd.DataFrame,
    *,
    dataset: str,
    label_names: Sequence[str],
    docs_dir: Path | None = None,
) -> ValidationReport:
    """Validate a canonical text ``documents`` table (doc_id, text, label, split) against the
    declared classes ``label_names`` with Great Expectations.

    Never raises for bad data: every problem becomes a :class:`Failure` (call
    ``report.raise_if_failed()`` to stop a pipeline). Row numbers in the details are 0-based
    positions in ``documents``. With ``docs_dir``, GX's HTML data docs are written there.
    """
    label_names = [str(n) for n in label_names]
    if not label_names:
        raise ValueError(f"{dataset}: label_names is empty; declare the classes in the registry")
    start = time.perf_counter()
    documents = documents.set_axis([str(c) for c in documents.columns], axis=1)
    documents = documents.reset_index(drop=True)
    columns = set(documents.columns)
    params = {"documents": documents, "label_names": label_names}

    gx = _import_gx()
    gx_context = _context(gx, docs_dir)
    batches: list[tuple[str, pd.DataFrame, list[Any]]] = [
        (DOCUMENTS, documents, _text_expectations(gx, documents, label_names))
    ]
    if {"label", "split"} <= columns:
        train = documents.loc[documents["split"] == "train"].reset_index(drop=True)
        batches.append((TRAIN, train, _train_expectations(gx, label_names)))
    if {"text", "split"} <= columns:
        batches.append((CROSS_SPLIT, _cross_split_frame(documents), _cross_split_expectations(gx)))

    keyed: list[tuple[tuple[int, int], Failure]] = []
    gx_results: list[dict[str, Any]] = []
    for table, frame, expectations in batches:
        result = _run_suite(gx, gx_context, table, frame, expectations, dataset)
        keyed += _failures(result, frame, params, _text_detail)
        gx_results.append(_json_safe(result.to_json_dict()))
    _prune_docs(docs_dir)
    keyed.sort(key=lambda pair: pair[0])
    failures = tuple(f for _, f in keyed)
    return ValidationReport(
        dataset=dataset,
        success=not failures,
        failures=failures,
        checked=sum(len(e) for _, _, e in batches),
        seconds=time.perf_counter() - start,
        gx_results=tuple(gx_results),
    )
