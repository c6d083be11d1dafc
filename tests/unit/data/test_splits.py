"""Chronological splits on the real Chickenpox and Los-loop series: sizes, order and no test
leakage, by snapshots (PyTorch Geometric Temporal) and by time steps (T-GCN)."""

from __future__ import annotations

import numpy as np
import pytest

from tokfrag.data.loaders import load_pgt_json
from tokfrag.data.splits import SplitError, SplitIndices, chronological_split, minimum_steps
from tokfrag.models.windows import slice_windows

PGT = {"lags": 4, "horizon": 1, "train_ratio": 0.2, "val_fraction": 0.2}


@pytest.fixture(scope="module")
def steps(chickenpox_file) -> np.ndarray:
    """The real series' step numbers in place of its values, one column per node:
    a window then shows exactly which time steps it reads."""
    values, _ = load_pgt_json(chickenpox_file)
    t = values["t"].to_numpy()
    return np.repeat(t[:, None], values.shape[1] - 1, axis=1)  # (521, 20)


def test_pgt_protocol_sizes(steps):
    split = chronological_split(len(steps), **PGT)
    assert (len(split.fit), len(split.val), len(split.test)) == (82, 21, 414)
    assert len(split.train) == 103
    assert split.train_steps_end == 107 and split.first_test_target == 107


@pytest.mark.parametrize("horizon", [1, 3, 12])
def test_no_test_target_inside_training_windows_or_scaler_steps(steps, horizon):
    split = chronological_split(len(steps), 4, horizon, 0.2, 0.2)
    _, y_test = slice_windows(steps, 4, horizon, split.test)
    test_targets = set(np.unique(y_test).tolist())
    assert min(test_targets) == split.first_test_target
    assert test_targets == set(range(split.first_test_target, len(steps)))
    for part in (split.fit, split.val):
        x, y = slice_windows(steps, 4, horizon, part)
        touched = set(np.unique(x).tolist()) | set(np.unique(y).tolist())
        assert not touched & test_targets
    # The scaler's steps [0, train_steps_end) are exactly what training windows touch...
    x_train, y_train = slice_windows(steps, 4, horizon, split.train)
    assert split.train_steps_end == max(x_train.max(), y_train.max()) + 1
    # ...and hold no test target.
    assert not set(range(split.train_steps_end)) & test_targets


@pytest.mark.parametrize("horizon", [1, 3, 12])
def test_no_validation_target_inside_fit_windows(steps, horizon):
    split = chronological_split(len(steps), 4, horizon, 0.2, 0.2)
    _, y_val = slice_windows(steps, 4, horizon, split.val)
    x_fit, y_fit = slice_windows(steps, 4, horizon, split.fit)
    assert max(x_fit.max(), y_fit.max()) < y_val.min()


@pytest.mark.parametrize("lags, horizon", [(4, 1), (8, 1), (4, 3), (12, 12)])
def test_splits_contiguous_disjoint_in_order(steps, lags, horizon):
    split = chronological_split(len(steps), lags, horizon, 0.2, 0.2)
    total = len(steps) - lags - horizon + 1
    gap = horizon - 1  # snapshots dropped at each boundary so no target is shared
    for part in (split.fit, split.val, split.test):
        np.testing.assert_array_equal(part, np.arange(part[0], part[-1] + 1))  # contiguous
    assert split.fit[0] == 0 and split.test[-1] == total - 1
    assert split.val[0] - split.fit[-1] == gap + 1  # in order, disjoint, exactly the gap apart
    assert split.test[0] - split.val[-1] == gap + 1
    assert min(len(split.fit), len(split.val), len(split.test)) >= 1
    assert split.to_dict()["fit"] == [0, len(split.fit)]
    assert split.to_dict()["test"] == [int(split.test[0]), total]


def test_fingerprint_is_stable_and_changes_with_lags_and_horizon(steps):
    base = chronological_split(len(steps), **PGT)
    assert base.fingerprint() == chronological_split(len(steps), **PGT).fingerprint()
    assert base.fingerprint() != chronological_split(len(steps), 8, 1, 0.2, 0.2).fingerprint()
    assert base.fingerprint() != chronological_split(len(steps), 4, 2, 0.2, 0.2).fingerprint()
    assert base.fingerprint() != chronological_split(len(steps), 4, 1, 0.3, 0.2).fingerprint()
    # The same snapshot indices with other lags are another split.
    relagged = SplitIndices(base.fit, base.val, base.test, lags=5, horizon=1)
    assert relagged.fingerprint() != base.fingerprint()
    assert base.to_dict()["fingerprint"] == base.fingerprint()


def test_too_short_series_raises():
    minimum = minimum_steps(4, 1, 0.2, 0.2)
    assert minimum is not None
    chronological_split(minimum, **PGT)  # the minimum itself works
    with pytest.raises(SplitError, match=r"lags=4, horizon=1"):
        chronological_split(minimum - 1, **PGT)
    with pytest.raises(SplitError):
        chronological_split(3, **PGT)


