"""GConvGRU over the sensor graph: Chebyshev graph convolutions inside a GRU cell, read over
the window's steps, with a ridge-started linear skip. Modules only: no file I/O.
"""

from __future__ import annotations

from typing import cast

import torch
from torch import Tensor, nn

from tokfrag.families.fragment.configs import FragmentNetConfig
from tokfrag.families.fragment.graph import batch_graph
from tokfrag.families.fragment.pyg import ChebConv
from tokfrag.models.masking import masked_mse, observed_channel
from tokfrag.models.skip import LinearSkip


class NormedChebConv(ChebConv):
    r"""``torch_geometric.nn.ChebConv`` on a graph normalised beforehand.

    :meth:`normalize` computes the scaled Laplacian :math:`\hat L = 2L/\lambda_{max} - I`
    exactly as ``ChebConv`` does on every call; :meth:`forward` then runs the Chebyshev
    recursion on it. Same parameters (and ``state_dict``) and the same numbers as
    ``ChebConv``, without recomputing the Laplacian for each call on the same graph.

    Shapes:
        - **x** ``(M, in_channels)``, **edge_index** ``(2, E')`` and **norm** ``(E',)`` from
          :meth:`normalize` (``E'`` counts the self loops it adds)
        - **output** ``(M, out_channels)``
    """

    def normalize(
        self, edge_index: Tensor, edge_weight: Tensor | None, num_nodes: int, dtype: torch.dtype
    ) -> tuple[Tensor, Tensor]:
        # torch_geometric ships no type information: ``__norm__`` is Any to mypy.
        return cast(
            tuple[Tensor, Tensor],
            self.__norm__(edge_index, num_nodes, edge_weight, self.normalization, dtype=dtype),
        )

    def forward(self, x: Tensor, edge_index: Tensor, norm: Tensor) -> Tensor:
        tx_0, tx_1 = x, x  # (M, C_in)
        out: Tensor = self.lins[0](tx_0)  # (M, C_out)
        if len(self.lins) > 1:
            tx_1 = self.propagate(edge_index, x=x, norm=norm)  # (M, C_in)
            out = out + self.lins[1](tx_1)
        for lin in self.lins[2:]:
            tx_2 = 2.0 * self.propagate(edge_index, x=tx_1, norm=norm) - tx_0  # (M, C_in)
            out = out + lin(tx_2)
            tx_0, tx_1 = tx_1, tx_2
        return out if self.bias is None else out + self.bias  # (M, C_out)


class GConvGRUCell(nn.Module):
    r"""One step of a graph-convolutional GRU.

    .. math::
        z, r &= \sigma(\mathrm{Cheb}_K([x \,\|\, h]))

        \tilde h &= \tanh(\mathrm{Cheb}_K([x \,\|\, r \odot h]))

        h' &= z \odot h + (1 - z) \odot \tilde h

    A convolution of a concatenation equals the sum of two convolutions with separate
    weights, so this is the usual six-convolution cell computed in two calls.

    Args:
        in_channels: input features per node.
        out_channels: hidden state size per node.
        K: Chebyshev filter size (``K - 1`` hops).

    Shapes:
        - **x** ``(M, in_channels)``, **edge_index** ``(2, E')`` and **norm** ``(E',)`` from
          :meth:`normalize`, **h** ``(M, out_channels)`` with ``M`` nodes (all windows of a
          batch stacked)
        - **output** ``(M, out_channels)``
    """

    def __init__(self, in_channels: int, out_channels: int, K: int = 2) -> None:
        super().__init__()
        self.out_channels = out_channels
        self.gates = NormedChebConv(in_channels + out_channels, 2 * out_channels, K=K)
        self.candidate = NormedChebConv(in_channels + out_channels, out_channels, K=K)

    def reset_parameters(self) -> None:
        self.gates.reset_parameters()
        self.candidate.reset_parameters()

    def normalize(
        self, edge_index: Tensor, edge_weight: Tensor | None, num_nodes: int, dtype: torch.dtype
    ) -> tuple[Tensor, Tensor]:
        """The graph as both convolutions take it (they share the normalisation)."""
        return self.gates.normalize(edge_index, edge_weight, num_nodes, dtype)

    def forward(self, x: Tensor, edge_index: Tensor, norm: Tensor, h: Tensor) -> Tensor:
        zr = torch.sigmoid(self.gates(torch.cat([x, h], dim=-1), edge_index, norm))
        z, r = zr.split(self.out_channels, dim=-1)  # (M, C), (M, C)
        h_tilde = torch.tanh(self.candidate(torch.cat([x, r * h], dim=-1), edge_index, norm))
        h_next: Tensor = z * h + (1 - z) * h_tilde  # (M, C)
        return h_next


