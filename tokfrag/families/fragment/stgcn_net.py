"""STGCN (Yu et al., 2018): gated temporal convolutions around Chebyshev graph convolutions.
Modules only: no file I/O.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from tokfrag.families.fragment.configs import STGCNConfig
from tokfrag.families.fragment.pyg import ChebConv
from tokfrag.models.masking import masked_mse, observed_channel


class TemporalGatedConv(nn.Module):
    r"""Gated (GLU) causal convolution along time, the same kernel at every node.

    .. math::
        [P \,\|\, Q] = \Gamma *_t X, \qquad
        \mathrm{out} = (P + \mathrm{res}(X)) \odot \sigma(Q)

    with :math:`\Gamma` a width-``kernel_size`` kernel and :math:`\mathrm{res}` the identity
    (or a 1x1 convolution when the channel counts differ). Unlike the paper's unpadded
    convolution, the input is zero-padded on the left by ``kernel_size - 1`` steps, so the
    length is kept and any window length works (``lags = 4`` with two blocks would
    otherwise shrink to nothing); step ``t`` still sees only steps ``<= t``.

    Args:
        in_channels: input features per node and step.
        out_channels: output features per node and step.
        kernel_size: steps the kernel spans.

    Shapes:
        - **x** ``(B, in_channels, N, T)``
        - **output** ``(B, out_channels, N, T)``
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.conv = nn.Conv2d(in_channels, 2 * out_channels, (1, kernel_size))
        self.res = (
            nn.Identity()
            if in_channels == out_channels
            else nn.Conv2d(in_channels, out_channels, (1, 1))
        )

    def reset_parameters(self) -> None:
        self.conv.reset_parameters()
        if isinstance(self.res, nn.Conv2d):
            self.res.reset_parameters()

    def forward(self, x: Tensor) -> Tensor:
        padded = nn.functional.pad(x, (self.kernel_size - 1, 0))  # (B, C_in, N, T + k - 1)
        p, q = self.conv(padded).chunk(2, dim=1)  # (B, C_out, N, T) each
        out: Tensor = (p + self.res(x)) * torch.sigmoid(q)  # (B, C_out, N, T)
        return out


class STConvBlock(nn.Module):
    r"""One "sandwich" of STGCN: temporal gate, Chebyshev graph convolution, temporal gate.

    .. math::
        H = \Gamma_1 *_t X, \qquad
        S = \mathrm{ReLU}(\mathrm{Cheb}_K(H)), \qquad
        \mathrm{out} = \mathrm{Dropout}(\mathrm{LayerNorm}(\Gamma_2 *_t S))

    The layer norm is over channels only (per node and step), so the block stays
    equivariant to relabelling the nodes; the paper normalises over nodes and channels.

    Args:
        in_channels: input features per node and step.
        spatial_channels: features the graph convolution produces (the bottleneck).
        out_channels: output features per node and step.
        kernel_size: temporal kernel width.
        K: Chebyshev filter size (``K - 1`` hops).
        dropout: dropout on the block output.

    Shapes:
        - **x** ``(B, in_channels, N, T)``, **edge_index** ``(2, E)``,
          **edge_weight** ``(E,)`` on the ``N`` nodes of one window
        - **output** ``(B, out_channels, N, T)``
    """

    def __init__(
        self,
        in_channels: int,
        spatial_channels: int,
        out_channels: int,
        kernel_size: int,
        K: int,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.temporal1 = TemporalGatedConv(in_channels, out_channels, kernel_size)
        self.graph_conv = ChebConv(out_channels, spatial_channels, K=K)
        self.temporal2 = TemporalGatedConv(spatial_channels, out_channels, kernel_size)
        self.norm = nn.LayerNorm(out_channels)
        self.dropout = nn.Dropout(dropout)

    def reset_parameters(self) -> None:
        self.temporal1.reset_parameters()
        self.graph_conv.reset_parameters()
        self.temporal2.reset_parameters()
        self.norm.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, edge_weight: Tensor | None) -> Tensor:
        h = self.temporal1(x)  # (B, C, N, T)
        b, c, n, t = h.shape
        # Every (window, step) pair is one copy of the static graph: PyG propagates along
        # the node axis (-2) of a (B*T, N, C) tensor.
        h = h.permute(0, 3, 2, 1).reshape(b * t, n, c)  # (B*T, N, C)
        s = torch.relu(self.graph_conv(h, edge_index, edge_weight))  # (B*T, N, C_s)
        s = s.view(b, t, n, -1).permute(0, 3, 2, 1)  # (B, C_s, N, T)
        out = self.temporal2(s)  # (B, C, N, T)
        out = self.norm(out.transpose(1, -1)).transpose(1, -1)  # (B, C, N, T)
        dropped: Tensor = self.dropout(out)
        return dropped


