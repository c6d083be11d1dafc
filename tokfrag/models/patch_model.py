"""Token family for series, patch variant: normalised patches -> a BERT-style encoder -> values.

Each node's window is read on its own (channel-independent), standardised by its own mean and
standard deviation and cut into patches by a :class:`~tokfrag.tokens.PatchTokenizer`; a linear
map embeds each patch as one token, a small Transformer encoder built from a ``transformers``
config (no download) reads the patch sequence with learned positions, and a linear head on the
flattened hidden states regresses the ``H`` future values in normalised units, which the
window's own mean and scale turn back into data units (PatchTST with instance normalisation).

Two choices depart from plain PatchTST, both switchable in :class:`PatchTokenConfig`, because
on short windows plain instance normalisation loses: the window's level is hidden from the
model (a window at +2 and one at 0 look alike after normalisation, though the first is likelier
to fall back), and a window with a tiny standard deviation turns a small move into a huge
normalised target that dominates a normalised loss. On Chickenpox (PyTorch Geometric Temporal
protocol, lags 4, patch_len 2, stride 1, seed 0) plain PatchTST scored test MSE 1.29, data-unit
loss alone 1.02 (predicting zero: 1.01), a stats token alone 0.76, both 0.71 (AR(4) ridge:
0.70).

- ``stats_token``: one extra token embeds the window's statistics,
  ``(sign(loc) * log1p(|loc|), log(scale))``, as Lag-Llama feeds its scaler's statistics as
  covariates (Rasul et al., 2023, https://arxiv.org/abs/2310.08278); Liu et al. (2022,
  "Non-stationary Transformers", https://arxiv.org/abs/2205.14415) call the loss it repairs
  over-stationarisation.
- ``loss_units="data"``: the squared error is taken after denormalising, in the units the
  forecasts are scored in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor, nn
from transformers import AutoConfig, AutoModel, BertConfig, BertModel
from transformers.models.bert.modeling_bert import BertPreTrainedModel

from tokfrag.models.forecaster import check_windows, read_config, register_kind
from tokfrag.models.token_model import (
    bert_sizes,
    embeds_only,
    load_token_net,
    run_batched,
    save_token_forecaster,
)
from tokfrag.tokens.patch import PatchTokenizer

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
        **kwargs: any :class:`~transformers.BertConfig` field (``hidden_size``,
            ``num_hidden_layers``, ...; see :func:`~tokfrag.models.token_model.bert_sizes`).
    """

    model_type = "tokfrag_patch_token"

    context_length: int = 4
    patch_len: int = 2
    num_patches: int = 4
    horizon: int = 1
    stats_token: bool = True
    loss_units: str = "data"

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

    Args:
        config: sizes and patch geometry; see :class:`PatchTokenConfig`.

    Shapes:
        - **patches** ``(B, P, patch_len)`` float, normalised values
        - **loc**, **scale** ``(B,)`` float, each window's mean and scale (read only with
          ``config.stats_token``)
        - **output** ``(B, H)`` normalised forecasts
    """

    config_class = PatchTokenConfig
    config: PatchTokenConfig

    def __init__(self, config: PatchTokenConfig) -> None:
        super().__init__(config)
        self.patch_embed = nn.Linear(config.patch_len, config.hidden_size)
        self.stats_embed = nn.Linear(2, config.hidden_size) if config.stats_token else None
        self.bert = BertModel(config, add_pooling_layer=False)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.head = nn.Linear(config.max_position_embeddings * config.hidden_size, config.horizon)
        self.post_init()

    def forward(
        self, patches: Tensor, loc: Tensor | None = None, scale: Tensor | None = None
    ) -> Tensor:
        tokens = self.patch_embed(patches)  # (B, P, D)
        if self.stats_embed is not None:
            if loc is None or scale is None:
                raise ValueError("this PatchTokenNet has a stats token: pass loc and scale")
            stats = torch.stack([loc.sign() * loc.abs().log1p(), scale.log()], dim=-1)  # (B, 2)
            first = self.stats_embed(stats.to(tokens.dtype))  # (B, D)
            tokens = torch.cat([first[:, None], tokens], dim=1)  # (B, 1+P, D)
        hidden = self.bert(inputs_embeds=tokens).last_hidden_state  # (B, T, D), + positions
        return self.head(self.dropout(hidden.flatten(1)))  # (B, T*D) -> (B, H)

    def loss(self, batch: dict[str, Tensor]) -> Tensor:
        """Mean squared error over ``(B, N, ...)`` windows (``B * N`` sequences): of
        ``forecast * scale + loc`` against the target (``loss_units="data"``), or of the
        normalised forecast against ``y = (target - loc) / scale``."""
        scale = batch["scale"].flatten()  # (B*N,)
        pred = self(batch["patches"].flatten(0, 1), batch["loc"].flatten(), scale)  # (B*N, H)
        pred, y = pred.float(), batch["y"].flatten(0, 1)  # (B*N, H), normalised
        if self.config.loss_units == "data":
            # (pred - y) * scale is the error in data units: loc cancels.
            return nn.functional.mse_loss(pred * scale[:, None], y * scale[:, None])
        return nn.functional.mse_loss(pred, y)


AutoConfig.register(PatchTokenConfig.model_type, PatchTokenConfig, exist_ok=True)
AutoModel.register(PatchTokenConfig, PatchTokenNet, exist_ok=True)


@register_kind
class PatchForecaster:
    """Patch tokenizer + :class:`PatchTokenNet`, behind the
    :class:`~tokfrag.models.forecaster.Forecaster` contract: windows ``(S, N, L)`` in data
    units -> forecasts ``(S, N, H)`` in data units."""

    kind: ClassVar[str] = "token_patch"
    family: ClassVar[str] = "token"

    def __init__(self, tokenizer: PatchTokenizer, net: PatchTokenNet) -> None:
        c = net.config
        if (c.patch_len, c.num_patches) != (
            tokenizer.patch_len,
            tokenizer.num_patches(c.context_length),
        ):
            raise ValueError(
                f"the network reads {c.num_patches} patches of {c.patch_len} steps but the "
                f"tokenizer cuts {c.context_length} steps into "
                f"{tokenizer.num_patches(c.context_length)} of {tokenizer.patch_len}"
            )
        self.tokenizer = tokenizer
        self.net = net

    @classmethod
    def build(
        cls,
        tokenizer: PatchTokenizer,
        lags: int,
        horizon: int,
        stats_token: bool = True,
        loss_units: str = "data",
        **sizes: Any,
    ) -> PatchForecaster:
        """A fresh forecaster; ``stats_token`` and ``loss_units`` as in
        :class:`PatchTokenConfig`, ``sizes`` are
        :func:`~tokfrag.models.token_model.bert_sizes`' keyword arguments."""
        config = PatchTokenConfig(
            context_length=lags,
            patch_len=tokenizer.patch_len,
            num_patches=tokenizer.num_patches(lags),
            horizon=horizon,
            stats_token=stats_token,
            loss_units=loss_units,
            **bert_sizes(**sizes),
        )
        return cls(tokenizer, PatchTokenNet(config))

    @property
    def lags(self) -> int:
        return self.net.config.context_length

    @property
    def horizon(self) -> int:
        return self.net.config.horizon

    def tensors(
        self,
        windows: np.ndarray,
        targets: np.ndarray | None = None,
        times: np.ndarray | None = None,
    ) -> dict[str, Tensor]:
        """Patch tensors per window: ``patches`` ``(S, N, P, patch_len)`` float32, ``loc`` and
        ``scale`` ``(S, N)`` float32 and, with targets, ``y`` ``(S, N, H)`` float32 targets
        normalised by their window's ``loc`` and ``scale``. Every node's window is normalised
        and patched on its own (channel-independent)."""
        windows = check_windows(windows, self.lags)
        s, n, _ = windows.shape
        encoded = self.tokenizer.encode(windows.reshape(s * n, self.lags))
        out = {
            "patches": torch.from_numpy(encoded.patches)
            .float()
            .view(s, n, *encoded.patches.shape[1:]),
            "loc": torch.from_numpy(encoded.loc).float().view(s, n),
            "scale": torch.from_numpy(encoded.scale).float().view(s, n),
        }
        if targets is not None:
            y = np.asarray(targets, dtype=np.float64).reshape(s * n, self.horizon)
            y = (y - encoded.loc[:, None]) / encoded.scale[:, None]  # (S*N, H)
            out["y"] = torch.from_numpy(y).float().view(s, n, self.horizon)
        return out

    @torch.no_grad()
    def forecast(
        self, windows: np.ndarray, times: np.ndarray | None = None, batch_size: int = 4096
    ) -> np.ndarray:
        """Windows ``(S, N, L)`` -> forecasts ``(S, N, H)``; ``times`` is not read (this
        variant has no calendar covariates)."""
        windows = check_windows(windows, self.lags)
        s, n, _ = windows.shape
        if s * n == 0:
            return np.zeros((s, n, self.horizon))
        encoded = self.tokenizer.encode(windows.reshape(s * n, self.lags))
        patches = torch.from_numpy(encoded.patches).float()  # (S*N, P, patch_len)
        loc = torch.from_numpy(encoded.loc).float()
        scale = torch.from_numpy(encoded.scale).float()
        z = run_batched(self.net, (patches, loc, scale), batch_size).double().numpy()  # (S*N, H)
        point = z * encoded.scale[:, None] + encoded.loc[:, None]  # (S*N, H), data units
        return point.reshape(s, n, self.horizon)

    def save(self, path: str | Path) -> Path:
        config = {
            "kind": self.kind,
            "lags": self.lags,
            "horizon": self.horizon,
            "tokenizer": self.tokenizer.to_dict(),
        }
        return save_token_forecaster(path, config, self.net)

    @classmethod
    def load(cls, path: str | Path) -> PatchForecaster:
        config = read_config(path)
        tokenizer = PatchTokenizer.from_dict(config["tokenizer"])
        return cls(tokenizer, load_token_net(path, PatchTokenNet))
