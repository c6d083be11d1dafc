"""Sections built from a config dataclass: its keys, types and defaults, the section's own
ranges and checks, and unknown keys still rejected by name."""

from __future__ import annotations

import dataclasses

import pytest
from pydantic import ValidationError

from tokfrag.config import ParamsError, PatchConfig, parse_params
from tokfrag.config.mirror import mirror
from tokfrag.families.token.patch import PatchTokenizer


@dataclasses.dataclass(frozen=True)
class Sizes:
    num_nodes: int
    width: int = 8
    dropout: float = 0.1


def test_a_mirror_has_the_dataclass_keys_and_defaults_in_order():
    section = mirror(Sizes, exclude=("num_nodes",), ranges={"width": {"ge": 2}})
    assert list(section.model_fields) == ["width", "dropout"]
    assert section().model_dump() == {"width": 8, "dropout": 0.1}
    with pytest.raises(ValidationError, match="greater than or equal to 2"):
        section(width=1)
    with pytest.raises(ValidationError, match="extra"):
        section(num_nodes=3)
    with pytest.raises(ValidationError, match="frozen"):
        section().width = 4  # type: ignore[misc]


def test_a_mirror_refuses_a_field_without_default_or_an_unknown_range():
    with pytest.raises(TypeError, match="num_nodes has no default"):
        mirror(Sizes)
    with pytest.raises(TypeError, match="height"):
        mirror(Sizes, exclude=("num_nodes",), ranges={"height": {"ge": 1}})


def test_token_patch_reuses_the_patch_tokenizer_defaults():
    tokenizer = PatchTokenizer()
    assert PatchConfig().model_dump() == {
        "patch_len": tokenizer.patch_len,
        "stride": tokenizer.stride,
    }
    with pytest.raises(ParamsError, match=r"token\.patch: stride \(3\) must not exceed"):
        parse_params({"token": {"patch": {"patch_len": 2, "stride": 3}}})
    with pytest.raises(ParamsError, match="allowed keys: patch_len, stride"):
        parse_params({"token": {"patch": {"padding": "minimal"}}})
