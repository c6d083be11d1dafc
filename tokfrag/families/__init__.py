"""The family registry: the one place that lists tokfrag's model families.

A family is a package here (``token/``, ``fragment/``) that exports one
:class:`~tokfrag.models.family.Family`: its name (also its ``params.yaml`` section) and, per
kind of data, its variants with a builder each. The pipeline, the verdict, the report, the
registry and the Prefect flow iterate over :data:`FAMILIES`; none of them names a family.
``baselines/`` holds the yardsticks every family must beat; it is not a family.

Adding a family is one new package plus one entry in :data:`REGISTRY`. Families never
import each other; shared parts live in :mod:`tokfrag.models`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tokfrag.families import baselines, fragment, token
from tokfrag.models.family import Family

REGISTRY: dict[str, Family] = {f.name: f for f in (token.FAMILY, fragment.FAMILY)}
FAMILIES: tuple[str, ...] = tuple(REGISTRY)
BASELINE = "baseline"  # the best baseline, a candidate beside the families


def get_family(name: str) -> Family:
    """The registered family called ``name``.

    Raises:
        ValueError: no such family; the message lists the registered ones.
    """
    if name not in REGISTRY:
        raise ValueError(f"unknown family {name!r}; expected one of {FAMILIES}")
    return REGISTRY[name]


def saved_kinds() -> dict[str, Any]:
    """``kind -> class`` for every model tokfrag saves: each family's and each baseline's.
    Explicit lists, not registration at import: a model file has no side effects."""
    classes = [cls for family in REGISTRY.values() for cls in family.saved()]
    classes += baselines.saved()
    kinds = {cls.kind: cls for cls in classes}
    if len(kinds) != len(classes):
        raise RuntimeError(f"two saved models share a kind: {[c.kind for c in classes]}")
    return kinds


def load_forecaster(path: str | Path) -> Any:
    """Rebuild any saved tokfrag model (a forecaster or a classifier, any family or a
    baseline) from its folder: ``config.json`` plus ``model.safetensors``, no unpickling."""
    from tokfrag.models.forecaster import rebuild

    return rebuild(path, saved_kinds())
