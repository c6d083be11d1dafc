"""Fragment family for text: one word graph per document -> gated GNN -> class probabilities.

The network follows TextING (Zhang et al., 2020, "Every Document Owns Its Structure:
Inductive Text Classification via Graph Neural Networks", https://arxiv.org/abs/2004.13826):
word embeddings, a gated graph neural network (Li et al., 2016, GGNN,
https://arxiv.org/abs/1511.05493: message passing whose node update is a GRU cell) over the
symmetric-normalised co-occurrence graph, then a soft-attention read-out that sums the mean
and the max over the document's words. It is built on ``torch_geometric.nn.GatedGraphConv``
and ``global_mean_pool`` / ``global_max_pool``, none of which need torch-sparse.

Word embeddings are learned from scratch, or (``pretrained=True``) start from the local
all-MiniLM-L6-v2's input embeddings: each vocabulary word gets the mean of its WordPiece
pieces' vectors.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor

from tokfrag.families.fragment.configs import DocGraphNetConfig
from tokfrag.families.fragment.docgraph import WordVocab, build_doc_graphs
from tokfrag.families.fragment.docgraph_net import DocGraphNet
from tokfrag.families.fragment.pyg import Batch, Data
from tokfrag.models.classifier import NetClassifier, check_texts
from tokfrag.models.saving import load_weights, read_config, save_module

VOCAB_FILE = "vocab.json"


class DocGraphExamples:
    """Document graphs for :func:`tokfrag.train.fit`: ``take(idx)`` gives
    ``{"graph": Batch, "labels": (b,) long}`` (labels left out when there are none)."""

    def __init__(self, graphs: Sequence[Data], labels: Tensor | None) -> None:
        if labels is not None and len(labels) != len(graphs):
            raise ValueError(f"{len(graphs)} documents but {len(labels)} labels")
        self.graphs = list(graphs)
        self.labels = labels

    def __len__(self) -> int:
        return len(self.graphs)

    def take(self, idx: Tensor) -> dict[str, Any]:
        positions = torch.as_tensor(idx).flatten().tolist()
        out: dict[str, Any] = {"graph": Batch.from_data_list([self.graphs[i] for i in positions])}
        if self.labels is not None:
            out["labels"] = self.labels[idx]
        return out


class DocGraphClassifier(NetClassifier):
    """Word vocabulary + document-graph builder + :class:`DocGraphNet`, behind the
    :class:`~tokfrag.models.classifier.Classifier` contract: ``B`` documents ->
    ``(B, C)`` probabilities."""

    kind: ClassVar[str] = "fragment_docgraph"
    family: ClassVar[str] = "fragment"
    predict_batch_size: ClassVar[int] = 512

    def __init__(
        self, vocab: WordVocab, net: DocGraphNet, label_names: Sequence[str], window: int = 3
    ) -> None:
        if net.config.vocab_size != len(vocab):
            raise ValueError(f"net has {net.config.vocab_size} embeddings, vocab {len(vocab)}")
        if net.config.num_classes != len(label_names):
            raise ValueError(
                f"net has {net.config.num_classes} outputs but {len(label_names)} labels"
            )
        if window < 2:
            raise ValueError(f"window must be at least 2, got {window}")
        self.vocab = vocab
        self.net = net
        self.window = window
        self._label_names = tuple(label_names)

    @classmethod
    def build(
        cls,
        texts_train: Sequence[str],
        label_names: Sequence[str],
        *,
        window: int = 3,
        min_count: int = 2,
        max_vocab: int | None = None,
        embedding_dim: int = 128,
        hidden_channels: int = 128,
        num_layers: int = 2,
        dropout: float = 0.5,
        pretrained: bool = False,
        freeze_embeddings: bool = False,
        pretrained_path: str | Path | None = None,
    ) -> DocGraphClassifier:
        """A fresh classifier whose vocabulary is built from ``texts_train`` only.

        Args:
            texts_train: the training documents (never the test split).
            label_names: the ``C`` class names, in label order.
            window: co-occurrence window in tokens (TextING uses 3).
            min_count, max_vocab: which training words get their own embedding; the rest
                are ``[UNK]``.
            embedding_dim, hidden_channels, num_layers, dropout: see
                :class:`DocGraphNetConfig` (``num_layers`` = GGNN propagation steps).
            pretrained: initialise word embeddings from the local all-MiniLM-L6-v2 (mean of
                each word's WordPiece vectors); ``embedding_dim`` becomes its hidden size.
            freeze_embeddings: keep the word vectors fixed (sensible with ``pretrained``).
            pretrained_path: another local BERT-style folder to take embeddings from.
        """
        vocab = WordVocab.build(check_texts(texts_train), min_count=min_count, max_size=max_vocab)
        init = None
        if pretrained or pretrained_path is not None:
            from tokfrag.models.pretrained import mean_piece_embeddings

            folder = Path(pretrained_path) if pretrained_path is not None else None
            init = mean_piece_embeddings(vocab.words, folder)  # (V, D)
            embedding_dim = init.shape[1]
        config = DocGraphNetConfig(
            vocab_size=len(vocab),
            num_classes=len(label_names),
            embedding_dim=embedding_dim,
            hidden_channels=hidden_channels,
            num_layers=num_layers,
            dropout=dropout,
            pretrained=init is not None,
            freeze_embeddings=freeze_embeddings,
        )
        net = DocGraphNet(config)
        if init is not None:
            with torch.no_grad():
                net.embedding.weight.copy_(init)
        return cls(vocab, net, label_names, window)

    def graphs(self, texts: Sequence[str]) -> list[Data]:
        """One co-occurrence graph per document (see :mod:`tokfrag.families.fragment.docgraph`)."""
        return build_doc_graphs(check_texts(texts), self.vocab, self.window)

    def examples(self, texts: Sequence[str], labels: np.ndarray | None = None) -> DocGraphExamples:
        """Graphs of ``N`` documents (and their ``(N,)`` int labels) for the training loop."""
        graphs = self.graphs(texts)
        tensor = None if labels is None else torch.as_tensor(np.asarray(labels), dtype=torch.long)
        return DocGraphExamples(graphs, tensor)

    def _inputs(self, texts: Sequence[str]) -> list[Data]:
        return self.graphs(texts)

    def _logits(self, inputs: Sequence[Any], device: Any) -> Tensor:
        batch = Batch.from_data_list(list(inputs)).to(device)
        logits: Tensor = self.net.forward_graph(batch)  # (b, C)
        return logits

    def save(self, path: Path) -> Path:
        path = Path(path)
        config = {
            "kind": self.kind,
            "label_names": list(self.label_names),
            "window": self.window,
            "net": asdict(self.net.config),
        }
        save_module(path, config, self.net)
        self.vocab.save(path / VOCAB_FILE)
        return path

    @classmethod
    def load(cls, path: Path) -> DocGraphClassifier:
        path = Path(path)
        config = read_config(path)
        if config.get("kind") != cls.kind:
            raise ValueError(f"{path}: kind {config.get('kind')!r} is not {cls.kind!r}")
        vocab_path = path / VOCAB_FILE
        if not vocab_path.is_file():
            raise FileNotFoundError(f"{vocab_path}: the saved vocabulary is missing")
        net = DocGraphNet(DocGraphNetConfig(**config["net"]))
        net.load_state_dict(load_weights(path))
        net.eval()
        vocab = WordVocab.from_dict(json.loads(vocab_path.read_text(encoding="utf-8")))
        return cls(vocab, net, config["label_names"], int(config["window"]))
