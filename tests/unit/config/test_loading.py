"""`params.yaml` loading: the repo's file loads, mistakes fail with messages that name the
key, the section and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tokfrag.config import Params, ParamsError, load_params, parse_params

REPO = Path(__file__).resolve().parents[3]


def _write(tmp_path: Path, raw: object) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def test_repo_params_load():
    params = load_params(REPO / "params.yaml")
    assert isinstance(params, Params)
    assert params.data.dataset == "chickenpox"
    # The PyTorch Geometric Temporal protocol the published figures use.
    assert (params.split.lags, params.split.horizon, params.split.train_ratio) == (4, 1, 0.2)
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    assert params.train.epochs == raw["train"]["epochs"]
    assert params.token.tokenizer.n_bins == raw["token"]["tokenizer"]["n_bins"]


def test_unknown_key_names_key_section_and_allowed_keys(tmp_path):
    path = _write(tmp_path, {"train": {"epoch": 3}})
    with pytest.raises(ParamsError) as info:
        load_params(path)
    message = str(info.value)
    assert str(path) in message
    assert "'epoch'" in message
    assert "'train'" in message
    for allowed in ("epochs", "batch_size", "lr", "weight_decay", "patience", "seed", "device"):
        assert allowed in message


def test_unknown_nested_and_top_level_keys_name_their_sections():
    with pytest.raises(ParamsError) as info:
        parse_params({"token": {"model": {"hiden_size": 8}}, "trian": {}})
    message = str(info.value)
    assert "'hiden_size'" in message and "'token.model'" in message and "hidden_size" in message
    assert "'trian'" in message and "top level" in message and "train" in message


def test_wrong_type_names_the_key():
    with pytest.raises(ParamsError, match=r"train\.epochs") as info:
        parse_params({"train": {"epochs": "many"}})
    assert "'many'" in str(info.value)


def test_missing_file_names_the_path(tmp_path):
    path = tmp_path / "nowhere" / "params.yaml"
    with pytest.raises(ParamsError, match="no such file") as info:
        load_params(path)
    assert str(path) in str(info.value)


def test_not_a_mapping_and_bad_yaml_rejected(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("- just\n- a list\n")
    with pytest.raises(ParamsError, match="mapping"):
        load_params(path)
    path.write_text("train: {epochs: [1,\n")
    with pytest.raises(ParamsError, match="not valid YAML"):
        load_params(path)


def test_empty_file_gives_defaults(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("")
    assert load_params(path) == Params()


@pytest.mark.parametrize(
    "raw, key",
    [
        ({"split": {"lags": 0}}, "split.lags"),
        ({"split": {"train_ratio": 1.0}}, "split.train_ratio"),
        ({"train": {"device": "tpu"}}, "train.device"),
        ({"token": {"tokenizer": {"n_bins": 1}}}, "token.tokenizer.n_bins"),
        ({"token": {"tokenizer": {"low": 3.0, "high": -3.0}}}, "token.tokenizer.high"),
        ({"token": {"tokenizer": {"high": -5.0}}}, "token.tokenizer.high"),  # default low -3
        ({"train": {"schedule": "step"}}, "train.schedule"),
        ({"train": {"warmup": 1.0}}, "train.warmup"),
        ({"train": {"clip_grad_norm": 0}}, "train.clip_grad_norm"),
        ({"token": {"lr": -1e-3}}, "token.lr"),
        ({"token": {"text": {"max_length": 4}}}, "token.text.max_length"),
        ({"tune": {"cv": {"folds": 0}}}, "tune.cv.folds"),
        ({"calendar": {"harmonics": 0}}, "calendar.harmonics"),
        ({"calendar": {"step": "often"}}, "calendar.step"),
        ({"calendar": {"start": "yesterday-ish"}}, "calendar.start"),
    ],
)
def test_out_of_range_values_name_the_key(raw, key):
    with pytest.raises(ParamsError, match=key.replace(".", r"\.")):
        parse_params(raw)


def test_params_are_frozen():
    params = parse_params({})
    with pytest.raises(Exception, match="frozen"):
        params.train.epochs = 5  # type: ignore[misc]
