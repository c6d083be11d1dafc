"""The family registry: the one place that lists tokfrag's model families.

A family is a package here (``token/``, ``fragment/``) that exports one
:class:`~tokfrag.models.family.Family`: its name (also its ``params.yaml`` section) and, per
kind of data, its variants with a builder each. The pipeline, the verdict, the report, the
registry and the Prefect flow iterate over :data:`FAMILIES`; none of them names a family.
``baselines/`` holds the yardsticks every family must beat; it is not a family.

Adding a family is one new package plus one entry in :data:`REGISTRY`; or, without touching
tokfrag, an installed package that exports a :class:`Family` (with its params ``section``)
under the entry-point group ``tokfrag.families``, which is read here once. Families never
import each other; shared parts live in :mod:`tokfrag.models`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tokfrag.families import baselines, fragment, token
from tokfrag.models.family import Family

PLUGIN_GROUP = "tokfrag.families"
BASELINE = "baseline"  # the best baseline, a candidate beside the families


def _plugins() -> tuple[Family, ...]:
    """The families installed packages offer under :data:`PLUGIN_GROUP`."""
    from importlib.metadata import entry_points

    found = []
    for point in entry_points(group=PLUGIN_GROUP):
        family = point.load()
        if not isinstance(family, Family) or family.section is None:
            raise TypeError(
                f"entry point {point.name!r} ({point.value}) in {PLUGIN_GROUP!r} must be a "
                "tokfrag.models.family.Family with its params section (section=...)"
            )
        found.append(family)
    return tuple(found)


def _registry(families: tuple[Family, ...]) -> dict[str, Family]:
    registry: dict[str, Family] = {}
    for family in families:
        if family.name in registry or family.name == BASELINE:
            raise ValueError(f"two families are called {family.name!r}; rename the plug-in")
        registry[family.name] = family
    return registry


REGISTRY: dict[str, Family] = _registry((token.FAMILY, fragment.FAMILY, *_plugins()))
FAMILIES: tuple[str, ...] = tuple(REGISTRY)


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
