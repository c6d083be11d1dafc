"""The prepared series as every stage after ``prepare`` sees it: the validated series and
its split, the windows of each part, the calendar ``prepare`` chose and the training means.
"""

from __future__ import annotations

import numpy as np

from tokfrag.config import Params
from tokfrag.kinds.base import check_prepared
from tokfrag.layout import Layout, StageError, read_json


def load_inputs(params: Params, layout: Layout):
    """The validated series and its split, as every stage after `prepare` sees them."""
    from tokfrag.data.canonical import load_series
    from tokfrag.data.splits import chronological_split

    series = load_series(layout.data_dir)
    s = params.split
    split = chronological_split(
        series.num_steps, s.lags, s.horizon, s.train_ratio, s.val_fraction, s.by
    )
    check_prepared(layout, split.fingerprint(), series.sha256)
    return series, split


def windows(series, split, part: str | np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Input windows ``(S, N, L)``, targets ``(S, N, H)`` and the time index of each
    window's most recent input step ``(S,)`` for one part of the split (or snapshots)."""
    from tokfrag.models.windows import slice_windows

    snapshots = getattr(split, part) if isinstance(part, str) else part
    x, y = slice_windows(series.values, split.lags, split.horizon, snapshots)
    return x, y, series.time[np.asarray(snapshots) + split.lags - 1]


def scored_windows(series, split) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The test windows that are scored: those with at least one observed target (every
    window, when the series has no gap), and which of the split's test windows they are
    (``keep``, bool ``(S_test,)``: the others were left out for having none)."""
    from tokfrag.train.metrics import observed_windows

    x, y, t = windows(series, split, "test")
    keep = observed_windows(y)
    if not keep.any():
        raise StageError(
            f"no test window has an observed target: all {len(y)} test windows' targets are "
            "missing, so nothing can be scored; move split.train_ratio, or drop the nodes "
            "whose test part is empty (data.max_missing_per_node)"
        )
    return x[keep], y[keep], t[keep], keep


def reads_gaps(params: Params) -> bool:
    """Whether the series may keep gaps (``data.missing`` mask or interpolate): models are
    then built with an observed channel and baselines with a per-node fill."""
    return params.data.missing != "refuse"


def training_means(layout: Layout) -> np.ndarray:
    """Each node's training mean ``(N,)``: the scaler ``prepare`` fit on training steps."""
    return np.asarray(read_json(layout.prepared / "scaler.json", "prepare")["mean"], np.float64)


def choose_calendar(params: Params, series, train_steps: int):
    """The calendar covariates for this series, or ``None``, and why: a clock comes from
    dates in the time column, from ``calendar.start`` / ``calendar.step``, or from the
    built-in dataset's known start and step."""
    import pandas as pd

    from tokfrag.models.calendar import CalendarSpec

    config = params.calendar
    if not config.enabled:
        return None, "calendar.enabled is false"
    if series.time_unit == "ns":
        steps = np.diff(series.time[: max(train_steps, 2)])
        step_seconds = float(np.median(steps)) / 1e9
        spec = CalendarSpec.choose("ns", step_seconds, train_steps, config.harmonics)
        clock = "dates in the time column"
    else:
        from tokfrag.data.registry import DATASETS

        # Data ingested before clocks were recorded: the registry still knows a built-in one.
        known = series.clock or (DATASETS[series.name].clock if series.name in DATASETS else {})
        step = config.step or known.get("step")
        start = config.start or known.get("start")
        if step is None or start is None:
            return None, (
                "the time column holds step numbers and the clock is unknown; set "
                "calendar.start (the date of step 0) and calendar.step (e.g. 5min, 1D)"
            )
        seconds = pd.Timedelta(step).total_seconds()
        stamp = pd.Timestamp(start)
        epoch = (stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp).timestamp()
        spec = CalendarSpec.choose("steps", seconds, train_steps, config.harmonics, epoch)
        clock = f"step 0 at {start}, one step every {step}"
    if not spec.cycles:
        return None, f"no cycle is both 4 steps long and covered by the training steps ({clock})"
    return spec, f"{', '.join(spec.cycles)} ({config.harmonics} harmonic(s)); {clock}"


def calendar_fingerprint(layout: Layout) -> str:
    import hashlib
    import json

    record = read_json(layout.prepared / "calendar.json", "prepare")
    return hashlib.sha256(json.dumps(record["spec"], sort_keys=True).encode()).hexdigest()[:12]


def read_calendar(layout: Layout):
    """The calendar ``prepare`` chose (``None`` when it chose none)."""
    from tokfrag.models.calendar import CalendarSpec

    record = read_json(layout.prepared / "calendar.json", "prepare")
    return None if record["spec"] is None else CalendarSpec.from_dict(record["spec"])
