"""Text tokens: a WordPiece tokenizer trained on the training split, in Hugging Face format.

:class:`TextTokenizer` follows the shared :class:`~tokfrag.families.token.Tokenizer` contract:
documents ``list[str]`` -> :class:`TextEncoding` -> normalised documents.

The pipeline is BERT's (Devlin et al., 2019, https://arxiv.org/abs/1810.04805), trained
from scratch on the training documents only, so no word that appears only in the test split
can enter the vocabulary, and run by the ``tokenizers`` library:

- normaliser: drop control characters, lowercase, strip accents (``BertNormalizer``);
- pre-tokeniser: split on whitespace and punctuation (``BertPreTokenizer``);
- model: WordPiece with ``##`` continuation pieces and ``[UNK]`` for anything unseen;
- post-processor: ``[CLS] text [SEP]``.

The vocabulary is learnt here (:func:`_train_wordpiece`, the ``WordPieceTrainer``'s BPE
algorithm with every tie broken by the pieces' strings) rather than by ``tokenizers``' own
trainer, whose result changes from process to process (huggingface/tokenizers #1794): the
same texts and settings give the same ``tokenizer.json`` in every process, whatever
``PYTHONHASHSEED``.

Special tokens have fixed ids: ``[PAD] = 0``, ``[UNK] = 1``, ``[CLS] = 2``, ``[SEP] = 3``,
``[MASK] = 4``. The saved form is a ``save_pretrained`` folder (``tokenizer.json`` +
``tokenizer_config.json``) that ``transformers.AutoTokenizer.from_pretrained`` reloads to
the same ids. :meth:`TextTokenizer.from_pretrained` puts a pretrained tokenizer (the local
all-MiniLM-L6-v2 one) behind the same interface.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from tokfrag.models.classifier import check_texts

PAD_TOKEN, UNK_TOKEN, CLS_TOKEN, SEP_TOKEN, MASK_TOKEN = (
    "[PAD]",
    "[UNK]",
    "[CLS]",
    "[SEP]",
    "[MASK]",
)
SPECIAL_TOKENS = (PAD_TOKEN, UNK_TOKEN, CLS_TOKEN, SEP_TOKEN, MASK_TOKEN)
PAD_ID, UNK_ID, CLS_ID, SEP_ID, MASK_ID = range(len(SPECIAL_TOKENS))
PREFIX = "##"  # marks a piece that continues a word


@dataclass(frozen=True)
class TextEncoding:
    """Output of :meth:`TextTokenizer.encode`, right-padded to the longest document.

    Attributes:
        input_ids: ``(B, L)`` int64 token ids, ``[CLS] ... [SEP]`` then ``[PAD]``;
            ``L <= max_length``.
        attention_mask: ``(B, L)`` int64, 1 on real tokens, 0 on padding.
    """

    input_ids: np.ndarray
    attention_mask: np.ndarray

    @property
    def lengths(self) -> np.ndarray:
        """``(B,)`` int64 number of real tokens per document (specials included)."""
        lengths: np.ndarray = self.attention_mask.sum(axis=1)
        return lengths


class TextTokenizer:
    """Subword tokenizer for documents: ``fit`` on training texts, ``encode``, ``decode``,
    ``save``, ``load``.

    Args:
        vocab_size: the most tokens the trained vocabulary may hold (specials included).
        max_length: longest encoding, ``[CLS]`` and ``[SEP]`` included; longer documents
            are truncated at the end.
        min_frequency: a merge enters the vocabulary only if seen this often in training.

    Example::

        tok = TextTokenizer(vocab_size=8000, max_length=128).fit(train_texts)
        enc = tok.encode(["a gorgeous , witty film ."])  # enc.input_ids (1, L) int64
        tok.decode(enc.input_ids)  # ["a gorgeous , witty film ."]
    """

    def __init__(self, vocab_size: int = 8000, max_length: int = 128, min_frequency: int = 2):
        if vocab_size <= len(SPECIAL_TOKENS):
            raise ValueError(f"vocab_size must exceed {len(SPECIAL_TOKENS)}, got {vocab_size}")
        if max_length < 3:
            raise ValueError(f"max_length must be at least 3 ([CLS] x [SEP]), got {max_length}")
        if min_frequency < 1:
            raise ValueError(f"min_frequency must be at least 1, got {min_frequency}")
        self.target_vocab_size = vocab_size
        self.max_length = max_length
        self.min_frequency = min_frequency
        self._hf: Any = None  # transformers' fast tokenizer, once fitted or loaded

    # -- construction --------------------------------------------------------------------

    def fit(self, texts: Iterable[str]) -> TextTokenizer:
        """Train the WordPiece vocabulary on ``texts`` (the training split only) and return
        ``self``. The words are counted after the tokenizer's own normaliser and
        pre-tokeniser, as ``Tokenizer.train_from_iterator`` counts them; the same ``texts``
        give the same vocabulary and ids in every process."""
        from tokenizers import (
            Tokenizer,
            decoders,
            models,
            normalizers,
            pre_tokenizers,
            processors,
        )

        texts = check_texts(texts)
        normalizer = normalizers.BertNormalizer(
            clean_text=True, handle_chinese_chars=True, strip_accents=True, lowercase=True
        )
        pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        word_counts: Counter[str] = Counter()
        for text in texts:
            word_counts.update(
                w for w, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(text))
            )
        vocab = _train_wordpiece(word_counts, self.target_vocab_size, self.min_frequency)
        tokenizer = Tokenizer(
            models.WordPiece(
                vocab=vocab,
                unk_token=UNK_TOKEN,
                continuing_subword_prefix=PREFIX,
                max_input_chars_per_word=100,
            )
        )
        tokenizer.normalizer = normalizer
        tokenizer.pre_tokenizer = pre_tokenizer
        # No clean-up of spaces before punctuation: decode must give back the normalised words.
        tokenizer.decoder = decoders.WordPiece(prefix=PREFIX, cleanup=False)
        # As the trainer's special_tokens do: read "[SEP]" written in a text as the special.
        tokenizer.add_special_tokens(list(SPECIAL_TOKENS))
        tokenizer.post_processor = processors.TemplateProcessing(
            single=f"{CLS_TOKEN} $A {SEP_TOKEN}",
            pair=f"{CLS_TOKEN} $A {SEP_TOKEN} $B:1 {SEP_TOKEN}:1",
            special_tokens=[(CLS_TOKEN, CLS_ID), (SEP_TOKEN, SEP_ID)],
        )
        self._hf = _wrap(tokenizer, self.max_length)
        return self

    @classmethod
    def from_pretrained(
        cls, folder: str | Path | None = None, max_length: int = 128
    ) -> TextTokenizer:
        """A pretrained tokenizer behind this interface (nothing is fitted or downloaded).

        Args:
            folder: a Hugging Face tokenizer folder; the local all-MiniLM-L6-v2 when omitted.
            max_length: longest encoding, capped by the tokenizer's own limit.
        """
        from transformers import AutoTokenizer

        if folder is None:
            from tokfrag.models.pretrained import minilm_folder

            folder = minilm_folder()
        hf = AutoTokenizer.from_pretrained(str(folder))
        return cls._from_hf(hf, min(max_length, int(hf.model_max_length)))

    @classmethod
    def _from_hf(cls, hf: Any, max_length: int) -> TextTokenizer:
        if not getattr(hf, "is_fast", False) or hf.pad_token_id is None:
            raise ValueError(f"{type(hf).__name__}: need a fast tokenizer with a [PAD] token")
        out = cls(vocab_size=len(hf), max_length=max_length)
        hf.model_max_length = max_length
        hf.padding_side = hf.truncation_side = "right"
        out._hf = hf
        return out

    def covering_length(self, texts: Sequence[str], share: float = 0.99) -> int:
        """The shortest ``max_length`` (specials included, at most the current one) that
        reads ``share`` of ``texts`` whole: pass the training documents only."""
        lengths = self.encode(texts).lengths
        if len(lengths) == 0:
            return self.max_length
        return int(min(self.max_length, max(3, np.ceil(np.quantile(lengths, share)))))

    def set_max_length(self, max_length: int) -> None:
        """Encode at most ``max_length`` tokens from now on (longer documents are cut)."""
        if max_length < 3:
            raise ValueError(f"max_length must be at least 3 ([CLS] x [SEP]), got {max_length}")
        self.max_length = int(max_length)
        if self._hf is not None:
            self._hf.model_max_length = self.max_length

    # -- properties ----------------------------------------------------------------------

    @property
    def is_fitted(self) -> bool:
        return self._hf is not None

    @property
    def hf(self) -> Any:
        """The underlying ``transformers`` fast tokenizer."""
        if self._hf is None:
            raise RuntimeError("TextTokenizer is not fitted: call fit(train_texts) or load(dir)")
        return self._hf

    @property
    def vocab_size(self) -> int:
        """Number of token ids (the embedding table's rows); the target before ``fit``."""
        return len(self._hf) if self._hf is not None else self.target_vocab_size

    @property
    def pad_id(self) -> int:
        return int(self.hf.pad_token_id)

    @property
    def unk_id(self) -> int:
        return int(self.hf.unk_token_id)

    def vocab(self) -> dict[str, int]:
        """Token -> id, specials included."""
        return dict(self.hf.get_vocab())

    # -- the interface -------------------------------------------------------------------

    def normalize(self, text: str) -> str:
        """The normalised words of ``text`` joined by single spaces: what :meth:`decode`
        gives back after :meth:`encode` when no piece is ``[UNK]`` and nothing is cut."""
        backend = self.hf.backend_tokenizer
        if backend.normalizer is not None:
            text = backend.normalizer.normalize_str(text)
        if backend.pre_tokenizer is None:
            return " ".join(text.split())
        return " ".join(word for word, _ in backend.pre_tokenizer.pre_tokenize_str(text))

    def encode(self, texts: Sequence[str], max_length: int | None = None) -> TextEncoding:
        """``B`` documents -> ids and mask, right-padded to the longest (at most
        ``max_length``, default the tokenizer's). As in BERT, a special token's text written
        inside a document (``"[SEP]"``) is read as that special token.

        Returns:
            :class:`TextEncoding` with ``input_ids`` and ``attention_mask`` ``(B, L)`` int64.
        """
        texts = check_texts(texts)
        if not texts:
            empty = np.zeros((0, 0), dtype=np.int64)
            return TextEncoding(empty, empty.copy())
        out = self.hf(
            texts,
            padding="longest",
            truncation=True,
            max_length=min(max_length or self.max_length, self.max_length),
            return_attention_mask=True,
            return_token_type_ids=False,
            return_tensors="np",
        )
        return TextEncoding(
            input_ids=out["input_ids"].astype(np.int64),
            attention_mask=out["attention_mask"].astype(np.int64),
        )

    def decode(self, encoded: TextEncoding | np.ndarray | Sequence[Sequence[int]]) -> list[str]:
        """A :class:`TextEncoding`, or ``(B, L)`` ids, -> ``B`` normalised texts (padding and
        special tokens skipped)."""
        ids = encoded.input_ids if isinstance(encoded, TextEncoding) else encoded
        ids = np.asarray(ids, dtype=np.int64)
        if ids.ndim != 2:
            raise ValueError(f"expected input_ids of shape (B, L), got {ids.shape}")
        texts: list[str] = self.hf.batch_decode(
            ids.tolist(), skip_special_tokens=True, clean_up_tokenization_spaces=False
        )
        return texts

    def save(self, path: str | Path) -> Path:
        """Write ``tokenizer.json`` and ``tokenizer_config.json`` (Hugging Face format) into
        the folder ``path``; ``AutoTokenizer.from_pretrained(path)`` gives the same ids."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.hf.save_pretrained(str(path))
        return path

    @classmethod
    def load(cls, path: str | Path) -> TextTokenizer:
        """Reload a folder written by :meth:`save` (or any fast tokenizer folder)."""
        from transformers import AutoTokenizer

        path = Path(path)
        if not (path / "tokenizer.json").is_file():
            raise FileNotFoundError(f"{path}: no tokenizer.json here; save a TextTokenizer first")
        hf = AutoTokenizer.from_pretrained(str(path))
        return cls._from_hf(hf, int(hf.model_max_length))

    def __repr__(self) -> str:
        state = f"vocab_size={self.vocab_size}" if self.is_fitted else "unfitted"
        return f"TextTokenizer({state}, max_length={self.max_length})"


def _wrap(tokenizer: Any, max_length: int) -> Any:
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        unk_token=UNK_TOKEN,
        pad_token=PAD_TOKEN,
        cls_token=CLS_TOKEN,
        sep_token=SEP_TOKEN,
        mask_token=MASK_TOKEN,
        model_max_length=max_length,
        padding_side="right",
        truncation_side="right",
    )


def _train_wordpiece(
    word_counts: Counter[str], vocab_size: int, min_frequency: int
) -> dict[str, int]:
    """Token -> id of a WordPiece vocabulary learnt from ``word_counts`` (normalised,
    pre-tokenised words -> how often they occur), the same in every process.

    This is the algorithm of ``tokenizers``' ``WordPieceTrainer`` (BPE merges with ``##``
    continuation pieces), written out because that trainer is not reproducible: it gives the
    ``##c`` pieces ids in its hash map's iteration order, which is random per process, and
    breaks ties between equally frequent pairs by those ids, so the merges themselves differ
    (huggingface/tokenizers #1794). Here every order is fixed:

    - ids ``0..4`` are the specials; then every character of the training words, in code
      point order; then every ``##c`` continuation character, in code point order;
    - each step merges the most frequent adjacent pair (occurrences weighted by word count),
      ties broken by the pair's two strings in code point order, into ``a + b`` (``b``'s
      ``##`` dropped); a new string gets the next id, one already in the vocabulary keeps its
      id (the words are still merged, as the trainer does);
    - it stops once the vocabulary holds ``vocab_size`` tokens, or the best pair is seen fewer
      than ``min_frequency`` times, or no pair is left.
    """
    vocab: dict[str, int] = {token: i for i, token in enumerate(SPECIAL_TOKENS)}
    words = sorted(word_counts)
    counts = [word_counts[w] for w in words]
    chars = sorted({c for w in words for c in w})
    inner = sorted({c for w in words for c in w[1:]})
    for token in chars + [PREFIX + c for c in inner]:
        vocab.setdefault(token, len(vocab))
    # Each word as its pieces: first character bare, the rest as continuation pieces.
    pieces = [[w[0]] + [PREFIX + c for c in w[1:]] for w in words]

    pair_counts: dict[tuple[str, str], int] = {}
    where: dict[tuple[str, str], set[int]] = {}
    for i, (word, n) in enumerate(zip(pieces, counts, strict=True)):
        for pair in pairwise(word):
            pair_counts[pair] = pair_counts.get(pair, 0) + n
            where.setdefault(pair, set()).add(i)
    # Max-heap on count, then the smallest (a, b); stale entries are skipped when popped.
    heap = [(-n, a, b) for (a, b), n in pair_counts.items()]
    heapq.heapify(heap)

    while len(vocab) < vocab_size and heap:
        neg, a, b = heapq.heappop(heap)
        if pair_counts.get((a, b), 0) != -neg:
            continue  # a count changed since this entry was pushed; a fresh one is queued
        if -neg < min_frequency:
            break
        new = a + b.removeprefix(PREFIX)
        vocab.setdefault(new, len(vocab))
        changed: set[tuple[str, str]] = set()
        for i in sorted(where.pop((a, b))):
            word, n = pieces[i], counts[i]
            merged: list[str] = []
            j = 0
            while j < len(word):
                if j + 1 < len(word) and word[j] == a and word[j + 1] == b:
                    merged.append(new)
                    j += 2
                else:
                    merged.append(word[j])
                    j += 1
            if len(merged) == len(word):
                continue  # this word lost the pair to an earlier merge
            for pair in pairwise(word):
                pair_counts[pair] -= n
                changed.add(pair)
            for pair in pairwise(merged):
                pair_counts[pair] = pair_counts.get(pair, 0) + n
                where.setdefault(pair, set()).add(i)
                changed.add(pair)
            pieces[i] = merged
        pair_counts.pop((a, b), None)
        changed.discard((a, b))
        for pair in sorted(changed):
            n = pair_counts[pair]
            if n > 0:
                heapq.heappush(heap, (-n, *pair))
            else:
                del pair_counts[pair]
                where.pop(pair, None)
    return vocab
