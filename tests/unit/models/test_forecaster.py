"""The shared forecaster contract: window checks and loading saved folders."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tokfrag.families import load_forecaster
from tokfrag.families.baselines.series import LastValueForecaster, RidgeARForecaster, ZeroForecaster
from tokfrag.models.forecaster import Forecaster, check_windows


def test_check_windows_accepts_and_converts():
    out = check_windows(np.ones((2, 3, 4), dtype=np.float32), lags=4, num_nodes=3)
    assert out.dtype == np.float64 and out.shape == (2, 3, 4)


@pytest.mark.parametrize(
    "windows, num_nodes, match",
    [
        (np.zeros((3, 4)), None, r"\(S, N, 4\)"),
        (np.zeros((2, 3, 5)), None, r"\(S, N, 4\)"),
        (np.zeros((2, 3, 4)), 5, "5 nodes"),
        (np.full((2, 3, 4), np.nan), None, "NaN"),
        (np.full((2, 3, 4), np.inf), None, "infinite"),
    ],
)
def test_check_windows_rejects(windows, num_nodes, match):
    with pytest.raises(ValueError, match=match):
        check_windows(windows, lags=4, num_nodes=num_nodes)


def test_baselines_honour_the_protocol():
    for model in (ZeroForecaster(4, 1), LastValueForecaster(4, 1), RidgeARForecaster(4, 1)):
        assert isinstance(model, Forecaster)


def test_load_forecaster_errors_name_the_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="config.json"):
        load_forecaster(tmp_path / "nothing")
    (tmp_path / "odd").mkdir()
    (tmp_path / "odd" / "config.json").write_text(json.dumps({"kind": "crystal_ball"}))
    with pytest.raises(ValueError, match="crystal_ball") as info:
        load_forecaster(tmp_path / "odd")
    for kind in ("zero", "last_value", "ridge_ar", "token_bert", "fragment_gconvgru"):
        assert kind in str(info.value)
