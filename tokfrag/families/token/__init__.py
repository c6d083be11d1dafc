"""The token family: data as discrete units, embedded and fed to a Transformer.

:data:`FAMILY` is its registry entry. Its tokenizers turn data into the units a Transformer
embeds, and back.

All share one contract, :class:`~tokfrag.families.token.Tokenizer` (fit on training data only,
encode, decode, save, load). Series: :class:`MeanScaleQuantizer` (Chronos-style bins) and
:class:`PatchTokenizer` (PatchTST-style patches). Text: :class:`.wordpiece.TextTokenizer`
(WordPiece trained on the training split; imported from its module, so series code never
loads `tokenizers`).
"""

from tokfrag.families.token.family import FAMILY
from tokfrag.lazy import lazy_attributes

# The tokenizers load on first use, so naming the family (the CLI's --help) imports no numpy.
_LAZY = {
    "Tokenizer": "tokenizer",
    "JsonConfigTokenizer": "tokenizer",
    "MeanScaleQuantizer": "quantizer",
    "QuantizedWindows": "quantizer",
    "PatchTokenizer": "patch",
    "PatchedWindows": "patch",
}


__getattr__ = lazy_attributes(__name__, _LAZY)


__all__ = ["FAMILY", *_LAZY]
