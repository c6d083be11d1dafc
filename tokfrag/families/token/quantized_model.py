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
size names -> BERT's) and :func:`save_token_forecaster` / :func:`load_token_net`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor, nn
from transformers import AutoConfig, AutoModel, BertConfig, BertModel, PreTrainedModel
from transformers.models.bert.modeling_bert import BertPreTrainedModel
from transformers.utils import logging as hf_logging

from tokfrag.families.token.configs import EncoderSizes
from tokfrag.families.token.quantizer import NUM_SPECIAL, PAD_ID, MeanScaleQuantizer
from tokfrag.models.forecaster import check_windows, read_config, write_config
from tokfrag.models.masking import has_missing

HF_DIR = "hf"  # the network's save_pretrained folder inside a saved forecaster folder
QUANTIZED_READS_NO_GAPS = (
    "the quantized token variant does not read gaps; under data.missing: mask use "
    "token.variant inverted or patch"
)
_ENCODER = EncoderSizes()  # the defaults of bert_sizes


def bert_sizes(
    hidden_size: int = _ENCODER.hidden_size,
    num_layers: int = _ENCODER.num_layers,
    num_heads: int = _ENCODER.num_heads,
    intermediate_size: int = _ENCODER.intermediate_size,
    dropout: float = _ENCODER.dropout,
) -> dict[str, Any]:
    """tokfrag's size names (``params.yaml`` ``token.model``, :class:`EncoderSizes`) ->
    :class:`BertConfig` fields."""
    sizes = EncoderSizes(hidden_size, num_layers, num_heads, intermediate_size, dropout)
    return {
        "hidden_size": sizes.hidden_size,
        "num_hidden_layers": sizes.num_layers,
        "num_attention_heads": sizes.num_heads,
        "intermediate_size": sizes.intermediate_size,
        "hidden_dropout_prob": sizes.dropout,
        "attention_probs_dropout_prob": sizes.dropout,
    }


def embeds_only(config: BertConfig, tokens: int) -> None:
    """Set up a BERT config whose tokens come in as ``inputs_embeds`` (no vocabulary: one
    dummy id) over ``tokens`` learned positions, and check its heads divide its width."""
    config.vocab_size = 1
    config.max_position_embeddings = tokens
    config.type_vocab_size = 1
    config.pad_token_id = 0
    config.tie_word_embeddings = False
    check_heads(config)


def check_heads(config: BertConfig) -> None:
    if config.hidden_size % config.num_attention_heads:
        raise ValueError(
            f"hidden_size ({config.hidden_size}) must be a multiple of num_heads "
            f"({config.num_attention_heads}); change one of them"
        )


class QuantTokenConfig(BertConfig):
    """A :class:`~transformers.BertConfig` for :class:`QuantTokenNet`, plus what the
    quantiser and the forecast fix: ``vocab_size`` (``n_bins`` + PAD + EOS) and
    ``max_position_embeddings`` (``context_length`` + EOS) are derived, not set.

    Args:
        n_bins: the quantiser's value bins (classes of the head).
        context_length: ``L``, input steps per window.
        horizon: ``H``, steps forecast at once.
        **kwargs: any :class:`~transformers.BertConfig` field (``hidden_size``,
            ``num_hidden_layers``, ...; see :func:`bert_sizes`).
    """

    model_type = "tokfrag_quant_token"

    n_bins: int = 16
    context_length: int = 4
    horizon: int = 1

    def __post_init__(self, **kwargs: Any) -> None:
        self.vocab_size = self.n_bins + NUM_SPECIAL
        self.max_position_embeddings = self.context_length + 1
        self.type_vocab_size = 1
        self.pad_token_id = PAD_ID
        self.tie_word_embeddings = False
        check_heads(self)
        super().__post_init__(**kwargs)


class QuantTokenNet(BertPreTrainedModel):
    r"""BERT encoder over quantised token windows with a per-horizon-step classification head
    over bins.

    Forecasting as classification over a quantised vocabulary follows Chronos (Ansari et al.,
    2024, "Chronos: Learning the Language of Time Series", https://arxiv.org/abs/2403.07815);
    the encoder is BERT's (Devlin et al., 2019, https://arxiv.org/abs/1810.04805), built from a
    config:

    .. math::
        p(y_{t+h} = c_k) = \mathrm{softmax}_k(W_h \, \mathrm{BERT}(x)_{\text{EOS}})

    Args:
        config: sizes and vocabulary; see :class:`QuantTokenConfig`.

    Shapes:
        - **input_ids** ``(B, L + 1)`` long, EOS last; **attention_mask** ``(B, L + 1)``
        - **output** logits ``(B, H, n_bins)``
    """

    config_class = QuantTokenConfig
    config: QuantTokenConfig

    def __init__(self, config: QuantTokenConfig) -> None:
        super().__init__(config)
        self.bert = BertModel(config, add_pooling_layer=False)
        self.head = nn.Linear(config.hidden_size, config.horizon * config.n_bins)
        self.post_init()

    def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
        hidden = self.bert(
            input_ids=input_ids, attention_mask=attention_mask
        ).last_hidden_state  # (B, L+1, D)
        eos = hidden[:, -1]  # (B, D): the EOS token has attended to the whole window
        logits: Tensor = self.head(eos)  # (B, H * n_bins)
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


AutoConfig.register(QuantTokenConfig.model_type, QuantTokenConfig, exist_ok=True)
AutoModel.register(QuantTokenConfig, QuantTokenNet, exist_ok=True)


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence the progress bars of ``save_pretrained`` / ``from_pretrained``."""
    enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if enabled:
            hf_logging.enable_progress_bar()


def save_token_forecaster(path: str | Path, config: dict[str, Any], net: PreTrainedModel) -> Path:
    """Write tokfrag's ``config.json`` (``config``, with ``kind``) and the network's
    ``save_pretrained`` folder (``config.json`` + ``model.safetensors``) under ``hf/``."""
    path = Path(path)
    write_config(path, {**config, "hf": HF_DIR})
    with _quiet():
        net.save_pretrained(path / HF_DIR)  # safetensors: the only format transformers 5 writes
    return path


def load_token_net(path: str | Path, net_class: type[PreTrainedModel]) -> Any:
    """``net_class.from_pretrained`` on the forecaster folder's ``hf/`` (local, safetensors),
    on the CPU in eval mode."""
    folder = Path(path) / read_config(path).get("hf", HF_DIR)
    if not (folder / "config.json").is_file():
        raise FileNotFoundError(
            f"{folder}: no Hugging Face model folder here; save the forecaster again with "
            "this version of tokfrag"
        )
    with _quiet():
        # safetensors only: never a pickled .bin, even if one is put beside it.
        net = net_class.from_pretrained(folder, local_files_only=True, use_safetensors=True)
    return net.eval()


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
        return save_token_forecaster(path, config, self.net)

    @classmethod
    def load(cls, path: str | Path) -> TokenForecaster:
        config = read_config(path)
        quantizer = MeanScaleQuantizer.from_dict(config["quantizer"])
        return cls(quantizer, load_token_net(path, QuantTokenNet))
