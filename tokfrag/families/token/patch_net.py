"""The patch Transformer (PatchTST-style): each patch of a node's window is one token.
Config and modules only: no file I/O.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn
from transformers import BertConfig, BertModel
from transformers.models.bert.modeling_bert import BertPreTrainedModel

from tokfrag.families.token.quantized_net import embeds_only
from tokfrag.models.masking import (
    masked_mse,
    observed_channel,
)

LOSS_UNITS = ("data", "normalised")


class PatchTokenConfig(BertConfig):
    """A :class:`~transformers.BertConfig` for :class:`PatchTokenNet`, plus the patch geometry
    and the forecast. ``max_position_embeddings`` is the number of tokens (``num_patches``,
    plus one with ``stats_token``); there is no vocabulary (patches come in as
    ``inputs_embeds``), so ``vocab_size`` is 1.

    Args:
        context_length: ``L``, input steps per window.
        patch_len: steps per patch (the tokenizer's).
        num_patches: ``P``, patches per window (the tokenizer's ``num_patches(L)``).
        horizon: ``H``, steps forecast at once.
        stats_token: prepend a token embedding the window's ``loc`` and ``scale``.
        loss_units: ``"data"``: mean squared error of the denormalised forecast against the
            target in data units; ``"normalised"``: of the normalised forecast against the
            normalised target, as PatchTST.
        observed: each patch token also embeds its steps' 0/1 observed flags
            (``data.missing: mask``): the patch embedding reads ``2 * patch_len`` values.
        **kwargs: any :class:`~transformers.BertConfig` field (``hidden_size``,
            ``num_hidden_layers``, ...; see :func:`.quantized_model.bert_sizes`).
    """

    model_type = "tokfrag_patch_token"

    context_length: int = 4
    patch_len: int = 2
    num_patches: int = 4
    horizon: int = 1
    stats_token: bool = True
    loss_units: str = "data"
    observed: bool = False

    def __post_init__(self, **kwargs: Any) -> None:
        if self.loss_units not in LOSS_UNITS:
            raise ValueError(f"loss_units must be one of {LOSS_UNITS}, got {self.loss_units!r}")
        embeds_only(self, self.num_patches + int(self.stats_token))
        super().__post_init__(**kwargs)


class PatchTokenNet(BertPreTrainedModel):
    r"""Patches as tokens: a linear patch embedding, a BERT encoder with learned positions and
    a flatten head regressing all horizon steps at once.

    The design follows PatchTST (Nie et al., 2023, "A Time Series is Worth 64 Words:
    Long-term Forecasting with Transformers", https://arxiv.org/abs/2211.14730): channel
    independence, instance-normalised patches, a Transformer encoder over the patch sequence
    and a linear "flatten" head. The encoder is BERT's (Devlin et al., 2019,
    https://arxiv.org/abs/1810.04805), built from a config and fed ``inputs_embeds``; with
    ``stats_token`` a token embedding the window's statistics comes first:

    .. math::
        \hat z = W_{\text{head}} \, \mathrm{flatten}\big(\mathrm{BERT}(
            [W_s \, s, \; W_p \, x_1, \dots, W_p \, x_P] + \mathrm{pos})\big),
        \qquad s = (\mathrm{sign}(\mu) \log(1 + |\mu|), \; \log \sigma)

    With ``config.observed``, patch ``p``'s token is :math:`W_p [x_p \,\|\, m_p]`, its
    (filled) values beside their 0/1 observed flags.

    Args:
        config: sizes and patch geometry; see :class:`PatchTokenConfig`.

    Shapes:
        - **patches** ``(B, P, patch_len)`` float, normalised values (gaps filled with 0)
        - **loc**, **scale** ``(B,)`` float, each window's mean and scale (read only with
          ``config.stats_token``)
        - **m** ``(B, P, patch_len)`` float, 1.0 observed / 0.0 filled (read only with
          ``config.observed``; ``None``: all observed)
        - **output** ``(B, H)`` normalised forecasts
    """

    config_class = PatchTokenConfig
    config: PatchTokenConfig

    def __init__(self, config: PatchTokenConfig) -> None:
        super().__init__(config)
        width = config.patch_len * (1 + int(config.observed))
        self.patch_embed = nn.Linear(width, config.hidden_size)
        self.stats_embed = nn.Linear(2, config.hidden_size) if config.stats_token else None
        self.bert = BertModel(config, add_pooling_layer=False)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.head = nn.Linear(config.max_position_embeddings * config.hidden_size, config.horizon)
        self.post_init()

    def forward(
        self,
        patches: Tensor,
        loc: Tensor | None = None,
        scale: Tensor | None = None,
        m: Tensor | None = None,
    ) -> Tensor:
        m = observed_channel(patches, m, self.config.observed)  # (B, P, patch_len) or None
        tokens = self.patch_embed(
            patches if m is None else torch.cat([patches, m], dim=-1)
        )  # (B, P, D)
        if self.stats_embed is not None:
            if loc is None or scale is None:
                raise ValueError("this PatchTokenNet has a stats token: pass loc and scale")
            stats = torch.stack([loc.sign() * loc.abs().log1p(), scale.log()], dim=-1)  # (B, 2)
            first = self.stats_embed(stats.to(tokens.dtype))  # (B, D)
            tokens = torch.cat([first[:, None], tokens], dim=1)  # (B, 1+P, D)
        hidden = self.bert(inputs_embeds=tokens).last_hidden_state  # (B, T, D), + positions
        forecast: Tensor = self.head(self.dropout(hidden.flatten(1)))  # (B, T*D) -> (B, H)
        return forecast

    def loss(self, batch: dict[str, Tensor]) -> Tensor:
        """Mean squared error over the observed targets of ``(B, N, ...)`` windows
        (``B * N`` sequences): of ``forecast * scale + loc`` against the target
        (``loss_units="data"``), or of the normalised forecast against
        ``y = (target - loc) / scale``."""
        scale = batch["scale"].flatten()  # (B*N,)
        m = batch.get("m")
        pred = self(
            batch["patches"].flatten(0, 1),
            batch["loc"].flatten(),
            scale,
            None if m is None else m.flatten(0, 1),
        )  # (B*N, H)
        pred, y = pred.float(), batch["y"].flatten(0, 1)  # (B*N, H), normalised
        w = batch.get("w")
        w = None if w is None else w.flatten(0, 1)  # (B*N, H)
        if self.config.loss_units == "data":
            # (pred - y) * scale is the error in data units: loc cancels.
            return masked_mse(pred * scale[:, None], y * scale[:, None], w)
        return masked_mse(pred, y, w)
