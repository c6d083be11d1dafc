"""Token family for series, inverted variant: each node's whole window is one token, and a
Transformer attends across the nodes.

The quantised and patch variants read every node on its own (channel independence, as
Chronos and PatchTST do), which caps what they can learn on a sensor network: a node's
neighbours often say where it goes next. iTransformer (Liu et al., 2024, "iTransformer:
Inverted Transformers Are Effective for Time Series Forecasting",
https://arxiv.org/abs/2310.06625) inverts the roles: a linear map embeds each node's
standardised window as one token (its "variate token"), self-attention mixes the nodes,
and a linear head reads each node's forecast from its token. No graph is given: attention
learns which nodes matter to which. The encoder is BERT's, built from a config (no
download) and fed ``inputs_embeds``; its position embeddings are per-node identity
embeddings, since token ``n`` is always node ``n``.

Two additions, as in the fragment family's GConvGRU: a calendar token (a linear embedding of
the target steps' calendar covariates, attended to like a node) when a calendar is given,
and a linear skip from the lags and covariates (:class:`~tokfrag.models.skip.LinearSkip`),
started at the ridge solution, so the Transformer learns what a linear filter cannot.

Saved form: tokfrag's ``config.json`` (``kind``, scaler, calendar) and the network's
``save_pretrained`` folder under ``hf/`` (safetensors). Nothing is pickled.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import Tensor, nn
from transformers import AutoConfig, AutoModel, BertConfig, BertModel
from transformers.models.bert.modeling_bert import BertPreTrainedModel

from tokfrag.families.token.quantized_model import (
    bert_sizes,
    embeds_only,
    load_token_net,
    save_token_forecaster,
)
from tokfrag.models.calendar import CalendarSpec
from tokfrag.models.forecaster import read_config
from tokfrag.models.masking import masked_mse, observed_channel
from tokfrag.models.scaled import NodeScaledForecaster
from tokfrag.models.scaler import NodeScaler
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


AutoConfig.register(InvertedTokenConfig.model_type, InvertedTokenConfig, exist_ok=True)
AutoModel.register(InvertedTokenConfig, InvertedTokenNet, exist_ok=True)


class InvertedForecaster(NodeScaledForecaster):
    """Node scaler + :class:`InvertedTokenNet` behind the
    :class:`~tokfrag.models.forecaster.Forecaster` contract: windows ``(S, N, L)`` in data
    units (and, with a calendar, each window's time) -> forecasts ``(S, N, H)``."""

    kind: ClassVar[str] = "token_inverted"
    family: ClassVar[str] = "token"

    def __init__(
        self, scaler: NodeScaler, net: InvertedTokenNet, calendar: CalendarSpec | None = None
    ) -> None:
        if net.config.num_nodes != len(scaler.mean):
            raise ValueError(
                f"the network has {net.config.num_nodes} node tokens but the scaler "
                f"{len(scaler.mean)} nodes"
            )
        if (calendar is None) != (net.config.covariates == 0) or (
            calendar is not None and calendar.num_features != net.config.covariates
        ):
            raise ValueError("the calendar and the network's covariates do not match")
        self.scaler = scaler
        self.net = net
        self.calendar = calendar

    @classmethod
    def build(
        cls,
        scaler: NodeScaler,
        lags: int,
        horizon: int,
        calendar: CalendarSpec | None = None,
        skip: bool = True,
        observed: bool = False,
        **sizes: Any,
    ) -> InvertedForecaster:
        """A fresh forecaster over ``len(scaler.mean)`` nodes; ``observed`` builds the
        network with the 0/1 observed channel, so that it reads windows with gaps
        (``data.missing: mask``); ``sizes`` are
        :func:`.quantized_model.bert_sizes`' keyword arguments."""
        config = InvertedTokenConfig(
            num_nodes=len(scaler.mean),
            context_length=lags,
            horizon=horizon,
            covariates=0 if calendar is None else calendar.num_features,
            skip=skip,
            observed=observed,
            **bert_sizes(**sizes),
        )
        return cls(scaler, InvertedTokenNet(config), calendar)

    @property
    def lags(self) -> int:
        lags: int = self.net.config.context_length
        return lags

    def save(self, path: str | Path) -> Path:
        config = {
            "kind": self.kind,
            "lags": self.lags,
            "horizon": self.horizon,
            "scaler": self.scaler.to_dict(),
            "calendar": None if self.calendar is None else self.calendar.to_dict(),
        }
        return save_token_forecaster(path, config, self.net)

    @classmethod
    def load(cls, path: str | Path) -> InvertedForecaster:
        config = read_config(path)
        calendar = config.get("calendar")
        return cls(
            NodeScaler.from_dict(config["scaler"]),
            load_token_net(path, InvertedTokenNet),
            None if calendar is None else CalendarSpec.from_dict(calendar),
        )
