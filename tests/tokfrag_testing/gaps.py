"""A real sensor file with about half of its readings deleted, the way real networks lose
them: whole steps no sensor reported, runs of a few steps per sensor (a station offline, a
sensor replaced), and one sensor that starts late. Made from a real dataset in the shared
mirror at test (or bench) time; never committed."""

from __future__ import annotations

import numpy as np
import pandas as pd

LATE_START = 60  # the late sensor's first reading (inside Chickenpox's 107 training weeks)


def punch_gaps(
    readings: pd.DataFrame, share: float = 0.5, seed: int = 0, time: str = "week"
) -> pd.DataFrame:
    """``readings`` (``time`` + one column per sensor) with about ``share`` of the sensor
    cells emptied (NaN), in runs:

    - 3% of the steps are empty for every sensor (a network-wide outage);
    - the last sensor column has no reading before row :data:`LATE_START`;
    - then runs of 1 to 8 steps are emptied at random per sensor until the sensor misses
      ``share`` of its steps.

    Every sensor keeps readings in the first 100 rows and in the last 100, so each can be
    fitted and scored under Chickenpox's split.
    """
    rng = np.random.default_rng(seed)
    out = readings.copy()
    nodes = [c for c in out.columns if c != time]
    values = out[nodes].to_numpy(np.float64, copy=True)  # (T, N)
    steps = len(values)
    outage = rng.choice(steps, size=max(1, int(0.03 * steps)), replace=False)
    values[outage] = np.nan
    values[:LATE_START, -1] = np.nan
    for node in range(len(nodes)):
        column = values[:, node]
        while np.isnan(column).mean() < share:
            start = int(rng.integers(0, steps))
            column[start : start + int(rng.integers(1, 9))] = np.nan
        for part in (slice(LATE_START, 100), slice(steps - 100, steps)):
            if np.isnan(column[part]).all():  # keep one reading where a split needs it
                column[part.start] = readings[nodes[node]].iloc[part.start]
    out[nodes] = values
    return out
