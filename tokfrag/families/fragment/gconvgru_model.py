"""Fragment family for series: windows on the sensor graph -> graph-convolutional GRU.

The recurrent cell follows GConvGRU (Seo et al., 2018, "Structured Sequence Modeling with
Graph Convolutional Recurrent Networks", https://arxiv.org/abs/1612.07659): a GRU whose gate
and candidate transforms are Chebyshev graph convolutions, so each node's state mixes its
own history with its neighbours'. It is built on ``torch_geometric.nn.ChebConv``, which needs
no torch-sparse / torch-scatter; the graph's scaled Laplacian is computed once per batch, not
in each of the cell's ``2 * lags`` convolutions (:class:`NormedChebConv`).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
from torch import nn

from tokfrag.families.fragment.configs import FragmentNetConfig
from tokfrag.families.fragment.gconvgru_net import FragmentNet
from tokfrag.families.fragment.graph import graph_tensors
from tokfrag.models.calendar import CalendarSpec
from tokfrag.models.saving import load_weights, read_config, save_module
from tokfrag.models.scaled import NodeScaledForecaster
from tokfrag.models.scaler import NodeScaler


class GraphForecaster(NodeScaledForecaster):
    """The Forecaster contract for every series fragment model: a node scaler plus a network
    that keeps the static graph as ``edge_index`` / ``edge_weight`` buffers; windows
    ``(S, N, L)`` in data units -> forecasts ``(S, N, H)`` in data units, saved as safetensors +
    JSON. A subclass names its ``kind``, ``net_class`` (built as
    ``net_class(config_class(**sizes), edge_index, edge_weight)``) and ``config_class``;
    one whose config has ``covariates`` can read calendar covariates (``calendar``), and one
    built with ``observed`` reads windows with gaps (see :meth:`NodeScaledForecaster.tensors`)."""

    kind: ClassVar[str]
    family: ClassVar[str] = "fragment"
    net_class: ClassVar[type[nn.Module]]
    config_class: ClassVar[type[Any]]  # a dataclass of the net's sizes
    # What a config saved before a field existed meant (a model of that version has no
    # weights for it): read under the saved values.
    legacy_defaults: ClassVar[dict[str, Any]] = {}

    def __init__(
        self, scaler: NodeScaler, net: nn.Module, calendar: CalendarSpec | None = None
    ) -> None:
        self.scaler = scaler
        self.net = net
        self.calendar = calendar if getattr(net.config, "covariates", 0) else None

    @property
    def lags(self) -> int:
        lags: int = self.net.config.lags
        return lags

    def save(self, path: Path) -> Path:
        config = {
            "kind": self.kind,
            "net": asdict(self.net.config),
            "scaler": self.scaler.to_dict(),
            "calendar": None if self.calendar is None else self.calendar.to_dict(),
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
        calendar: CalendarSpec | None = None,
        observed: bool = False,
        **sizes: Any,
    ) -> Self:
        """A fresh forecaster; ``calendar`` is read only by nets whose config has
        ``covariates``; ``observed`` builds the net with the 0/1 observed channel, so that it
        reads windows with gaps (``data.missing: mask``)."""
        if calendar is not None and "covariates" in cls.config_class.__dataclass_fields__:
            sizes["covariates"] = calendar.num_features
        config = cls.config_class(
            num_nodes=len(scaler.mean), lags=lags, horizon=horizon, observed=observed, **sizes
        )
        net = cls.net_class(config, *graph_tensors(edge_index, edge_weight))
        return cls(scaler, net, calendar)

    @classmethod
    def load(cls, path: Path) -> Self:
        config = read_config(path)
        state = load_weights(path)
        net = cls.net_class(
            cls.config_class(**{**cls.legacy_defaults, **config["net"]}),
            state["edge_index"],
            state["edge_weight"],
        )
        net.load_state_dict(state)
        net.eval()
        calendar = config.get("calendar")
        calendar = None if calendar is None else CalendarSpec.from_dict(calendar)
        return cls(NodeScaler.from_dict(config["scaler"]), net, calendar)


class FragmentForecaster(GraphForecaster):
    """GConvGRU (:class:`FragmentNet`) behind the series Forecaster contract."""

    kind: ClassVar[str] = "fragment_gconvgru"
    net_class = FragmentNet
    config_class = FragmentNetConfig
    legacy_defaults: ClassVar[dict[str, Any]] = {"skip": False}  # saved before the skip
