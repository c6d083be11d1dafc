"""Tokenizers: turn data into discrete units a Transformer embeds."""

from tokfrag.tokens.quantizer import MeanScaleQuantizer, QuantizedWindows

__all__ = ["MeanScaleQuantizer", "QuantizedWindows"]
