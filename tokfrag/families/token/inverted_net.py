"""The inverted Transformer (iTransformer-style): each node's whole window is one token.
Config and modules only: no file I/O.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn
from transformers import BertConfig, BertModel
from transformers.models.bert.modeling_bert import BertPreTrainedModel

from tokfrag.families.token.quantized_net import embeds_only
from tokfrag.models.masking import masked_mse, observed_channel
from tokfrag.models.skip import LinearSkip


class InvertedTokenConfig(BertConfig):
    """A :class:`~transformers.BertConfig` for :class:`InvertedTokenNet`.
    ``max_position_embeddings`` is the number of tokens (``num_nodes``, plus one calendar
    token with ``covariates``); there is no vocabulary (tokens come in as
    ``inputs_embeds``), so ``vocab_size`` is 1.

    Args:
        num_nodes: ``N``, one token each.
        context_length: ``L``, input steps per window (the token's width).
        horizon: ``H``, steps forecast at once.
        covariates: ``F``, calendar covariates per step (0: no calendar token).
        skip: add the ridge-started linear skip.
        observed: each node token also embeds its window's 0/1 observed flags
            (``data.missing: mask``): the token embedding reads ``2 L`` values.
        **kwargs: any :class:`~transformers.BertConfig` field (``hidden_size``,
            ``num_hidden_layers``, ...; see :func:`.quantized_model.bert_sizes`).
    """

    model_type = "tokfrag_inverted_token"

    num_nodes: int = 1
    context_length: int = 4
    horizon: int = 1
    covariates: int = 0
    skip: bool = True
    observed: bool = False

    def __post_init__(self, **kwargs: Any) -> None:
        embeds_only(self, self.num_nodes + int(self.covariates > 0))
        super().__post_init__(**kwargs)


class InvertedTokenNet(BertPreTrainedModel):
    r"""Node windows as tokens, attention across nodes, a linear head per node token:

    .. math::
        \hat y_n = W_{\text{head}} \, \mathrm{BERT}\big([W_e x_1, \dots, W_e x_N,
            W_c c] + \mathrm{pos}\big)_n + \mathrm{skip}(x_n, c)

    With ``config.observed``, node ``n``'s token is :math:`W_e [x_n \,\|\, m_n]`, its
    (filled) window beside its 0/1 observed flags; the skip reads the filled window only.

    Args:
        config: sizes; see :class:`InvertedTokenConfig`.

    Shapes:
        - **x** ``(B, N, L)`` standardised windows (gaps filled with 0); **c**
          ``(B, L + H, F)`` covariates of the input then the target steps (``None`` when
          ``F = 0``); **m** ``(B, N, L)`` 1.0 observed / 0.0 filled (read only with
          ``observed``; ``None``: all observed)
        - **output** ``(B, N, H)`` standardised forecasts
    """

    config_class = InvertedTokenConfig
    config: InvertedTokenConfig

    def __init__(self, config: InvertedTokenConfig) -> None:
        super().__init__(config)
        lags, f = config.context_length, config.covariates
        self.embed = nn.Linear(lags * (1 + int(config.observed)), config.hidden_size)
        self.calendar_embed = (
            nn.Linear((lags + config.horizon) * f, config.hidden_size) if f else None
        )
        self.bert = BertModel(config, add_pooling_layer=False)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.head = nn.Linear(config.hidden_size, config.horizon)
        self.skip = LinearSkip(lags, config.horizon, f) if config.skip else None
        self.post_init()

    def forward(self, x: Tensor, c: Tensor | None = None, m: Tensor | None = None) -> Tensor:
        b, n, lags = x.shape
        m = observed_channel(x, m, self.config.observed)  # (B, N, L) or None
        tokens = self.embed(x if m is None else torch.cat([x, m], dim=-1))  # (B, N, D)
        if self.calendar_embed is not None:
            if c is None:
                raise ValueError("this InvertedTokenNet reads covariates: pass c (B, L+H, F)")
            cal = self.calendar_embed(c.flatten(1).to(tokens.dtype))  # (B, D)
            tokens = torch.cat([tokens, cal[:, None]], dim=1)  # (B, N+1, D)
        hidden = self.bert(inputs_embeds=tokens).last_hidden_state[:, :n]  # (B, N, D)
        out: Tensor = self.head(self.dropout(hidden))  # (B, N, H)
        if self.skip is not None:
            out = out + self.skip(x, None if c is None else c[:, lags:])
        return out

    def warm_start(self, batch: dict[str, Tensor]) -> None:
        """Start from the ridge solution: the skip fitted in closed form on the training
        windows, the Transformer's head at zero, so the first forecast is the linear one."""
        if self.skip is None:
            return
        c = batch.get("c")
        lags = self.config.context_length
        c = None if c is None else c[:, lags:]  # (S, H, F)
        self.skip.fit_ridge(batch["x"], batch["y"], c, w=batch.get("w"))
        with torch.no_grad():
            self.head.weight.zero_()
            self.head.bias.zero_()

    def loss(self, batch: dict[str, Tensor]) -> Tensor:
        """Mean squared error of the standardised forecast over the observed targets of
        ``(B, N, H)``."""
        pred = self(batch["x"], c=batch.get("c"), m=batch.get("m"))  # (B, N, H)
        return masked_mse(pred, batch["y"], batch.get("w"))
