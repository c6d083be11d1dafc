"""Tokenizers: turn data into the units a Transformer embeds, and back.

All share one contract, :class:`~tokfrag.tokens.base.Tokenizer` (fit on training data only,
encode, decode, save, load). Series: :class:`MeanScaleQuantizer` (Chronos-style bins) and
:class:`PatchTokenizer` (PatchTST-style patches). Text: :class:`tokfrag.tokens.text.TextTokenizer`
(WordPiece trained on the training split; imported from its module, so series code never
loads `tokenizers`).
"""

from tokfrag.tokens.base import Tokenizer
from tokfrag.tokens.patch import PatchedWindows, PatchTokenizer
from tokfrag.tokens.quantizer import MeanScaleQuantizer, QuantizedWindows

__all__ = [
    "MeanScaleQuantizer",
    "PatchTokenizer",
    "PatchedWindows",
    "QuantizedWindows",
    "Tokenizer",
]
