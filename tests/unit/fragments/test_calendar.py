"""calendar_features: shapes, periodicity, the unit circle and argument checks."""

from __future__ import annotations

import numpy as np
import pytest

from tokfrag.fragments import slice_windows
from tokfrag.fragments.calendar import calendar_feature_names, calendar_features


@pytest.mark.parametrize(
    "kwargs, names",
    [
        ({}, []),
        ({"steps_per_day": 288}, ["day_sin", "day_cos"]),
        ({"steps_per_year": 52}, ["year_sin", "year_cos"]),
        (
            {"steps_per_day": 288, "steps_per_week": 2016, "steps_per_year": 105120},
            ["day_sin", "day_cos", "week_sin", "week_cos", "year_sin", "year_cos"],
        ),
    ],
)
def test_shapes_and_names(kwargs, names):
    features = calendar_features(2016, **kwargs)
    assert features.shape == (2016, len(names)) and features.dtype == np.float64
    assert calendar_feature_names(**kwargs) == names


def test_los_loop_time_of_day_and_day_of_week():
    features = calendar_features(2016, steps_per_day=288, steps_per_week=2016)
    np.testing.assert_array_equal(features[:-288, :2], features[288:, :2])  # daily cycle
    np.testing.assert_allclose(features[0], [0.0, 1.0, 0.0, 1.0], atol=1e-15)  # midnight
    np.testing.assert_allclose(features[72, :2], [1.0, 0.0], atol=1e-12)  # 06:00
    np.testing.assert_allclose(features[144, :2], [0.0, -1.0], atol=1e-12)  # noon
    # one week is one full cycle: every step has its own day-of-week phase
    assert len(np.unique(features[:, 2:].round(12), axis=0)) == 2016
    for k in (0, 2):  # every pair lies on the unit circle
        np.testing.assert_allclose(features[:, k] ** 2 + features[:, k + 1] ** 2, 1.0)


def test_chickenpox_week_of_year_is_periodic_in_52():
    features = calendar_features(521, steps_per_year=52)
    np.testing.assert_array_equal(features[:-52], features[52:])
    assert len(np.unique(features[:52].round(12), axis=0)) == 52
    assert calendar_features(521, steps_per_year=52.1775).shape == (521, 2)


def test_offset_rotates_the_phase():
    shifted = calendar_features(100, steps_per_day=24, offset=5)
    np.testing.assert_allclose(shifted, calendar_features(105, steps_per_day=24)[5:], atol=1e-12)


def test_windows_over_features_align_with_value_windows():
    features = calendar_features(50, steps_per_day=10)
    x, y = slice_windows(features, lags=4, horizon=2)
    assert x.shape == (45, 2, 4) and y.shape == (45, 2, 2)
    np.testing.assert_array_equal(y[7, :, 0], features[7 + 4])


@pytest.mark.parametrize(
    "num_steps, kwargs",
    [
        (-1, {"steps_per_day": 24}),
        (10, {"steps_per_day": 1}),
        (10, {"steps_per_week": 0}),
        (10, {"steps_per_year": float("nan")}),
        (10, {"steps_per_day": float("inf")}),
    ],
)
def test_bad_arguments_raise(num_steps, kwargs):
    with pytest.raises(ValueError):
        calendar_features(num_steps, **kwargs)
