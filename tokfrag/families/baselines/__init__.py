"""Baselines: the honest yardsticks every family must beat (not a family: they are not tuned
and have no params section of their own).

Series (:mod:`.series`): last value, historical average, ridge autoregression (with calendar
covariates when the data has a calendar). Text (:mod:`.text`): majority class, TF-IDF +
logistic regression.
"""

from typing import Any


def saved() -> tuple[Any, ...]:
    """The baselines' saved-model classes (imported when called)."""
    from tokfrag.families.baselines.series import (
        HistoricalAverageForecaster,
        LastValueForecaster,
        RidgeARForecaster,
        ZeroForecaster,
    )
    from tokfrag.families.baselines.text import MajorityClassifier, TfidfLogRegClassifier

    return (
        ZeroForecaster,
        LastValueForecaster,
        RidgeARForecaster,
        HistoricalAverageForecaster,
        MajorityClassifier,
        TfidfLogRegClassifier,
    )
