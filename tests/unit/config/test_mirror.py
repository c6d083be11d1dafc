"""Sections built from a config dataclass: its keys, types and defaults, the section's own
ranges and checks, and unknown keys still rejected by name."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest
from pydantic import ValidationError

from tokfrag.config import (
    DocGraphConfig,
    FragmentModelConfig,
    ParamsError,
    PatchConfig,
    QuantizerConfig,
    STGCNSizes,
    TokenModelConfig,
    WaveNetSizes,
    parse_params,
)
from tokfrag.config.mirror import mirror
from tokfrag.families.fragment.configs import (
    DocGraphNetConfig,
    FragmentNetConfig,
    STGCNConfig,
    WaveNetConfig,
)
from tokfrag.families.token.configs import EncoderSizes
from tokfrag.families.token.patch import PatchTokenizer
from tokfrag.families.token.quantizer import MeanScaleQuantizer


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


# Every section that mirrors a model's config dataclass: (section, dataclass, the fields the
# data fixes, so that params.yaml does not set them).
MIRRORED = [
    (QuantizerConfig, MeanScaleQuantizer, ()),
    (TokenModelConfig, EncoderSizes, ()),
    (FragmentModelConfig, FragmentNetConfig, ("num_nodes", "lags", "horizon", "covariates")),
    (STGCNSizes, STGCNConfig, ("num_nodes", "lags", "horizon")),
    (WaveNetSizes, WaveNetConfig, ("num_nodes", "lags", "horizon")),
    (DocGraphConfig, DocGraphNetConfig, ("vocab_size", "num_classes")),
]


@pytest.mark.parametrize(("section", "source", "from_data"), MIRRORED)
def test_model_sections_reuse_their_dataclass_defaults(section, source, from_data):
    kept = [f for f in dataclasses.fields(source) if f.name not in (*from_data, "observed")]
    defaults = section().model_dump()
    assert {f.name: f.default for f in kept} == {f.name: defaults[f.name] for f in kept}
    own = [name for name in section.model_fields if name not in {f.name for f in kept}]
    expected_own = ["window", "min_count", "lr", "epochs"] if section is DocGraphConfig else []
    assert sorted(own) == sorted(expected_own)


def test_fragment_text_keeps_its_key_order():
    """The graph keys first, the network's sizes, then the training keys (as an unknown key's
    message lists them)."""
    assert list(DocGraphConfig.model_fields) == [
        "window",
        "min_count",
        "embedding_dim",
        "hidden_channels",
        "num_layers",
        "dropout",
        "pretrained",
        "freeze_embeddings",
        "lr",
        "epochs",
    ]


def test_a_size_the_model_refuses_is_refused_at_load_by_key():
    with pytest.raises(ParamsError, match=r"fragment\.wavenet\.kernel_size: .* equal to 2"):
        parse_params({"fragment": {"wavenet": {"kernel_size": 1}}})
    with pytest.raises(ValueError, match="kernel_size must be at least 2"):
        WaveNetConfig(num_nodes=2, lags=4, kernel_size=1)
    with pytest.raises(ParamsError, match=r"tokenizer\.high: high \(-3\.0\) must be above"):
        parse_params({"token": {"tokenizer": {"low": 3.0, "high": -3.0}}})
    with pytest.raises(ParamsError, match=r"token\.model: hidden_size \(10\) must be a multiple"):
        parse_params({"token": {"model": {"hidden_size": 10, "num_heads": 4}}})


def test_the_config_package_imports_no_torch():
    code = "import sys, tokfrag.config; print(sorted(m for m in sys.modules if 'torch' in m))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
