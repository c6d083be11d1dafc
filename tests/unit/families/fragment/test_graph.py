"""The static graph as tensors and its block-diagonal copy per window of a batch."""

from __future__ import annotations

import numpy as np
import torch

from tokfrag.families.fragment.graph import batch_graph, graph_tensors

# A 4-node graph: a directed cycle plus one chord.
EDGE_INDEX = np.array([[0, 1, 2, 3, 0], [1, 2, 3, 0, 2]])
EDGE_WEIGHT = np.array([1.0, 0.5, 2.0, 0.25, 3.0])


def test_graph_tensors_dtypes_and_values():
    edge_index, edge_weight = graph_tensors(EDGE_INDEX, EDGE_WEIGHT)
    assert edge_index.dtype == torch.long and edge_index.shape == (2, 5)
    assert edge_weight.dtype == torch.float32 and edge_weight.shape == (5,)
    assert edge_index.tolist() == EDGE_INDEX.tolist()
    assert edge_weight.tolist() == EDGE_WEIGHT.tolist()


def test_batch_graph_offsets_are_block_diagonal():
    edge_index, edge_weight = graph_tensors(EDGE_INDEX, EDGE_WEIGHT)
    batched_index, batched_weight = batch_graph(edge_index, edge_weight, num_nodes=4, batch_size=3)
    assert batched_index.tolist() == [
        [0, 1, 2, 3, 0, 4, 5, 6, 7, 4, 8, 9, 10, 11, 8],
        [1, 2, 3, 0, 2, 5, 6, 7, 4, 6, 9, 10, 11, 8, 10],
    ]
    assert batched_weight.tolist() == EDGE_WEIGHT.tolist() * 3
    # No edge crosses from one window's block into another's.
    assert ((batched_index[0] // 4) == (batched_index[1] // 4)).all()


def test_batch_of_one_is_the_graph_itself():
    edge_index, edge_weight = graph_tensors(EDGE_INDEX, EDGE_WEIGHT)
    batched_index, batched_weight = batch_graph(edge_index, edge_weight, 4, 1)
    assert torch.equal(batched_index, edge_index)
    assert torch.equal(batched_weight, edge_weight)


def test_batch_graph_handles_an_empty_graph():
    edge_index = torch.zeros((2, 0), dtype=torch.long)
    batched_index, batched_weight = batch_graph(edge_index, torch.zeros(0), 4, 5)
    assert batched_index.shape == (2, 0) and batched_weight.shape == (0,)