class FragmentNet(nn.Module):
    """GConvGRU over a window on a static graph, a linear read-out per node, plus a linear
    skip from the lags (:class:`~tokfrag.models.skip.LinearSkip`).

    The graph is part of the model (buffers, saved with the weights). A batch of ``B``
    windows runs as one block-diagonal graph of ``B * N`` nodes: no Python loop over windows,
    only over the ``lags`` time steps of the recurrence. With ``F`` covariates, each step's
    calendar covariates enter the cell beside the node's value, and the target steps' ones
    enter the skip. With ``observed``, each step's 0/1 observed flag enters the cell beside
    the (filled) value too; the skip reads the filled values only.

    Args:
        config: sizes; see :class:`FragmentNetConfig`.
        edge_index: ``(2, E)`` the static graph over ``config.num_nodes`` nodes.
        edge_weight: ``(E,)`` its edge weights.

    Shapes:
        - **x** ``(B, N, lags)`` standardised values (gaps filled with 0); **c**
          ``(B, lags + horizon, F)`` covariates of the input then the target steps (``None``
          when ``F = 0``); **m** ``(B, N, lags)`` 1.0 observed / 0.0 filled (read only with
          ``observed``; ``None``: all observed)
        - **output** ``(B, N, horizon)`` standardised forecasts
    """

    edge_index: Tensor  # (2, E) buffer
    edge_weight: Tensor  # (E,) buffer

    def __init__(self, config: FragmentNetConfig, edge_index: Tensor, edge_weight: Tensor) -> None:
        super().__init__()
        self.config = config
        self.register_buffer("edge_index", edge_index.long())
        self.register_buffer("edge_weight", edge_weight.float())
        in_channels = 1 + int(config.observed) + config.covariates
        self.cell = GConvGRUCell(in_channels, config.hidden_channels, K=config.K)
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.hidden_channels, config.horizon)
        self.skip = (
            LinearSkip(config.lags, config.horizon, config.covariates) if config.skip else None
        )

    def reset_parameters(self) -> None:
        self.cell.reset_parameters()
        self.head.reset_parameters()
        if self.skip is not None:
            self.skip.reset_parameters()

    def forward(self, x: Tensor, c: Tensor | None = None, m: Tensor | None = None) -> Tensor:
        b, n, lags = x.shape
        m = observed_channel(x, m, self.config.observed)  # (B, N, L) or None
        f = self.config.covariates
        if f and (c is None or c.shape[1:] != (lags + self.config.horizon, f)):
            raise ValueError(
                f"expected covariates c of shape (B, {lags + self.config.horizon}, {f})"
            )
        edge_index, edge_weight = batch_graph(self.edge_index, self.edge_weight, n, b)
        # (2, E'), (E',): normalised once for all 2 * lags convolutions of this batch.
        edge_index, norm = self.cell.normalize(edge_index, edge_weight, b * n, x.dtype)
        steps = x.reshape(b * n, lags, 1)  # (B*N, L, 1)
        if m is not None:
            steps = torch.cat([steps, m.reshape(b * n, lags, 1)], -1)  # (B*N, L, 2)
        if f and c is not None:  # c is never None here: checked above
            seen = c[:, :lags, None].expand(b, lags, n, f).transpose(1, 2)  # (B, N, L, F)
            steps = torch.cat([steps, seen.reshape(b * n, lags, f).to(x.dtype)], -1)
        h = x.new_zeros(b * n, self.config.hidden_channels)  # (B*N, C)
        for t in range(lags):
            h = self.cell(steps[:, t], edge_index, norm, h)  # (B*N, C)
        out: Tensor = self.head(self.dropout(torch.relu(h)))  # (B*N, H)
        out = out.view(b, n, self.config.horizon)  # (B, N, H)
        if self.skip is not None:
            out = out + self.skip(x, None if c is None else c[:, lags:])  # (B, N, H)
        return out

    def warm_start(self, batch: dict[str, Tensor]) -> None:
        """Start from the ridge solution on the training windows: the skip fitted in closed
        form, the graph read-out at zero, so the first forecast is the linear one."""
        if self.skip is None:
            return
        c = batch.get("c")
        c = None if c is None else c[:, self.config.lags :]  # (S, H, F)
        self.skip.fit_ridge(batch["x"], batch["y"], c, w=batch.get("w"))
        with torch.no_grad():
            self.head.weight.zero_()
            self.head.bias.zero_()

    def loss(self, batch: dict[str, Tensor]) -> Tensor:
        """Mean squared error of the standardised forecast over the observed targets."""
        pred = self(batch["x"], c=batch.get("c"), m=batch.get("m"))  # (B, N, H)
        return masked_mse(pred, batch["y"], batch.get("w"))
