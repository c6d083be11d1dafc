"""The canonical on-disk form of a text dataset (the `ingest` stage's output for text).

``<dir>/documents.parquet``  ``doc_id`` (int64), ``text``, ``label``, ``split`` (str), file order
``<dir>/meta.json``          ``name``, ``kind`` ("text"), ``label_names`` (sorted: the class
                             order of every model's outputs), ``sha256`` and ``files`` of the
                             upstream files, and what the loader recorded (counts, the test
                             duplicates it dropped)

:func:`tokfrag.data.canonical.canonical_digest` fingerprints this folder as it does a series one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tokfrag.atomic import staged_dir, write_json
from tokfrag.data.registry import DataError
from tokfrag.data.text import TextData
from tokfrag.data.text_loaders import COLUMNS, SPLITS

DOCUMENTS = "documents.parquet"
META = "meta.json"
_REQUIRED_META = ("name", "sha256", "files")


def write_text_canonical(documents: pd.DataFrame, meta: dict[str, Any], out_dir: Path) -> Path:
    """Write ``documents.parquet`` and ``meta.json`` into ``out_dir`` atomically (both or
    neither). ``meta`` must hold ``name``, ``sha256`` and ``files``; ``kind`` is set to
    ``"text"`` and ``label_names``, when absent, to the sorted distinct labels."""
    missing = [k for k in _REQUIRED_META if k not in meta]
    if missing:
        raise DataError(f"text meta lacks {missing}; build it with load_text_dataset")
    absent = [c for c in COLUMNS if c not in documents.columns]
    if absent:
        raise DataError(
            f"documents lack columns {absent} (have {list(documents.columns)}); the loaders "
            f"write {list(COLUMNS)}"
        )
    label_names = meta.get("label_names") or sorted(set(documents["label"].dropna()))
    meta = {**meta, "kind": "text", "label_names": [str(n) for n in label_names]}
    out_dir = Path(out_dir)
    with staged_dir(out_dir) as staging:
        frame = documents[list(COLUMNS)].reset_index(drop=True)
        frame.attrs = {}  # pandas would store attrs in the parquet schema metadata
        frame.to_parquet(staging / DOCUMENTS, index=False)
        write_json(staging / META, meta)
    return out_dir


def read_text_canonical(in_dir: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    in_dir = Path(in_dir)
    missing = [f for f in (DOCUMENTS, META) if not (in_dir / f).is_file()]
    if missing:
        raise DataError(f"{in_dir}: missing {', '.join(missing)}; run `tokfrag ingest` first")
    meta = json.loads((in_dir / META).read_text())
    if meta.get("kind") != "text":
        raise DataError(f"{in_dir}: holds a {meta.get('kind')!r} dataset, not a text one")
    return pd.read_parquet(in_dir / DOCUMENTS), meta


def to_text(documents: pd.DataFrame, meta: dict[str, Any]) -> TextData:
    """Turn validated canonical documents into a :class:`TextData` (labels become positions
    into ``meta["label_names"]``; rows stay in file order)."""
    label_names = tuple(str(n) for n in meta["label_names"])
    position = {name: i for i, name in enumerate(label_names)}
    unknown = sorted(set(documents["label"].astype(str)) - set(position))
    if unknown:
        raise DataError(
            f"labels {unknown[:5]} are not in label_names {list(label_names)}; run "
            "`tokfrag validate` (the gate reports the rows) and fix the data or the registry"
        )
    bad_split = sorted(set(documents["split"].astype(str)) - set(SPLITS))
    if bad_split:
        raise DataError(f"split values {bad_split[:5]} are not 'train'/'test'; run the gate")
    return TextData(
        name=str(meta["name"]),
        texts=tuple(str(t) for t in documents["text"]),
        labels=documents["label"].astype(str).map(position).to_numpy(np.int64),
        label_names=label_names,
        is_test=(documents["split"] == "test").to_numpy(bool),
        sha256=str(meta["sha256"]),
    )


def load_text(in_dir: Path) -> TextData:
    return to_text(*read_text_canonical(in_dir))
