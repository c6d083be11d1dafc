"""How a suite is written down and how its failures become sentences.

A suite is a tuple of :class:`Block` rows: which table, which columns, which expectations. An
:class:`Expect` names a GX expectation class, its keyword arguments (literals, or :class:`From`
a key of the run's context) and the function that words its failure. :func:`build` turns the
rows into GX expectations for one batch; :func:`failures` turns that batch's GX result into
:class:`~tokfrag.data.validation.report.Failure` rows, each worded by its expectation's
message builder, which reads a :class:`Failed` (the expectation, GX's result, the table and
the context).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from tokfrag.data.validation.report import Failure

VALUES = "values"
EDGES = "edges"
SPLIT = "split"
DOCUMENTS = "documents"
TRAIN = "train"
CROSS_SPLIT = "cross_split"
MASK = "mask"  # derived from values under data.missing mask/interpolate
GAPS = "gaps"
OBSERVED = "observed"
_TABLE_RANK = {
    VALUES: 0, EDGES: 1, SPLIT: 2, DOCUMENTS: 3, TRAIN: 4, CROSS_SPLIT: 5,
    MASK: 6, GAPS: 7, OBSERVED: 8,
}  # fmt: skip
SHOWN = 10  # offending rows / values quoted per failure (GX's partial_unexpected_count)
TYPE_LIST = "expect_column_values_to_be_in_type_list"


@dataclass(frozen=True)
class From:
    """An expectation argument read from the run's context when the suite is built; an
    argument whose context value is None is left out."""

    key: str


@dataclass(frozen=True)
class Failed:
    """What a message builder reads: the failed expectation, GX's result and the table."""

    table: str
    column: str | None
    kwargs: dict[str, Any]
    result: dict[str, Any]
    frame: pd.DataFrame  # the batch the suite ran on
    context: Mapping[str, Any]  # the run's settings and tables

    @property
    def count(self) -> int:
        return int(self.result.get("unexpected_count") or 0)

    @property
    def label(self) -> str:
        return f"{self.table} column {self.column!r}"

    @property
    def rows(self) -> str:
        """`` (rows 3, 4, ... and 7 more)`` from GX's partial index list, or ``""``."""
        index = list(self.result.get("partial_unexpected_index_list") or [])
        count = int(self.result.get("unexpected_count") or len(index))
        if not index:
            return ""
        word = "row" if count == 1 else "rows"
        return f" ({word} {listing(index, count)})"

    @property
    def examples(self) -> str:
        """The distinct offending values GX quotes, as written in Python."""
        seen = list(self.result.get("partial_unexpected_list") or [])
        return ", ".join(fmt(v) for v in dict.fromkeys(seen)) if seen else ""

    @property
    def short_examples(self) -> str:
        """The distinct offending texts GX quotes, each cut to 60 characters."""
        seen = list(dict.fromkeys(self.result.get("partial_unexpected_list") or []))
        return ", ".join(_short(v) for v in seen)


Message = Callable[[Failed], str]


@dataclass(frozen=True)
class Expect:
    """One expectation: a class of ``gx.expectations``, its arguments, and its message."""

    gx_class: str  # e.g. "ExpectColumnValuesToNotBeNull"
    message: Message
    kwargs: Mapping[str, Any] = field(default_factory=dict)


def expect(gx_class: str, message: Message, **kwargs: Any) -> Expect:
    return Expect(gx_class, message, kwargs)


@dataclass(frozen=True)
class Block:
    """Expectations on one table, in order: once for the table (``each`` None), or for each
    column ``each`` names (every expectation of a column before the next column), with
    ``column=`` added to the arguments.

    ``each``: column names, kept when the batch has them (all of them with ``absent_too``),
    or :class:`From` a context list of columns. ``when``: a context key; the block is left
    out when its value is None.
    """

    table: str
    expectations: tuple[Expect, ...]
    each: tuple[str, ...] | From | None = None
    absent_too: bool = False
    when: str | None = None


def _columns(block: Block, frame: pd.DataFrame, context: Mapping[str, Any]) -> list[Any]:
    if block.each is None:
        return [None]
    if isinstance(block.each, From):
        return list(context[block.each.key])
    return [c for c in block.each if block.absent_too or c in frame.columns]


def build(
    gx: Any, blocks: Sequence[Block], frame: pd.DataFrame, context: Mapping[str, Any]
) -> tuple[list[Any], list[Message]]:
    """The GX expectations of one batch, and the message of each (same order). Each carries
    ``meta={"table": ..., "order": <its position>}``, by which its failure is found again."""
    expectations: list[Any] = []
    messages: list[Message] = []
    for block in blocks:
        if block.when is not None and context.get(block.when) is None:
            continue
        for column in _columns(block, frame, context):
            for row in block.expectations:
                kwargs = {
                    key: context.get(value.key) if isinstance(value, From) else value
                    for key, value in row.kwargs.items()
                }
                kwargs = {key: value for key, value in kwargs.items() if value is not None}
                if column is not None:
                    kwargs = {"column": column, **kwargs}
                meta = {"table": block.table, "order": len(expectations)}
                expectations.append(getattr(gx.expectations, row.gx_class)(meta=meta, **kwargs))
                messages.append(row.message)
    return expectations, messages


def _exception_message(evr: Any) -> str | None:
    info = getattr(evr, "exception_info", None) or {}
    if info.get("raised_exception"):
        return str(info.get("exception_message"))
    for nested in info.values():  # keyed by metric id when a metric failed to resolve
        if isinstance(nested, dict) and nested.get("raised_exception"):
            return str(nested.get("exception_message"))
    return None


def failures(
    suite_result: Any,
    frame: pd.DataFrame,
    context: Mapping[str, Any],
    messages: Sequence[Message],
) -> list[tuple[tuple[int, int], Failure]]:
    """One :class:`Failure` per failed expectation of a batch, keyed for sorting (table,
    order). An expectation GX could not evaluate gets a plain message, unless its column
    already failed its type check (a range check on a string column: the type says it all)."""
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
        order = int(meta.get("order", 0))
        key = (_TABLE_RANK.get(table, 9), order)
        message = _exception_message(evr)
        if message is not None:
            raised.append((key, kind, table, column, message))
            continue
        if kind == TYPE_LIST:
            failed_type_checks.add((table, column))
        failed = Failed(table, column, kwargs, dict(evr.result or {}), frame, context)
        found.append((key, Failure(kind, table, column, messages[order](failed))))
    for key, kind, table, column, message in raised:
        if (table, column) in failed_type_checks:
            continue
        detail = (
            f"{table} column {column!r}: GX could not evaluate {kind} ({message}); "
            "check the column's dtype and contents"
        )
        found.append((key, Failure(kind, table, column, detail)))
    return found


# --------------------------------------------------------------------------------------------
# Wording
# --------------------------------------------------------------------------------------------


def fmt(value: Any) -> str:
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return repr(value) if isinstance(value, str) else str(value)


def listing(items: Sequence[Any], total: int) -> str:
    shown = ", ".join(fmt(v) for v in items[:SHOWN])
    more = total - min(len(items), SHOWN)
    return f"{shown}, ... and {more} more" if more > 0 else shown


def _short(text: Any, width: int = 60) -> str:
    text = str(text)
    return repr(text if len(text) <= width else text[: width - 3] + "...")
