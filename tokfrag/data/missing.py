"""Gaps in your own series: the missing-value policy (``data.missing`` in params.yaml).

:func:`apply_policy` runs in :func:`tokfrag.data.custom.load_series` on the table it read
(``t`` then one column per node, rows in time order), in this order:

1. ``missing_value``: readings equal to it (a sentinel: METR-LA and PEMS write 0 for "no
   reading") become missing, before anything else looks at the data.
2. ``max_missing_per_node``: nodes missing more than that share of their (training) steps are
   dropped, and so are the edges that touch them; they are logged by name (stderr) and
   recorded in ``meta.json``. Dropping so many that fewer than two nodes remain, or every
   edge of the edge list, is an error; so is a remaining node with no reading at all.
3. ``missing`` says what becomes of the gaps left:

   ``refuse`` (the default)  any gap is refused with one message: the share of missing
                             readings, the worst nodes, the longest gap (node, from-to times,
                             steps) and the keys that would let the data through.
   ``mask``                  the gaps stay missing (NaN) in the canonical data. Windows are
                             still cut; models read each input window filled (the node's
                             training mean) beside a 0/1 observed channel, and losses,
                             metrics and the paired item scores count observed targets only.
   ``interpolate``           a gap of at most ``max_gap`` steps with a reading on both sides
                             is filled on the straight line between those two readings (linear
                             in time, within the node; rows are steps, and the gate checks
                             that they are evenly spaced). A longer gap, one at the start or
                             end of a node's series (a reading on one side only: filling it
                             would be extrapolation, which nothing here can justify), or one
                             whose right-hand reading is a test reading, stays missing and is
                             handled as under ``mask``.

   Under ``mask`` and ``interpolate``, a node with no reading in the training rows is an
   error: nothing could be learned or filled for it.

Nothing training reads is decided or filled from later rows. When the split is known
(``train_steps``: ingest passes the rows training windows read, from ``split`` in
params.yaml), step 2 counts a node's gaps in those rows only, and ``interpolate`` fills
only gaps whose right-hand reading is a training reading. A gap in the test part stays
missing: filling it would put part of a test target into the inputs of the window that
forecasts it (the interpolated value between step t-2 and step t holds half of step t), and
would score forecasts against interpolated targets.

What was done is recorded under ``missing`` in ``meta.json`` (see :func:`apply_policy`): the
policy, the share of missing readings before any repair (in all and per node), the dropped
nodes with their shares and the number of readings interpolated.

The runs of missing readings and the rule for which are filled live in :mod:`tokfrag.data.gaps`
(:class:`Gap`, :func:`find_gaps` and :func:`interpolate` are re-exported here).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tokfrag.config import MISSING_DEFAULTS as DEFAULTS
from tokfrag.config import MISSING_POLICIES as POLICIES
from tokfrag.data.canonical import META_ATTR
from tokfrag.data.gaps import Gap, find_gaps, interpolate
from tokfrag.data.registry import DataError

__all__ = ["Gap", "Policy", "apply_policy", "find_gaps"]

log = logging.getLogger(__name__)
_WORST = 5  # nodes named in a summary
_DIGITS = 6  # shares in meta.json


@dataclass(frozen=True)
class Policy:
    """``data.missing`` and the keys beside it (validated in :class:`tokfrag.config.DataConfig`)."""

    missing: str = "refuse"
    max_gap: int | None = None
    max_missing_per_node: float = 1.0
    missing_value: float | None = None

    @classmethod
    def of(cls, raw: Mapping[str, Any] | None) -> Policy:
        raw = {**DEFAULTS, **dict(raw or {})}
        sentinel = raw["missing_value"]
        policy = cls(
            missing=str(raw["missing"]),
            max_gap=raw["max_gap"],
            max_missing_per_node=float(raw["max_missing_per_node"]),
            missing_value=None if sentinel is None else float(sentinel),
        )
        if policy.missing not in POLICIES:
            raise DataError(
                f"data.missing: {policy.missing!r} is not a policy; use one of "
                f"{', '.join(POLICIES)}"
            )
        if policy.missing == "interpolate" and (policy.max_gap is None or policy.max_gap < 1):
            raise DataError("data.missing: interpolate needs data.max_gap of at least 1 step")
        return policy


def _when(t: Any) -> str:
    """A time as the person wrote it: a step number, or an ISO date (the time of day only
    when there is one)."""
    if isinstance(t, np.datetime64 | pd.Timestamp):
        stamp = pd.Timestamp(t)
        return stamp.date().isoformat() if stamp == stamp.normalize() else stamp.isoformat()
    return str(t.item() if isinstance(t, np.generic) else t)


def _pct(share: float) -> str:
    return f"{share:.1%}" if share >= 0.001 or share == 0 else f"{share:.2%}"


@dataclass(frozen=True)
class _Table:
    """What a message says about the table: where it came from and how it names time."""

    where: str  # the file's name
    time: str  # the time column's name in the file
    t: np.ndarray  # the time of each row
    nodes: list[str]

    def gap(self, gap: Gap) -> str:
        first, last = self.t[gap.start], self.t[gap.stop - 1]
        name = self.nodes[gap.node]
        if gap.steps == 1:
            return f"node {name!r} at {self.time} {_when(first)} (1 step; row {gap.start})"
        return (
            f"node {name!r} from {self.time} {_when(first)} to {_when(last)} ({gap.steps} "
            f"steps; rows {gap.start}-{gap.stop - 1})"
        )


def _worst(table: _Table, missing: np.ndarray) -> str:
    counts = missing.sum(axis=0)
    steps = missing.shape[0]
    with_gaps = np.flatnonzero(counts)
    order = with_gaps[np.argsort(-counts[with_gaps], kind="stable")]
    shown = ", ".join(
        f"{table.nodes[i]!r} {_pct(counts[i] / steps)} ({int(counts[i]):,} of {steps:,} steps)"
        for i in order[:_WORST]
    )
    more = len(order) - _WORST
    return shown + (f", and {more} more node(s) with gaps" if more > 0 else "")


def _ways_forward(policy: Policy, longest_interior: int | None, edge_gaps: bool) -> str:
    """The keys that would let the data through, for the gaps there are."""
    steps = longest_interior or "<steps>"
    sentinel = (
        f"data.missing_value (now {policy.missing_value:g}) if another reading means no reading"
        if policy.missing_value is not None
        else "data.missing_value: <number> if a reading such as 0 means no reading (as in "
        "METR-LA and PEMS)"
    )
    fill = (
        f"data.missing: interpolate with data.max_gap: {steps} fills each gap of up to that "
        "many steps on the straight line between the readings on its two sides"
        + (f" ({steps}: the longest such gap here)" if longest_interior else "")
        + " and masks the rest"
    )
    edge = " (a gap at the start or end of a node's series is never filled, only masked)"
    return (
        "To go on, in params.yaml: data.missing: mask keeps the gaps and trains and scores on "
        f"the observed readings only; {fill}{edge if edge_gaps else ''}; "
        "data.max_missing_per_node: <share> drops the nodes missing more than that share of "
        f"their steps, with their edges; {sentinel}. Or fill or drop those readings in the file."
    )


def summary(
    table: _Table,
    missing: np.ndarray,
    gaps: list[Gap],
    policy: Policy,
    *,
    dropped: Mapping[str, float] | None = None,
) -> str:
    """One message for every gap (not one line per column): what is missing, where the worst
    of it is, the longest gap, and the keys that would let the data through."""
    steps, num_nodes = missing.shape
    cells = int(missing.sum())
    nodes_with_gaps = int(missing.any(axis=0).sum())
    what = "empty or NaN" + (
        f", or equal to data.missing_value {policy.missing_value:g}"
        if policy.missing_value is not None
        else ""
    )
    after = (
        f" (after data.max_missing_per_node {policy.max_missing_per_node:g} dropped "
        f"{len(dropped)} node(s))"
        if dropped
        else ""
    )
    share = (
        f"{cells:,} of {steps * num_nodes:,} readings ({_pct(cells / (steps * num_nodes))}) are "
        f"missing ({what}) in {nodes_with_gaps} of {num_nodes} nodes{after}"
    )
    interior = [g.steps for g in gaps if g.interior(steps)]
    longest_interior = max(interior) if interior else None
    longest = max(gaps, key=lambda g: g.steps)
    edge_gaps = any(not g.interior(steps) for g in gaps)
    return "\n".join(
        [
            f"{table.where}: {share}, and data.missing is refuse (the default).",
            f"  Worst nodes: {_worst(table, missing)}.",
            f"  Longest gap: {table.gap(longest)}.",
            f"  {_ways_forward(policy, longest_interior, edge_gaps)}",
        ]
    )


def apply_policy(
    values: pd.DataFrame,
    edges: pd.DataFrame,
    raw_policy: Mapping[str, Any] | None,
    *,
    where: str,
    time: str = "t",
    train_steps: int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``values`` (``t`` + one column per node, in time order) and ``edges`` with the policy
    applied (see the module's docstring); raises :class:`DataError` for what it refuses.

    ``train_steps``: the rows a training window may read (``[0, train_steps)``, from the
    split in params.yaml), when known. Then nothing seen by training is decided or filled
    from later rows: ``max_missing_per_node`` counts a node's gaps in those rows only, and
    ``interpolate`` fills only gaps whose right-hand reading is in them.

    The returned ``values`` carries, in ``attrs[META_ATTR]``, the ``missing`` record that
    :func:`tokfrag.data.canonical.write_canonical` puts in ``meta.json``: ``policy``,
    ``max_gap``, ``max_missing_per_node``, ``missing_value``; ``cells`` (steps x nodes, as
    read), ``missing_cells`` and ``missing_share`` (before any repair, sentinel readings
    included; ``sentinel_cells`` of them were ``missing_value``); ``missing_share_per_node``
    (every node with a gap, dropped ones included: a node not listed had none);
    ``dropped_nodes`` (name -> share) and ``dropped_edges``; ``interpolated_cells`` and
    ``interpolated_gaps``; ``masked_cells`` and ``masked_cells_per_node`` (the readings left
    missing in the returned values: what ``mask`` and ``interpolate`` leave to masking).
    Any other check (times, values) is left to the gate.
    """
    policy = Policy.of(raw_policy)
    nodes = [str(c) for c in values.columns if c != "t"]
    matrix = values[nodes].to_numpy(np.float64, copy=True)
    steps = matrix.shape[0]
    sentinel = 0
    if policy.missing_value is not None:
        hit = matrix == policy.missing_value
        sentinel = int(hit.sum())
        matrix[hit] = np.nan
    missing = np.isnan(matrix)
    share = missing.mean(axis=0) if steps else np.zeros(len(nodes))
    record: dict[str, Any] = {
        "policy": policy.missing,
        "max_gap": policy.max_gap,
        "max_missing_per_node": policy.max_missing_per_node,
        "missing_value": policy.missing_value,
        "cells": int(missing.size),
        "missing_cells": int(missing.sum()),
        "missing_share": round(float(missing.mean()), _DIGITS) if missing.size else 0.0,
        "sentinel_cells": sentinel,
        "missing_share_per_node": {
            n: round(float(s), _DIGITS) for n, s in zip(nodes, share, strict=True) if s > 0
        },
        "dropped_nodes": {},
        "dropped_edges": 0,
        "interpolated_cells": 0,
        "interpolated_gaps": 0,
    }

    # Dropping is decided on what training sees, not on how much of the test part is missing.
    seen = missing[:train_steps] if train_steps else missing
    seen_share = seen.mean(axis=0) if len(seen) else share
    record["dropped_by_share_of"] = "training steps" if train_steps else "all steps"
    drop = seen_share > policy.max_missing_per_node
    dropped = {
        n: round(float(s), _DIGITS) for n, s, d in zip(nodes, seen_share, drop, strict=True) if d
    }
    if dropped:
        kept = len(nodes) - len(dropped)
        if kept < 2:
            raise DataError(
                f"{where}: data.max_missing_per_node {policy.max_missing_per_node:g} drops "
                f"{len(dropped)} of {len(nodes)} nodes (missing more than "
                f"{_pct(policy.max_missing_per_node)} of their steps), leaving {kept}; a graph "
                "needs at least two nodes. The nodes' missing shares run from "
                f"{_pct(float(seen_share.min()))} to {_pct(float(seen_share.max()))}: raise "
                "data.max_missing_per_node"
            )
        gone = edges["source"].isin(list(dropped)) | edges["target"].isin(list(dropped))
        if len(edges) and gone.all():
            raise DataError(
                f"{where}: data.max_missing_per_node {policy.max_missing_per_node:g} drops "
                f"{', '.join(repr(n) for n in dropped)}, and with them every edge of the edge "
                "list (data.source.edges); raise data.max_missing_per_node, or remove "
                "data.source.edges for a correlation graph of the nodes left"
            )
        edges = edges.loc[~gone].reset_index(drop=True)
        record["dropped_nodes"] = dropped
        record["dropped_edges"] = int(gone.sum())
        shown = ", ".join(f"{n!r} ({_pct(s)} missing)" for n, s in dropped.items())
        log.warning(
            "%s: data.max_missing_per_node %g dropped %d of %d nodes, missing more than %s of "
            "their steps: %s; and %d edge(s) touching them",
            where,
            policy.max_missing_per_node,
            len(dropped),
            len(nodes),
            _pct(policy.max_missing_per_node),
            shown,
            record["dropped_edges"],
        )
        keep = ~drop
        nodes = [n for n, k in zip(nodes, keep, strict=True) if k]
        matrix, missing = matrix[:, keep], missing[:, keep]

    empty = [n for n, m in zip(nodes, missing.T, strict=True) if steps and m.all()]
    if empty:
        shown = ", ".join(repr(n) for n in empty[:_WORST]) + (", ..." if len(empty) > 5 else "")
        raise DataError(
            f"{where}: {len(empty)} node(s) have no reading at all ({shown}): every one of "
            f"their {steps} steps is empty, NaN"
            + (
                f" or data.missing_value {policy.missing_value:g}"
                if policy.missing_value is not None
                else ""
            )
            + "; remove those columns, or set data.max_missing_per_node below 1 (e.g. 0.5) to "
            "drop nodes missing more than that share of their steps"
        )

    table = _Table(where, time, values["t"].to_numpy(), nodes)
    gaps = find_gaps(missing)
    if gaps and policy.missing == "refuse":
        raise DataError(summary(table, missing, gaps, policy, dropped=dropped))
    if gaps and policy.missing == "interpolate":
        max_gap = policy.max_gap or 0  # checked >= 1 for interpolate when the policy is read
        filled = [g for g in gaps if g.fillable(steps, max_gap, train_steps)]
        matrix = interpolate(matrix, filled)
        record["interpolated_cells"] = sum(g.steps for g in filled)
        record["interpolated_gaps"] = len(filled)
        log.info(
            "%s: data.missing: interpolate filled %d readings in %d of %d gaps "
            "(data.max_gap %d); the other gaps are masked",
            where,
            record["interpolated_cells"],
            len(filled),
            len(gaps),
            policy.max_gap,
        )
    left = np.isnan(matrix)
    if left.any() and train_steps:
        unseen = [n for n, m in zip(nodes, left[:train_steps].T, strict=True) if m.all()]
        if unseen:
            shown = ", ".join(repr(n) for n in unseen[:_WORST]) + (
                ", ..." if len(unseen) > _WORST else ""
            )
            raise DataError(
                f"{where}: {len(unseen)} node(s) have no reading in the training rows (rows "
                f"0-{train_steps - 1}, {table.time} {_when(values['t'].iloc[0])} to "
                f"{_when(values['t'].iloc[train_steps - 1])}): {shown}. Nothing can be learned "
                "or filled for them; drop them with data.max_missing_per_node (they are missing "
                "100% of their training steps), or raise split.train_ratio"
            )
    per_node = left.sum(axis=0)
    record["masked_cells"] = int(left.sum())
    record["masked_cells_per_node"] = {
        n: int(c) for n, c in zip(nodes, per_node, strict=True) if c > 0
    }
    if record["masked_cells"]:
        log.info(
            "%s: data.missing: %s keeps %d missing readings (%s) in %d node(s); losses and "
            "metrics count observed targets only",
            where,
            policy.missing,
            record["masked_cells"],
            _pct(record["masked_cells"] / max(left.size, 1)),
            len(record["masked_cells_per_node"]),
        )

    columns = {name: matrix[:, i] for i, name in enumerate(nodes)}
    out = pd.DataFrame({"t": values["t"].to_numpy(), **columns}, index=values.index)
    out.attrs[META_ATTR] = {"missing": record}
    return out, edges
