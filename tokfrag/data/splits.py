"""Chronological splits over window snapshots.

A *snapshot* ``i`` reads steps ``i .. i+lags-1`` and predicts steps ``i+lags .. i+lags+horizon-1``.
Two ways to cut the series in time, both in time order with test last:

- ``by="snapshots"`` (PyTorch Geometric Temporal's ``temporal_signal_split``): with
  ``S = T - lags - horizon + 1`` snapshots, the first ``int(train_ratio * S)`` are training
  snapshots and the rest are test snapshots (Chickenpox, lags 4, ratio 0.2: 103 train, 414
  test). A test snapshot's inputs may read training steps.
- ``by="steps"`` (T-GCN's ``preprocess_data``): the first ``int(train_ratio * T)`` *time steps*
  are the training part and the rest the test part, and windows are cut inside each part, so
  no test window reads a training step (Los-loop, ratio 0.8: steps 0..1611 train, 1612..2015
  test). T-GCN's ``range(len - seq_len - pre_len)`` also leaves out the last full window of
  each part; tokfrag keeps it.

The last ``val_fraction`` of the training snapshots is held out for early stopping. With
``horizon > 1``, ``horizon - 1`` snapshots are dropped between fit and validation (and, by
snapshots, before test) so that no target step is shared by two splits.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np


class SplitError(ValueError):
    """The series is too short for the requested lags, horizon and ratios."""


@dataclass(frozen=True)
class SplitIndices:
    """Snapshot indices of each split; all three are contiguous and in time order."""

    fit: np.ndarray
    val: np.ndarray
    test: np.ndarray
    lags: int
    horizon: int

    @property
    def train(self) -> np.ndarray:
        """Fit + validation snapshots: everything a model may learn from."""
        return np.concatenate([self.fit, self.val])

    @property
    def train_steps_end(self) -> int:
        """One past the last time step that any training snapshot touches (inputs or targets).
        Scalers, vocabularies and graphs built from data are fit on steps ``[0, train_steps_end)``.
        """
        return int(self.train[-1]) + self.lags + self.horizon

    @property
    def first_test_target(self) -> int:
        return int(self.test[0]) + self.lags

    def fingerprint(self) -> str:
        """A short hash of the split, logged on every run so families can be checked to match."""
        digest = hashlib.sha256()
        for part in (self.fit, self.val, self.test):
            digest.update(np.ascontiguousarray(part, dtype=np.int64).tobytes())
            digest.update(b"|")
        digest.update(f"{self.lags},{self.horizon}".encode())
        return digest.hexdigest()[:16]

    def to_dict(self) -> dict[str, object]:
        return {
            "lags": self.lags,
            "horizon": self.horizon,
            "fit": [int(self.fit[0]), int(self.fit[-1]) + 1],
            "val": [int(self.val[0]), int(self.val[-1]) + 1],
            "test": [int(self.test[0]), int(self.test[-1]) + 1],
            "fingerprint": self.fingerprint(),
        }


def num_snapshots(num_steps: int, lags: int, horizon: int) -> int:
    return num_steps - lags - horizon + 1


SPLIT_BY = ("snapshots", "steps")


def _sizes(
    num_steps: int,
    lags: int,
    horizon: int,
    train_ratio: float,
    val_fraction: float,
    by: str = "snapshots",
) -> tuple[int, int, int, int, int, int]:
    """``(total, n_fit, n_val, gap, test_start, n_test)`` snapshot counts (``test_start``: the
    first test snapshot); any count may come out below one."""
    total = num_snapshots(num_steps, lags, horizon)
    # A snapshot's targets reach horizon - 1 steps past the next snapshot's first target: drop
    # that many snapshots at each boundary so no target is shared across splits.
    gap = horizon - 1
    if by == "snapshots":
        n_train = int(train_ratio * total)
        test_start = n_train + gap
    elif by == "steps":
        train_steps = int(train_ratio * num_steps)
        # Training snapshots end inside the training steps; test snapshots start after them.
        n_train = num_snapshots(train_steps, lags, horizon)
        test_start = train_steps
    else:
        raise SplitError(f"split by {by!r}: expected one of {', '.join(SPLIT_BY)}")
    n_val = max(1, int(round(val_fraction * n_train)))
    n_fit = n_train - n_val - gap
    n_test = total - test_start
    return total, n_fit, n_val, gap, test_start, n_test


def _fits(
    num_steps: int, lags: int, horizon: int, train_ratio: float, val_fraction: float, by: str
) -> bool:
    _, n_fit, n_val, _, _, n_test = _sizes(num_steps, lags, horizon, train_ratio, val_fraction, by)
    return min(n_fit, n_val, n_test) >= 1


def minimum_steps(
    lags: int, horizon: int, train_ratio: float, val_fraction: float, by: str = "snapshots"
) -> int | None:
    """The fewest time steps for which :func:`chronological_split` gives non-empty fit,
    validation and test splits, or ``None`` when no length does (e.g. ``train_ratio >= 1``).

    The split sizes never shrink as the series grows, so a doubling search followed by a
    bisection finds the threshold.
    """
    args = (lags, horizon, train_ratio, val_fraction, by)
    low = high = max(lags + horizon, 1)
    while not _fits(high, *args):
        if high > 1 << 32:
            return None
        low, high = high + 1, high * 2
    while low < high:  # invariant: high fits; every length below `low` has been ruled out
        mid = (low + high) // 2
        if _fits(mid, *args):
            high = mid
        else:
            low = mid + 1
    return high


def chronological_split(
    num_steps: int,
    lags: int,
    horizon: int,
    train_ratio: float,
    val_fraction: float,
    by: str = "snapshots",
) -> SplitIndices:
    """Split ``num_steps`` time steps into fit / validation / test snapshots, in time order,
    cutting ``by`` snapshots or by time steps (see the module notes).

    For ``horizon > 1``, ``horizon - 1`` snapshots are dropped between fit and validation and
    (by snapshots) between validation and test, so no target step belongs to two splits (for
    ``horizon = 1`` and ``by="snapshots"`` this is exactly the PyTorch Geometric Temporal
    split).

    Raises:
        SplitError: when any split would be empty; the message gives the minimum length.
    """
    if lags < 1 or horizon < 1:
        raise SplitError(f"lags ({lags}) and horizon ({horizon}) must both be at least 1")
    total, n_fit, n_val, gap, test_start, n_test = _sizes(
        num_steps, lags, horizon, train_ratio, val_fraction, by
    )
    if min(n_fit, n_val, n_test) < 1:
        needed = minimum_steps(lags, horizon, train_ratio, val_fraction, by)
        need = (
            f"at least {needed} time steps are needed"
            if needed is not None
            else "no series length is enough for these ratios"
        )
        raise SplitError(
            f"{num_steps} time steps give {max(total, 0)} snapshots for lags={lags}, "
            f"horizon={horizon} (split by {by}): {max(n_fit, 0)} fit, {n_val} validation, "
            f"{max(n_test, 0)} test; "
            f"{need}. Use a longer series, fewer lags or a shorter horizon, or change "
            "split.train_ratio / split.val_fraction."
        )
    snapshots = np.arange(total, dtype=np.int64)
    val_start = n_fit + gap
    return SplitIndices(
        fit=snapshots[:n_fit],
        val=snapshots[val_start : val_start + n_val],
        test=snapshots[test_start:],
        lags=lags,
        horizon=horizon,
    )


@dataclass(frozen=True)
class Fold:
    """One rolling-origin fold of the training snapshots: fit on ``fit``, validate on ``val``."""

    fit: np.ndarray
    val: np.ndarray


def rolling_folds(split: SplitIndices, n_folds: int) -> list[Fold]:
    """Rolling-origin (expanding-window) cross-validation over the training snapshots.

    The validation blocks are the last ``n_folds`` blocks of ``len(split.val)`` training
    snapshots, in time order; each fold fits on every training snapshot before its block
    (less the ``horizon - 1`` gap, so no target step is shared; the snapshots the fixed split
    drops in its own gap are ordinary training snapshots here). The last fold is exactly
    ``(split.fit, split.val)``; the test snapshots are never touched. With ``n_folds=1`` this
    is the plain hold-out.

    Chickenpox (103 training snapshots, validation blocks of 21), 3 folds: fit 0..39 /
    validate 40..60, fit 0..60 / validate 61..81, fit 0..81 / validate 82..102.

    Raises:
        SplitError: the first fold would have no snapshot to fit on.
    """
    if n_folds < 1:
        raise SplitError(f"tune.cv.folds must be at least 1, got {n_folds}")
    block, gap = len(split.val), split.horizon - 1
    first_val = int(split.val[0])  # training snapshots are 0 .. split.val[-1], all usable
    folds = []
    for k in range(n_folds - 1, -1, -1):  # the earliest block first
        val_start = first_val - k * block
        fit_end = val_start - gap
        if fit_end < 1:
            raise SplitError(
                f"{n_folds} rolling-origin folds of {block} validation snapshots leave the "
                f"first fold nothing to fit on ({int(split.val[-1]) + 1} training snapshots); "
                "lower tune.cv.folds or split.val_fraction"
            )
        snapshots = np.arange(val_start, val_start + block, dtype=np.int64)
        folds.append(Fold(fit=np.arange(fit_end, dtype=np.int64), val=snapshots))
    return folds


def folds_fingerprint(folds: list[Fold]) -> str:
    """A short hash of the folds' positions: equal for two families tuned on the same folds."""
    digest = hashlib.sha256()
    for fold in folds:
        for part in (fold.fit, fold.val):
            digest.update(np.ascontiguousarray(part, dtype=np.int64).tobytes() + b"|")
        digest.update(b"/")
    return digest.hexdigest()[:16]
