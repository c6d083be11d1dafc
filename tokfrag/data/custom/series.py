"""Your node series (wide or long) and optional edge list -> ``(values, edges)``.

:func:`load_series` returns the tables the built-in series loaders return, with the
``data.missing`` policy (:mod:`tokfrag.data.missing`) applied last.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tokfrag.data.custom.cells import check_text_columns, format_time, parse_time, to_numbers
from tokfrag.data.custom.formats import (
    check_distinct_header,
    read_header,
    read_table,
    require_columns,
    row_at,
    suffix_format,
)
from tokfrag.data.limits import check_dense_graph
from tokfrag.data.specs import DataError


def load_series(
    values_path: Path,
    edges_path: Path | None = None,
    *,
    file_format: str,
    layout: str | None,
    time: str,
    node: str | None = None,
    value: str | None = None,
    edge_source: str = "source",
    edge_target: str = "target",
    edge_weight: str | None = None,
    missing_policy: dict[str, Any] | None = None,
    split: dict[str, Any] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Your node series (wide or long) and optional edge list -> ``(values, edges)``, the
    tables :func:`tokfrag.data.loaders.load_pgt_json` returns.

    ``missing_policy`` (``data.missing`` and the keys beside it, as
    :meth:`~tokfrag.config.DataConfig.missing_policy` gives them; :func:`custom_spec` always
    passes it) is applied last, by :func:`tokfrag.data.missing.apply_policy`: missing
    readings are refused in one summary, or interpolated, and nodes dropped; what was done
    goes to ``meta.json``. Without it (None), empty cells stay NaN for the gate to report.
    ``split`` (``lags``, ``horizon``, ``by``, ``train_ratio``, ``val_fraction``) gives the
    policy the rows training reads.

    Wide: every column but ``time`` is a node, in file order. Long: one row per (time, node)
    reading; nodes in order of first appearance; a (time, node) pair that is absent, or
    given twice, is an error (a reading that is present but empty is NaN: a gap, for
    ``missing_policy`` below).

    Without an edge list, the node count must leave room for the dense correlation graph
    `prepare` builds (:func:`tokfrag.data.limits.check_dense_graph`); a wide table's header
    is counted before the file is read.
    """
    values_path = Path(values_path)
    layout = layout or "wide"
    if layout == "wide" and edges_path is None:
        header = read_header(values_path, file_format)
        if header is not None:
            _graph_fits(values_path, len([c for c in header if c != time]))
    frame = read_table(values_path, file_format, (node,) if node else ())
    if layout == "wide":
        require_columns(values_path, frame, {"time": time})
        check_distinct_header(values_path, file_format)
        nodes = [c for c in frame.columns if c != time]
        if not nodes:
            raise DataError(
                f"{values_path.name}: only the time column {time!r}; a wide table needs one "
                "column per node (or set data.source.layout: long)"
            )
        for c in nodes:
            if str(c).startswith("Unnamed: ") or not str(c).strip():
                raise DataError(
                    f"{values_path.name}: column {c!r} has no name in the header: an index "
                    "written by pandas (to_csv without index=False) or a spreadsheet; drop "
                    "that column, or name it if it is a node"
                )
        check_text_columns(values_path, frame, nodes, time, file_format)
        t = parse_time(values_path, frame[time], file_format)
        matrix = {
            str(c): to_numbers(
                values_path,
                frame[c],
                "a node: every column but data.source.time; is the table long? set "
                "data.source.layout: long",
                file_format,
            )
            for c in nodes
        }
        values = pd.DataFrame(matrix)
    else:
        require_columns(values_path, frame, {"time": time, "node": node, "value": value})
        empty = frame[node].isna()
        if empty.any():
            row = int(np.flatnonzero(empty.to_numpy())[0])
            raise DataError(
                f"{values_path.name}: {row_at(values_path, row, file_format)}, column {node!r} "
                "(data.source.node) is empty; every reading needs a node"
            )
        long = pd.DataFrame(
            {
                "t": parse_time(values_path, frame[time], file_format),
                "node": frame[node].astype(str).to_numpy(),
                "value": to_numbers(values_path, frame[value], "data.source.value", file_format),
            }
        )
        repeated = long.duplicated(["t", "node"], keep="first")
        if repeated.any():
            row = int(np.flatnonzero(repeated.to_numpy())[0])
            raise DataError(
                f"{values_path.name}: {row_at(values_path, row, file_format)}: node "
                f"{long['node'].iloc[row]!r} at time {frame[time].iloc[row]} is given twice "
                f"({int(repeated.sum())} repeats); keep one reading per node and time"
            )
        order = list(pd.unique(long["node"]))
        if edges_path is None:
            _graph_fits(values_path, len(order))
        _all_pairs(values_path, long, order, frame[time].name)
        wide = long.pivot(index="t", columns="node", values="value")
        wide = wide.reindex(columns=order)
        t = pd.Series(wide.index.to_numpy())
        values = pd.DataFrame(
            {str(c): wide[c].to_numpy(np.float64) for c in order}, index=range(len(wide))
        )
    _check_values(values_path, values, t, file_format)
    if "t" in values.columns:
        raise DataError(
            f"{values_path.name}: a node is named 't', the name the canonical table gives the "
            "time column; rename that node"
        )
    values.insert(0, "t", np.asarray(t))
    # Rows in time order (stable: repeated times stay visible to the gate, which rejects them).
    values = values.sort_values("t", kind="stable").reset_index(drop=True)
    edges = _edges(edges_path, edge_source, edge_target, edge_weight)
    if missing_policy is None:
        return values, edges
    from tokfrag.data.missing import apply_policy

    return apply_policy(
        values,
        edges,
        missing_policy,
        where=values_path.name,
        time=str(time),
        train_steps=_train_steps(len(values), split),
    )


