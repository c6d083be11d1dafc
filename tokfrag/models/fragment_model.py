"""Fragment family for series: windows on the sensor graph -> graph-convolutional GRU.

The recurrent cell follows GConvGRU (Seo et al., 2018, "Structured Sequence Modeling with
Graph Convolutional Recurrent Networks", https://arxiv.org/abs/1612.07659): a GRU whose gate
and candidate transforms are Chebyshev graph convolutions, so each node's state mixes its
own history with its neighbours'. It is built on ``torch_geometric.nn.ChebConv``, which needs
no torch-sparse / torch-scatter; the graph's scaled Laplacian is computed once per batch, not
in each of the cell's ``2 * lags`` convolutions (:class:`NormedChebConv`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import torch
from torch import Tensor, nn
from torch_geometric.nn import ChebConv

from tokfrag.fragments.graph import batch_graph, graph_tensors
from tokfrag.fragments.scaler import NodeScaler
from tokfrag.models.forecaster import (
    check_windows,
    load_weights,
    read_config,
    register_kind,
    save_module,
)


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
        return self.__norm__(edge_index, num_nodes, edge_weight, self.normalization, dtype=dtype)

    def forward(self, x: Tensor, edge_index: Tensor, norm: Tensor) -> Tensor:  # type: ignore[override]
        tx_0, tx_1 = x, x  # (M, C_in)
        out = self.lins[0](tx_0)  # (M, C_out)
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
        return z * h + (1 - z) * h_tilde  # (M, C)


@dataclass(frozen=True)
class FragmentNetConfig:
    num_nodes: int
    lags: int
    horizon: int = 1
    hidden_channels: int = 32
    K: int = 2
    dropout: float = 0.0


class FragmentNet(nn.Module):
    """GConvGRU over a window on a static graph, then a linear read-out per node.

    The graph is part of the model (buffers, saved with the weights). A batch of ``B``
    windows runs as one block-diagonal graph of ``B * N`` nodes: no Python loop over windows,
    only over the ``lags`` time steps of the recurrence.

    Args:
        config: sizes; see :class:`FragmentNetConfig`.
        edge_index: ``(2, E)`` the static graph over ``config.num_nodes`` nodes.
        edge_weight: ``(E,)`` its edge weights.

    Shapes:
        - **x** ``(B, N, lags)`` standardised values
        - **output** ``(B, N, horizon)`` standardised forecasts
    """

    def __init__(self, config: FragmentNetConfig, edge_index: Tensor, edge_weight: Tensor) -> None:
        super().__init__()
        self.config = config
        self.register_buffer("edge_index", edge_index.long())
        self.register_buffer("edge_weight", edge_weight.float())
        self.cell = GConvGRUCell(1, config.hidden_channels, K=config.K)
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.hidden_channels, config.horizon)

    def reset_parameters(self) -> None:
        self.cell.reset_parameters()
        self.head.reset_parameters()

    def forward(self, x: Tensor) -> Tensor:
        b, n, lags = x.shape
        edge_index, edge_weight = batch_graph(self.edge_index, self.edge_weight, n, b)
        # (2, E'), (E',): normalised once for all 2 * lags convolutions of this batch.
        edge_index, norm = self.cell.normalize(edge_index, edge_weight, b * n, x.dtype)
        steps = x.reshape(b * n, lags, 1)  # (B*N, L, 1)
        h = x.new_zeros(b * n, self.config.hidden_channels)  # (B*N, C)
        for t in range(lags):
            h = self.cell(steps[:, t], edge_index, norm, h)  # (B*N, C)
        out = self.head(self.dropout(torch.relu(h)))  # (B*N, H)
        return out.view(b, n, self.config.horizon)  # (B, N, H)

    def loss(self, batch: dict[str, Tensor]) -> Tensor:
        return nn.functional.mse_loss(self(batch["x"]).float(), batch["y"])


class GraphForecaster:
    """The Forecaster contract for every series fragment model: a node scaler plus a network
    that keeps the static graph as ``edge_index`` / ``edge_weight`` buffers; windows
    ``(S, N, L)`` in data units -> forecasts ``(S, N, H)`` in data units, saved as safetensors +
    JSON. A subclass names its ``kind``, ``net_class`` (built as
    ``net_class(config_class(**sizes), edge_index, edge_weight)``) and ``config_class``."""

    kind: ClassVar[str]
    family: ClassVar[str] = "fragment"
    net_class: ClassVar[type[nn.Module]]
    config_class: ClassVar[type]

    def __init__(self, scaler: NodeScaler, net: nn.Module) -> None:
        self.scaler = scaler
        self.net = net

    @property
    def lags(self) -> int:
        return self.net.config.lags

    @property
    def horizon(self) -> int:
        return self.net.config.horizon

    def tensors(self, windows: np.ndarray, targets: np.ndarray | None = None) -> dict[str, Tensor]:
        windows = check_windows(windows, self.lags, self.net.config.num_nodes)
        out = {"x": torch.from_numpy(self.scaler.transform(windows)).float()}  # (S, N, L)
        if targets is not None:
            out["y"] = torch.from_numpy(self.scaler.transform(targets)).float()  # (S, N, H)
        return out

    @torch.no_grad()
    def forecast(self, windows: np.ndarray, batch_size: int = 512) -> np.ndarray:
        x = self.tensors(windows)["x"]
        if len(x) == 0:
            return np.zeros((0, self.net.config.num_nodes, self.horizon))
        device = self.net.edge_index.device
        self.net.eval()
        parts = [
            self.net(x[i : i + batch_size].to(device)).float().cpu()
            for i in range(0, len(x), batch_size)
        ]
        return self.scaler.inverse(torch.cat(parts).double().numpy())  # (S, N, H)

    def save(self, path: Path) -> Path:
        config = {
            "kind": self.kind,
            "net": asdict(self.net.config),
            "scaler": self.scaler.to_dict(),
        }
        return save_module(path, config, self.net)

    @classmethod
    def build(
        cls,
        scaler: NodeScaler,
        edge_index: np.ndarray,
        edge_weight: np.ndarray,
        lags: int,
        horizon: int,
        **sizes: Any,
    ) -> Self:
        config = cls.config_class(num_nodes=len(scaler.mean), lags=lags, horizon=horizon, **sizes)
        return cls(scaler, cls.net_class(config, *graph_tensors(edge_index, edge_weight)))

    @classmethod
    def load(cls, path: Path) -> Self:
        config = read_config(path)
        state = load_weights(path)
        net = cls.net_class(
            cls.config_class(**config["net"]), state["edge_index"], state["edge_weight"]
        )
        net.load_state_dict(state)
        net.eval()
        return cls(NodeScaler.from_dict(config["scaler"]), net)


@register_kind
class FragmentForecaster(GraphForecaster):
    """GConvGRU (:class:`FragmentNet`) behind the series Forecaster contract."""

    kind: ClassVar[str] = "fragment_gconvgru"
    net_class = FragmentNet
    config_class = FragmentNetConfig
