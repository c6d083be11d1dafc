"""Part 1 of bench/fragments.py: slicer throughput (windows/second).

``slice_windows`` (strided views; and with a split-like snapshot selection, an evenly spaced
run that stays a view) against a naive Python loop that builds the same windows with
``np.stack`` of slices, on the same data in the same run (Chickenpox lags 4 / horizon 1 and
Los-loop lags 12 / horizon 12), with the ratios; both must give identical arrays.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from common import best_of, load_base, scratch_project
from records import Record, record

# (dataset, lags, horizon) the slicer is timed on
CASES = (("chickenpox", 4, 1), ("los_loop", 12, 12))


def naive_windows(
    values: np.ndarray, lags: int, horizon: int, snapshots: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The same windows as ``slice_windows``, built the obvious way: a Python loop of slices."""
    count = values.shape[0] - lags - horizon + 1
    idx = range(count) if snapshots is None else snapshots
    x = np.stack([values[i : i + lags].T for i in idx])
    y = np.stack([values[i + lags : i + lags + horizon].T for i in idx])
    return x, y


def slicer_records(
    name: str, values: np.ndarray, lags: int, horizon: int, repeats: int
) -> list[Record]:
    from tokfrag.models.windows import slice_windows

    count = values.shape[0] - lags - horizon + 1
    # A selection like a split's: every snapshot but a few, so both sides build ~all windows.
    snapshots = np.arange(count)[: int(count * 0.8)]
    xv, yv = slice_windows(values, lags, horizon)
    xs, ys = slice_windows(values, lags, horizon, snapshots)
    xn, yn = naive_windows(values, lags, horizon)
    xns, yns = naive_windows(values, lags, horizon, snapshots)
    assert np.array_equal(xv, xn) and np.array_equal(yv, yn), "views differ from the loop"
    assert np.array_equal(xs, xns) and np.array_equal(ys, yns), "selection differs from the loop"
    assert not xv.flags.owndata and not xv.flags.writeable, "slice_windows copied"
    assert np.shares_memory(xs, values), "slice_windows copied the selection"

    best = best_of(
        {
            "view": lambda: slice_windows(values, lags, horizon),
            "select": lambda: slice_windows(values, lags, horizon, snapshots),
            "naive": lambda: naive_windows(values, lags, horizon),
            "naive_select": lambda: naive_windows(values, lags, horizon, snapshots),
        },
        repeats,
    )
    n_sel = len(snapshots)
    rate = {
        "view": count / best["view"],
        "select": n_sel / best["select"],
        "naive": count / best["naive"],
        "naive_select": n_sel / best["naive_select"],
    }
    protocol = (
        f"{values.shape[0]} steps x {values.shape[1]} nodes, lags {lags}, horizon {horizon}: "
        f"{count} windows (selection: first {n_sel}); best of {repeats}, arrays checked equal"
    )
    models = {
        "view": "slice_windows (strided views)",
        "select": "slice_windows + snapshot selection (view)",
        "naive": "naive loop (np.stack of slices)",
        "naive_select": "naive loop over the selection",
    }
    out = [
        record(name, protocol, models[k], "slicer", "windows_per_second", rate[k], seconds=best[k])
        for k in models
    ]
    for model, fast, slow in (
        ("slice_windows / naive loop (views)", "view", "naive"),
        ("slice_windows / naive loop (selection)", "select", "naive_select"),
    ):
        out.append(record(name, protocol, model, "slicer", "ratio", rate[fast] / rate[slow]))
    return out


def slicer(params_path: Path, quick: bool) -> list[Record]:
    """The slicer records of every case, each dataset ingested into its own scratch project."""
    from tokfrag import stages
    from tokfrag.data.canonical import load_series

    repeats = 3 if quick else 20
    records: list[Record] = []
    for name, lags, horizon in CASES:
        params = load_base(params_path, name)
        root = scratch_project(f"fragments-slicer-{name}")
        stages.ingest(params, root)
        values = load_series(root / "data" / name).values
        recs = slicer_records(name, values, lags, horizon, repeats)
        records += recs
        for r in recs:
            print(f"  {name:<10} {r.model:<48} {r.metric:<18} {r.value:,.1f}")
    return records
