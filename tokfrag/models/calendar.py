"""Calendar covariates: sin/cos encodings of where each time step falls in the day, the week
and the year.

For a cycle of period ``P`` seconds and harmonic ``k``, a step at time ``s`` (seconds since
the Unix epoch) gets the pair

    sin(2 pi k phase),  cos(2 pi k phase),   phase = (s mod P) / P

which places it on the unit circle, so the last step of a cycle sits next to the first (no
jump at midnight or at New Year, unlike a raw ``t mod P``); ``k = 2, 3, ...`` add the
cycle's half, third, ... for sharper seasonal shapes. Typical cycles:

* Los-loop, five-minute steps over 7 days: time of day (288 steps a cycle). The week is left
  out: its 80/20 split shows training only 5.6 days, less than one weekly cycle.
* Chickenpox, weekly steps over 10 years: time of year (about 52 steps a cycle).

A :class:`CalendarSpec` knows how a series' time index maps to seconds (dates as epoch
nanoseconds, or step numbers from a known start and step) and which cycles to encode. It
depends only on the time, never on the values, so nothing leaks from the test split, and
the covariates of future steps are known in advance.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

DAY = 86_400.0
CYCLES = {"day": DAY, "week": 7 * DAY, "year": 365.2425 * DAY}  # seconds per cycle
MIN_STEPS_PER_CYCLE = 4  # fewer steps than this per cycle cannot trace it


class CalendarError(ValueError):
    """The calendar cannot be built: unknown step, bad period or times."""


def _encode(phase: np.ndarray, harmonics: int) -> np.ndarray:
    """``(...,)`` phases in [0, 1) -> ``(..., 2 * harmonics)``: sin, cos per harmonic."""
    angle = 2.0 * np.pi * phase[..., None] * np.arange(1, harmonics + 1)  # (..., K)
    out = np.empty((*phase.shape, 2 * harmonics))
    out[..., 0::2] = np.sin(angle)
    out[..., 1::2] = np.cos(angle)
    return out


@dataclass(frozen=True)
class CalendarSpec:
    """Which cycles to encode for a series, and how its time index becomes seconds.

    Attributes:
        time_unit: ``"ns"`` when the series' time index holds dates (epoch nanoseconds), or
            ``"steps"`` when it holds step numbers (then ``start + t * step_seconds``).
        step_seconds: seconds between consecutive steps.
        cycles: the names of the encoded cycles, in :data:`CYCLES` order.
        harmonics: sin/cos pairs per cycle.
        start: epoch seconds of step number 0 (``time_unit="steps"`` only).
    """

    time_unit: str
    step_seconds: float
    cycles: tuple[str, ...]
    harmonics: int = 1
    start: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "cycles", tuple(self.cycles))
        if self.time_unit not in ("ns", "steps"):
            raise CalendarError(f"time_unit must be 'ns' or 'steps', got {self.time_unit!r}")
        if not (math.isfinite(self.step_seconds) and self.step_seconds > 0):
            raise CalendarError(f"step_seconds must be positive, got {self.step_seconds!r}")
        unknown = [c for c in self.cycles if c not in CYCLES]
        if unknown:
            raise CalendarError(f"unknown cycle(s) {unknown}; known: {list(CYCLES)}")
        if self.harmonics < 1:
            raise CalendarError(f"harmonics must be at least 1, got {self.harmonics}")

    @classmethod
    def choose(
        cls,
        time_unit: str,
        step_seconds: float,
        train_steps: int,
        harmonics: int = 1,
        start: float = 0.0,
    ) -> CalendarSpec:
        """The cycles worth encoding: each one at least :data:`MIN_STEPS_PER_CYCLE` steps
        long (a daily cycle means nothing on daily steps) and covered at least once by the
        ``train_steps`` training steps (a model cannot learn a phase it has never seen)."""
        cycles = tuple(
            name
            for name, period in CYCLES.items()
            if period >= MIN_STEPS_PER_CYCLE * step_seconds and train_steps * step_seconds >= period
        )
        return cls(time_unit, float(step_seconds), cycles, harmonics, float(start))

    @property
    def num_features(self) -> int:
        """``F``: two per cycle and harmonic."""
        return 2 * self.harmonics * len(self.cycles)

    def feature_names(self) -> list[str]:
        return [
            f"{cycle}_{part}{k}"
            for cycle in self.cycles
            for k in range(1, self.harmonics + 1)
            for part in ("sin", "cos")
        ]

    def seconds(self, times: np.ndarray) -> np.ndarray:
        """Epoch seconds (float64) of a time index (epoch ns, or step numbers)."""
        times = np.asarray(times)
        if self.time_unit == "ns":
            return times.astype("datetime64[ns]").astype(np.int64) / 1e9
        return self.start + times.astype(np.float64) * self.step_seconds

    def features_at(self, seconds: np.ndarray) -> np.ndarray:
        """``(...,)`` epoch seconds -> ``(..., F)`` covariates."""
        seconds = np.asarray(seconds, dtype=np.float64)
        parts = [
            _encode(np.mod(seconds, CYCLES[c]) / CYCLES[c], self.harmonics) for c in self.cycles
        ]
        return np.concatenate(parts, axis=-1) if parts else np.zeros((*seconds.shape, 0))

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["cycles"] = list(self.cycles)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> CalendarSpec:
        return cls(**data)  # type: ignore[arg-type]
