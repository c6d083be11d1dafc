"""Document-graph classifier: shapes, node-permutation invariance, batching, persistence,
a few training steps on real MR, and embeddings from the local pretrained encoder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch_geometric.data import Batch, Data

from tokfrag.families import load_forecaster
from tokfrag.families.fragment.docgraph import PAD_ID, UNK_ID
from tokfrag.families.fragment.docgraph_model import (
    VOCAB_FILE,
    DocGraphClassifier,
    DocGraphExamples,
    DocGraphNetConfig,
)
from tokfrag.families.fragment.docgraph_net import normalize_edge_weight
from tokfrag.models.classifier import Classifier, TrainableClassifier
from tokfrag.models.pretrained import pretrained_available
from tokfrag.models.saving import CONFIG_FILE, WEIGHTS_FILE
from tokfrag.train.loop import LoopConfig, fit

SIZES = {"embedding_dim": 16, "hidden_channels": 16, "num_layers": 2, "dropout": 0.0}
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
def model(mr) -> DocGraphClassifier:
    torch.manual_seed(0)
    return DocGraphClassifier.build(mr[0], LABELS, min_count=2, **SIZES)


def test_contract_and_shapes(model, mr):
    assert isinstance(model, Classifier) and isinstance(model, TrainableClassifier)
    assert model.kind == "fragment_docgraph" and model.family == "fragment"
    assert model.label_names == LABELS and model.window == 3
    proba = model.predict_proba(mr[2][:10] + ["", "qwertyuiop"])
    assert proba.shape == (12, 2) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    assert model.predict_proba([]).shape == (0, 2)


def test_examples_give_a_pyg_batch(model, mr):
    examples = model.examples(mr[0][:30], mr[1][:30])
    assert isinstance(examples, DocGraphExamples) and len(examples) == 30
    batch = examples.take(torch.tensor([4, 0, 9]))
    graph = batch["graph"]
    assert isinstance(graph, Batch) and graph.num_graphs == 3
    assert graph.x.dtype == torch.long and graph.batch.max() == 2
    assert batch["labels"].tolist() == list(mr[1][[4, 0, 9]])
    loss = model.net.loss(batch)
    assert loss.dim() == 0 and torch.isfinite(loss)
    loss.backward()
    assert model.net.ggnn.weight.grad is not None and model.net.embedding.weight.grad is not None
    model.net.zero_grad(set_to_none=True)


def test_relabelling_nodes_gives_the_same_prediction(model, mr):
    model.net.eval()
    graph = model.graphs([mr[2][0]])[0]
    n = graph.num_nodes
    assert n > 5
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(0))  # new k -> old perm[k]
    position = torch.empty_like(perm)
    position[perm] = torch.arange(n)  # old -> new
    relabelled = Data(
        x=graph.x[perm],
        edge_index=position[graph.edge_index],
        edge_weight=graph.edge_weight,
        num_nodes=n,
    )
    with torch.no_grad():
        a = model.net.forward_graph(Batch.from_data_list([graph]))
        b = model.net.forward_graph(Batch.from_data_list([relabelled]))
    torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_batching_does_not_change_predictions(model, mr):
    texts = mr[2][:40]
    np.testing.assert_allclose(
        model.predict_proba(texts, batch_size=3), model.predict_proba(texts), atol=1e-5
    )
    reversed_ = model.predict_proba(texts[::-1])
    np.testing.assert_allclose(reversed_[::-1], model.predict_proba(texts), atol=1e-5)


def test_normalised_edge_weights_are_symmetric():
    edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    weight = normalize_edge_weight(edge_index, torch.tensor([2.0, 2.0, 1.0, 1.0]), 4)
    # degrees 2, 3, 1, 0 (node 3 isolated): w_uv / sqrt(d_u d_v)
    expected = torch.tensor([2 / 6**0.5, 2 / 6**0.5, 1 / 3**0.5, 1 / 3**0.5])
    torch.testing.assert_close(weight, expected)


def test_save_load_gives_identical_outputs(model, mr, tmp_path):
    texts = mr[2][:32]
    before = model.predict_proba(texts)
    folder = model.save(tmp_path / "docgraph")
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [CONFIG_FILE, WEIGHTS_FILE, VOCAB_FILE]
    )
    config = json.loads((folder / CONFIG_FILE).read_text())
    assert config["kind"] == "fragment_docgraph" and config["window"] == 3
    assert config["label_names"] == list(LABELS) and config["net"]["num_layers"] == 2
    loaded = load_forecaster(folder)  # the shared loader rebuilds it from config.json
    assert isinstance(loaded, DocGraphClassifier) and loaded.vocab == model.vocab
    np.testing.assert_array_equal(loaded.predict_proba(texts), before)


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
    model = DocGraphClassifier.build(texts, LABELS, min_count=1, **SIZES)
    train = model.examples(texts, labels)
    before = _mean_loss(model, train)
    result = fit(model.net, train, train, LoopConfig(epochs=3, batch_size=32, lr=1e-2))
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    assert _mean_loss(model, train) < before - 0.05


def test_config_validates():
    with pytest.raises(ValueError, match="num_classes"):
        DocGraphNetConfig(vocab_size=10, num_classes=1)
    with pytest.raises(ValueError, match="num_layers"):
        DocGraphNetConfig(vocab_size=10, num_classes=2, num_layers=0)


@pytest.mark.skipif(not pretrained_available(), reason="extra 'pretrained' not installed")
def test_pretrained_word_embeddings(mr):
    from transformers import AutoTokenizer

    from tokfrag.models.pretrained import mean_piece_embeddings, minilm_folder

    model = DocGraphClassifier.build(mr[0][:300], LABELS, pretrained=True, min_count=1)
    assert model.net.config.pretrained and model.net.config.embedding_dim == 384
    table = model.net.embedding.weight.detach()
    assert table[PAD_ID].abs().sum() == 0 and table[UNK_ID].abs().sum() > 0
    # a word the MiniLM tokenizer splits into several pieces gets their mean
    pieces = AutoTokenizer.from_pretrained(str(minilm_folder()))
    word = next(
        w for w in model.vocab.words[2:] if len(pieces(w, add_special_tokens=False).input_ids) > 1
    )
    expected = mean_piece_embeddings([word])[0]
    torch.testing.assert_close(table[model.vocab.id_of(word)], expected)
    assert np.isfinite(model.predict_proba(mr[2][:5])).all()


@torch.no_grad()
def _mean_loss(model: DocGraphClassifier, examples: DocGraphExamples) -> float:
    model.net.eval()
    return float(model.net.loss(examples.take(torch.arange(len(examples)))))
