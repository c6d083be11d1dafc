"""The one text-classification contract, for tokfrag's models and the baselines alike.

A classifier maps raw documents to class probabilities, so metrics, the registry's pyfunc
wrapper and the report never need to know which family (or which tokenizer or graph
builder) sits inside. Saved form: a folder with ``config.json`` (``kind`` plus what is needed to
rebuild) and weights as safetensors (or a Hugging Face ``save_pretrained`` folder inside it).
Every saved model's class is listed by :func:`tokfrag.families.saved_kinds`, so
:func:`tokfrag.families.load_forecaster` rebuilds any of
them from its folder.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Classifier(Protocol):
    """Maps ``B`` documents to ``(B, C)`` class probabilities (rows sum to 1)."""

    kind: ClassVar[str]
    family: ClassVar[str]  # "token", "fragment" or "baseline"

    @property
    def label_names(self) -> tuple[str, ...]: ...

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray: ...

    def save(self, path: Path) -> Path: ...


@runtime_checkable
class TrainableClassifier(Classifier, Protocol):
    """A classifier the shared training loop can fit: ``net`` defines ``loss(batch)``, and
    ``examples`` turns documents (and labels) into :class:`tokfrag.train.Examples`."""

    net: Any

    def examples(self, texts: Sequence[str], labels: np.ndarray) -> Any: ...


class NetClassifier:
    """What the classifiers wrapping a torch ``net`` share: their class names, the net's
    device, batched probabilities and predictions.

    A subclass sets ``net`` and ``_label_names`` and says how documents become per-document
    inputs (:meth:`_inputs`) and how one batch of those becomes logits ``(b, C)``
    (:meth:`_logits`).
    """

    net: Any
    _label_names: tuple[str, ...]
    predict_batch_size: ClassVar[int] = 256

    @property
    def label_names(self) -> tuple[str, ...]:
        return self._label_names

    @property
    def device(self) -> Any:
        return next(self.net.parameters()).device

    def _inputs(self, texts: Sequence[str]) -> Sequence[Any]:
        raise NotImplementedError

    def _logits(self, inputs: Sequence[Any], device: Any) -> Any:
        raise NotImplementedError

    def predict_proba(self, texts: Sequence[str], batch_size: int | None = None) -> np.ndarray:
        """``B`` documents -> ``(B, C)`` float64 probabilities (eval mode, the net's device)."""
        import torch

        inputs = self._inputs(texts)
        if not inputs:
            return np.zeros((0, len(self.label_names)))
        size = batch_size or self.predict_batch_size
        device = self.device
        self.net.eval()
        parts = []
        with torch.no_grad():
            for start in range(0, len(inputs), size):
                logits = self._logits(inputs[start : start + size], device)  # (b, C)
                parts.append(torch.softmax(logits.float(), dim=-1).cpu())
        probs: np.ndarray = torch.cat(parts).double().numpy()  # (B, C)
        return probs

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """``(B,)`` int64 most probable class positions."""
        positions: np.ndarray = self.predict_proba(texts).argmax(axis=1)
        return positions


def check_texts(texts: Iterable[str]) -> list[str]:
    """Validate a batch of documents: a sequence of strings (not one bare string)."""
    if isinstance(texts, str):
        raise TypeError("expected a sequence of documents, got one string; wrap it in a list")
    texts = list(texts)
    bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
    if bad:
        raise TypeError(f"documents must be strings; positions {bad[:5]} are not")
    return texts
