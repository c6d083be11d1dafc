"""The fragment family's config dataclasses, without torch: the sizes of each network.

Series (on the sensor graph): :class:`FragmentNetConfig` (GConvGRU,
:mod:`.gconvgru_model`), :class:`STGCNConfig` (:mod:`.stgcn_model`) and
:class:`WaveNetConfig` (Graph WaveNet, :mod:`.wavenet_model`). Text:
:class:`DocGraphNetConfig` (the document-graph network, :mod:`.docgraph_model`).

``params.yaml`` sections are built from these dataclasses (:mod:`tokfrag.config.fragment_family`),
so a default lives here only; the fields the data fixes (``num_nodes``, ``lags``,
``horizon``, ``covariates``, ``observed``, ``vocab_size``, ``num_classes``) are not keys of
``params.yaml``. Keep this module free of torch, so that ``import tokfrag.config`` stays
light.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FragmentNetConfig:
    """Sizes of :class:`~.gconvgru_model.FragmentNet`. ``covariates`` is ``F``, the calendar
    covariates per step (0: none); ``skip`` adds the ridge-started linear map from the lags
    (and the target steps' covariates) to the forecast; ``observed`` reads each step's 0/1
    observed flag beside its value (``data.missing: mask``)."""

    num_nodes: int
    lags: int
    horizon: int = 1
    hidden_channels: int = 32
    K: int = 2
    dropout: float = 0.3
    skip: bool = True
    covariates: int = 0
    observed: bool = False


@dataclass(frozen=True)
class STGCNConfig:
    """Sizes of :class:`~.stgcn_model.STGCN`.

    Attributes:
        num_nodes: nodes of the graph (``N``).
        lags: input steps per window (``T``); any value >= 1 works (causal padding).
        horizon: steps forecast (``H``).
        hidden_channels: channels of the temporal convolutions.
        spatial_channels: channels of each block's graph convolution (the bottleneck).
        num_blocks: ST-conv blocks stacked.
        kernel_size: temporal kernel width (``K_t``).
        K: Chebyshev filter size (``K_s``; ``K - 1`` hops).
        dropout: dropout after each block and before the read-out.
        observed: read a second input channel, each step's 0/1 observed flag beside its
            (filled) value (``data.missing: mask``).
    """

    num_nodes: int
    lags: int
    horizon: int = 1
    hidden_channels: int = 32
    spatial_channels: int = 16
    num_blocks: int = 2
    kernel_size: int = 3
    K: int = 2
    dropout: float = 0.0
    observed: bool = False

    def __post_init__(self) -> None:
        for name in (
            "num_nodes",
            "lags",
            "horizon",
            "hidden_channels",
            "spatial_channels",
            "num_blocks",
            "kernel_size",
            "K",
        ):
            if getattr(self, name) < 1:
                raise ValueError(
                    f"STGCNConfig.{name} must be at least 1, got {getattr(self, name)}"
                )
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"STGCNConfig.dropout must be in [0, 1), got {self.dropout}")


@dataclass(frozen=True)
class WaveNetConfig:
    """Sizes of :class:`~.wavenet_model.GraphWaveNet`.

    Attributes:
        num_nodes: nodes of the graph (``N``).
        lags: input steps per window; windows shorter than the receptive field are
            zero-padded on the left (as in the paper), longer ones use their last
            ``receptive_field`` steps.
        horizon: steps forecast (``H``).
        residual_channels: channels of the residual stream.
        dilation_channels: channels of the gated temporal convolutions.
        skip_channels: channels of the skip connections.
        end_channels: channels of the output layer.
        num_blocks: blocks; each has ``layers_per_block`` layers of dilation 1, 2, 4, ...
        layers_per_block: layers per block.
        kernel_size: temporal kernel width.
        K: diffusion steps per transition matrix.
        adaptive: learn an adaptive adjacency from node embeddings.
        embedding_dim: size of each node embedding (adaptive only).
        dropout: dropout after each graph convolution.
        batch_norm: batch-normalise the residual stream after each layer (the paper does).
        observed: read a second input channel, each step's 0/1 observed flag beside its
            (filled) value (``data.missing: mask``).
    """

    num_nodes: int
    lags: int
    horizon: int = 1
    residual_channels: int = 32
    dilation_channels: int = 32
    skip_channels: int = 64
    end_channels: int = 128
    num_blocks: int = 4
    layers_per_block: int = 2
    kernel_size: int = 2
    K: int = 2
    adaptive: bool = True
    embedding_dim: int = 10
    dropout: float = 0.3
    batch_norm: bool = True
    observed: bool = False

    def __post_init__(self) -> None:
        for name in (
            "num_nodes",
            "lags",
            "horizon",
            "residual_channels",
            "dilation_channels",
            "skip_channels",
            "end_channels",
            "num_blocks",
            "layers_per_block",
            "K",
            "embedding_dim",
        ):
            if getattr(self, name) < 1:
                raise ValueError(
                    f"WaveNetConfig.{name} must be at least 1, got {getattr(self, name)}"
                )
        if self.kernel_size < 2:
            raise ValueError(
                f"WaveNetConfig.kernel_size must be at least 2, got {self.kernel_size}"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"WaveNetConfig.dropout must be in [0, 1), got {self.dropout}")

    @property
    def dilations(self) -> list[int]:
        return [2**i for _ in range(self.num_blocks) for i in range(self.layers_per_block)]

    @property
    def receptive_field(self) -> int:
        """Input steps one output step sees."""
        return 1 + (self.kernel_size - 1) * sum(self.dilations)


@dataclass(frozen=True)
class DocGraphNetConfig:
    """Size of the document-graph network (:class:`~.docgraph_model.DocGraphNet`);
    ``vocab_size`` comes from the word vocabulary.

    ``pretrained`` only records how the embedding was initialised (the saved weights hold
    it; :meth:`~.docgraph_model.DocGraphClassifier.build` sets it), so loading never needs
    the pretrained package. ``freeze_embeddings`` keeps the word vectors fixed, as TextING
    does with its pretrained GloVe features.
    """

    vocab_size: int
    num_classes: int
    embedding_dim: int = 64
    hidden_channels: int = 64
    num_layers: int = 2
    dropout: float = 0.5
    pretrained: bool = True
    freeze_embeddings: bool = False

    def __post_init__(self) -> None:
        if self.num_classes < 2:
            raise ValueError(f"num_classes must be at least 2, got {self.num_classes}")
        if self.num_layers < 1:
            raise ValueError(f"num_layers must be at least 1, got {self.num_layers}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
