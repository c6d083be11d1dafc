"""Text token classifier: shapes, batching, persistence (safetensors + HF folders), a few
training steps on real MR, and the local pretrained encoder offline."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from tokfrag.families import load_forecaster
from tokfrag.families.token.text_model import (
    TextTokenClassifier,
    TextTokenExamples,
    TextTokenNetConfig,
)
from tokfrag.models.classifier import Classifier, TrainableClassifier
from tokfrag.models.pretrained import pretrained_available
from tokfrag.models.saving import CONFIG_FILE, HF_DIR
from tokfrag.train.loop import LoopConfig, fit

SIZES = {"hidden_size": 16, "num_layers": 1, "num_heads": 2, "intermediate_size": 32}
LABELS = ("negative", "positive")


def read_mr(mirror: Path) -> tuple[list[str], np.ndarray, list[str], np.ndarray]:
    """MR's TextGCN split from the mirror: train texts, labels, test texts, labels.

    The file is Windows-1252 bytes with CRLF line ends; split on ``\\n`` only."""
    lines = (mirror / "mr" / "mr.txt").read_bytes().decode("latin-1").split("\n")
    meta = [row.split("\t") for row in (mirror / "mr" / "mr.meta.txt").read_text().split("\n")]
    meta = [row for row in meta if len(row) == 3]
    texts = [line.rstrip("\r") for line in lines[: len(meta)]]
    labels = np.array([int(row[2]) for row in meta])
    train = np.array([row[1] == "train" for row in meta])
    return (
        [t for t, keep in zip(texts, train, strict=True) if keep],
        labels[train],
        [t for t, keep in zip(texts, train, strict=True) if not keep],
        labels[~train],
    )


@pytest.fixture(scope="module")
def mr(mirror):
    return read_mr(mirror)


@pytest.fixture(scope="module")
def model(mr) -> TextTokenClassifier:
    torch.manual_seed(0)
    return TextTokenClassifier.build(mr[0], LABELS, vocab_size=1000, max_length=48, **SIZES)


def test_contract_and_shapes(model, mr):
    assert isinstance(model, Classifier) and isinstance(model, TrainableClassifier)
    assert model.kind == "token_text" and model.family == "token"
    assert model.label_names == LABELS and model.config.vocab_size == 1000
    proba = model.predict_proba(mr[2][:10])
    assert proba.shape == (10, 2) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    assert model.predict_proba([]).shape == (0, 2)
    with pytest.raises(TypeError, match="one string"):
        model.predict_proba("one bare string")


def test_examples_cut_each_batch_to_its_longest_document(model, mr):
    examples = model.examples(mr[0][:40], mr[1][:40])
    assert isinstance(examples, TextTokenExamples) and len(examples) == 40
    batch = examples.take(torch.tensor([3, 1, 7]))
    longest = int(examples.attention_mask[[3, 1, 7]].sum(dim=1).max())
    assert batch["input_ids"].shape == batch["attention_mask"].shape == (3, longest)
    assert batch["input_ids"].dtype == torch.long and batch["labels"].tolist() == list(
        mr[1][[3, 1, 7]]
    )
    loss = model.net.loss(batch)
    assert loss.dim() == 0 and torch.isfinite(loss)
    loss.backward()
    assert model.net.model.classifier.weight.grad is not None
    model.net.zero_grad(set_to_none=True)


def test_padding_does_not_change_predictions(model, mr):
    texts = mr[2][:24]
    np.testing.assert_allclose(
        model.predict_proba(texts, batch_size=5), model.predict_proba(texts), atol=1e-5
    )


def test_save_load_gives_identical_ids_and_outputs(model, mr, tmp_path):
    from transformers import AutoModelForSequenceClassification

    texts = mr[2][:32]
    before = model.predict_proba(texts)
    folder = model.save(tmp_path / "token_text")
    config = json.loads((folder / CONFIG_FILE).read_text())
    assert config["kind"] == "token_text" and config["label_names"] == list(LABELS)
    assert config["max_length"] == 48 and config["pretrained"] is False
    names = {p.name for p in (folder / HF_DIR).iterdir()}
    assert {"model.safetensors", "config.json", "tokenizer.json"} <= names
    assert not list(folder.rglob("*.bin")) and not list(folder.rglob("*.pt"))  # no pickle
    loaded = load_forecaster(folder)  # the shared loader rebuilds it from config.json
    assert isinstance(loaded, TextTokenClassifier)
    np.testing.assert_array_equal(
        loaded.tokenizer.encode(texts).input_ids, model.tokenizer.encode(texts).input_ids
    )
    np.testing.assert_array_equal(loaded.predict_proba(texts), before)
    # the hf/ folder is a plain Hugging Face checkpoint with the label names
    plain = AutoModelForSequenceClassification.from_pretrained(str(folder / HF_DIR))
    assert plain.config.id2label == {0: "negative", 1: "positive"}


@pytest.fixture
def one_thread():
    """Tiny models gain nothing from intra-op threads and lose much when the CPU is shared."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_fit_on_real_mr_lowers_the_loss(mr, one_thread):
    torch.manual_seed(0)
    texts, labels = mr[0][::25], mr[1][::25]  # 285 documents of both classes
    sizes = {**SIZES, "hidden_size": 32, "intermediate_size": 64, "dropout": 0.0}
    model = TextTokenClassifier.build(texts, LABELS, vocab_size=800, max_length=48, **sizes)
    train = model.examples(texts, labels)
    before = _mean_loss(model, train)
    # A tiny BERT sits near log(2) for a few dozen steps before it starts to learn.
    result = fit(model.net, train, train, LoopConfig(epochs=6, batch_size=16, lr=1e-3, patience=6))
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    assert _mean_loss(model, train) < before - 0.2


