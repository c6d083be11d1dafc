"""The static graph as torch_geometric tensors, its copy per window in a batch, a graph
built from training-split correlations (for datasets without one) and edge normalisations.

torch loads inside the functions that make tensors: ``prepare`` builds the correlation graph
(NumPy only) and should not pay for torch's import."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import numpy as np

if TYPE_CHECKING:
    from torch import Tensor


def graph_tensors(edge_index: np.ndarray, edge_weight: np.ndarray) -> tuple[Tensor, Tensor]:
    """``(2, E)`` int and ``(E,)`` float arrays -> long ``edge_index``, float ``edge_weight``."""
    import torch

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
    import torch

    offsets = torch.arange(batch_size, device=edge_index.device) * num_nodes  # (B,)
    batched = edge_index.unsqueeze(0) + offsets.view(-1, 1, 1)  # (B, 2, E)
    return batched.permute(1, 0, 2).reshape(2, -1), edge_weight.repeat(batch_size)


def correlation_graph(values_train: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """A graph for datasets that come without one: each node joined to the ``k`` nodes whose
    training series correlate most strongly with its own (absolute Pearson correlation).

    Pass only training steps (``values[:split.train_steps_end]``): the graph is part of the
    model, so nothing a test target uses may shape it. The result is symmetric (an edge kept
    by either end is kept both ways), has no self loops, and weighs each edge by ``|corr|``;
    pairs with zero correlation (e.g. a constant node) are never joined. Ties are broken by
    the lower node index. Missing readings (NaN) are taken at the node's training mean, so
    they add nothing to the correlation's sums.

    Args:
        values_train: ``(T_train, N)`` training steps, rows in time order.
        k: neighbours per node, ``1 <= k <= N - 1``.

    Returns:
        ``edge_index`` ``(2, E)`` int64 (sorted by source, then target) and ``edge_weight``
        ``(E,)`` float64, the same form as a dataset's given graph.

    Raises:
        DataError: when the dense ``N x N`` matrices would not fit in memory
            (:func:`tokfrag.data.limits.check_dense_graph`), before they are allocated.
    """
    from tokfrag.data.limits import check_dense_graph

    if np.ndim(values_train) == 2:
        check_dense_graph(
            np.shape(values_train)[1],
            "the correlation graph (fragment.graph.source: correlation, or no edge list)",
            "give the dataset an edge list and set fragment.graph.source: given, or use "
            "fewer nodes",
        )
    values_train = np.ascontiguousarray(values_train, dtype=np.float64)  # layout-independent sums
    if values_train.ndim != 2 or values_train.shape[0] < 2:
        raise ValueError(
            f"expected training values of shape (T_train, N) with T_train >= 2, "
            f"got {values_train.shape}"
        )
    if np.isinf(values_train).any():
        raise ValueError("training values contain infinite values")
    num_nodes = values_train.shape[1]
    if not 1 <= k <= num_nodes - 1:
        raise ValueError(f"k={k} neighbours is not possible with {num_nodes} nodes; use 1..N-1")
    if np.isnan(values_train).all(axis=0).any():
        raise ValueError("a node has no reading in the training steps")
    # A missing reading (NaN) sits at its node's mean: it adds nothing to the sums.
    centred = np.nan_to_num(values_train - np.nanmean(values_train, axis=0), nan=0.0)
    norm = np.sqrt((centred**2).sum(axis=0))  # (N,)
    safe = np.where(norm > 0, norm, 1.0)
    corr = np.abs((centred.T @ centred) / np.outer(safe, safe))  # (N, N), 0 for constant nodes
    np.fill_diagonal(corr, -1.0)  # never one's own neighbour
    # Stable sort on -|corr|: equal correlations keep index order.
    top = np.argsort(-corr, axis=1, kind="stable")[:, :k]  # (N, k)
    keep = np.zeros((num_nodes, num_nodes), dtype=bool)
    keep[np.repeat(np.arange(num_nodes), k), top.ravel()] = True
    keep = (keep | keep.T) & (corr > 0)  # symmetric; no zero-weight edges
    source, target = np.nonzero(keep)  # row-major: sorted by source, then target
    return np.stack([source, target]).astype(np.int64), corr[source, target]


def normalise(
    edge_index: Tensor | np.ndarray,
    edge_weight: Tensor | np.ndarray | None,
    num_nodes: int,
    how: str = "sym",
) -> tuple[Tensor, Tensor]:
    r"""The usual edge-weight normalisations, as new tensors (the inputs are not changed).

    With :math:`A_{ij}` the weight of the edge ``j -> i`` (PyG's direction: node ``i``
    aggregates messages from its sources ``j``) and :math:`D_{ii} = \sum_j A_{ij}`:

    - ``"sym"``: :math:`\hat D^{-1/2} \hat A \hat D^{-1/2}` with :math:`\hat A = A + I`
      (self loops of weight 1 added where missing, as in GCN, Kipf & Welling 2017);
    - ``"rw"``: :math:`D^{-1} A`, the random-walk normalisation: every node's incoming
      weights sum to one (a weighted mean over its neighbours); no self loops added;
    - ``"none"``: the weights as they are (ones when ``edge_weight`` is ``None``).

    Nodes with no incoming weight keep their (zero) rows instead of dividing by zero.

    Shapes:
        edge_index ``(2, E)``, edge_weight ``(E,)`` -> ``(2, E')``, ``(E',)`` with
        ``E' = E`` plus, for ``"sym"``, one self loop per node that lacked one.
    """
    import torch

    from tokfrag.families.fragment.pyg import add_remaining_self_loops

    edge_index = torch.as_tensor(np.asarray(edge_index), dtype=torch.long).clone()
    if edge_weight is None:
        edge_weight = torch.ones(edge_index.shape[1])
    else:
        edge_weight = torch.as_tensor(np.asarray(edge_weight), dtype=torch.float32).clone()
    if edge_index.ndim != 2 or edge_index.shape[0] != 2:
        raise ValueError(f"expected edge_index of shape (2, E), got {tuple(edge_index.shape)}")
    if edge_weight.shape != (edge_index.shape[1],):
        raise ValueError(
            f"expected edge_weight of shape ({edge_index.shape[1]},), "
            f"got {tuple(edge_weight.shape)}"
        )
    if how == "none":
        return edge_index, edge_weight
    if how == "sym":
        # torch_geometric ships no type information: its result is Any to mypy.
        edge_index, edge_weight = cast(
            "tuple[Tensor, Tensor]",
            add_remaining_self_loops(edge_index, edge_weight, fill_value=1.0, num_nodes=num_nodes),
        )
    elif how != "rw":
        raise ValueError(f"unknown normalisation {how!r}; expected 'sym', 'rw' or 'none'")
    target = edge_index[1]
    degree = torch.zeros(num_nodes, dtype=edge_weight.dtype).index_add_(0, target, edge_weight)
    if how == "sym":
        inv_sqrt = degree.pow(-0.5).masked_fill(degree <= 0, 0.0)  # (N,)
        return edge_index, inv_sqrt[edge_index[0]] * edge_weight * inv_sqrt[target]
    inv = degree.reciprocal().masked_fill(degree == 0, 0.0)  # (N,)
    return edge_index, edge_weight * inv[target]
