"""The in-memory form of a spatio-temporal dataset: node series plus a static graph."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class SeriesData:
    """Node time series on a static graph.

    Attributes:
        name: dataset name.
        values: ``(T, N)`` float64, one column per node, rows in time order.
        time: ``(T,)`` int64 time index (step number or epoch nanoseconds).
        node_ids: ``N`` node names, in column order.
        edge_index: ``(2, E)`` int64 source and target node positions.
        edge_weight: ``(E,)`` float64 edge weights (1.0 where the source has none).
        sha256: checksum of the upstream file(s) this was read from.
        time_unit: ``"ns"`` when ``time`` holds dates, ``"steps"`` when it holds step numbers.
        clock: for step numbers, ``{"start": ISO date of step 0, "step": "7D"}`` when known.
    """

    name: str
    values: np.ndarray
    time: np.ndarray
    node_ids: tuple[str, ...]
    edge_index: np.ndarray
    edge_weight: np.ndarray
    sha256: str
    time_unit: str = "steps"
    clock: dict[str, str] = field(default_factory=dict)

    @property
    def num_steps(self) -> int:
        return int(self.values.shape[0])

    @property
    def num_nodes(self) -> int:
        return int(self.values.shape[1])
