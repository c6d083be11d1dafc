"""The training loop shared by every family (``train``), and its text overrides
(``train.text``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from tokfrag.config.base import _Section


class TextTrainConfig(_Section):
    """Overrides of the training budget for text datasets (a Transformer over 7,000 sentences
    needs far fewer, heavier epochs than a model over 82 windows); unset keys inherit."""

    epochs: int | None = Field(None, ge=1)
    batch_size: int | None = Field(None, ge=1)
    lr: float | None = Field(None, gt=0.0)
    weight_decay: float | None = Field(None, ge=0.0)
    patience: int | None = Field(None, ge=1)
    schedule: Literal["constant", "cosine", "linear"] | None = None
    warmup: float | None = Field(None, ge=0.0, lt=1.0)
    clip_grad_norm: float | None = Field(None, gt=0.0)
    precision: Literal["auto", "fp32", "bf16"] | None = None


class TrainConfig(_Section):
    """The one training loop and recipe, shared by every family so none gets a better deal:
    AdamW with weight decay, a linear warm-up over ``warmup`` of the schedule's steps, then a
    ``cosine`` or ``linear`` decay to zero at ``epochs`` (or ``constant``), gradients clipped
    to ``clip_grad_norm``, early stopping after ``patience`` epochs without a better
    validation loss (the best-validation weights are kept). The learning rate is each
    family's own (``token.lr``, ``fragment.lr``; ``train.lr`` is their default), and on
    text so are the epochs (``<family>.text.lr``, ``<family>.text.epochs``)."""

    epochs: int = Field(100, ge=1)
    batch_size: int = Field(32, ge=1)
    lr: float = Field(1e-3, gt=0.0)
    weight_decay: float = Field(0.0, ge=0.0)
    patience: int = Field(10, ge=1)
    schedule: Literal["constant", "cosine", "linear"] = "constant"
    warmup: float = Field(0.0, ge=0.0, lt=1.0)  # share of the schedule's optimiser steps
    clip_grad_norm: float | None = Field(None, gt=0.0)  # null: no clipping
    # auto: bf16 autocast on CUDA, fp32 on the CPU; bf16: also on CPUs with native bf16
    precision: Literal["auto", "fp32", "bf16"] = "auto"
    seed: int = 0
    repeats: int = Field(3, ge=1)  # final fits with seeds seed .. seed+repeats-1 (mean ± std)
    device: Literal["auto", "cpu", "cuda"] = "auto"
    text: TextTrainConfig = TextTrainConfig()

    @property
    def seeds(self) -> list[int]:
        """The final fit's seeds; the first one's model is the one registered."""
        return [self.seed + i for i in range(self.repeats)]

    def loop_settings(self, kind: str, family: dict[str, Any] | None = None) -> dict[str, Any]:
        """The loop's settings for a dataset kind: the text overrides applied for text, then
        what the family sets for itself (``Params.family_loop``)."""
        settings = self.model_dump(exclude={"text", "repeats"})
        if kind == "text":
            settings.update(self.text.model_dump(exclude_none=True))
        settings.update({k: v for k, v in (family or {}).items() if v is not None})
        return settings
