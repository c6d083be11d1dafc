"""PyTorch Geometric for the fragment family, loaded without Hugging Face's transformers.

``import torch_geometric`` runs all of PyG's ``__init__``, its datasets and LLM packages
included, and two modules there try ``import transformers`` (a type hint of its LLM wrapper,
a flag of its text-attributed-graph dataset) and carry on when it is missing. The fragment
family uses neither, yet a process that only builds or loads a graph network (``tokfrag tune
fragment``, ``tokfrag train fragment``) would pay for transformers' import, and tokenizers'
and huggingface_hub's with it, in every stage.

So the first import of PyG happens here, with transformers hidden from this thread while it
runs, and every module of the family takes its PyG names from here. A process that has
transformers already (one that holds a token model too) imports PyG as usual: there is
nothing to save. Other threads are not affected: the finder answers only the importing one.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from importlib.abc import MetaPathFinder
from importlib.machinery import ModuleSpec
from types import ModuleType

HIDDEN = "transformers"


class _Hide(MetaPathFinder):
    """Answers one thread's imports of :data:`HIDDEN` (and its submodules) as if it were not
    installed; every other import goes on to the next finder."""

    def __init__(self) -> None:
        self.thread = threading.get_ident()

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> ModuleSpec | None:
        if threading.get_ident() == self.thread and fullname.split(".")[0] == HIDDEN:
            raise ModuleNotFoundError(
                f"No module named {fullname!r} (hidden while torch_geometric loads)",
                name=fullname,
            )
        return None


def _import_hiding_transformers() -> None:
    """The first import of torch_geometric, with :data:`HIDDEN` refused to this thread."""
    if "torch_geometric" in sys.modules or HIDDEN in sys.modules:
        return  # loaded already, or nothing to save
    finder = _Hide()
    sys.meta_path.insert(0, finder)
    try:
        import torch_geometric  # noqa: F401
    finally:
        sys.meta_path.remove(finder)


_import_hiding_transformers()

from torch_geometric.data import Batch, Data  # noqa: E402
from torch_geometric.nn import (  # noqa: E402
    ChebConv,
    GatedGraphConv,
    global_max_pool,
    global_mean_pool,
)
from torch_geometric.utils import (  # noqa: E402
    add_remaining_self_loops,
    scatter,
    to_dense_adj,
)

__all__ = [
    "Batch",
    "ChebConv",
    "Data",
    "GatedGraphConv",
    "add_remaining_self_loops",
    "global_max_pool",
    "global_mean_pool",
    "scatter",
    "to_dense_adj",
]
