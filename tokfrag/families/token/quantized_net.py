"""The quantised-token Transformer (Chronos-style): each bin id is a token, the head predicts
bin probabilities. Config, sizes and modules only: no file I/O.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn
from transformers import BertConfig, BertModel
from transformers.models.bert.modeling_bert import BertPreTrainedModel

from tokfrag.families.token.configs import EncoderSizes
from tokfrag.families.token.quantizer import NUM_SPECIAL, PAD_ID

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
