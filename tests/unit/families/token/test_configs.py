"""The token family's config dataclasses: one place for the encoder's sizes."""

from __future__ import annotations

import dataclasses

import pytest

from tokfrag.families.token.configs import EncoderSizes, TextTokenNetConfig
from tokfrag.families.token.quantized_net import bert_sizes


def test_every_encoder_takes_its_default_sizes_from_encoder_sizes():
    sizes = dataclasses.asdict(EncoderSizes())
    assert bert_sizes() == bert_sizes(**sizes)
    text = dataclasses.asdict(TextTokenNetConfig(vocab_size=10, num_labels=2))
    assert {k: text[k] for k in sizes} == sizes


def test_encoder_sizes_check_that_heads_divide_the_width():
    with pytest.raises(ValueError, match=r"hidden_size \(10\) must be a multiple of num_heads"):
        EncoderSizes(hidden_size=10, num_heads=4)