class STGCN(nn.Module):
    r"""STGCN over a window on a static graph (Yu et al., 2018,
    https://arxiv.org/abs/1709.04875): ``num_blocks`` ST-conv blocks
    (:class:`STConvBlock`), then an output layer that reads all ``T`` steps of each node.

    .. math::
        Z &= \mathrm{Block}_{L}(\cdots \mathrm{Block}_1(X)) \in \mathbb{R}^{C \times N \times T}

        o_i &= \mathrm{GLU}(W_o \,\mathrm{vec}(Z_{:, i, :}))
        \quad \text{(the paper's output temporal conv of width } T\text{)}

        \hat y_i &= W_h \,\mathrm{LayerNorm}(o_i) + b_h \in \mathbb{R}^{H}

    The graph (a buffer, saved with the weights) is used as given; ``ChebConv`` applies its
    symmetric Laplacian normalisation. A batch of windows needs no loop: see the module
    docstring.

    Args:
        config: sizes; see :class:`STGCNConfig`.
        edge_index: ``(2, E)`` the static graph over ``config.num_nodes`` nodes.
        edge_weight: ``(E,)`` its edge weights.

    With ``config.observed`` the input has two channels per node and step, the (filled)
    value and its 0/1 observed flag.

    Shapes:
        - **x** ``(B, N, lags)`` standardised values (gaps filled with 0); **m**
          ``(B, N, lags)`` 1.0 observed / 0.0 filled (read only with ``observed``; ``None``:
          all observed)
        - **output** ``(B, N, horizon)`` standardised forecasts
    """

    edge_index: Tensor  # (2, E) buffer
    edge_weight: Tensor  # (E,) buffer

    def __init__(self, config: STGCNConfig, edge_index: Tensor, edge_weight: Tensor) -> None:
        super().__init__()
        self.config = config
        self.register_buffer("edge_index", edge_index.long())
        self.register_buffer("edge_weight", edge_weight.float())
        c = config.hidden_channels
        self.blocks = nn.ModuleList(
            STConvBlock(
                1 + int(config.observed) if i == 0 else c,
                config.spatial_channels,
                c,
                config.kernel_size,
                config.K,
                config.dropout,
            )
            for i in range(config.num_blocks)
        )
        self.out_time = nn.Linear(config.lags * c, 2 * c)
        self.out_norm = nn.LayerNorm(c)
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(c, config.horizon)

    def reset_parameters(self) -> None:
        for block in self.blocks:
            block.reset_parameters()  # type: ignore[operator]
        self.out_time.reset_parameters()
        self.out_norm.reset_parameters()
        self.head.reset_parameters()

    def forward(self, x: Tensor, m: Tensor | None = None) -> Tensor:
        b, n, lags = x.shape
        m = observed_channel(x, m, self.config.observed)  # (B, N, T) or None
        h = x.unsqueeze(1) if m is None else torch.stack([x, m], dim=1)  # (B, 1 or 2, N, T)
        for block in self.blocks:
            h = block(h, self.edge_index, self.edge_weight)  # (B, C, N, T)
        h = h.permute(0, 2, 3, 1).reshape(b, n, -1)  # (B, N, T*C), time-major per node
        o = nn.functional.glu(self.out_time(h), dim=-1)  # (B, N, C)
        forecast: Tensor = self.head(self.dropout(self.out_norm(o)))  # (B, N, H)
        return forecast

    def loss(self, batch: dict[str, Tensor]) -> Tensor:
        """Mean squared error of the standardised forecast over the observed targets."""
        pred = self(batch["x"], m=batch.get("m"))  # (B, N, H)
        return masked_mse(pred, batch["y"], batch.get("w"))
