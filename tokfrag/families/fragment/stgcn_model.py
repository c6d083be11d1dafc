"""Fragment family for series, STGCN style: gated temporal convolutions around a graph
convolution (Yu, Yin and Zhu, 2018, "Spatio-Temporal Graph Convolutional Networks: A Deep
Learning Framework for Traffic Forecasting", https://arxiv.org/abs/1709.04875).

The graph convolution is ``torch_geometric.nn.ChebConv`` (no torch-sparse needed). A batch
of ``B`` windows of ``T`` steps runs through it as one static graph with ``B * T`` leading
positions (PyG propagates along the node axis, ``-2``), so there is no Python loop over
windows or over time.

This module also holds :class:`GraphForecaster`, the Forecaster wrapper shared by every
network of the form ``net(config, edge_index, edge_weight)``.
"""

from __future__ import annotations

from typing import ClassVar

from torch import nn

from tokfrag.families.fragment.configs import STGCNConfig
from tokfrag.families.fragment.gconvgru_model import GraphForecaster
from tokfrag.families.fragment.stgcn_net import STGCN


class STGCNForecaster(GraphForecaster):
    """Node scaler + :class:`STGCN`, behind the Forecaster contract (see
    :class:`GraphForecaster`)."""

    kind: ClassVar[str] = "fragment_stgcn"
    net_class: ClassVar[type[nn.Module]] = STGCN
    config_class: ClassVar[type] = STGCNConfig
