"""The measured rows of a dataset's table: one per model, merged across result files.

Rows of the same model measured by several suites with the same values (same seeds, so the
same fits) are shown once, listing every file.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from records import Record, ResultFile
from report_format import higher_is_better, metric_order, seeds_text

MEASURED = ("token", "fragment", "baseline")  # family order of the rows
OWN_SECTIONS = ("tuning.json", "orchestration.json", "speed.json")
MIN_SEEDS = 3


@dataclass
class Row:
    """One measured model on one dataset: metric -> (mean, std), merged across files."""

    model: str
    family: str
    files: list[str]
    values: dict[str, tuple[float, float | None]]
    n_seeds: int | None
    seconds: float | None
    quick: bool
    protocols: list[str]
    notes: list[str] = field(default_factory=list)


def is_quality(r: Record) -> bool:
    return r.family in MEASURED and str(r.metric).startswith("test_")


def table_files(files: Sequence[ResultFile]) -> list[ResultFile]:
    """The files whose model records feed the dataset tables."""
    return [f for f in files if f.superseded_by is None and f.name not in OWN_SECTIONS]


def rows_for(dataset: str, files: Sequence[ResultFile]) -> list[Row]:
    """The measured rows of ``dataset``: token, then fragment, then baseline, best first."""
    rows: list[Row] = []
    for f in table_files(files):
        grouped: dict[tuple[str, str, str], Row] = {}
        for r in f.records:
            if r.dataset != dataset or not is_quality(r) or r.value is None:
                continue
            key = (r.model, r.family, r.protocol)
            quick = f.quick or "[QUICK" in r.protocol
            row = grouped.setdefault(
                key,
                Row(
                    r.model,
                    r.family,
                    [f.name],
                    {},
                    r.n_seeds,
                    r.seconds,
                    quick,
                    [r.protocol],
                ),
            )
            row.values[r.metric] = (float(r.value), r.std)
            if r.get("note") and r.get("note") not in row.notes:
                row.notes.append(str(r.get("note")))
        for row in grouped.values():
            _merge_into(rows, row)
    for row in rows:
        if row.family != "baseline" and (row.n_seeds or 0) < MIN_SEEDS:
            row.notes.insert(0, f"{seeds_text(row.n_seeds)}, fewer than {MIN_SEEDS}")
        if row.quick:
            row.notes.insert(0, "QUICK run")
    order = {family: i for i, family in enumerate(MEASURED)}
    headline = metric_order({m for row in rows for m in row.values})[:1]
    return sorted(rows, key=lambda row: (order[row.family], *rank(row, headline)))


def rank(row: Row, headline: list[str]) -> tuple[float]:
    if not headline or headline[0] not in row.values:
        return (math.inf,)
    value = row.values[headline[0]][0]
    return (-value if higher_is_better(headline[0]) else value,)


def _same_measurement(a: Row, b: Row) -> bool:
    shared = set(a.values) & set(b.values)
    return (
        a.family == b.family
        and a.n_seeds == b.n_seeds
        and bool(shared)
        and all(math.isclose(a.values[m][0], b.values[m][0], rel_tol=1e-6) for m in shared)
    )


def _merge_into(rows: list[Row], new: Row) -> None:
    """Add ``new``, or fold it into the row it repeats (same fits measured by another suite)."""
    for row in rows:
        if _same_measurement(row, new):
            if len(new.values) > len(row.values):  # the fuller record leads (its seconds)
                row.seconds = new.seconds
                row.files[:0] = new.files
            else:
                row.files.extend(new.files)
            row.values = {**new.values, **row.values}
            row.model = max((row.model, new.model), key=lambda name: (len(name), name))
            row.quick = row.quick and new.quick
            row.protocols += [p for p in new.protocols if p not in row.protocols]
            return
    rows.append(new)


def best(rows: Sequence[Row], metric: str) -> float | None:
    values = [row.values[metric][0] for row in rows if metric in row.values]
    if not values:
        return None
    return max(values) if higher_is_better(metric) else min(values)
