"""The in-memory form of a text classification dataset."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TextData:
    """Labelled documents with a fixed train/test split.

    Attributes:
        name: dataset name.
        texts: ``D`` documents (already cleaned of anything that leaks the label).
        labels: ``(D,)`` int64 class positions into ``label_names``.
        label_names: the ``C`` class names, in a fixed order.
        is_test: ``(D,)`` bool, True for test documents.
        sha256: checksum of the upstream file(s) this was read from.
    """

    name: str
    texts: tuple[str, ...]
    labels: np.ndarray
    label_names: tuple[str, ...]
    is_test: np.ndarray
    sha256: str

    @property
    def num_classes(self) -> int:
        return len(self.label_names)

    def part(self, test: bool) -> tuple[list[str], np.ndarray]:
        """Texts and labels of the train (``test=False``) or test split, in file order."""
        idx = np.flatnonzero(self.is_test == test)
        return [self.texts[i] for i in idx], self.labels[idx]