def test_config_validates():
    with pytest.raises(ValueError, match="multiple of num_heads"):
        TextTokenNetConfig(vocab_size=10, num_labels=2, hidden_size=10, num_heads=4)
    with pytest.raises(ValueError, match="num_labels"):
        TextTokenNetConfig(vocab_size=10, num_labels=1)


@pytest.mark.skipif(not pretrained_available(), reason="extra 'pretrained' not installed")
def test_pretrained_minilm_offline_and_round_trip(mr, tmp_path):
    torch.manual_seed(0)
    model = TextTokenClassifier.build(mr[0], LABELS, pretrained=True, max_length=32)
    assert model.config.pretrained and model.config.hidden_size == 384
    assert model.config.num_layers == 6 and model.tokenizer.vocab_size == 30522
    texts = mr[2][:8]
    before = model.predict_proba(texts)
    assert before.shape == (8, 2) and np.isfinite(before).all()
    folder = model.save(tmp_path / "minilm")
    assert json.loads((folder / CONFIG_FILE).read_text())["pretrained"] is True
    loaded = TextTokenClassifier.load(folder)
    assert loaded.tokenizer.max_length == 32
    np.testing.assert_array_equal(loaded.predict_proba(texts), before)


@torch.no_grad()
def _mean_loss(model: TextTokenClassifier, examples: TextTokenExamples) -> float:
    model.net.eval()
    return float(model.net.loss(examples.take(torch.arange(len(examples)))))


def test_auto_max_length_reads_at_least_99_percent_of_training_documents_whole(mr):
    texts = mr[0][::5]
    model = TextTokenClassifier.build(texts, LABELS, vocab_size=800, max_length="auto", **SIZES)
    chosen = model.tokenizer.max_length
    assert model.config.max_length == chosen
    model.tokenizer.set_max_length(512)
    lengths = model.tokenizer.encode(texts).lengths
    assert np.mean(lengths <= chosen) >= 0.99
    assert np.mean(lengths <= chosen - 1) < 0.99  # and no longer than it needs to be
    assert chosen < lengths.max()  # a few outliers are cut, not paid for in every batch


@pytest.mark.parametrize("pooling", ["mean", "cls"])
def test_padding_does_not_change_a_documents_logits(mr, pooling):
    torch.manual_seed(0)
    texts = mr[0][:40]
    model = TextTokenClassifier.build(
        texts, LABELS, vocab_size=800, max_length=48, pooling=pooling, **SIZES
    )
    short, long = "a dull film", " ".join(texts[:3])
    alone = model.predict_proba([short])
    padded = model.predict_proba([short, long])[:1]
    np.testing.assert_allclose(padded, alone, rtol=1e-5, atol=1e-6)
    assert model.net.pooling == pooling


def test_a_model_saved_before_pooling_loads_as_cls(mr, tmp_path):
    torch.manual_seed(0)
    texts = mr[0][:40]
    model = TextTokenClassifier.build(
        texts, LABELS, vocab_size=800, max_length=48, pooling="cls", **SIZES
    )
    folder = model.save(tmp_path / "old")
    config = json.loads((folder / CONFIG_FILE).read_text())
    del config["net"]["pooling"]  # what the previous release wrote
    (folder / CONFIG_FILE).write_text(json.dumps(config))
    loaded = TextTokenClassifier.load(folder)
    assert loaded.net.pooling == loaded.config.pooling == "cls"
    np.testing.assert_array_equal(loaded.predict_proba(texts[:5]), model.predict_proba(texts[:5]))


def test_pooling_choices_give_different_classifiers(mr):
    torch.manual_seed(0)
    mean = TextTokenClassifier.build(mr[0][:40], LABELS, vocab_size=800, max_length=48, **SIZES)
    cls = TextTokenClassifier(
        mean.tokenizer, type(mean.net)(mean.net.model, "cls"), LABELS, mean.config
    )
    texts = mr[2][:6]
    assert not np.allclose(mean.predict_proba(texts), cls.predict_proba(texts))
