"""slice_windows on the real Chickenpox series: shapes, views, alignment."""

from __future__ import annotations

import numpy as np
import pytest

from tokfrag.data.loaders import load_pgt_json
from tokfrag.models.windows import slice_windows


@pytest.fixture(scope="module")
def values(chickenpox_file) -> np.ndarray:
    frame, _ = load_pgt_json(chickenpox_file)
    return frame.drop(columns="t").to_numpy(np.float64)  # (521, 20)


@pytest.mark.parametrize("horizon, count", [(1, 517), (3, 515)])
def test_shapes_on_chickenpox(values, horizon, count):
    assert values.shape == (521, 20)
    x, y = slice_windows(values, lags=4, horizon=horizon)
    assert x.shape == (count, 20, 4)
    assert y.shape == (count, 20, horizon)


@pytest.mark.parametrize("horizon", [1, 3])
def test_windows_are_read_only_views(values, horizon):
    x, y = slice_windows(values, 4, horizon)
    assert np.shares_memory(x, values) and np.shares_memory(y, values)
    assert not x.flags.writeable and not y.flags.writeable
    with pytest.raises(ValueError):
        x[0, 0, 0] = 1.0


@pytest.mark.parametrize("horizon", [1, 3])
def test_window_i_reads_lags_steps_and_predicts_the_next(values, horizon):
    lags = 4
    x, y = slice_windows(values, lags, horizon)
    for i in (0, 1, 100, len(x) - 1):
        np.testing.assert_array_equal(x[i], values[i : i + lags].T)
        np.testing.assert_array_equal(y[i], values[i + lags : i + lags + horizon].T)
    # The last window's target is the series' last step: nothing is dropped or invented.
    np.testing.assert_array_equal(y[-1, :, -1], values[-1])


def test_snapshot_selection_keeps_only_those_windows(values):
    x_all, y_all = slice_windows(values, 4, 1)
    snapshots = np.arange(103, 517)
    x, y = slice_windows(values, 4, 1, snapshots)
    assert x.shape == (414, 20, 4) and y.shape == (414, 20, 1)
    np.testing.assert_array_equal(x, x_all[snapshots])
    np.testing.assert_array_equal(y, y_all[snapshots])
    np.testing.assert_array_equal(x[0], values[103:107].T)


def test_too_few_steps_and_bad_shape_raise(values):
    with pytest.raises(ValueError, match="too few"):
        slice_windows(values[:4], 4, 1)
    with pytest.raises(ValueError, match=r"\(T, N\)"):
        slice_windows(values[:, 0], 4, 1)
    x, y = slice_windows(values[:5], 4, 1)  # exactly one window
    assert x.shape == (1, 20, 4) and y.shape == (1, 20, 1)


@pytest.mark.parametrize(
    "snapshots",
    [np.arange(103, 517), np.arange(0, 517, 3), np.array([7]), np.arange(400, 517)],
    ids=["a split's part", "every third", "one", "the tail"],
)
def test_an_evenly_spaced_selection_is_a_view(values, snapshots):
    x_all, y_all = slice_windows(values, 4, 1)
    x, y = slice_windows(values, 4, 1, snapshots)
    assert np.shares_memory(x, values) and not x.flags.writeable and not y.flags.writeable
    np.testing.assert_array_equal(x, x_all[snapshots])
    np.testing.assert_array_equal(y, y_all[snapshots])


@pytest.mark.parametrize(
    "snapshots",
    [
        np.array([5, 1, 9]),
        np.array([0, 1, 2, 4]),
        np.array([], dtype=np.int64),
        np.array([516, 517]),
    ],
    ids=["unordered", "a gap", "empty", "past the end"],
)
def test_any_other_selection_is_gathered_or_refused_like_numpy(values, snapshots):
    x_all, y_all = slice_windows(values, 4, 1)
    try:
        expected = x_all[snapshots], y_all[snapshots]
    except IndexError:
        with pytest.raises(IndexError):
            slice_windows(values, 4, 1, snapshots)
        return
    x, y = slice_windows(values, 4, 1, snapshots)
    np.testing.assert_array_equal(x, expected[0])
    np.testing.assert_array_equal(y, expected[1])


def test_windows_of_a_strided_series_match_a_copy(values):
    strided = np.repeat(values, 2, axis=1)[:, ::2]  # (521, 20), not contiguous
    assert not strided.flags.c_contiguous
    for got, want in zip(
        slice_windows(strided, 4, 2), slice_windows(values.copy(), 4, 2), strict=True
    ):
        np.testing.assert_array_equal(got, want)
        assert not got.flags.writeable
