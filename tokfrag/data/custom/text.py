"""Your labelled documents -> the ``documents`` frame the built-in text loaders return.

Without a split column, a stratified (by label) ``test_fraction`` of the rows is the test
split; test documents identical (up to case, Unicode form and whitespace) to a training
document are dropped, as for the built-in datasets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tokfrag.data.custom.formats import read_table, require_columns, row_at
from tokfrag.data.specs import DataError


def load_text(
    path: Path,
    *,
    file_format: str,
    text: str,
    label: str,
    split: str | None = None,
    test_fraction: float = 0.2,
    seed: int = 0,
    keep_test_duplicates: bool = False,
) -> pd.DataFrame:
    """Your labelled documents -> the ``documents`` frame the built-in text loaders return."""
    from tokfrag.data.text_loaders import _finish, _frame, near_duplicate_key, stratified_split

    path = Path(path)
    columns = (text, label) + ((split,) if split else ())
    frame = read_table(path, file_format, columns, documents=True)
    require_columns(path, frame, {"text": text, "label": label, "split": split})
    if frame.empty:
        raise DataError(f"{path.name}: no rows; a text dataset needs labelled documents")
    no_label = frame[label].isna()
    if no_label.any():
        rows = np.flatnonzero(no_label.to_numpy())
        raise DataError(
            f"{path.name}: {row_at(path, int(rows[0]), file_format)} has no label in column "
            f"{label!r} (data.source.label), and {len(rows) - 1} more rows; label them or "
            "remove them"
        )
    _scalars(path, frame, text, "data.source.text", file_format)
    _scalars(path, frame, label, "data.source.label", file_format)
    texts = [_visible(t) for t in frame[text]]
    labels = [str(v).strip() for v in frame[label]]
    _check_labels(path, labels, label, file_format)
    positions = np.arange(len(frame))
    if split is not None:
        # "Train" or " test " are what a person meant; anything else is left for the gate.
        splits = [("" if pd.isna(s) else str(s)).strip().lower() for s in frame[split]]
    else:
        splits = stratified_split(
            labels, test_fraction, seed, f"{path.name}: {len(labels)} rows",
            "add a split column (data.source.split) or change data.source.test_fraction",
        )  # fmt: skip
    # Your own documents: copies that differ only in case, NFC/NFD or whitespace count as
    # the same document (a test copy of a training document is dropped, as an exact one is).
    documents = _frame(positions.tolist(), texts, labels, splits)
    return _finish(documents, keep_test_duplicates, key=near_duplicate_key)


ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def _visible(cell: Any) -> str:
    """A text cell, stripped; one made only of whitespace and zero-width characters is
    empty (the gate reports empty documents by row)."""
    if cell is None or (isinstance(cell, float) and np.isnan(cell)):
        return ""
    stripped = str(cell).strip()
    return stripped if stripped.translate(ZERO_WIDTH).strip() else ""


def _scalars(path: Path, frame: pd.DataFrame, column: str, key: str, file_format: str) -> None:
    """A JSON list or object in a text or label cell is not text: refuse it by row."""
    nested = frame[column].map(lambda v: isinstance(v, (list, dict, tuple)))
    if nested.any():
        row = int(np.flatnonzero(nested.to_numpy())[0])
        kind = type(frame[column].iloc[row]).__name__
        raise DataError(
            f"{path.name}: {row_at(path, row, file_format)}, column {column!r} ({key}) holds a "
            f"{kind}, not text ({int(nested.sum())} such cells); write each cell as one string "
            "(join the parts yourself)"
        )


def _check_labels(path: Path, labels: list[str], column: str, file_format: str) -> None:
    """Blank labels, and labels that differ only in case, would become classes of their own."""
    blank = [i for i, v in enumerate(labels) if not v.translate(ZERO_WIDTH).strip()]
    if blank:
        raise DataError(
            f"{path.name}: {row_at(path, blank[0], file_format)}, column {column!r} "
            f"(data.source.label) is blank ({len(blank)} rows); label them or remove them"
        )
    spellings: dict[str, dict[str, int]] = {}
    for i, v in enumerate(labels):
        spellings.setdefault(v.casefold(), {}).setdefault(v, i)
    for forms in spellings.values():
        if len(forms) > 1:
            shown = ", ".join(
                f"{name!r} ({row_at(path, row, file_format)})" for name, row in forms.items()
            )
            raise DataError(
                f"{path.name}: column {column!r} (data.source.label) spells one label "
                f"{len(forms)} ways that differ only in case: {shown}; they would become "
                "separate classes: use one spelling"
            )
