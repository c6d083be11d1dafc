"""NodeScaler: per-node standardisation fit on training steps, and its inverse."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tokfrag.data.loaders import load_pgt_json
from tokfrag.models.scaler import NodeScaler
from tokfrag.models.windows import slice_windows


@pytest.fixture(scope="module")
def values(chickenpox_file) -> np.ndarray:
    frame, _ = load_pgt_json(chickenpox_file)
    return frame.drop(columns="t").to_numpy(np.float64)


def test_fit_gives_per_node_mean_and_std(values):
    train = values[:107]
    scaler = NodeScaler.fit(train)
    assert scaler.mean.shape == scaler.std.shape == (20,)
    np.testing.assert_allclose(scaler.mean, train.mean(axis=0))
    np.testing.assert_allclose(scaler.std, train.std(axis=0))
    scaled = scaler.transform(train.T)  # (N, T): nodes on the second-to-last axis
    np.testing.assert_allclose(scaled.mean(axis=-1), 0.0, atol=1e-12)
    np.testing.assert_allclose(scaled.std(axis=-1), 1.0, rtol=1e-12)


def test_transform_inverse_round_trip_on_windows(values):
    scaler = NodeScaler.fit(values[:107])
    x, y = slice_windows(values, 4, 3)
    for windows in (x, y):
        scaled = scaler.transform(windows)
        assert scaled.shape == windows.shape
        np.testing.assert_allclose(scaler.inverse(scaled), windows, rtol=1e-12, atol=1e-12)
    # Node n of every window is scaled by node n's statistics.
    np.testing.assert_allclose(
        scaler.transform(x)[5, 7], (x[5, 7] - scaler.mean[7]) / scaler.std[7]
    )


def test_constant_column_gets_std_one(values):
    train = values[:50].copy()
    train[:, 3] = 5.0
    scaler = NodeScaler.fit(train)
    assert scaler.std[3] == 1.0 and scaler.mean[3] == 5.0
    assert (scaler.std > 0).all()
    scaled = scaler.transform(train.T)
    assert np.isfinite(scaled).all()
    np.testing.assert_array_equal(scaled[3], 0.0)


def test_dict_round_trip_through_json(values):
    scaler = NodeScaler.fit(values[:107])
    restored = NodeScaler.from_dict(json.loads(json.dumps(scaler.to_dict())))
    np.testing.assert_array_equal(restored.mean, scaler.mean)
    np.testing.assert_array_equal(restored.std, scaler.std)
