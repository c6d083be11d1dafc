"""The pipeline's stage functions run in-process, in `dvc repro` order, for tests that need a
project at a given point (trained, evaluated), and a recipe that leaves the families
untrained."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tokfrag import stages
from tokfrag.config import load_params


def until_train(project: Path) -> None:
    """ingest, validate, prepare, then tune and train each family."""
    params, root = load_params(project), project.parent
    for stage in (stages.ingest, stages.validate, stages.prepare):
        stage(params, root)
    for family in stages.FAMILIES:
        stages.tune(params, root, family)
        stages.train(params, root, family)


def until_evaluate(project: Path) -> None:
    """:func:`until_train`, then evaluate."""
    until_train(project)
    stages.evaluate(load_params(project), project.parent)


def cripple_families(raw: dict[str, Any]) -> dict[str, Any]:
    """Params (``raw``, changed in place and returned) under which neither family learns:
    one epoch at a tiny learning rate, untuned, without the ridge-started skips (which alone
    would forecast as well as a linear model). The baselines are not touched."""
    raw["train"].update({"epochs": 1, "lr": 1e-6, "repeats": 1})
    raw["token"].update({"lr": 1e-6, "skip": False})
    raw["fragment"]["lr"] = 1e-6
    raw["fragment"]["model"]["skip"] = False
    raw["tune"]["n_trials"] = 0
    return raw
