"""Text fragments: each document becomes its own graph of words (TextING style).

Following TextING (Zhang et al., 2020, "Every Document Owns Its Structure: Inductive Text
Classification via Graph Neural Networks", https://arxiv.org/abs/2004.13826) and
Text-Level-GNN (Huang et al., 2019, https://arxiv.org/abs/1910.02356), a document is a
small graph whose nodes are its distinct words and whose edges join words that occur close
together. Graphs are per document, so the model is inductive: a test document needs nothing
from other documents, only the training vocabulary.

Words: ``text.lower()`` split by :data:`WORD_PATTERN` -- runs of letters/digits (with inner
apostrophes kept: ``it's``) and every other non-space character on its own (``,``, ``!``).

Graph of a document with tokens ``t_0 .. t_{n-1}`` and vocabulary ids ``v_i``:

- **nodes**: the distinct ids among ``v_0 .. v_{n-1}``, in order of first appearance;
  ``x[k]`` is node ``k``'s id. Unknown words all map to ``[UNK]`` and so share one node.
- **edges**: positions ``i < j`` co-occur when ``j - i < window``, i.e. when they fall in a
  common run of ``window`` consecutive tokens. Each co-occurring pair with ``v_i != v_j``
  adds 1 to the edge between their nodes, in both directions, so ``edge_index`` is
  symmetric and ``edge_weight`` counts co-occurring position pairs. A word never links to
  itself (no self loops: a repeated word inside a window adds nothing); layers that want
  self loops add them. Edges are sorted by (source, target).
- an empty document (no tokens) is one ``[PAD]`` node with no edges; a one-word document is
  one node with no edges. Every graph has at least one node, so pooling yields one row per
  document.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import torch
from torch import Tensor

from tokfrag.families.fragment.pyg import Data

PAD_WORD, UNK_WORD = "[PAD]", "[UNK]"
PAD_ID, UNK_ID = 0, 1
WORD_PATTERN = re.compile(r"\w+(?:'\w+)*|[^\w\s]")


def split_words(text: str) -> list[str]:
    """Lowercase ``text`` and cut it into words and single punctuation marks."""
    return WORD_PATTERN.findall(text.lower())


@dataclass(frozen=True)
class WordVocab:
    """Words of the training split: ``words[0] = "[PAD]"``, ``words[1] = "[UNK]"``, then the
    kept words by decreasing count (ties alphabetical).

    Args:
        words: the vocabulary, specials first.
        min_count: the least training count a word needed to be kept (recorded only).
    """

    words: tuple[str, ...]
    min_count: int = 1
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if tuple(self.words[:2]) != (PAD_WORD, UNK_WORD):
            raise ValueError(f"a WordVocab starts with {PAD_WORD!r}, {UNK_WORD!r}")
        index = {w: i for i, w in enumerate(self.words)}
        if len(index) != len(self.words):
            raise ValueError("a WordVocab cannot hold the same word twice")
        object.__setattr__(self, "words", tuple(self.words))
        object.__setattr__(self, "_index", index)

    @classmethod
    def build(
        cls, texts: Iterable[str], min_count: int = 1, max_size: int | None = None
    ) -> WordVocab:
        """Count words in ``texts`` (the training split only) and keep those seen at least
        ``min_count`` times, at most ``max_size`` of them (specials not counted)."""
        if min_count < 1:
            raise ValueError(f"min_count must be at least 1, got {min_count}")
        if isinstance(texts, str):
            raise TypeError("expected a sequence of documents, got one string")
        counts = Counter(w for text in texts for w in split_words(text))
        kept = sorted(
            (w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w)
        )
        if max_size is not None:
            kept = kept[:max_size]
        return cls((PAD_WORD, UNK_WORD, *kept), min_count=min_count)

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return word in self._index

    def id_of(self, word: str) -> int:
        """The id of ``word`` (``UNK_ID`` if it was not in training)."""
        return self._index.get(word, UNK_ID)

    def encode(self, text: str) -> Tensor:
        """``text`` -> ``(n,)`` int64 ids of its ``n`` words, in order (unknown -> ``UNK_ID``)."""
        return torch.tensor([self.id_of(w) for w in split_words(text)], dtype=torch.long)

    def to_dict(self) -> dict[str, object]:
        return {"words": list(self.words), "min_count": self.min_count}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> WordVocab:
        # ``data`` is what :meth:`to_dict` wrote (read back from JSON): words and a count.
        words = cast(list[str], data["words"])
        min_count = cast(int, data.get("min_count", 1))
        return cls(tuple(words), min_count=int(min_count))

    def save(self, path: str | Path) -> Path:
        """Write the vocabulary as JSON to the file ``path``."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), ensure_ascii=False) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path) -> WordVocab:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def graph_from_ids(ids: Tensor, window: int = 3) -> Data:
    """The co-occurrence graph of one document given as ``(n,)`` word ids (module docs).

    Returns:
        ``Data`` with ``x`` ``(N,)`` int64 node word ids, ``edge_index`` ``(2, E)`` int64,
        ``edge_weight`` ``(E,)`` float32 and ``num_nodes = N >= 1``.
    """
    if window < 2:
        raise ValueError(f"window must be at least 2 (two tokens to link), got {window}")
    ids = torch.as_tensor(ids, dtype=torch.long).flatten()  # (n,)
    if ids.numel() == 0:
        ids = torch.tensor([PAD_ID])
    n = ids.numel()
    uniq, inverse = torch.unique(ids, return_inverse=True)  # (N,), (n,)
    # Renumber nodes by first appearance: first[k] = first position of unique id k.
    first = torch.full((len(uniq),), n, dtype=torch.long).scatter_reduce(
        0, inverse, torch.arange(n), reduce="amin"
    )
    order = torch.argsort(first)  # node k -> unique index order[k]
    rank = torch.empty_like(order)
    rank[order] = torch.arange(len(order))
    node = rank[inverse]  # (n,) node of each position
    x = uniq[order]  # (N,)

    src = torch.cat([node[:-d] for d in range(1, min(window, n))] or [node[:0]])
    dst = torch.cat([node[d:] for d in range(1, min(window, n))] or [node[:0]])
    keep = src != dst
    src, dst = src[keep], dst[keep]
    src, dst = torch.cat([src, dst]), torch.cat([dst, src])  # both directions
    num_nodes = len(x)
    key, count = torch.unique(src * num_nodes + dst, return_counts=True)  # sorted
    edge_index = torch.stack([key // num_nodes, key % num_nodes])  # (2, E)
    return Data(
        x=x, edge_index=edge_index, edge_weight=count.to(torch.float32), num_nodes=num_nodes
    )


def build_doc_graph(text: str, vocab: WordVocab, window: int = 3) -> Data:
    """The word co-occurrence graph of ``text`` over ``vocab`` (node and edge semantics in
    the module docs).

    Example: ``"The cat sat on the mat"`` with ``window=3`` has the 5 nodes
    ``the, cat, sat, on, mat`` and 8 undirected edges (16 directed): the-sat with weight 2
    (position pairs 0-2 and 2-4), and the-cat, the-on, the-mat, cat-sat, cat-on, sat-on,
    on-mat with weight 1.
    """
    return graph_from_ids(vocab.encode(text), window)


def build_doc_graphs(texts: Sequence[str], vocab: WordVocab, window: int = 3) -> list[Data]:
    """:func:`build_doc_graph` for each document."""
    return [build_doc_graph(text, vocab, window) for text in texts]
