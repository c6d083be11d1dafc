"""Sections that reuse a config dataclass instead of copying it.

A model or tokenizer keeps its sizes in one frozen dataclass; the ``params.yaml`` section
that sets them is built from that dataclass's fields (names, types, defaults, in its order)
by :func:`mirror`, so a default lives in one place. The section adds only what the dataclass
does not say: the ranges a user may give (``ge=1``), and its own checks, in a subclass
(mypy cannot see through the built base, hence the ``type: ignore``)::

    class PatchConfig(
        mirror(  # type: ignore[misc]
            PatchTokenizer, exclude=("padding", "min_scale"), ranges={"patch_len": {"ge": 1}, ...}
        )
    ):

The dataclass must be importable without torch (``import tokfrag.config`` stays light).
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import Field, create_model

from tokfrag.config.base import _Section


def mirror(
    source: type,
    *,
    exclude: Iterable[str] = (),
    ranges: Mapping[str, Mapping[str, Any]] | None = None,
) -> type[_Section]:
    """A frozen section (unknown keys rejected) with the fields of the dataclass ``source``.

    Args:
        source: a dataclass whose every kept field has a default.
        exclude: fields the section does not set (sizes taken from the data, say).
        ranges: per field, keyword arguments of :func:`pydantic.Field` (``{"K": {"ge": 1}}``).

    Returns:
        The base class of the section; subclass it to add a docstring and validators.
    """
    ranges = dict(ranges or {})
    skipped = set(exclude)
    hints = typing.get_type_hints(source)
    fields: dict[str, Any] = {}
    for field in dataclasses.fields(source):
        if field.name in skipped:
            continue
        if field.default is dataclasses.MISSING:
            raise TypeError(f"{source.__name__}.{field.name} has no default; exclude it")
        fields[field.name] = (hints[field.name], Field(field.default, **ranges.pop(field.name, {})))
    if ranges:
        raise TypeError(f"ranges for fields {source.__name__} does not keep: {sorted(ranges)}")
    return create_model(f"{source.__name__}Section", __base__=_Section, **fields)
