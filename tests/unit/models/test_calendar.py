"""Calendar covariates: the cycles chosen, periodicity, the unit circle, harmonics, dates
against step numbers, and their alignment with value windows."""

from __future__ import annotations

import numpy as np
import pytest

from tokfrag.models.calendar import CalendarSpec


def _five_minutes(harmonics: int = 1) -> CalendarSpec:
    midnight = 1_330_560_000.0  # 2012-03-01T00:00Z, Los-loop's first step
    return CalendarSpec("steps", 300.0, ("day",), harmonics, midnight)


def test_los_loop_time_of_day():
    spec = _five_minutes()
    features = spec.features_at(spec.seconds(np.arange(2016)))
    assert features.shape == (2016, 2) and spec.feature_names() == ["day_sin1", "day_cos1"]
    np.testing.assert_allclose(features[:-288], features[288:], atol=1e-9)  # a daily cycle
    np.testing.assert_allclose(features[0], [0.0, 1.0], atol=1e-12)  # midnight
    np.testing.assert_allclose(features[72], [1.0, 0.0], atol=1e-9)  # 06:00
    np.testing.assert_allclose(features[144], [0.0, -1.0], atol=1e-9)  # noon
    np.testing.assert_allclose((features**2).sum(axis=1), 1.0)  # on the unit circle


def test_a_second_harmonic_is_the_double_angle():
    spec = _five_minutes(harmonics=2)
    features = spec.features_at(spec.seconds(np.arange(0, 288, 7)))
    angle = np.arctan2(features[:, 0], features[:, 1])
    np.testing.assert_allclose(features[:, 2], np.sin(2 * angle), atol=1e-9)
    np.testing.assert_allclose(features[:, 3], np.cos(2 * angle), atol=1e-9)


def test_window_covariates_line_up_with_the_window_and_its_targets():
    """Row ``l`` of a window's covariates is its ``l``-th step: lags first, then targets."""
    from tokfrag.models.forecaster import window_covariates

    spec = _five_minutes()
    last = np.array([11, 500])  # each window's most recent input step
    c = window_covariates(spec, last, 2, lags=4, horizon=3)  # (S, L + H, F)
    assert c.shape == (2, 7, 2)
    every_step = spec.features_at(spec.seconds(np.arange(600)))
    np.testing.assert_allclose(c[0], every_step[8:15], atol=1e-9)
    np.testing.assert_allclose(c[1], every_step[497:504], atol=1e-9)
    assert window_covariates(None, last, 2, 4, 3) is None  # a model without a calendar


def test_spec_chooses_the_cycles_the_training_steps_can_show():
    from tokfrag.models.calendar import CalendarSpec

    week, five_minutes = 7 * 86_400.0, 300.0
    chickenpox = CalendarSpec.choose("steps", week, train_steps=107, harmonics=2)
    assert chickenpox.cycles == ("year",) and chickenpox.num_features == 4
    los_loop = CalendarSpec.choose("steps", five_minutes, train_steps=1612)
    assert los_loop.cycles == ("day",)  # 5.6 days of training: no full week
    assert CalendarSpec.choose("steps", week, train_steps=30).cycles == ()  # under a year
    assert CalendarSpec.choose("ns", 86_400.0, train_steps=800).cycles == ("week", "year")


def test_dates_and_step_numbers_give_the_same_covariates():
    import pandas as pd

    from tokfrag.models.calendar import CalendarSpec

    start = pd.Timestamp("2012-03-01T00:00", tz="UTC")
    by_steps = CalendarSpec("steps", 300.0, ("day", "week"), 2, start.timestamp())
    by_dates = CalendarSpec("ns", 300.0, ("day", "week"), 2)
    steps = np.arange(0, 2016, 37)
    dates = (start.tz_localize(None) + pd.to_timedelta(steps * 300, unit="s")).to_numpy()
    a = by_steps.features_at(by_steps.seconds(steps))
    b = by_dates.features_at(by_dates.seconds(dates.astype("datetime64[ns]").astype(np.int64)))
    np.testing.assert_allclose(a, b, atol=1e-9)
    assert a.shape == (len(steps), 8) and by_steps.feature_names()[:2] == ["day_sin1", "day_cos1"]
    np.testing.assert_allclose(a[:, 0] ** 2 + a[:, 1] ** 2, 1.0)
    midnight = by_steps.features_at(by_steps.seconds(np.array([0, 288, 576])))
    np.testing.assert_allclose(midnight[:, :4], [[0.0, 1.0, 0.0, 1.0]] * 3, atol=1e-9)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"time_unit": "hours", "step_seconds": 1.0, "cycles": ()},
        {"time_unit": "steps", "step_seconds": 0.0, "cycles": ()},
        {"time_unit": "steps", "step_seconds": 1.0, "cycles": ("month",)},
        {"time_unit": "steps", "step_seconds": 1.0, "cycles": ("day",), "harmonics": 0},
    ],
)
def test_a_bad_spec_is_refused(kwargs):
    from tokfrag.models.calendar import CalendarError, CalendarSpec

    with pytest.raises(CalendarError):
        CalendarSpec(**kwargs)