def test_too_short_series_message_names_the_minimum():
    minimum = minimum_steps(4, 1, 0.2, 0.2)
    with pytest.raises(SplitError, match=rf"\b{minimum}\b"):
        chronological_split(10, **PGT)


@pytest.fixture(scope="module")
def los_steps(mirror) -> np.ndarray:
    """Los-loop's real step numbers, one column per sensor (2016 x 207)."""
    from tokfrag.data.loaders import load_los_loop

    values, _ = load_los_loop(
        mirror / "los_loop" / "los_speed.csv", mirror / "los_loop" / "los_adj.csv"
    )
    t = values["t"].to_numpy()
    return np.repeat(t[:, None], values.shape[1] - 1, axis=1)


@pytest.mark.parametrize("horizon", [3, 6, 9, 12])
def test_tgcn_protocol_by_steps(los_steps, horizon):
    """T-GCN: the first int(0.8 * 2016) = 1612 steps train, the last 404 test, windows cut
    inside each part; no test window reads a training step."""
    split = chronological_split(len(los_steps), 12, horizon, 0.8, 0.2, by="steps")
    assert len(los_steps) == 2016
    x_test, y_test = slice_windows(los_steps, 12, horizon, split.test)
    assert x_test.min() == 1612 and y_test.max() == 2015  # the whole test part, nothing else
    assert len(split.test) == 404 - 12 - horizon + 1  # T-GCN's code: one fewer (the last)
    x_train, y_train = slice_windows(los_steps, 12, horizon, split.train)
    assert max(x_train.max(), y_train.max()) == 1611 == split.train_steps_end - 1
    assert split.first_test_target == 1612 + 12
    # fit, gap, validation: every window of the training part is one or the other (or a gap
    # window whose targets would straddle fit and validation)
    assert len(split.fit) + (horizon - 1) + len(split.val) == 1612 - 12 - horizon + 1
    x_val, y_val = slice_windows(los_steps, 12, horizon, split.val)
    _, y_fit = slice_windows(los_steps, 12, horizon, split.fit)
    assert y_fit.max() < y_val.min()


def test_split_by_changes_the_split_and_its_fingerprint(los_steps):
    by_snapshots = chronological_split(len(los_steps), 12, 3, 0.8, 0.2)
    by_steps = chronological_split(len(los_steps), 12, 3, 0.8, 0.2, by="steps")
    assert by_steps.fingerprint() != by_snapshots.fingerprint()
    # by snapshots, the first test window reads training steps; by steps it cannot
    assert by_snapshots.test[0] < 1612 == by_steps.test[0]
    with pytest.raises(SplitError, match="split by 'days'"):
        chronological_split(len(los_steps), 12, 3, 0.8, 0.2, by="days")


@pytest.mark.parametrize("by", ["snapshots", "steps"])
@pytest.mark.parametrize(
    ("lags", "horizon", "train_ratio", "val_fraction"),
    [(4, 1, 0.2, 0.2), (12, 3, 0.8, 0.1), (12, 12, 0.8, 0.2), (8, 12, 0.05, 0.5)],
)
def test_minimum_steps_by_either_cut(by, lags, horizon, train_ratio, val_fraction):
    need = minimum_steps(lags, horizon, train_ratio, val_fraction, by)
    assert need is not None
    split = chronological_split(need, lags, horizon, train_ratio, val_fraction, by)
    assert min(len(split.fit), len(split.val), len(split.test)) >= 1
    with pytest.raises(SplitError, match=f"split by {by}"):
        chronological_split(need - 1, lags, horizon, train_ratio, val_fraction, by)


@pytest.mark.parametrize("horizon", [1, 3])
def test_rolling_origin_folds_expand_in_time_and_never_touch_the_test_part(horizon):
    from tokfrag.data.splits import folds_fingerprint, rolling_folds

    split = chronological_split(521, 4, horizon, 0.2, 0.2)
    folds = rolling_folds(split, 3)
    assert len(folds) == 3
    np.testing.assert_array_equal(folds[-1].fit, split.fit)  # the last fold is the hold-out
    np.testing.assert_array_equal(folds[-1].val, split.val)
    ends = [int(f.fit[-1]) for f in folds]
    assert ends == sorted(ends) and len(set(ends)) == 3  # expanding windows
    for fold in folds:
        assert int(fold.fit[0]) == 0 and len(fold.val) == len(split.val)
        # no target step shared between a fold's fit and validation windows
        assert int(fold.val[0]) - int(fold.fit[-1]) == horizon
        assert int(fold.val[-1]) < int(split.test[0])
    assert folds_fingerprint(folds) == folds_fingerprint(rolling_folds(split, 3))
    assert folds_fingerprint(folds) != folds_fingerprint(rolling_folds(split, 2))


def test_too_many_folds_is_a_clear_error():
    from tokfrag.data.splits import SplitError, rolling_folds

    split = chronological_split(521, 4, 1, 0.2, 0.2)  # 103 training snapshots, blocks of 21
    assert len(rolling_folds(split, 4)) == 4
    with pytest.raises(SplitError, match="lower tune.cv.folds"):
        rolling_folds(split, 5)
