"""Token family for series: quantised windows -> a BERT-style encoder -> a distribution over bins.

Each node's window is tokenised on its own (channel-independent, as Chronos does), read by a
small Transformer encoder built from a ``transformers`` config (no download), and the hidden
state at the EOS token predicts, for each horizon step, a categorical distribution over the
quantiser's bins. Training minimises cross-entropy against the target's bin; the point
forecast is the distribution's mean over bin centres, times the window's scale.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
from torch import Tensor, nn
from transformers import BertConfig, BertModel

from tokfrag.models.forecaster import (
    check_windows,
    load_weights,
    read_config,
    register_kind,
    save_module,
)
from tokfrag.tokens.quantizer import PAD_ID, MeanScaleQuantizer


@dataclass(frozen=True)
class TokenNetConfig:
    """Size of the token forecaster; ``vocab_size`` and ``n_bins`` come from the quantiser."""

    vocab_size: int
    n_bins: int
    context_length: int
    horizon: int = 1
    hidden_size: int = 64
    num_layers: int = 2
    num_heads: int = 4
    intermediate_size: int = 128
    dropout: float = 0.1

    def __post_init__(self) -> None:
        if self.hidden_size % self.num_heads:
            raise ValueError(
                f"hidden_size ({self.hidden_size}) must be a multiple of "
                f"num_heads ({self.num_heads})"
            )


class TokenNet(nn.Module):
    r"""Encoder over token windows with a per-horizon-step classification head over bins.

    Forecasting as classification over a quantised vocabulary follows Chronos (Ansari et al.,
    2024, "Chronos: Learning the Language of Time Series", https://arxiv.org/abs/2403.07815);
    the encoder is BERT's (Devlin et al., 2019, https://arxiv.org/abs/1810.04805), built from a
    ``transformers`` config:

    .. math::
        p(y_{t+h} = c_k) = \mathrm{softmax}_k(W_h \, \mathrm{BERT}(x)_{\text{EOS}})

    Args:
        config: sizes and vocabulary; see :class:`TokenNetConfig`.

    Shapes:
        - **input_ids** ``(B, L + 1)`` long, EOS last; **attention_mask** ``(B, L + 1)``
        - **output** logits ``(B, H, n_bins)``
    """

    def __init__(self, config: TokenNetConfig) -> None:
        super().__init__()
        self.config = config
        bert = BertConfig(
            vocab_size=config.vocab_size,
            hidden_size=config.hidden_size,
            num_hidden_layers=config.num_layers,
            num_attention_heads=config.num_heads,
            intermediate_size=config.intermediate_size,
            hidden_dropout_prob=config.dropout,
            attention_probs_dropout_prob=config.dropout,
            max_position_embeddings=config.context_length + 1,
            type_vocab_size=1,
            pad_token_id=PAD_ID,
        )
        self.encoder = BertModel(bert, add_pooling_layer=False)
        self.head = nn.Linear(config.hidden_size, config.horizon * config.n_bins)

    def reset_parameters(self) -> None:
        self.encoder.init_weights()
        self.head.reset_parameters()

    def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
        hidden = self.encoder(
            input_ids=input_ids, attention_mask=attention_mask
        ).last_hidden_state  # (B, L+1, D)
        eos = hidden[:, -1]  # (B, D): the EOS token has attended to the whole window
        logits = self.head(eos)  # (B, H * n_bins)
        return logits.view(-1, self.config.horizon, self.config.n_bins)  # (B, H, n_bins)

    def loss(self, batch: dict[str, Tensor]) -> Tensor:
        """Cross-entropy of the target bins; ``batch`` holds whole windows, ``(B, N, ...)``,
        so a batch of ``B`` windows is ``B * N`` sequences (the same data as the fragment
        family sees per batch)."""
        ids = batch["input_ids"].flatten(0, 1)  # (B*N, L+1)
        mask = batch["attention_mask"].flatten(0, 1)  # (B*N, L+1)
        logits = self(ids, mask)  # (B*N, H, n_bins)
        labels = batch["labels"].flatten()  # (B*N*H,)
        return nn.functional.cross_entropy(logits.flatten(0, 1).float(), labels)


@register_kind
class TokenForecaster:
    """Quantiser + :class:`TokenNet`, behind the :class:`~tokfrag.models.forecaster.Forecaster`
    contract: windows ``(S, N, L)`` in data units -> forecasts ``(S, N, H)``."""

    kind: ClassVar[str] = "token_bert"
    family: ClassVar[str] = "token"

    def __init__(self, quantizer: MeanScaleQuantizer, net: TokenNet) -> None:
        self.quantizer = quantizer
        self.net = net

    @classmethod
    def build(
        cls, quantizer: MeanScaleQuantizer, lags: int, horizon: int, **sizes: object
    ) -> TokenForecaster:
        config = TokenNetConfig(
            vocab_size=quantizer.vocab_size,
            n_bins=quantizer.n_bins,
            context_length=lags,
            horizon=horizon,
            **sizes,  # type: ignore[arg-type]
        )
        return cls(quantizer, TokenNet(config))

    @property
    def lags(self) -> int:
        return self.net.config.context_length

    @property
    def horizon(self) -> int:
        return self.net.config.horizon

    def tensors(self, windows: np.ndarray, targets: np.ndarray | None = None) -> dict[str, Tensor]:
        """Token tensors per window: ``input_ids``/``attention_mask`` ``(S, N, L+1)``,
        ``scale`` ``(S, N)`` and, with targets, ``labels`` ``(S, N, H)``. Every node's window
        is tokenised on its own (channel-independent)."""
        windows = check_windows(windows, self.lags)
        s, n, _ = windows.shape
        encoded = self.quantizer.encode(windows.reshape(s * n, self.lags))
        out = {
            "input_ids": torch.from_numpy(encoded.input_ids).view(s, n, -1),
            "attention_mask": torch.from_numpy(encoded.attention_mask).view(s, n, -1),
            "scale": torch.from_numpy(encoded.scale).view(s, n),
        }
        if targets is not None:
            labels = self.quantizer.encode_target(
                targets.reshape(s * n, self.horizon), encoded.scale
            )
            out["labels"] = torch.from_numpy(labels).view(s, n, self.horizon)
        return out

    @torch.no_grad()
    def forecast(self, windows: np.ndarray, batch_size: int = 4096) -> np.ndarray:
        windows = check_windows(windows, self.lags)
        s, n, _ = windows.shape
        if s * n == 0:
            return np.zeros((s, n, self.horizon))
        data = self.tensors(windows)
        ids = data["input_ids"].flatten(0, 1)  # (S*N, L+1)
        mask = data["attention_mask"].flatten(0, 1)
        device = next(self.net.parameters()).device
        self.net.eval()
        probs = []
        for start in range(0, s * n, batch_size):
            logits = self.net(
                ids[start : start + batch_size].to(device),
                mask[start : start + batch_size].to(device),
            )
            probs.append(torch.softmax(logits.float(), dim=-1).cpu())
        p = torch.cat(probs).double().numpy()  # (S*N, H, n_bins)
        point = self.quantizer.expected_value(p, data["scale"].flatten().numpy())  # (S*N, H)
        return point.reshape(s, n, self.horizon)

    def save(self, path: Path) -> Path:
        config = {
            "kind": self.kind,
            "quantizer": self.quantizer.to_dict(),
            "net": asdict(self.net.config),
        }
        return save_module(path, config, self.net)

    @classmethod
    def load(cls, path: Path) -> TokenForecaster:
        config = read_config(path)
        net = TokenNet(TokenNetConfig(**config["net"]))
        net.load_state_dict(load_weights(path))
        net.eval()
        return cls(MeanScaleQuantizer.from_dict(config["quantizer"]), net)
