"""Document graphs: exact nodes and edges of a hand-written sentence, unknown words, edge
cases, agreement with a naive reference, and a vocabulary built from training texts only."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tokfrag.families.fragment.docgraph import (
    PAD_ID,
    PAD_WORD,
    UNK_ID,
    UNK_WORD,
    WordVocab,
    build_doc_graph,
    graph_from_ids,
    split_words,
)

SENTENCE = "The cat sat on the mat."


def read_mr(mirror: Path) -> tuple[list[str], list[str]]:
    """MR's TextGCN split straight from the mirror: (train texts, test texts).

    The file is Windows-1252 bytes with CRLF line ends; split on ``\\n`` only."""
    lines = (mirror / "mr" / "mr.txt").read_bytes().decode("latin-1").split("\n")
    meta = (mirror / "mr" / "mr.meta.txt").read_text().split("\n")
    parts = [row.split("\t")[1] for row in meta if row.strip()]
    texts = [line.rstrip("\r") for line in lines[: len(parts)]]
    train = [t for t, p in zip(texts, parts, strict=True) if p == "train"]
    test = [t for t, p in zip(texts, parts, strict=True) if p == "test"]
    return train, test


def edges_by_word(graph, vocab: WordVocab) -> dict[tuple[str, str], float]:
    src, dst = graph.edge_index.tolist()
    words = [vocab.words[i] for i in graph.x.tolist()]
    return {
        (words[s], words[d]): w
        for s, d, w in zip(src, dst, graph.edge_weight.tolist(), strict=True)
    }


def reference_edges(ids: list[int], window: int) -> Counter:
    """The documented semantics, written the slow and obvious way."""
    counts: Counter = Counter()
    for i in range(len(ids)):
        for j in range(i + 1, min(i + window, len(ids))):
            if ids[i] != ids[j]:
                counts[ids[i], ids[j]] += 1
                counts[ids[j], ids[i]] += 1
    return counts


def test_split_words():
    assert split_words("It's a SPECIAL-interest film... wow!") == [
        "it's", "a", "special", "-", "interest", "film", ".", ".", ".", "wow", "!",
    ]  # fmt: skip


def test_hand_written_sentence_window_3():
    vocab = WordVocab.build([SENTENCE])
    graph = build_doc_graph(SENTENCE, vocab, window=3)
    # tokens: the cat sat on the mat .   (positions 0..6)
    assert [vocab.words[i] for i in graph.x.tolist()] == ["the", "cat", "sat", "on", "mat", "."]
    assert graph.num_nodes == 6
    expected = {
        ("the", "cat"): 1.0,  # 0-1
        ("the", "sat"): 2.0,  # 0-2 and 2-4
        ("cat", "sat"): 1.0,  # 1-2
        ("cat", "on"): 1.0,  # 1-3
        ("sat", "on"): 1.0,  # 2-3
        ("on", "the"): 1.0,  # 3-4
        ("on", "mat"): 1.0,  # 3-5
        ("the", "mat"): 1.0,  # 4-5
        ("the", "."): 1.0,  # 4-6
        ("mat", "."): 1.0,  # 5-6
    }
    both_ways = {**expected, **{(b, a): w for (a, b), w in expected.items()}}
    assert edges_by_word(graph, vocab) == both_ways
    assert graph.edge_index.shape == (2, 20) and graph.edge_weight.dtype == torch.float32
    # sorted by (source, target), with node numbers as in x
    assert graph.edge_index.tolist() == [
        [0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 5, 5],
        [1, 2, 3, 4, 5, 0, 2, 3, 0, 1, 3, 0, 1, 2, 4, 0, 3, 5, 0, 4],
    ]  # fmt: skip


def test_hand_written_sentence_window_2_links_neighbours_only():
    vocab = WordVocab.build([SENTENCE])
    graph = build_doc_graph(SENTENCE, vocab, window=2)
    pairs = [("the", "cat"), ("cat", "sat"), ("sat", "on"), ("on", "the"), ("the", "mat"),
             ("mat", ".")]  # fmt: skip
    expected = {p: 1.0 for p in pairs} | {(b, a): 1.0 for a, b in pairs}
    assert edges_by_word(graph, vocab) == expected


def test_unknown_words_map_to_unk_and_share_one_node():
    vocab = WordVocab.build(["the cat sat", "the dog sat"])
    assert vocab.words[:2] == (PAD_WORD, UNK_WORD)
    assert vocab.id_of("zebra") == UNK_ID and vocab.id_of("cat") > UNK_ID
    assert vocab.encode("The zebra and the yak").tolist() == [
        vocab.id_of("the"), UNK_ID, UNK_ID, vocab.id_of("the"), UNK_ID,
    ]  # fmt: skip
    graph = build_doc_graph("the zebra and the yak", vocab)
    assert graph.x.tolist() == [vocab.id_of("the"), UNK_ID]
    # position pairs 0-1, 0-2, 1-3, 2-3, 3-4 join "the" and [UNK]; 1-2 and 2-4 are [UNK]-[UNK]
    assert edges_by_word(graph, vocab) == {("the", UNK_WORD): 5.0, (UNK_WORD, "the"): 5.0}


def test_empty_and_one_word_documents_are_valid_graphs():
    vocab = WordVocab.build(["a b c"])
    for text, x in [("", [PAD_ID]), ("   ", [PAD_ID]), ("b", [vocab.id_of("b")]),
                    ("b b b", [vocab.id_of("b")])]:  # fmt: skip
        graph = build_doc_graph(text, vocab)
        assert graph.x.tolist() == x and graph.num_nodes == 1
        assert graph.edge_index.shape == (2, 0) and graph.edge_weight.shape == (0,)
        graph.validate(raise_on_error=True)
    with pytest.raises(ValueError, match="window"):
        build_doc_graph("a b", vocab, window=1)


@settings(max_examples=150, deadline=None)
@given(ids=st.lists(st.integers(2, 8), max_size=30), window=st.integers(2, 6))
def test_graph_matches_reference_semantics(ids, window):
    graph = graph_from_ids(torch.tensor(ids, dtype=torch.long), window)
    x = graph.x.tolist()
    assert x == list(dict.fromkeys(ids)) or (not ids and x == [PAD_ID])  # first appearance
    src, dst = graph.edge_index.tolist()
    got = Counter(
        {(x[s], x[d]): w for s, d, w in zip(src, dst, graph.edge_weight.tolist(), strict=True)}
    )
    assert got == reference_edges(ids, window)
    assert all(s != d for s, d in zip(src, dst, strict=True))  # no self loops
    assert sorted(zip(src, dst, strict=True)) == list(zip(src, dst, strict=True))  # sorted


def test_vocab_min_count_order_and_persistence(tmp_path):
    vocab = WordVocab.build(["b a b c", "b a d"], min_count=2)
    assert vocab.words == (PAD_WORD, UNK_WORD, "b", "a")  # by count, then alphabetical
    assert vocab.id_of("c") == UNK_ID
    again = WordVocab.load(vocab.save(tmp_path / "vocab.json"))
    assert again == vocab and again.min_count == 2
    assert WordVocab.build(["b a b c"], max_size=1).words == (PAD_WORD, UNK_WORD, "b")
    with pytest.raises(ValueError, match="starts with"):
        WordVocab(("a", "b"))


def test_vocabulary_has_no_word_only_in_test(mirror):
    train, test = read_mr(mirror)
    vocab = WordVocab.build(train, min_count=1)
    train_words = {w for text in train for w in split_words(text)}
    test_only = {w for text in test for w in split_words(text)} - train_words
    assert len(test_only) > 1000
    assert not [w for w in test_only if w in vocab]
    assert set(vocab.words[2:]) == train_words
    graph = build_doc_graph(" ".join(sorted(test_only)[:5]), vocab)
    assert graph.x.tolist() == [UNK_ID]
