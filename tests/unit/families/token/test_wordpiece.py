"""TextTokenizer: round trips, fixed specials, padding, persistence, and no test-split leakage."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tokfrag.families.token.tokenizer import Tokenizer
from tokfrag.families.token.wordpiece import (
    CLS_ID,
    PAD_ID,
    SEP_ID,
    SPECIAL_TOKENS,
    UNK_ID,
    TextEncoding,
    TextTokenizer,
    _train_wordpiece,
)
from tokfrag.models.pretrained import pretrained_available

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def read_mr(mirror: Path) -> tuple[list[str], list[str]]:
    """MR's TextGCN split straight from the mirror: (train texts, test texts).

    The file is Windows-1252 bytes with CRLF line ends; split on ``\\n`` only (latin-1 maps
    every byte, and ``str.splitlines`` would also cut at byte 0x85)."""
    lines = (mirror / "mr" / "mr.txt").read_bytes().decode("latin-1").split("\n")
    meta = (mirror / "mr" / "mr.meta.txt").read_text().split("\n")
    parts = [row.split("\t")[1] for row in meta if row.strip()]
    texts = [line.rstrip("\r") for line in lines[: len(parts)]]
    train = [t for t, p in zip(texts, parts, strict=True) if p == "train"]
    test = [t for t, p in zip(texts, parts, strict=True) if p == "test"]
    return train, test


@pytest.fixture(scope="module")
def mr(mirror) -> tuple[list[str], list[str]]:
    train, test = read_mr(mirror)
    assert (len(train), len(test)) == (7108, 3554)
    return train, test


@pytest.fixture(scope="module")
def tokenizer(mr) -> TextTokenizer:
    return TextTokenizer(vocab_size=3000, max_length=512, min_frequency=2).fit(mr[0])


def _words(tokenizer: TextTokenizer, texts: list[str]) -> set[str]:
    return set(tokenizer.normalize("\n".join(texts)).split())


@pytest.fixture(scope="module")
def train_words(mr, tokenizer) -> list[str]:
    """Distinct normalised words of the training split, in a fixed order."""
    return sorted(_words(tokenizer, mr[0]))


@pytest.fixture(scope="module")
def saved(tokenizer, tmp_path_factory) -> Path:
    return tokenizer.save(tmp_path_factory.mktemp("text_tokenizer"))


def test_specials_have_fixed_ids(tokenizer):
    assert isinstance(tokenizer, Tokenizer)  # the shared fit/encode/decode/save/load contract
    vocab = tokenizer.vocab()
    assert [vocab[s] for s in SPECIAL_TOKENS] == list(range(len(SPECIAL_TOKENS)))
    assert tokenizer.pad_id == PAD_ID and tokenizer.unk_id == UNK_ID
    assert tokenizer.vocab_size == len(vocab) == 3000


def test_encode_shapes_dtypes_and_padding(tokenizer, mr):
    texts = mr[1][:5] + [""]
    enc = tokenizer.encode(texts)
    assert isinstance(enc, TextEncoding)
    assert enc.input_ids.dtype == enc.attention_mask.dtype == np.int64
    assert enc.input_ids.shape == enc.attention_mask.shape == (6, enc.lengths.max())
    assert (enc.input_ids[:, 0] == CLS_ID).all()
    rows = np.arange(6)
    assert (enc.input_ids[rows, enc.lengths - 1] == SEP_ID).all()
    assert ((enc.input_ids == PAD_ID) == (enc.attention_mask == 0)).all()
    assert enc.lengths[-1] == 2  # the empty document is [CLS] [SEP]
    assert tokenizer.encode([]).input_ids.shape == (0, 0)


def test_truncation_keeps_sep_and_max_length(mr):
    short = TextTokenizer(vocab_size=500, max_length=8).fit(mr[0][:500])
    enc = short.encode(mr[1][:20])
    assert enc.input_ids.shape == (20, 8)
    assert (enc.input_ids[enc.lengths == 8, -1] == SEP_ID).all()
    assert short.encode(mr[1][:20], max_length=5).input_ids.shape == (20, 5)


@SETTINGS
@given(data=st.data())
def test_round_trip_of_training_words(tokenizer, train_words, data):
    words = data.draw(st.lists(st.sampled_from(train_words), max_size=25))
    separators = data.draw(
        st.lists(st.sampled_from([" ", "  ", "\t", "\n", " \r\n "]), min_size=len(words))
    )
    shout = data.draw(st.booleans())
    text = "".join(
        (w.upper() if shout and w.isascii() else w) + sep
        for w, sep in zip(words, separators, strict=False)
    )
    enc = tokenizer.encode([text])
    assert UNK_ID not in enc.input_ids  # every training word is spelled by known pieces
    assert tokenizer.decode(enc.input_ids) == [" ".join(words)]
    assert tokenizer.normalize(text) == " ".join(words)


@SETTINGS
@given(text=st.text(alphabet=st.characters(codec="latin-1"), max_size=80))
def test_round_trip_is_the_normalised_text(tokenizer, text):
    assume(not any(special in text for special in SPECIAL_TOKENS))  # read as specials, as BERT
    enc = tokenizer.encode([text])
    assume(UNK_ID not in enc.input_ids)
    assert tokenizer.decode(enc) == tokenizer.decode(enc.input_ids) == [tokenizer.normalize(text)]


@pytest.fixture(scope="module")
def reloaded(saved) -> tuple[TextTokenizer, object]:
    """The saved tokenizer, reloaded by TextTokenizer.load and by AutoTokenizer."""
    from transformers import AutoTokenizer

    return TextTokenizer.load(saved), AutoTokenizer.from_pretrained(str(saved))


@SETTINGS
@given(texts=st.lists(st.text(max_size=60), min_size=1, max_size=4))
def test_ids_survive_save_load_and_auto_tokenizer(tokenizer, reloaded, texts):
    reloaded, auto = reloaded
    expected = tokenizer.encode(texts)
    got = reloaded.encode(texts)
    np.testing.assert_array_equal(got.input_ids, expected.input_ids)
    np.testing.assert_array_equal(got.attention_mask, expected.attention_mask)
    auto_ids = auto(texts, padding="longest", truncation=True, return_tensors="np")["input_ids"]
    np.testing.assert_array_equal(auto_ids, expected.input_ids)


def test_saved_form_is_hugging_face(tokenizer, saved, mr):
    names = {p.name for p in saved.iterdir()}
    assert {"tokenizer.json", "tokenizer_config.json"} <= names
    reloaded = TextTokenizer.load(saved)
    assert reloaded.max_length == tokenizer.max_length
    assert reloaded.vocab() == tokenizer.vocab()
    np.testing.assert_array_equal(
        reloaded.encode(mr[1][:300]).input_ids, tokenizer.encode(mr[1][:300]).input_ids
    )


def test_vocabulary_has_no_word_only_in_test(mr, tokenizer, train_words):
    words_train = set(train_words)
    words_test = _words(tokenizer, mr[1])
    test_only = words_test - words_train
    assert len(test_only) > 1000  # the check below has something to bite on
    prefixes = {w[:k] for w in words_train for k in range(1, len(w) + 1)}
    alphabet = {c for w in words_train for c in w}  # every training character is a piece
    inner = "\n".join(w[1:] for w in words_train)  # what may follow a word's first character
    vocab = tokenizer.vocab()
    for piece in vocab:
        if piece in SPECIAL_TOKENS:
            continue
        if piece.startswith("##"):
            assert piece[2:] in inner, piece  # a continuation piece seen inside a training word
        else:
            # every word-initial piece starts a training word or is a training character
            assert piece in prefixes or piece in alphabet, piece
    # so a test-only word can be a vocabulary entry only as the start of a training word
    leaked = {w for w in test_only if w in vocab and w not in prefixes | alphabet}
    assert not leaked


def test_unfitted_and_bad_input_raise(tokenizer):
    with pytest.raises(RuntimeError, match="not fitted"):
        TextTokenizer().encode(["a"])
    with pytest.raises(TypeError, match="one string"):
        tokenizer.encode("a bare string")
    with pytest.raises(ValueError, match="vocab_size"):
        TextTokenizer(vocab_size=3)
    with pytest.raises(FileNotFoundError, match=r"tokenizer\.json"):
        TextTokenizer.load(Path("/nonexistent"))


@pytest.mark.skipif(not pretrained_available(), reason="extra 'pretrained' not installed")
def test_minilm_tokenizer_behind_the_interface(tmp_path, mr):
    from transformers import AutoTokenizer

    from tokfrag.models.pretrained import minilm_folder

    tok = TextTokenizer.from_pretrained(max_length=32)
    assert tok.vocab_size == 30522 and tok.pad_id == 0 and tok.max_length == 32
    enc = tok.encode(mr[1][:50])
    assert enc.input_ids.shape[1] <= 32
    reference = AutoTokenizer.from_pretrained(str(minilm_folder()))(
        mr[1][:50], padding="longest", truncation=True, max_length=32, return_tensors="np"
    )
    np.testing.assert_array_equal(enc.input_ids, reference["input_ids"])
    reloaded = TextTokenizer.load(tok.save(tmp_path / "minilm"))
    assert reloaded.max_length == 32
    np.testing.assert_array_equal(reloaded.encode(mr[1][:50]).input_ids, enc.input_ids)
    assert tok.decode(enc.input_ids[:1])[0].startswith(tok.normalize(mr[1][0])[:20])


# Fits TREC's first 2,000 training questions in a fresh process and saves the tokenizer.
FIT_TREC = """
import sys
from pathlib import Path
from tokfrag.data.text_loaders import load_textgcn
from tokfrag.families.token.wordpiece import TextTokenizer

