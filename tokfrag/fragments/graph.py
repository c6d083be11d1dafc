"""The static graph as torch_geometric tensors, and its copy per window in a batch."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor


def graph_tensors(edge_index: np.ndarray, edge_weight: np.ndarray) -> tuple[Tensor, Tensor]:
    """``(2, E)`` int and ``(E,)`` float arrays -> long ``edge_index``, float ``edge_weight``."""
    return (
        torch.tensor(np.asarray(edge_index), dtype=torch.long),
        torch.tensor(np.asarray(edge_weight), dtype=torch.float32),
    )


def batch_graph(
    edge_index: Tensor, edge_weight: Tensor, num_nodes: int, batch_size: int
) -> tuple[Tensor, Tensor]:
    """Repeat one graph ``batch_size`` times as a block-diagonal graph on ``B * N`` nodes
    (what PyG's ``Batch`` does), so a batch of windows runs through one conv call.

    Shapes:
        edge_index ``(2, E)``, edge_weight ``(E,)`` ->
        ``(2, B * E)`` with window ``b``'s nodes at ``b * N .. b * N + N - 1``, ``(B * E,)``.
    """
    offsets = torch.arange(batch_size, device=edge_index.device) * num_nodes  # (B,)
    batched = edge_index.unsqueeze(0) + offsets.view(-1, 1, 1)  # (B, 2, E)
    return batched.permute(1, 0, 2).reshape(2, -1), edge_weight.repeat(batch_size)
