"""Runs of missing readings in a node's series, and the rule for which of them are filled.

A :class:`Gap` is one run of missing readings of one node; :func:`find_gaps` finds them all in
a ``(steps, nodes)`` mask and :func:`interpolate` fills the chosen ones on a straight line.
:meth:`Gap.fillable` is the one statement of what ``data.missing: interpolate`` fills: the
policy (:mod:`tokfrag.data.missing`) applies it, and the validation gate checks that no gap
left in the canonical data meets it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Gap:
    """A run of missing readings of one node: rows ``start`` to ``stop - 1``."""

    node: int  # column position among the nodes
    start: int
    stop: int

    @property
    def steps(self) -> int:
        return self.stop - self.start

    def interior(self, num_steps: int) -> bool:
        """A reading on both sides (the only gaps interpolation fills)."""
        return self.start > 0 and self.stop < num_steps

    def reads_test(self, train_steps: int | None) -> bool:
        """Whether its right-hand reading (row ``stop``) lies after the training rows
        ``[0, train_steps)``: interpolating it would fill a value from a test reading (into
        training rows, or into the inputs of a test window whose target that reading is)."""
        return train_steps is not None and self.stop >= train_steps

    def fillable(self, num_steps: int, max_gap: int, train_steps: int | None) -> bool:
        """Whether ``data.missing: interpolate`` with ``data.max_gap`` fills it: interior, at
        most ``max_gap`` steps, and its right-hand reading a training row (a gap that reads a
        test reading stays masked)."""
        return (
            self.interior(num_steps) and self.steps <= max_gap and not self.reads_test(train_steps)
        )


def find_gaps(missing: np.ndarray) -> list[Gap]:
    """Every run of ``True`` down the columns of a ``(steps, nodes)`` mask, node by node."""
    gaps: list[Gap] = []
    for node in range(missing.shape[1]):
        edges = np.diff(np.concatenate(([0], missing[:, node].astype(np.int8), [0])))
        starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        gaps.extend(Gap(node, int(a), int(b)) for a, b in zip(starts, stops, strict=True))
    return gaps


def interpolate(matrix: np.ndarray, gaps: list[Gap]) -> np.ndarray:
    """``matrix`` with each (interior) gap filled on the straight line between the readings
    on its two sides: the k-th of n missing steps gets ``left + (right - left) * k / (n + 1)``."""
    out = matrix.copy()
    for gap in gaps:
        left, right = out[gap.start - 1, gap.node], out[gap.stop, gap.node]
        k = np.arange(1, gap.steps + 1, dtype=np.float64)
        out[gap.start : gap.stop, gap.node] = left + (right - left) * k / (gap.steps + 1)
    return out
