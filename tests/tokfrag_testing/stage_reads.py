"""Which params and which code a stage really reads, traced while it runs in this process.

Params (:func:`traced_reads`): every field read from a :class:`~tokfrag.config.Params` is
recorded by its dotted path. The record is built from what the code does, not from
``dvc.yaml``. A read is a field's value taken from a section (``params.train.epochs``,
``getattr(params, family)``), or a whole section serialised, compared, hashed or iterated
(``params.split.model_dump()``: every field below it). Reading a field whose value is itself
a section (``params.fragment`` on the way to ``.graph.k``) is only a step towards a read, not
one itself. Reads made while pydantic validates a model (its own validators, on load or in
``with_overrides``) are not the stage's.

A dump of a whole :class:`Params` is not counted as a read of every section: tokfrag dumps
it only to build another :class:`Params` (``with_overrides``, a tuning worker's copy), whose
own reads are then traced. Where each such dump came from is recorded, so a test can hold
that list to the known places.

Code (:func:`traced_code`): the source files whose functions are called while the stage
runs (an import alone does not count).
"""

from __future__ import annotations

import os
import sys
import threading
import types
import typing
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel

from tokfrag import config
from tokfrag.config import Params


def section_paths() -> dict[type, str]:
    """Each section class of the schema -> its dotted path under Params (``*`` for a level
    of a dict: ``tune.spaces.*.*.*``). A class found at two paths would make a read's path
    ambiguous, so that is refused."""
    found: dict[type, set[str]] = {Params: {""}}

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, info in model.model_fields.items():
            for cls, path in _sections_in(info.annotation, f"{prefix}{name}"):
                found.setdefault(cls, set()).add(path)
                walk(cls, f"{path}.")

    walk(Params, "")
    twice = {cls.__name__: paths for cls, paths in found.items() if len(paths) > 1}
    assert not twice, f"section classes used at several paths: {twice}"
    return {cls: next(iter(paths)) for cls, paths in found.items()}


def _sections_in(annotation: object, path: str) -> Iterator[tuple[type, str]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation, path
        return
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (dict, typing.Dict):  # noqa: UP006  (either spelling may appear)
        yield from _sections_in(args[1], f"{path}.*")
    elif origin in (list, tuple, set, frozenset):
        for arg in args:
            yield from _sections_in(arg, f"{path}.*")
    elif origin in (typing.Union, types.UnionType):
        for arg in args:
            yield from _sections_in(arg, path)


@dataclass
class Reads:
    """What was read while tracing: dotted paths, and the callers of whole-Params dumps."""

    fields: set[str] = field(default_factory=set)
    root_dumps: set[str] = field(default_factory=set)

    def cells(self, units: Iterable[str]) -> set[str]:
        """The reads at the granularity params are declared at. ``units`` are the names a
        stage may declare (every top-level key, and deeper ones such as ``fragment.graph``);
        each leaf of the params tree lies in one cell, its finest unit (``fragment.graph.k``
        in ``fragment.graph``, ``fragment.model.K`` in ``fragment``). A field read reads its
        own cell; a whole section read also reads every cell below it."""
        units = set(units)
        out: set[str] = set()
        for path in self.fields:
            out.add(cell_of(path, units))
            out.update(u for u in units if u.startswith(f"{path}."))
        return out


def cell_of(path: str, units: Iterable[str]) -> str:
    """The finest of ``units`` that ``path`` lies in (its top-level key at least)."""
    inside = [u for u in units if path == u or path.startswith(f"{u}.")]
    return max(inside, key=len, default=path.split(".", 1)[0])


_WHOLE = ("model_dump", "model_dump_json", "__iter__", "__eq__", "__hash__")


@contextmanager
def traced_reads() -> Iterator[Reads]:
    """Record every params read in this process (all threads) until the block ends."""
    paths = section_paths()
    reads = Reads()
    local = threading.local()
    section = config._Section
    lock = threading.Lock()
    patched: list[tuple[type, str, object]] = []  # (class, name, what it had before)
    absent = object()

    def patch(cls: type, name: str, value: object) -> None:
        patched.append((cls, name, cls.__dict__.get(name, absent)))
        setattr(cls, name, value)

    def paused() -> bool:
        return getattr(local, "validating", 0) > 0

    def where(cls: type) -> str:
        return paths.get(cls, f"<{cls.__name__}>")

    def get(self, name):
        value = object.__getattribute__(self, name)
        cls = type(self)
        if name in cls.__pydantic_fields__ and not paused() and not isinstance(value, section):
            prefix = where(cls)
            with lock:
                reads.fields.add(f"{prefix}.{name}" if prefix else name)
        return value

    def whole(original):
        def wrapper(self, *args, **kwargs):
            if not paused():
                cls = type(self)
                with lock:
                    if cls is Params:
                        caller = sys._getframe(1)
                        reads.root_dumps.add(
                            f"{caller.f_globals.get('__name__')}.{caller.f_code.co_name}"
                        )
                    else:
                        reads.fields.add(where(cls))
            return original(self, *args, **kwargs)

        return wrapper

    validate = BaseModel.model_validate.__func__
    init = BaseModel.__init__

    def validating(action, *args, **kwargs):
        local.validating = getattr(local, "validating", 0) + 1
        try:
            return action(*args, **kwargs)
        finally:
            local.validating -= 1

    def model_validate(cls, *args, **kwargs):
        return validating(validate, cls, *args, **kwargs)

    def __init__(self, /, **data):
        validating(init, self, **data)

    patch(section, "__getattribute__", get)
    patch(section, "model_validate", classmethod(model_validate))
    patch(section, "__init__", __init__)
    for name in _WHOLE:
        patch(section, name, whole(getattr(section, name)))
        for cls in paths:  # pydantic gives each frozen model class its own __hash__
            if cls is not section and name in cls.__dict__:
                patch(cls, name, whole(cls.__dict__[name]))
    try:
        yield reads
    finally:
        for cls, name, before in reversed(patched):
            if before is absent:
                delattr(cls, name)
            else:
                setattr(cls, name, before)


@contextmanager
def traced_code(package: Path) -> Iterator[set[str]]:
    """Record the source files under ``package``'s folder whose functions are called in this
    process, in every thread, until the block ends; as paths relative to the folder above
    the package (``tokfrag/stages/gate.py``). Code run by an import (a module's body, a
    class body, a call made at module level) is not counted: importing a module is not
    using it, and a module imported by an earlier stage is not imported again."""
    base = package.parent
    prefix = f"{package}{os.sep}"
    files: set[str] = set()
    other: set[str] = set()  # files met outside the package, skipped at once next time

    def profile(frame, event, arg):
        if event != "call":
            return
        name = frame.f_code.co_filename
        if name in files or name in other:
            return
        if not name.startswith(prefix):
            other.add(name)
            return
        caller = frame.f_back
        if frame.f_code.co_name == "<module>" or (
            caller is not None and caller.f_code.co_name == "<module>"
        ):
            return
        files.add(name)

    before = sys.getprofile()
    sys.setprofile(profile)
    threading.setprofile(profile)
    try:
        yield files
    finally:
        sys.setprofile(before)
        threading.setprofile(None)
        found = {Path(f).relative_to(base).as_posix() for f in files}
        files.clear()
        files.update(found)
