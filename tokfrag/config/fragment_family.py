"""The ``fragment`` section: the graph the series sit on, and the networks' sizes.

``fragment.model``, ``fragment.stgcn``, ``fragment.wavenet`` and the network keys of
``fragment.text`` mirror the fragment family's dataclasses
(:mod:`tokfrag.families.fragment.configs`, through :func:`~tokfrag.config.mirror.mirror`):
their keys, types and defaults are the dataclasses', less the fields the data fixes
(``num_nodes``, ``lags``, ``horizon``, ``covariates``, ``observed``, ``vocab_size``,
``num_classes``); this module adds the ranges a user may give.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from tokfrag.config.base import _Section
from tokfrag.config.mirror import mirror
from tokfrag.families.fragment.configs import (
    DocGraphNetConfig,
    FragmentNetConfig,
    STGCNConfig,
    WaveNetConfig,
)

_SERIES_DATA = ("num_nodes", "lags", "horizon", "observed")  # fixed by the windows
_AT_LEAST_ONE = {"ge": 1}
_DROPOUT = {"ge": 0.0, "lt": 1.0}


class FragmentModelConfig(
    mirror(  # type: ignore[misc]  # a base built at run time: mypy cannot see its fields
        FragmentNetConfig,
        exclude=(*_SERIES_DATA, "covariates"),  # covariates: from the calendar
        ranges={
            "hidden_channels": _AT_LEAST_ONE,
            "K": {**_AT_LEAST_ONE, "description": "Chebyshev filter size (hops + 1)"},
            "dropout": _DROPOUT,
        },
    )
):
    """GConvGRU; the keys and defaults are
    :class:`~tokfrag.families.fragment.configs.FragmentNetConfig`'s."""


class STGCNSizes(
    mirror(  # type: ignore[misc]
        STGCNConfig,
        exclude=_SERIES_DATA,
        ranges={
            **dict.fromkeys(
                ("hidden_channels", "spatial_channels", "num_blocks", "kernel_size", "K"),
                _AT_LEAST_ONE,
            ),
            "dropout": _DROPOUT,
        },
    )
):
    """STGCN: gated temporal conv, graph conv, gated temporal conv, per block; the keys and
    defaults are :class:`~tokfrag.families.fragment.configs.STGCNConfig`'s."""


class WaveNetSizes(
    mirror(  # type: ignore[misc]
        WaveNetConfig,
        exclude=_SERIES_DATA,
        ranges={
            **dict.fromkeys(
                (
                    "residual_channels",
                    "dilation_channels",
                    "skip_channels",
                    "end_channels",
                    "num_blocks",
                    "layers_per_block",
                    "K",
                    "embedding_dim",
                ),
                _AT_LEAST_ONE,
            ),
            "kernel_size": {"ge": 2},  # as WaveNetConfig: width 1 sees one step, dilated or not
            "dropout": _DROPOUT,
        },
    )
):
    """Graph WaveNet: dilated gated temporal convs + diffusion graph conv + adaptive graph;
    the keys and defaults are :class:`~tokfrag.families.fragment.configs.WaveNetConfig`'s."""


class _DocGraphBuild(_Section):
    """The keys of ``fragment.text`` that build the word graphs, listed first."""

    window: int = Field(3, ge=2)
    min_count: int = Field(2, ge=1)


class DocGraphConfig(
    mirror(  # type: ignore[misc]
        DocGraphNetConfig,
        exclude=("vocab_size", "num_classes"),  # from the vocabulary and the labels
        ranges={
            "embedding_dim": {"ge": 4},
            "hidden_channels": {"ge": 4},
            "num_layers": _AT_LEAST_ONE,
            "dropout": _DROPOUT,
        },
    ),
    _DocGraphBuild,  # the later base: its keys come first (window, min_count, then sizes)
):
    """Text fragments: one graph of distinct words per document (TextING style). The
    network's keys and defaults are
    :class:`~tokfrag.families.fragment.configs.DocGraphNetConfig`'s: ``pretrained`` starts the
    word vectors from all-MiniLM-L6-v2's input embeddings, ``freeze_embeddings`` keeps them
    fixed (TextING's GloVe are)."""

    lr: float | None = Field(None, gt=0.0)  # this family's text learning rate (null: train.text)
    epochs: int | None = Field(None, ge=1)  # this family's text epochs (null: train.text)


class GraphConfig(_Section):
    """Which graph the series fragments sit on."""

    source: Literal["given", "correlation"] = "given"  # correlation: top-k, training steps only
    k: int = Field(8, ge=1)  # neighbours per node for the correlation graph


class FragmentConfig(_Section):
    variant: Literal["gconvgru", "stgcn", "wavenet"] = "gconvgru"  # series model
    lr: float | None = Field(None, gt=0.0)  # this family's learning rate (null: train.lr)
    graph: GraphConfig = GraphConfig()
    model: FragmentModelConfig = FragmentModelConfig()  # variant gconvgru
    stgcn: STGCNSizes = STGCNSizes()
    wavenet: WaveNetSizes = WaveNetSizes()
    text: DocGraphConfig = DocGraphConfig()