def _train_steps(num_steps: int, split: dict[str, Any] | None) -> int | None:
    """The rows ``[0, n)`` a training window reads under ``split``; None when no split is
    given, or the series is too short for it (the gate then says so)."""
    if split is None:
        return None
    from tokfrag.data.splits import SplitError, chronological_split

    try:
        return chronological_split(
            num_steps,
            split["lags"],
            split["horizon"],
            split["train_ratio"],
            split["val_fraction"],
            by=split["by"],
        ).train_steps_end
    except SplitError:
        return None


def _graph_fits(path: Path, num_nodes: int) -> None:
    check_dense_graph(
        num_nodes,
        f"{path.name} (no edge list)",
        "give an edge list in data.source.edges (then no correlation graph is built), or "
        "fewer nodes",
    )


def _all_pairs(path: Path, long: pd.DataFrame, order: list[Any], time: Any) -> None:
    """A long table needs a row for every (time, node) pair: name how many are absent."""
    times = pd.unique(long["t"])
    if len(long) == len(times) * len(order):  # pairs are distinct here: all are present
        return
    present = pd.MultiIndex.from_frame(long[["t", "node"]])
    every = pd.MultiIndex.from_product([np.sort(times), order], names=["t", "node"])
    absent = every[~every.isin(present)]
    shown = "; ".join(f"{time} {format_time(t)}, node {n!r}" for t, n in absent[:3])
    raise DataError(
        f"{path.name}: {len(absent)} (time, node) pairs have no row: {len(times)} times x "
        f"{len(order)} nodes need {len(every)} rows, the long table has {len(long)}; for "
        f"example {shown}{'; ...' if len(absent) > 3 else ''}. Add a row for each (with an "
        "empty value where the reading is missing: data.missing then refuses or fills it)"
    )


def _check_values(path: Path, values: pd.DataFrame, t: Any, file_format: str) -> None:
    """What the canonical table cannot hold or learn from: one node, readings beyond
    float32 (the models' precision), or no node that ever changes."""
    if values.shape[1] < 2:
        raise DataError(
            f"{path.name}: one node ({list(values.columns)}); tokfrag compares models over a "
            "graph of series and needs at least two nodes (columns in a wide table, distinct "
            "data.source.node values in a long one)"
        )
    limit = float(np.finfo(np.float32).max)
    magnitude = np.abs(values.to_numpy(np.float64))
    big = np.isfinite(magnitude) & (magnitude > limit)  # inf and NaN: the gate names them
    if big.any():
        row, col = (int(i[0]) for i in np.nonzero(big))
        raise DataError(
            f"{path.name}: time {np.asarray(t)[row]}, node {values.columns[col]!r}: "
            f"{float(values.iat[row, col])!r} is beyond float32's range (|x| <= {limit:.3g}), "
            f"which the models compute in ({int(big.sum())} such readings); rescale the "
            "values (e.g. to thousands or millions of the unit)"
        )
    spread = values.max() - values.min()
    if len(values) > 1 and not (spread > 0).any():
        raise DataError(
            f"{path.name}: every node's series is constant (all {values.shape[1]} nodes); "
            "there is nothing to forecast; check that the value columns hold the readings"
        )


def _edges(path: Path | None, source: str, target: str, weight: str | None) -> pd.DataFrame:
    if path is None:
        return pd.DataFrame(
            {
                "source": pd.Series([], dtype=object),
                "target": pd.Series([], dtype=object),
                "weight": pd.Series([], dtype=np.float64),
            }
        )
    path = Path(path)
    file_format = suffix_format(path)
    frame = read_table(path, file_format, (source, target))
    require_columns(
        path, frame, {"edge_source": source, "edge_target": target, "edge_weight": weight}
    )
    for key, column in (("edge_source", source), ("edge_target", target)):
        empty = frame[column].isna()
        if empty.any():
            row = int(np.flatnonzero(empty.to_numpy())[0])
            raise DataError(
                f"{path.name}: {row_at(path, row, file_format)}, column {column!r} "
                f"(data.source.{key}) is empty; every edge needs two node names"
            )
    if frame.empty:
        raise DataError(
            f"{path.name}: no edges (a header and no rows); add the edges, or remove "
            "data.source.edges to let tokfrag build a correlation graph from the training steps"
        )
    weights = (
        to_numbers(path, frame[weight], "data.source.edge_weight", file_format)
        if weight is not None
        else np.ones(len(frame))
    )
    edges = pd.DataFrame(
        {
            "source": frame[source].astype(str).tolist(),
            "target": frame[target].astype(str).tolist(),
            "weight": weights,
        }
    )
    repeated = edges.duplicated(["source", "target"], keep="first")
    if repeated.any():
        row = int(np.flatnonzero(repeated.to_numpy())[0])
        raise DataError(
            f"{path.name}: {row_at(path, row, file_format)}: the edge "
            f"{edges['source'].iloc[row]!r} -> {edges['target'].iloc[row]!r} is given again "
            f"({int(repeated.sum())} repeats); keep one row per edge (sum their weights "
            "yourself if that is what they mean)"
        )
    if (edges["source"] == edges["target"]).all():
        raise DataError(
            f"{path.name}: every edge joins a node to itself, so the graph links no two "
            "nodes; add the edges between nodes, or remove data.source.edges for a "
            "correlation graph"
        )
    if weight is not None and not (np.nan_to_num(weights) != 0).any():
        raise DataError(
            f"{path.name}: every weight in column {weight!r} (data.source.edge_weight) is 0, "
            "so the graph has no edges in effect; fix the weights, or remove "
            "data.source.edge_weight to weigh every edge 1"
        )
    return edges
