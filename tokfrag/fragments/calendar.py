"""Optional calendar features: sin/cos encodings of where each time step falls in a cycle.

The datasets here carry step numbers, not timestamps, so the features come from the step index
``t`` and the number of steps per cycle: for a period ``P`` the pair

    sin(2 pi (t + offset) / P),  cos(2 pi (t + offset) / P)

places step ``t`` on the unit circle, so the last step of a cycle sits next to the first (no
jump at midnight or at New Year, unlike a raw ``t mod P``). Typical settings:

* Los-loop, five-minute steps: ``steps_per_day=288`` (time of day) and, with more than a week
  of data, ``steps_per_week=2016`` (day of week). Los-loop itself spans exactly 7 days, so an
  80/20 split never shows the weekly phases of its last ~1.4 days to training: leave the weekly
  pair off there.
* Chickenpox, weekly steps: ``steps_per_year=52`` (week of year; ``52.1775`` for the mean
  Gregorian year if drift over the 10 years matters).

The features depend only on the step index, never on the values, so computing them over the
whole series leaks nothing from the test split. They are known in advance for future steps:
``slice_windows(features, lags, horizon)`` gives ``(S, F, lags)`` input-side and
``(S, F, horizon)`` target-side features aligned with the value windows.
"""

from __future__ import annotations

import math

import numpy as np


def _periods(
    steps_per_day: float | None, steps_per_week: float | None, steps_per_year: float | None
) -> list[tuple[str, float]]:
    periods = []
    for name, period in (
        ("day", steps_per_day),
        ("week", steps_per_week),
        ("year", steps_per_year),
    ):
        if period is None:
            continue
        if isinstance(period, bool) or not math.isfinite(period) or period <= 1:
            raise ValueError(
                f"steps_per_{name} must be a finite number of steps greater than 1, got {period!r}"
            )
        periods.append((name, float(period)))
    return periods


def calendar_feature_names(
    steps_per_day: float | None = None,
    steps_per_week: float | None = None,
    steps_per_year: float | None = None,
) -> list[str]:
    """Column names of :func:`calendar_features` for the same arguments, e.g.
    ``["day_sin", "day_cos", "week_sin", "week_cos"]``."""
    return [
        f"{name}_{part}"
        for name, _ in _periods(steps_per_day, steps_per_week, steps_per_year)
        for part in ("sin", "cos")
    ]


def calendar_features(
    num_steps: int,
    steps_per_day: float | None = None,
    steps_per_week: float | None = None,
    steps_per_year: float | None = None,
    *,
    offset: int = 0,
) -> np.ndarray:
    """Sin/cos cycle encodings of the step index ``t = 0 .. num_steps - 1``.

    Args:
        num_steps: ``T``, the number of time steps (rows).
        steps_per_day: steps in one day (time-of-day pair), e.g. 288 for five-minute steps.
        steps_per_week: steps in one week (day-of-week pair), e.g. 2016 for five-minute steps.
        steps_per_year: steps in one year (time-of-year pair), e.g. 52 for weekly steps.
        offset: the position of step 0 inside every cycle, in steps (0 when the series starts
            at midnight at the start of the week / year); it only rotates each pair.

    Returns:
        ``(T, F)`` float64 with ``F = 2 x`` (number of periods given), columns in the order
        day, week, year, each as ``sin`` then ``cos`` (names from
        :func:`calendar_feature_names`). ``F = 0`` when no period is given. Row ``t`` equals
        row ``t + P`` for each integer period ``P`` given, and every pair lies on the unit
        circle.

    Raises:
        ValueError: a negative ``num_steps`` or a period that is not a finite number above 1.
    """
    if int(num_steps) != num_steps or num_steps < 0:
        raise ValueError(f"num_steps must be a non-negative integer, got {num_steps!r}")
    periods = _periods(steps_per_day, steps_per_week, steps_per_year)
    steps = np.arange(int(num_steps), dtype=np.float64) + offset
    out = np.empty((int(num_steps), 2 * len(periods)), dtype=np.float64)
    for k, (_, period) in enumerate(periods):
        # reduce modulo the period first: exact phases for integer periods, and no precision
        # loss from large step indices
        angle = 2.0 * np.pi * (np.mod(steps, period) / period)
        out[:, 2 * k] = np.sin(angle)
        out[:, 2 * k + 1] = np.cos(angle)
    return out
