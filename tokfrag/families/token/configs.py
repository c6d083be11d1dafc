"""The token family's config dataclasses, without torch: :class:`EncoderSizes` (the
Transformer encoder's sizes, ``params.yaml`` ``token.model``) and :class:`TextTokenNetConfig`
(the text classifier's network).

``params.yaml`` sections are built from these dataclasses (:mod:`tokfrag.config.token_family`), so
a default lives here only; keep this module free of torch, so that ``import tokfrag.config``
stays light. The series networks' own configs subclass ``transformers``' ``BertConfig`` and
stay in their model modules; they take their sizes from :class:`EncoderSizes` through
:func:`~tokfrag.families.token.quantized_model.bert_sizes`.
"""

from __future__ import annotations

from dataclasses import dataclass

POOLINGS = ("mean", "cls")


@dataclass(frozen=True)
class EncoderSizes:
    """Sizes of a BERT-style encoder in tokfrag's names (``params.yaml`` ``token.model``),
    for the series token variants and the text model built from scratch.

    Attributes:
        hidden_size: width of the token states.
        num_layers: encoder layers.
        num_heads: attention heads; must divide ``hidden_size``.
        intermediate_size: width of each layer's feed-forward block.
        dropout: dropout on the hidden states and on the attention probabilities.
    """

    hidden_size: int = 64
    num_layers: int = 2
    num_heads: int = 4
    intermediate_size: int = 128
    dropout: float = 0.1

    def __post_init__(self) -> None:
        if self.hidden_size % self.num_heads:
            raise ValueError(
                f"hidden_size ({self.hidden_size}) must be a multiple of num_heads "
                f"({self.num_heads}); change one of them"
            )


_ENCODER = EncoderSizes()


@dataclass(frozen=True)
class TextTokenNetConfig:
    """Size of the from-scratch encoder; ``vocab_size`` comes from the tokenizer. The sizes'
    defaults are :class:`EncoderSizes`'.

    With ``pretrained=True`` the sizes are the pretrained encoder's and only ``num_labels``
    and ``dropout`` (of the new classification head) are used.
    """

    vocab_size: int
    num_labels: int
    max_length: int = 128
    hidden_size: int = _ENCODER.hidden_size
    num_layers: int = _ENCODER.num_layers
    num_heads: int = _ENCODER.num_heads
    intermediate_size: int = _ENCODER.intermediate_size
    dropout: float = _ENCODER.dropout
    pad_token_id: int = 0
    pretrained: bool = False
    pooling: str = "mean"  # "mean": of the real tokens' last states; "cls": BERT's pooler

    def __post_init__(self) -> None:
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {self.pooling!r}")
        if self.hidden_size % self.num_heads:
            raise ValueError(
                f"hidden_size ({self.hidden_size}) must be a multiple of "
                f"num_heads ({self.num_heads})"
            )
        if self.num_labels < 2:
            raise ValueError(f"num_labels must be at least 2, got {self.num_labels}")
