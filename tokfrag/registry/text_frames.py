"""The text table contract's conversions: a ``text`` column <-> documents, and class
probabilities -> ``label`` plus one ``proba_<name>`` column per class.

A request to a served classifier is a table with a ``text`` column, one non-empty document
per row (see :mod:`tokfrag.registry.contracts`): :func:`frame_to_texts` checks it and gives
the documents back in row order, naming the first bad row and the fix;
:func:`texts_to_frame` builds a request from documents; :func:`probabilities_to_frame`
builds the output table. pandas and numpy only, no MLflow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from tokfrag.registry.contracts import ClassifyContract

TEXT_COL = "text"
LABEL_COL = "label"
PROBA_PREFIX = "proba_"
_TEXT_FIX = f"send one non-empty string per row in column {TEXT_COL!r}"


def texts_to_frame(texts: Any) -> pd.DataFrame:
    """Turn documents (a list of strings) into the text input table (one ``text`` column)."""
    if isinstance(texts, str):
        raise ValueError("expected a list of documents, got one string; wrap it in a list")
    try:
        texts = list(texts)
    except TypeError as err:
        raise ValueError(f"expected a list of documents, got {type(texts).__name__}") from err
    frame = pd.DataFrame({TEXT_COL: pd.Series(texts, dtype=object)})
    frame_to_texts(frame)  # the same checks a served request gets
    return frame


def frame_to_texts(frame: pd.DataFrame) -> list[str]:
    """Validate the text input table and return its documents in row order.

    Raises ``ValueError`` naming the first bad row (0-based position), what is wrong with it
    and how to fix the request.
    """
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(
            f"expected a pandas DataFrame, got {type(frame).__name__}; "
            f"send pd.DataFrame({{{TEXT_COL!r}: [...]}})"
        )
    if TEXT_COL not in frame.columns:
        raise ValueError(
            f"input is missing column {TEXT_COL!r} (got {[str(c) for c in frame.columns]}); "
            f"{_TEXT_FIX}"
        )
    if frame.empty:
        raise ValueError(f"input has no rows; {_TEXT_FIX}")
    texts = frame[TEXT_COL].tolist()
    for row, text in enumerate(texts):
        if not isinstance(text, str):
            what = "null" if _is_null(text) else f"{type(text).__name__} {text!r:.60}, not a string"
            raise ValueError(f"row {row}: text is {what}; {_TEXT_FIX}")
        if not text.strip():
            raise ValueError(f"row {row}: text is empty; {_TEXT_FIX}")
    return texts


def probabilities_to_frame(probabilities: np.ndarray, contract: ClassifyContract) -> pd.DataFrame:
    """Turn class probabilities ``(B, C)`` into the text output table, rows in input order."""
    proba = np.asarray(probabilities, dtype=np.float64)
    if proba.ndim != 2 or proba.shape[1] != len(contract.label_names):
        raise ValueError(
            f"expected probabilities of shape (B, {len(contract.label_names)}), got {proba.shape}"
        )
    names = np.asarray(contract.label_names, dtype=object)
    frame = pd.DataFrame(proba, columns=contract.proba_columns)
    frame.insert(0, LABEL_COL, names[proba.argmax(axis=1)] if len(proba) else names[:0])
    return frame


def _is_null(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # lists, arrays: not a scalar, so not a null
        return False
