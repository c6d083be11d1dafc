"""Graph WaveNet (Wu et al., 2019): dilated causal convolutions with diffusion graph
convolutions over the given and an adaptive adjacency. Modules only: no file I/O.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from tokfrag.families.fragment.configs import WaveNetConfig
from tokfrag.families.fragment.pyg import to_dense_adj
from tokfrag.models.masking import masked_mse, observed_channel


def random_walk_transitions(
    edge_index: Tensor, edge_weight: Tensor, num_nodes: int
) -> tuple[Tensor, Tensor]:
    r"""The forward and backward random-walk transition matrices of a weighted graph.

    With :math:`A_{ij}` the weight of the edge ``i -> j``:
    :math:`P_f = D_O^{-1} A` and :math:`P_b = D_I^{-1} A^\top` (DCRNN, Li et al. 2018),
    rows of nodes with no out- (in-) edges left at zero. For a symmetric graph the two
    are equal.

    Shapes:
        edge_index ``(2, E)``, edge_weight ``(E,)`` -> two ``(N, N)`` row-stochastic
        (or zero-row) matrices.
    """
    adjacency = to_dense_adj(edge_index, edge_attr=edge_weight, max_num_nodes=num_nodes)[0]

    def rows(matrix: Tensor) -> Tensor:
        degree = matrix.sum(dim=1, keepdim=True)  # (N, 1)
        return matrix / torch.where(degree > 0, degree, torch.ones_like(degree))

    return rows(adjacency), rows(adjacency.t())


class DiffusionGraphConv(nn.Module):
    r"""Diffusion graph convolution over dense transition matrices (Graph WaveNet, eq. 7).

    .. math::
        Z = \sum_{s=1}^{S} \sum_{k=0}^{K} P_s^k X W_{s,k}

    computed as one 1x1 convolution of the concatenation
    :math:`[X, P_1 X, \ldots, P_1^K X, \ldots, P_S^K X]` (the ``k = 0`` term shared).

    Args:
        in_channels: input features per node and step.
        out_channels: output features per node and step.
        num_supports: number ``S`` of transition matrices passed to ``forward``.
        K: diffusion steps per matrix.
        dropout: dropout on the output.

    Shapes:
        - **x** ``(B, in_channels, N, T)``, **supports** ``S`` matrices ``(N, N)``
        - **output** ``(B, out_channels, N, T)``
    """

    def __init__(
        self, in_channels: int, out_channels: int, num_supports: int, K: int, dropout: float
    ) -> None:
        super().__init__()
        self.K = K
        self.mlp = nn.Conv2d((num_supports * K + 1) * in_channels, out_channels, (1, 1))
        self.dropout = nn.Dropout(dropout)

    def reset_parameters(self) -> None:
        self.mlp.reset_parameters()

    def forward(self, x: Tensor, supports: list[Tensor]) -> Tensor:
        out = [x]
        for p in supports:
            h = x
            for _ in range(self.K):
                h = torch.einsum("mn,bcnt->bcmt", p, h)  # (B, C, N, T): node m mixes P[m, :]
                out.append(h)
        mixed: Tensor = self.dropout(self.mlp(torch.cat(out, dim=1)))  # (B, C_out, N, T)
        return mixed


class GraphWaveNet(nn.Module):
    r"""Graph WaveNet over a window on a static graph (Wu et al., 2019,
    https://arxiv.org/abs/1906.00121).

    Each layer ``l`` (dilation :math:`d_l`) on the residual stream :math:`X^{(l)}`:

    .. math::
        G &= \tanh(\Theta_f \star_{d_l} X^{(l)}) \odot \sigma(\Theta_g \star_{d_l} X^{(l)})

        \mathrm{skip} &\mathrel{+}= W_s G

        X^{(l+1)} &= \mathrm{BN}\Big(\sum_{s} \sum_{k=0}^{K} P_s^k G W_{s,k}
        + X^{(l)}\Big)

    with :math:`\star_d` a causal convolution of dilation :math:`d` (each layer shortens
    the sequence by :math:`(k_t - 1) d`), the transitions
    :math:`P \in \{D_O^{-1}A,\ D_I^{-1}A^\top\}` of the given graph (left out when it has
    no edges) and, with ``adaptive``,
    :math:`\tilde A = \mathrm{SoftMax}(\mathrm{ReLU}(E_1 E_2^\top))` from learned node
    embeddings :math:`E_1, E_2 \in \mathbb{R}^{N \times d}`. The output is
    :math:`W_2\,\mathrm{ReLU}(W_1\,\mathrm{ReLU}(\mathrm{skip}))` at the last step.
    With no graph and ``adaptive=False`` it is a plain gated temporal convolution net.

    The given graph is kept as ``edge_index`` / ``edge_weight`` buffers (saved with the
    weights); its dense transitions are rebuilt from them, not saved.

    Args:
        config: sizes; see :class:`WaveNetConfig`.
        edge_index: ``(2, E)`` the static graph over ``config.num_nodes`` nodes
            (``E = 0`` allowed).
        edge_weight: ``(E,)`` its edge weights.

    With ``config.observed`` the input has two channels per node and step, the (filled)
    value and its 0/1 observed flag (the left padding of a short window counts as not
    observed).

    Shapes:
        - **x** ``(B, N, lags)`` standardised values (gaps filled with 0); **m**
          ``(B, N, lags)`` 1.0 observed / 0.0 filled (read only with ``observed``; ``None``:
          all observed)
        - **output** ``(B, N, horizon)`` standardised forecasts
    """

    edge_index: Tensor  # (2, E) buffer
    edge_weight: Tensor  # (E,) buffer
    forward_transition: Tensor  # (N, N) buffer, only with a graph
    backward_transition: Tensor  # (N, N) buffer, only with a graph

    def __init__(self, config: WaveNetConfig, edge_index: Tensor, edge_weight: Tensor) -> None:
        super().__init__()
        self.config = config
        self.register_buffer("edge_index", edge_index.long())
        self.register_buffer("edge_weight", edge_weight.float())
        self.has_graph = edge_index.shape[1] > 0
        if self.has_graph:
            forward, backward = random_walk_transitions(
                self.edge_index, self.edge_weight, config.num_nodes
            )
            self.register_buffer("forward_transition", forward, persistent=False)
            self.register_buffer("backward_transition", backward, persistent=False)
        num_supports = 2 * self.has_graph + config.adaptive
        if config.adaptive:
            self.source_embedding = nn.Parameter(
                torch.empty(config.num_nodes, config.embedding_dim)
            )
            self.target_embedding = nn.Parameter(
                torch.empty(config.num_nodes, config.embedding_dim)
            )

        r, d, s = config.residual_channels, config.dilation_channels, config.skip_channels
        self.start = nn.Conv2d(1 + int(config.observed), r, (1, 1))
        self.filters = nn.ModuleList()
        self.gates = nn.ModuleList()
        self.skips = nn.ModuleList()
        self.graph_convs = nn.ModuleList()
        self.norms = nn.ModuleList()
        for dilation in config.dilations:
            kernel = (1, config.kernel_size)
            self.filters.append(nn.Conv2d(r, d, kernel, dilation=(1, dilation)))
            self.gates.append(nn.Conv2d(r, d, kernel, dilation=(1, dilation)))
            self.skips.append(nn.Conv2d(d, s, (1, 1)))
            self.graph_convs.append(
                DiffusionGraphConv(d, r, num_supports, config.K, config.dropout)
            )
            self.norms.append(nn.BatchNorm2d(r) if config.batch_norm else nn.Identity())
        self.end1 = nn.Conv2d(s, config.end_channels, (1, 1))
        self.end2 = nn.Conv2d(config.end_channels, config.horizon, (1, 1))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.config.adaptive:
            nn.init.normal_(self.source_embedding)
            nn.init.normal_(self.target_embedding)
        for module in self.modules():
            if isinstance(module, nn.Conv2d | nn.BatchNorm2d):  # every weight besides E1, E2
                module.reset_parameters()

    def supports(self) -> list[Tensor]:
        """The ``(N, N)`` transition matrices used by every graph convolution."""
        out = []
        if self.has_graph:
            out += [self.forward_transition, self.backward_transition]
        if self.config.adaptive:
            scores = torch.relu(self.source_embedding @ self.target_embedding.t())  # (N, N)
            out.append(torch.softmax(scores, dim=1))
        return out

    def forward(self, x: Tensor, m: Tensor | None = None) -> Tensor:
        b, n, lags = x.shape
        field = self.config.receptive_field
        m = observed_channel(x, m, self.config.observed)  # (B, N, L) or None
        h = x.unsqueeze(1) if m is None else torch.stack([x, m], dim=1)  # (B, 1 or 2, N, L)
        if lags < field:
            h = nn.functional.pad(h, (field - lags, 0))  # (B, 1 or 2, N, RF)
        else:
            h = h[..., -field:]  # (B, 1 or 2, N, RF)
        h = self.start(h)  # (B, R, N, RF)
        supports = self.supports()
        skip: Tensor | None = None
        for filt, gate, skip_conv, graph_conv, norm in zip(
            self.filters, self.gates, self.skips, self.graph_convs, self.norms, strict=True
        ):
            residual = h  # (B, R, N, T)
            g = torch.tanh(filt(h)) * torch.sigmoid(gate(h))  # (B, D, N, T')
            s = skip_conv(g)  # (B, S, N, T')
            skip = s if skip is None else s + skip[..., -s.shape[-1] :]  # (B, S, N, T')
            h = graph_conv(g, supports) + residual[..., -g.shape[-1] :]  # (B, R, N, T')
            h = norm(h)
        assert skip is not None  # at least one layer
        out: Tensor = torch.relu(self.end1(torch.relu(skip[..., -1:])))  # (B, E, N, 1)
        out = self.end2(out)  # (B, H, N, 1)
        return out.squeeze(-1).transpose(1, 2)  # (B, N, H)

    def loss(self, batch: dict[str, Tensor]) -> Tensor:
        """Mean squared error of the standardised forecast over the observed targets."""
        pred = self(batch["x"], m=batch.get("m"))  # (B, N, H)
        return masked_mse(pred, batch["y"], batch.get("w"))
