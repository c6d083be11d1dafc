"""The one text-classification contract, for tokfrag's models and the baselines alike.

A classifier maps raw documents to class probabilities, so metrics, the registry's pyfunc
wrapper and the report never need to know which family (or which tokenizer or graph
builder) sits inside. Saved form: a folder with ``config.json`` (``kind`` plus what is needed to
rebuild) and weights as safetensors (or a Hugging Face ``save_pretrained`` folder inside it).
Trained models are registered with :func:`tokfrag.models.forecaster.register_kind`, so
:func:`tokfrag.models.forecaster.load_forecaster` (alias :func:`load_model`) rebuilds any of
them from its folder.
"""

from __future__ import annotations

from collections.abc import Sequence
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


def check_texts(texts: Sequence[str]) -> list[str]:
    """Validate a batch of documents: a sequence of strings (not one bare string)."""
    if isinstance(texts, str):
        raise TypeError("expected a sequence of documents, got one string; wrap it in a list")
    texts = list(texts)
    bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
    if bad:
        raise TypeError(f"documents must be strings; positions {bad[:5]} are not")
    return texts