mirror, out = Path(sys.argv[1]), sys.argv[2]
docs = load_textgcn(
    mirror / "trec" / "TREC.txt", mirror / "trec" / "TREC.meta.txt", strip_first_word=True
)
train = docs.loc[docs["split"] == "train", "text"].tolist()[:2000]
TextTokenizer(vocab_size=1500, max_length=64, min_frequency=2).fit(train).save(out)
"""


def test_fit_is_the_same_in_every_process(mirror, tmp_path):
    """tokenizers' own WordPieceTrainer gives another vocabulary in each process
    (huggingface/tokenizers #1794); the fit must not, whatever PYTHONHASHSEED."""
    saved = []
    for hash_seed in ("0", "1", "4242"):
        out = tmp_path / f"seed_{hash_seed}"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run(
            [sys.executable, "-c", FIT_TREC, str(mirror), str(out)],
            env=env,
            check=True,
            timeout=120,
        )
        saved.append(out)
    first = (saved[0] / "tokenizer.json").read_bytes()
    for other in saved[1:]:
        assert (other / "tokenizer.json").read_bytes() == first, other.name
    tok = TextTokenizer.load(saved[0])
    assert tok.vocab_size == 1500  # the budget is reached
    assert [tok.vocab()[s] for s in SPECIAL_TOKENS] == list(range(len(SPECIAL_TOKENS)))
    questions = ["What is the capital of Zimbabwe ?", "Who wrote Hamlet ?"]
    encodings = [TextTokenizer.load(p).encode(questions).input_ids for p in saved]
    for ids in encodings[1:]:
        np.testing.assert_array_equal(ids, encodings[0])


def test_training_order_and_ties_are_fixed():
    """Words in any order give one vocabulary; equal counts go to the smaller pair."""
    counts = {"ab": 3, "cd": 3, "ba": 1, "abcd": 1}
    forward = _train_wordpiece(Counter(counts), vocab_size=100, min_frequency=1)
    backward = _train_wordpiece(Counter(dict(reversed(counts.items()))), 100, 1)
    assert list(forward.items()) == list(backward.items())
    assert list(forward)[: len(SPECIAL_TOKENS)] == list(SPECIAL_TOKENS)
    # specials, then characters, then continuation characters, each in code point order
    assert list(forward)[len(SPECIAL_TOKENS) :][:8] == [
        "a",
        "b",
        "c",
        "d",
        "##a",
        "##b",
        "##c",
        "##d",
    ]
    # ("a", "##b") and ("c", "##d") are both seen 4 times: "ab" is merged first
    assert list(forward)[len(SPECIAL_TOKENS) + 8 :][:2] == ["ab", "cd"]
    # min_frequency stops the merges; vocab_size caps the vocabulary
    assert len(_train_wordpiece(Counter(counts), 100, 5)) == len(SPECIAL_TOKENS) + 8
    assert len(_train_wordpiece(Counter(counts), 14, 1)) == 14
