"""Search spaces from `params.yaml`: each dimension becomes one ``trial.suggest_*`` call."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import optuna

from tokfrag.config import Params, SearchDimension
from tokfrag.families import FAMILIES


def suggest(trial: optuna.Trial, space: Mapping[str, SearchDimension]) -> dict[str, Any]:
    """Sample one value per dimension; returns ``{dotted key: value}`` overrides."""
    values: dict[str, Any] = {}
    for path, dim in space.items():
        if dim.type == "categorical":
            values[path] = trial.suggest_categorical(path, list(dim.choices or []))
        elif dim.type == "int":
            step = int(dim.step or 1)
            values[path] = trial.suggest_int(
                path, int(dim.low or 0), int(dim.high or 0), step=step, log=dim.log
            )
        else:
            values[path] = trial.suggest_float(
                path, float(dim.low or 0.0), float(dim.high or 0.0), step=dim.step, log=dim.log
            )
    return values


def contains(dim: SearchDimension, value: Any) -> bool:
    """Whether ``value`` is a point of the dimension (so it can be enqueued as a trial)."""
    if dim.type == "categorical":
        return value in (dim.choices or [])
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if dim.type == "int" and not float(value).is_integer():
        return False
    return float(dim.low or 0.0) <= float(value) <= float(dim.high or 0.0)


def _configured(params: Params, path: str) -> Any:
    value = params.value_at(path)
    if value is not None:
        return value
    # An unset override inherits the shared loop's value: that is what trains.
    section, key = path.split(".", 1)[0], path.rsplit(".", 1)[-1]
    kind = "text" if ".text." in path else "series"
    if path.startswith("train.text."):
        return params.train.loop_settings("text")[key]
    if section in FAMILIES and key in ("lr", "epochs"):
        return params.train.loop_settings(kind, params.family_loop(section, kind)).get(key)
    return None


def configured_point(params: Params, space: Mapping[str, SearchDimension]) -> dict[str, Any]:
    """The values ``params.yaml`` itself sets for the searched keys, where they lie in the
    space: tuning evaluates the hand-set configuration first, so it can only improve on it."""
    point = {path: _configured(params, path) for path in space}
    return {path: value for path, value in point.items() if contains(space[path], value)}
