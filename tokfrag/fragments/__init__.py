"""Spatio-temporal fragments: windows that keep time and the graph, for torch_geometric."""

from tokfrag.fragments.graph import batch_graph, graph_tensors
from tokfrag.fragments.scaler import NodeScaler
from tokfrag.fragments.windows import slice_windows

__all__ = ["NodeScaler", "batch_graph", "graph_tensors", "slice_windows"]
