"""Graphs for datasets without one (training-split correlations) and edge normalisations."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch_geometric.utils import to_dense_adj

from tokfrag.data.canonical import to_series
from tokfrag.data.loaders import load_pgt_json
from tokfrag.data.splits import chronological_split
from tokfrag.families.fragment.graph import correlation_graph, normalise


def _hand_made() -> tuple[np.ndarray, np.ndarray]:
    """Four series whose absolute correlations are known by construction."""
    t = np.arange(8, dtype=np.float64)
    wave = np.array([1.0, -1.0, 1.0, -1.0, 1.0, -1.0, 1.0, -1.0])
    values = np.stack([t, -2.0 * t + 3.0, t + 2.0 * wave, wave], axis=1)  # (8, 4)
    return values, np.abs(np.corrcoef(values.T))


def _dense(edge_index: np.ndarray, edge_weight: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros((n, n))
    out[edge_index[0], edge_index[1]] = edge_weight
    return out


def test_top_k_is_exact_on_a_hand_made_matrix():
    values, corr = _hand_made()
    # |corr|: 0 and 1 are perfectly (anti-)correlated; 2 follows both (0.689) and the wave
    # 3 (0.557); 3 is weakly tied to 0 and 1 (0.218 each).
    np.testing.assert_allclose(
        corr[[0, 0, 2, 3], [1, 2, 3, 0]], [1.0, 0.689, 0.557, 0.218], atol=1e-3
    )
    edge_index, edge_weight = correlation_graph(values, k=1)
    # Each node's best partner: 0 -> 1, 1 -> 0, 2 -> 0 (tie with 1 goes to the lower index),
    # 3 -> 2; symmetrised: {0-1, 0-2, 2-3}.
    pairs = {tuple(p) for p in edge_index.T.tolist()}
    assert pairs == {(0, 1), (1, 0), (0, 2), (2, 0), (2, 3), (3, 2)}
    np.testing.assert_allclose(edge_weight, corr[edge_index[0], edge_index[1]])
    assert edge_index.dtype == np.int64 and edge_weight.dtype == np.float64

    # k=2: 0 -> {1, 2}, 1 -> {0, 2}, 2 -> {0, 1}, 3 -> {2, 0} (0 and 1 tie: lower index).
    edge_index2, _ = correlation_graph(values, k=2)
    expected = {(0, 1), (0, 2), (1, 2), (2, 3), (0, 3)}
    expected |= {(j, i) for i, j in expected}
    assert {tuple(p) for p in edge_index2.T.tolist()} == expected


def test_correlation_graph_is_symmetric_without_self_loops(chickenpox_file):
    values = to_series(*load_pgt_json(chickenpox_file), {"name": "c", "sha256": "-"}).values
    edge_index, edge_weight = correlation_graph(values[:107], k=3)
    dense = _dense(edge_index, edge_weight, 20)
    np.testing.assert_array_equal(dense, dense.T)
    assert (edge_index[0] != edge_index[1]).all()
    assert ((dense > 0).sum(axis=1) >= 3).all()  # every node keeps its own top 3
    assert ((edge_weight > 0) & (edge_weight <= 1.0 + 1e-12)).all()
    assert len({tuple(p) for p in edge_index.T.tolist()}) == edge_index.shape[1]  # no repeats


def test_correlation_graph_sees_only_the_rows_passed(chickenpox_file):
    series = to_series(*load_pgt_json(chickenpox_file), {"name": "c", "sha256": "-"})
    split = chronological_split(series.num_steps, 4, 1, 0.2, 0.2)
    end = split.train_steps_end
    before = correlation_graph(series.values[:end], k=4)
    changed = series.values.copy()
    rng = np.random.default_rng(0)
    changed[end:] = rng.normal(size=changed[end:].shape) * 100.0  # scramble every test step
    after = correlation_graph(changed[:end], k=4)
    np.testing.assert_array_equal(after[0], before[0])
    np.testing.assert_array_equal(after[1], before[1])
    # ... while a graph over all steps would have changed.
    assert not np.array_equal(correlation_graph(changed, k=4)[0], before[0])


def test_constant_nodes_get_no_edges_and_bad_k_is_rejected():
    values, _ = _hand_made()
    values = np.concatenate([values, np.ones((8, 1))], axis=1)  # node 4 is constant
    edge_index, _ = correlation_graph(values, k=2)
    assert 4 not in edge_index
    for k in (0, 5):
        with pytest.raises(ValueError, match="1..N-1"):
            correlation_graph(values, k=k)
    with pytest.raises(ValueError, match="T_train"):
        correlation_graph(values[:1], k=1)


EDGE_INDEX = torch.tensor([[0, 1, 1, 2, 0], [1, 0, 2, 1, 2]])  # edge j -> i as [j, i]
EDGE_WEIGHT = torch.tensor([1.0, 1.0, 2.0, 2.0, 4.0])


def test_sym_normalisation_matches_the_gcn_formula():
    index, weight = normalise(EDGE_INDEX, EDGE_WEIGHT, 3, "sym")
    # A[i, j] = weight of edge j -> i, plus I; D from row sums.
    a = to_dense_adj(EDGE_INDEX, edge_attr=EDGE_WEIGHT, max_num_nodes=3)[0].t() + torch.eye(3)
    d = a.sum(dim=1).pow(-0.5)
    expected = d[:, None] * a * d[None, :]
    got = to_dense_adj(index, edge_attr=weight, max_num_nodes=3)[0].t()
    torch.testing.assert_close(got, expected)
    assert index.shape[1] == 5 + 3  # one self loop per node


def test_rw_normalisation_makes_incoming_weights_sum_to_one():
    index, weight = normalise(EDGE_INDEX, EDGE_WEIGHT, 4, "rw")  # node 3 has no edges
    assert torch.equal(index, EDGE_INDEX)
    incoming = torch.zeros(4).index_add_(0, index[1], weight)
    torch.testing.assert_close(incoming, torch.tensor([1.0, 1.0, 1.0, 0.0]))
    torch.testing.assert_close(weight[4], torch.tensor(4.0 / 6.0))  # 0 -> 2 of 2's 2 + 4


def test_normalise_returns_new_tensors_and_checks_its_arguments():
    original = EDGE_WEIGHT.clone()
    index, weight = normalise(EDGE_INDEX, EDGE_WEIGHT, 3, "none")
    assert torch.equal(weight, EDGE_WEIGHT) and weight.data_ptr() != EDGE_WEIGHT.data_ptr()
    weight.mul_(0.0)
    normalise(EDGE_INDEX, EDGE_WEIGHT, 3, "sym")
    assert torch.equal(EDGE_WEIGHT, original)
    # numpy in, unweighted edges count as ones
    _, ones = normalise(EDGE_INDEX.numpy(), None, 3, "none")
    assert torch.equal(ones, torch.ones(5))
    with pytest.raises(ValueError, match="'sym', 'rw' or 'none'"):
        normalise(EDGE_INDEX, EDGE_WEIGHT, 3, "laplacian")
    with pytest.raises(ValueError, match=r"\(5,\)"):
        normalise(EDGE_INDEX, EDGE_WEIGHT[:4], 3, "sym")
