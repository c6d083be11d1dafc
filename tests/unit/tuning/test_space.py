"""Search spaces come from params.yaml: validated on load, sampled by a real Optuna study."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from tokfrag.config import ParamsError, SearchDimension, parse_params
from tokfrag.tuning import configured_point, suggest

SPACE = {
    "train.lr": {"type": "float", "low": 1e-4, "high": 1e-2, "log": True},
    "token.model.num_layers": {"type": "int", "low": 1, "high": 3},
    "token.model.hidden_size": {"type": "categorical", "choices": [32, 64]},
    "token.model.dropout": {"type": "float", "low": 0.0, "high": 0.3, "step": 0.1},
}


def _params(space: dict, family: str = "token", model: str = "quantized"):
    return parse_params({"tune": {"spaces": {family: {model: space}}}})


def test_suggestions_stay_inside_every_dimension(tmp_path: Path) -> None:
    params = _params(SPACE)
    space = params.space("token", "quantized")
    study = optuna.create_study(
        storage=f"sqlite:///{tmp_path / 'optuna.db'}",
        sampler=optuna.samplers.RandomSampler(seed=3),
    )
    seen = []
    for _ in range(12):
        trial = study.ask()
        point = suggest(trial, space)
        study.tell(trial, 0.0)
        seen.append(point)
        assert 1e-4 <= point["train.lr"] <= 1e-2
        assert point["token.model.num_layers"] in (1, 2, 3)
        assert point["token.model.hidden_size"] in (32, 64)
        assert round(point["token.model.dropout"], 6) in (0.0, 0.1, 0.2, 0.3)
        # Every sampled point is a valid configuration.
        params.with_overrides(point)
    assert len({p["train.lr"] for p in seen}) > 1  # it did search
    # The study records the distributions under the dotted keys (what MLflow logs).
    assert set(study.trials[0].params) == set(SPACE)


def test_configured_point_is_the_hand_set_config_where_it_lies_in_the_space() -> None:
    params = _params(SPACE)
    point = configured_point(params, params.space("token", "quantized"))
    assert point == {
        "train.lr": params.train.lr,
        "token.model.num_layers": params.token.model.num_layers,
        "token.model.hidden_size": params.token.model.hidden_size,
        "token.model.dropout": params.token.model.dropout,
    }
    narrow = _params({"token.model.hidden_size": {"type": "categorical", "choices": [32, 128]}})
    assert configured_point(narrow, narrow.space("token", "quantized")) == {}  # 64 is not in it


@pytest.mark.parametrize(
    ("dimension", "message"),
    [
        ({"type": "float", "low": 1.0, "high": 1.0}, "'low' < 'high'"),
        ({"type": "float", "low": 0.0, "high": 1.0, "log": True}, "'low' > 0"),
        ({"type": "categorical"}, "non-empty 'choices'"),
        ({"type": "int", "low": 1.5, "high": 4}, "whole-number"),
        ({"type": "float", "low": 0.1, "high": 1.0, "choices": [1]}, "not 'choices'"),
    ],
)
def test_a_malformed_dimension_is_rejected(dimension: dict, message: str) -> None:
    with pytest.raises(ParamsError, match=message):
        _params({"train.lr": dimension})


def test_a_space_must_name_real_parameters_of_train_or_its_own_family() -> None:
    with pytest.raises(ParamsError, match=r"train\.lrr: no such parameter"):
        _params({"train.lrr": {"type": "float", "low": 0.1, "high": 1.0}})
    with pytest.raises(ParamsError, match="outside 'train' and 'token'"):
        _params({"split.lags": {"type": "int", "low": 2, "high": 8}})
    with pytest.raises(ParamsError, match="outside 'train' and 'token'"):
        _params({"fragment.model.K": {"type": "int", "low": 1, "high": 3}})
    # An extreme value the schema refuses fails on load, not in a trial.
    with pytest.raises(ParamsError, match="greater than or equal to 8"):
        _params({"token.model.hidden_size": {"type": "int", "low": 2, "high": 64}})
    with pytest.raises(ParamsError, match="unknown model 'lstm'"):
        parse_params({"tune": {"spaces": {"token": {"lstm": {}}}}})


def test_dimension_values_are_its_extremes_or_choices() -> None:
    assert SearchDimension(type="int", low=1, high=3).values() == [1, 3]
    assert SearchDimension(type="categorical", choices=["a", "b"]).values() == ["a", "b"]


def test_heartbeat_grace_must_exceed_the_interval() -> None:
    with pytest.raises(ParamsError, match="grace_seconds"):
        parse_params({"tune": {"heartbeat_seconds": 5, "grace_seconds": 5}})
