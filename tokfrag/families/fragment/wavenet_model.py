"""Fragment family for series, Graph WaveNet style (Wu, Pan, Long, Jiang and Zhang, 2019,
"Graph WaveNet for Deep Spatial-Temporal Graph Modeling", https://arxiv.org/abs/1906.00121).

Stacked dilated causal convolutions with gated activations along time, each followed by a
diffusion graph convolution over the forward and backward random-walk transitions of the
given graph and over an adaptive adjacency learned from node embeddings; skip connections
from every layer feed the output. Graphs here have at most a few hundred nodes, so the
transitions are dense ``N x N`` matrices and a diffusion step is one ``einsum`` over the
whole batch (no loop over windows or time steps).
"""

from __future__ import annotations

from typing import ClassVar

from torch import nn

from tokfrag.families.fragment.configs import WaveNetConfig
from tokfrag.families.fragment.gconvgru_model import GraphForecaster
from tokfrag.families.fragment.wavenet_net import (
    GraphWaveNet,
)


class WaveNetForecaster(GraphForecaster):
    """Node scaler + :class:`GraphWaveNet`, behind the Forecaster contract (see
    :class:`~tokfrag.families.fragment.gconvgru_model.GraphForecaster`)."""

    kind: ClassVar[str] = "fragment_wavenet"
    net_class: ClassVar[type[nn.Module]] = GraphWaveNet
    config_class: ClassVar[type] = WaveNetConfig
