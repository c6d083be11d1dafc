"""Token family for series: quantised windows -> a BERT-style encoder -> a distribution over bins.

Each node's window is tokenised on its own (channel-independent, as Chronos does), read by a
small Transformer encoder built from a ``transformers`` config (no download), and the hidden
state at the EOS token predicts, for each horizon step, a categorical distribution over the
quantiser's bins. Training minimises cross-entropy against the target's bin; the point
forecast is the distribution's mean over bin centres, times the window's scale.

The networks are ``transformers`` models (:class:`~transformers.PreTrainedModel` subclasses
with their own :class:`~transformers.BertConfig` subclass and ``model_type``), so they save
and load with ``save_pretrained`` / ``from_pretrained`` (safetensors, no network) and, once
``tokfrag.families.token.quantized_model`` is imported, with ``AutoModel.from_pretrained``. A saved
forecaster folder holds tokfrag's own ``config.json`` (``kind`` and the tokenizer) and the
network's Hugging Face folder under ``hf/``.

This module also holds what both series token models share: :func:`bert_sizes` (tokfrag's
size names -> BERT's, in :mod:`.quantized_net`) and :func:`run_batched`; saving and loading
the networks is :mod:`tokfrag.models.saving`'s.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor, nn
from transformers import AutoConfig, AutoModel

from tokfrag.families.token.quantized_net import (
    QuantTokenConfig,
    QuantTokenNet,
    bert_sizes,
)
from tokfrag.families.token.quantizer import MeanScaleQuantizer
from tokfrag.models.forecaster import check_windows
from tokfrag.models.masking import has_missing
from tokfrag.models.saving import load_hf, read_config, save_hf

QUANTIZED_READS_NO_GAPS = (
    "the quantized token variant does not read gaps; under data.missing: mask use "
    "token.variant inverted or patch"
)


AutoConfig.register(QuantTokenConfig.model_type, QuantTokenConfig, exist_ok=True)
AutoModel.register(QuantTokenConfig, QuantTokenNet, exist_ok=True)


def run_batched(net: nn.Module, inputs: tuple[Tensor, ...], batch_size: int) -> Tensor:
    """Run ``net`` over the first dimension of ``inputs`` in chunks; float32 on the CPU."""
    device = next(net.parameters()).device
    net.eval()
    parts = [
        net(*(x[start : start + batch_size].to(device) for x in inputs)).float().cpu()
        for start in range(0, len(inputs[0]), batch_size)
    ]
    return torch.cat(parts)


class TokenForecaster:
    """Quantiser + :class:`QuantTokenNet`, behind the
    :class:`~tokfrag.models.forecaster.Forecaster` contract: windows ``(S, N, L)`` in data
    units -> forecasts ``(S, N, H)``."""

    kind: ClassVar[str] = "token_bert"
    family: ClassVar[str] = "token"

    def __init__(self, quantizer: MeanScaleQuantizer, net: QuantTokenNet) -> None:
        if net.config.n_bins != quantizer.n_bins:
            raise ValueError(
                f"the network predicts {net.config.n_bins} bins but the quantiser has "
                f"{quantizer.n_bins}"
            )
        self.quantizer = quantizer
        self.net = net

    @classmethod
    def build(
        cls,
        quantizer: MeanScaleQuantizer,
        lags: int,
        horizon: int,
        observed: bool = False,
        **sizes: Any,
    ) -> TokenForecaster:
        """A fresh forecaster; ``sizes`` are :func:`bert_sizes`' keyword arguments.

        Raises:
            ValueError: ``observed=True``: this variant has no observed channel (gaps).
        """
        if observed:
            raise ValueError(QUANTIZED_READS_NO_GAPS)
        config = QuantTokenConfig(
            n_bins=quantizer.n_bins, context_length=lags, horizon=horizon, **bert_sizes(**sizes)
        )
        return cls(quantizer, QuantTokenNet(config))

    @property
    def lags(self) -> int:
        return self.net.config.context_length

    @property
    def horizon(self) -> int:
        return self.net.config.horizon

    def _check(self, windows: np.ndarray) -> np.ndarray:
        """Validated ``(S, N, L)`` float64 windows; gaps (NaN) are refused by name."""
        windows = check_windows(windows, self.lags, allow_missing=True)
        if has_missing(windows):
            raise ValueError(f"windows contain missing values (NaN): {QUANTIZED_READS_NO_GAPS}")
        return windows

    def tensors(
        self,
        windows: np.ndarray,
        targets: np.ndarray | None = None,
        times: np.ndarray | None = None,
    ) -> dict[str, Tensor]:
        """Token tensors per window: ``input_ids``/``attention_mask`` ``(S, N, L+1)``,
        ``scale`` ``(S, N)`` and, with targets, ``labels`` ``(S, N, H)``. Every node's window
        is tokenised on its own (channel-independent)."""
        windows = self._check(windows)
        s, n, _ = windows.shape
        encoded = self.quantizer.encode(windows.reshape(s * n, self.lags))
        out = {
            "input_ids": torch.from_numpy(encoded.input_ids).view(s, n, -1),
            "attention_mask": torch.from_numpy(encoded.attention_mask).view(s, n, -1),
            "scale": torch.from_numpy(encoded.scale).view(s, n),
        }
        if targets is not None:
            labels = self.quantizer.encode_target(
                np.asarray(targets).reshape(s * n, self.horizon), encoded.scale
            )
            out["labels"] = torch.from_numpy(labels).view(s, n, self.horizon)
        return out

    @torch.no_grad()
    def forecast(
        self, windows: np.ndarray, times: np.ndarray | None = None, batch_size: int = 4096
    ) -> np.ndarray:
        """Windows ``(S, N, L)`` -> forecasts ``(S, N, H)``; ``times`` is not read (this
        variant has no calendar covariates)."""
        windows = self._check(windows)
        s, n, _ = windows.shape
        if s * n == 0:
            return np.zeros((s, n, self.horizon))
        data = self.tensors(windows)
        ids = data["input_ids"].flatten(0, 1)  # (S*N, L+1)
        mask = data["attention_mask"].flatten(0, 1)  # (S*N, L+1)
        logits = run_batched(self.net, (ids, mask), batch_size)  # (S*N, H, n_bins)
        probs = torch.softmax(logits, dim=-1).double().numpy()
        point = self.quantizer.expected_value(probs, data["scale"].flatten().numpy())  # (S*N, H)
        return point.reshape(s, n, self.horizon)

    def save(self, path: str | Path) -> Path:
        config = {
            "kind": self.kind,
            "lags": self.lags,
            "horizon": self.horizon,
            "quantizer": self.quantizer.to_dict(),
        }
        return save_hf(path, config, self.net)

    @classmethod
    def load(cls, path: str | Path) -> TokenForecaster:
        config = read_config(path)
        quantizer = MeanScaleQuantizer.from_dict(config["quantizer"])
        return cls(quantizer, load_hf(path, QuantTokenNet))
