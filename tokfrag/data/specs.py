"""What a dataset is: :class:`DatasetSpec` (files, sha256, loader), the figures published on
it, and :class:`DataError`, the error for a dataset that cannot be found, fetched, verified
or parsed.

The built-in datasets are listed in :mod:`tokfrag.data.registry`; where their files are
found (mirror, cache, download) is :mod:`tokfrag.data.resolution`. Standard library only.
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class DataError(RuntimeError):
    """A dataset could not be found, fetched, verified or parsed."""


@dataclass(frozen=True)
class Published:
    """A figure someone else published on this dataset's standard protocol."""

    model: str
    metric: str
    value: float
    source: str
    protocol: dict[str, float | str | int]  # the split settings the figure was measured on


@dataclass(frozen=True)
class DatasetSpec:
    """One dataset: its files with their sha256, where upstream keeps them, how to parse them.

    The loader is ``<module>.<loader>``, called with the resolved files in ``files`` order and
    ``loader_kwargs`` (see :meth:`loader_function` and :meth:`parse`). A file missing from
    ``urls`` has no stable upstream address: it is read from the mirror (or cache) only.
    ``label_names`` is the declared class set of a text dataset, in a fixed (sorted) order.
    """

    name: str
    kind: str  # "series" (node time series on a graph) or "text"
    files: dict[str, str]  # file name -> sha256
    urls: dict[str, str]  # file name -> upstream URL (may lack a file: mirror only)
    loader: str  # name of the function in ``module``
    description: str = ""
    license: str = ""
    published: tuple[Published, ...] = ()
    module: str = "tokfrag.data.loaders"  # text datasets: "tokfrag.data.text_loaders"
    loader_kwargs: dict[str, Any] = field(default_factory=dict)
    label_names: tuple[str, ...] = ()  # text: the declared classes, sorted
    source: str = ""  # where a person gets a file that has no URL
    # series with step numbers for time: when step 0 was (ISO date) and the step
    # (a pandas offset such as "7D" or "5min"), so calendar covariates can be computed
    clock: dict[str, str] = field(default_factory=dict)

    def loader_function(self) -> Callable[..., Any]:
        """The parser named by ``module`` and ``loader``."""
        if not self.module.startswith("tokfrag.data."):
            raise DataError(
                f"{self.name}: loader module {self.module!r} is outside tokfrag.data; "
                "loaders live in tokfrag.data.loaders or tokfrag.data.text_loaders"
            )
        module = importlib.import_module(self.module)
        try:
            return getattr(module, self.loader)
        except AttributeError:
            raise DataError(
                f"{self.name}: {self.module} has no loader {self.loader!r}; fix the registry entry"
            ) from None

    def parse(self, paths: dict[str, Path]) -> Any:
        """Run the loader on resolved files (``file name -> path``), in ``files`` order."""
        return self.loader_function()(*(paths[f] for f in self.files), **self.loader_kwargs)


def combined_sha256(files: dict[str, str]) -> str:
    """One checksum for a dataset: its only file's sha256, or a sha256 over the sorted
    ``name:sha256;`` pairs when it has several (the formula ``stages.ingest`` uses)."""
    if len(files) == 1:
        return next(iter(files.values()))
    return hashlib.sha256(
        "".join(f"{k}:{v};" for k, v in sorted(files.items())).encode()
    ).hexdigest()
