"""Per-node standardisation, fit on training steps only."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class NodeScaler:
    """``(x - mean[n]) / std[n]`` per node ``n``.

    Attributes:
        mean: ``(N,)`` training mean of each node.
        std: ``(N,)`` training standard deviation (1.0 where a node is constant, so a flat
            series passes through centred instead of dividing by zero).
    """

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, values: np.ndarray) -> NodeScaler:
        """Fit on ``(T_train, N)`` training steps; never pass steps a test target uses.

        Missing readings (NaN, under ``data.missing: mask`` or ``interpolate``) are left out
        of each node's mean and standard deviation; a node needs one reading."""
        values = np.asarray(values, dtype=np.float64)
        empty = np.isnan(values).all(axis=0) if len(values) else np.ones(values.shape[1], bool)
        if empty.any():
            raise ValueError(
                f"node position(s) {np.flatnonzero(empty).tolist()} have no reading in the "
                "training steps: a scaler cannot be fit for them"
            )
        mean = np.nanmean(values, axis=0)
        std = np.nanstd(values, axis=0)
        return cls(mean=mean, std=np.where(std > 0, std, 1.0))

    def transform(self, x: np.ndarray) -> np.ndarray:
        """Scale ``(..., N, W)`` windows (nodes on the second-to-last axis)."""
        return (x - self.mean[:, None]) / self.std[:, None]

    def inverse(self, x: np.ndarray) -> np.ndarray:
        return x * self.std[:, None] + self.mean[:, None]

    def to_dict(self) -> dict[str, list[float]]:
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_dict(cls, d: dict[str, list[float]]) -> NodeScaler:
        return cls(mean=np.asarray(d["mean"], dtype=np.float64), std=np.asarray(d["std"]))
