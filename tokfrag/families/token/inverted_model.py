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

from transformers import AutoConfig, AutoModel

from tokfrag.families.token.inverted_net import InvertedTokenConfig, InvertedTokenNet
from tokfrag.families.token.quantized_net import bert_sizes
from tokfrag.models.calendar import CalendarSpec
from tokfrag.models.saving import load_hf, read_config, save_hf
from tokfrag.models.scaled import NodeScaledForecaster
from tokfrag.models.scaler import NodeScaler

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
        return save_hf(path, config, self.net)

    @classmethod
    def load(cls, path: str | Path) -> InvertedForecaster:
        config = read_config(path)
        calendar = config.get("calendar")
        return cls(
            NodeScaler.from_dict(config["scaler"]),
            load_hf(path, InvertedTokenNet),
            None if calendar is None else CalendarSpec.from_dict(calendar),
        )
