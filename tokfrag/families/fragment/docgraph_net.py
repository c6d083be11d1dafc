"""The document-graph network (TextING-style): word embeddings, gated graph layers over each
document's word co-occurrence graph, and an attention readout to class logits. Modules
only: no file I/O.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from tokfrag.families.fragment.configs import DocGraphNetConfig
from tokfrag.families.fragment.docgraph import PAD_ID
from tokfrag.families.fragment.pyg import (
    Data,
    GatedGraphConv,
    global_max_pool,
    global_mean_pool,
    scatter,
)


def normalize_edge_weight(edge_index: Tensor, edge_weight: Tensor, num_nodes: int) -> Tensor:
    r"""Symmetric normalisation without self loops, :math:`D^{-1/2} A D^{-1/2}` with
    :math:`D_{ii} = \sum_j A_{ij}` (isolated nodes keep degree 0 and receive nothing).

    Shapes: **edge_index** ``(2, E)``, **edge_weight** ``(E,)`` -> ``(E,)``.
    """
    src, dst = edge_index
    # torch_geometric ships no type information: ``scatter`` is Any to mypy.
    degree: Tensor = scatter(edge_weight, dst, dim=0, dim_size=num_nodes, reduce="sum")  # (M,)
    inv_sqrt = degree.pow(-0.5).masked_fill(degree == 0, 0.0)  # (M,)
    return inv_sqrt[src] * edge_weight * inv_sqrt[dst]  # (E,)


class DocGraphNet(nn.Module):
    r"""TextING's network: embed words, GGNN steps, gated mean+max read-out, linear head.

    .. math::
        h^{(0)}_v &= \tanh(W_0\, e_{x_v})

        h^{(t)}_v &= \mathrm{GRU}\big(h^{(t-1)}_v,\;
            \textstyle\sum_{u} \hat A_{vu} W_t h^{(t-1)}_u\big), \quad t = 1..T

        r_v &= \sigma(W_a h^{(T)}_v) \odot \tanh(W_b h^{(T)}_v)

        h_G &= \tfrac{1}{|V|}\textstyle\sum_v r_v + \max_v r_v, \qquad
            p(y \mid G) = \mathrm{softmax}(W_c h_G)

    with :math:`\hat A` the symmetric-normalised co-occurrence counts (no self loops; the
    GRU's own state carries each word forward).

    Args:
        config: sizes; see :class:`DocGraphNetConfig`.

    Shapes:
        - **x** ``(M,)`` long word ids of all nodes in the batch; **edge_index** ``(2, E)``;
          **edge_weight** ``(E,)`` co-occurrence counts; **batch** ``(M,)`` graph of each
          node (``None``: one graph)
        - **output** logits ``(G, C)``
    """

    def __init__(self, config: DocGraphNetConfig) -> None:
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embedding_dim, padding_idx=PAD_ID)
        self.embedding.weight.requires_grad_(not config.freeze_embeddings)
        self.project = nn.Linear(config.embedding_dim, config.hidden_channels)
        self.ggnn = GatedGraphConv(config.hidden_channels, config.num_layers, aggr="add")
        self.gate = nn.Linear(config.hidden_channels, config.hidden_channels)
        self.value = nn.Linear(config.hidden_channels, config.hidden_channels)
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.hidden_channels, config.num_classes)

    def reset_parameters(self) -> None:
        self.embedding.reset_parameters()
        for module in (self.project, self.ggnn, self.gate, self.value, self.head):
            module.reset_parameters()

    def forward(
        self,
        x: Tensor,
        edge_index: Tensor,
        edge_weight: Tensor | None = None,
        batch: Tensor | None = None,
        num_graphs: int | None = None,
    ) -> Tensor:
        num_nodes = x.size(0)
        if edge_weight is None:
            edge_weight = x.new_ones(edge_index.size(1), dtype=torch.float)
        if batch is None:
            batch = x.new_zeros(num_nodes)
        if num_graphs is None:
            num_graphs = int(batch.max()) + 1 if num_nodes else 0
        weight = normalize_edge_weight(edge_index, edge_weight.float(), num_nodes)  # (E,)
        h = self.dropout(self.embedding(x))  # (M, E)
        h = torch.tanh(self.project(h))  # (M, H)
        h = self.ggnn(h, edge_index, weight)  # (M, H)
        r = torch.sigmoid(self.gate(h)) * torch.tanh(self.value(h))  # (M, H)
        pooled = global_mean_pool(r, batch, num_graphs) + global_max_pool(
            r, batch, num_graphs
        )  # (G, H)
        logits: Tensor = self.head(self.dropout(pooled))  # (G, C)
        return logits

    def forward_graph(self, graph: Data) -> Tensor:
        """Logits ``(G, C)`` for a PyG ``Batch`` (or one ``Data``) of document graphs."""
        batch = getattr(graph, "batch", None)
        num_graphs = int(getattr(graph, "num_graphs", 1)) if batch is not None else 1
        logits: Tensor = self(graph.x, graph.edge_index, graph.edge_weight, batch, num_graphs)
        return logits

    def loss(self, batch: dict[str, Any]) -> Tensor:
        """Mean cross-entropy of ``batch["labels"]`` ``(G,)`` for ``batch["graph"]``."""
        logits = self.forward_graph(batch["graph"])  # (G, C)
        return nn.functional.cross_entropy(logits.float(), batch["labels"])
