"""Parsers from upstream text-classification formats into the canonical documents table.

Every loader returns one ``documents`` frame, one row per document in file order:

``doc_id``  int64, the document's 0-based position in the upstream file (kept after drops)
``text``    str, the document with surrounding whitespace removed (and anything that leaks
            the label, such as TREC's leading fine-grained label word)
``label``   str, the class name as upstream writes it
``split``   str, ``"train"`` or ``"test"`` (as upstream writes it: the validation gate, not
            the parser, reports any other value)

No document is in both splits: a test document whose text is identical to a training
document's is dropped (the training copy stays), and the dropped ``doc_id`` values are recorded
in ``documents.attrs[DROPPED]`` (and in the canonical ``meta.json`` by :func:`load_text_dataset`).

A file that cannot be parsed (not decodable, wrong number of fields, documents and meta lines
that do not pair up) raises :class:`~tokfrag.data.registry.DataError` naming the file, the line
(and column) and the fix.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tokfrag.data.registry import DataError, DatasetSpec, combined_sha256, get_spec, resolve_file

COLUMNS = ("doc_id", "text", "label", "split")
SPLITS = ("train", "test")
DROPPED = "dropped_test_duplicates"  # key in DataFrame.attrs and meta.json


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _decode(path: Path, encoding: str) -> str:
    raw = Path(path).read_bytes()
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        column = err.start - (raw.rfind(b"\n", 0, err.start) + 1) + 1
        bad = raw[err.start : err.end].hex(" ")
        raise DataError(
            f"{path}: line {line}, byte column {column}: bytes {bad} are not valid {encoding} "
            f"({err.reason}). The file is damaged or in another encoding: re-download it "
            "(the sha256 check catches damage) or set the right encoding in the registry "
            "entry's loader_kwargs."
        ) from None
    except LookupError:
        raise DataError(f"{path}: unknown encoding {encoding!r}; fix the registry entry") from None


def _lines(text: str) -> list[str]:
    """Lines split on ``\\n`` only (``str.splitlines`` would also break on U+0085, U+2028 and
    other characters that occur inside documents); a CR before the LF is removed; one trailing
    empty line (the file's final newline) is not a line."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def _frame(doc_id: list[int], text: list[str], label: list[str], split: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "doc_id": np.asarray(doc_id, dtype=np.int64),
            "text": pd.Series(text, dtype="str"),
            "label": pd.Series(label, dtype="str"),
            "split": pd.Series(split, dtype="str"),
        }
    )


def drop_test_duplicates(
    documents: pd.DataFrame, key: Callable[[str], str] | None = None
) -> tuple[pd.DataFrame, list[int]]:
    """Drop every test document whose text is identical to a training document's (after
    ``key``, e.g. :func:`near_duplicate_key`, when given).

    Returns the remaining documents (index reset, order kept) and the dropped ``doc_id`` values.
    Texts repeated inside one split are kept: they leak nothing across the split.
    """
    texts = documents["text"] if key is None else documents["text"].map(key)
    train_texts = set(texts[documents["split"] == "train"])
    leaked = (documents["split"] == "test") & texts.isin(train_texts)
    dropped = [int(i) for i in documents.loc[leaked, "doc_id"]]
    return documents.loc[~leaked].reset_index(drop=True), dropped


def near_duplicate_key(text: str) -> str:
    """What two copies of one document share when they differ only in case, Unicode
    normalisation (NFC/NFD) or whitespace."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def _finish(
    documents: pd.DataFrame,
    keep_test_duplicates: bool,
    key: Callable[[str], str] | None = None,
) -> pd.DataFrame:
    dropped: list[int] = []
    if not keep_test_duplicates:
        documents, dropped = drop_test_duplicates(documents, key)
    documents.attrs[DROPPED] = dropped
    return documents


# --------------------------------------------------------------------------------------------
# Loaders
# --------------------------------------------------------------------------------------------


def load_textgcn(
    docs_path: Path,
    meta_path: Path,
    *,
    strip_first_word: bool = False,
    encoding: str = "utf-8",
    keep_test_duplicates: bool = False,
) -> pd.DataFrame:
    """The TextGCN layout: line ``i`` of ``docs_path`` is document ``i``; line ``i`` of
    ``meta_path`` is ``i<TAB>train|test<TAB>label``.

    Args:
        strip_first_word: drop each document's first word (TREC: the fine-grained label, which
            determines the coarse class).
        encoding: of ``docs_path`` (MR is Windows-1252); the meta file is read as ASCII/UTF-8.
        keep_test_duplicates: keep test documents identical to a training document (only for
            inspecting the raw files; the pipeline drops them).
    """
    docs_path, meta_path = Path(docs_path), Path(meta_path)
    docs = _lines(_decode(docs_path, encoding))
    metas = _lines(_decode(meta_path, "utf-8"))
    if len(docs) != len(metas):
        raise DataError(
            f"{docs_path} has {len(docs)} documents but {meta_path} has {len(metas)} lines; "
            "line i of the meta file describes document i, so both need the same number of "
            "lines. One of them is truncated or from another version: re-download both."
        )

    doc_id: list[int] = []
    texts: list[str] = []
    labels: list[str] = []
    splits: list[str] = []
    for i, (doc, meta) in enumerate(zip(docs, metas, strict=True)):
        fields = meta.split("\t")
        if len(fields) != 3:
            raise DataError(
                f"{meta_path}: line {i + 1}: expected 3 tab-separated fields "
                f"'index<TAB>train|test<TAB>label', found {len(fields)} in {meta[:80]!r}; "
                "fix the line or re-download the file"
            )
        index, split, label = (f.strip() for f in fields)
        if index != str(i):
            raise DataError(
                f"{meta_path}: line {i + 1}, column 1: index {index!r}, expected {i}; the meta "
                f"lines are out of step with the documents in {docs_path}: re-download both files"
            )
        text = doc.strip()
        if strip_first_word:
            words = text.split(maxsplit=1)
            text = words[1] if len(words) == 2 else ""  # a lone label word leaves no document
        doc_id.append(i)
        texts.append(text)
        labels.append(label)
        splits.append(split)
    return _finish(_frame(doc_id, texts, labels, splits), keep_test_duplicates)


def load_sms_spam(
    csv_path: Path,
    *,
    test_fraction: float = 0.2,
    seed: int = 0,
    encoding: str = "latin-1",
    keep_test_duplicates: bool = False,
) -> pd.DataFrame:
    """The Kaggle export of the UCI SMS Spam Collection: a latin-1 csv with header
    ``v1,v2,,,`` (label, text, then three mostly empty columns).

    Where an unescaped comma split a message, its tail sits in the extra columns; those cells are
    joined back onto the text with the comma they replaced (50 messages in the real file).

    The file has no split: a stratified (by label) ``test_fraction`` split with
    ``sklearn.model_selection.train_test_split(random_state=seed)`` over the rows, so the same
    file and seed always give the same split.
    """

    csv_path = Path(csv_path)
    if not 0.0 < test_fraction < 1.0:
        raise DataError(f"test_fraction must be in (0, 1), got {test_fraction}; fix the config")
    reader = csv.reader(io.StringIO(_decode(csv_path, encoding), newline=""))
    try:
        header = next(reader, None)
        if header is None or [h.strip() for h in header[:2]] != ["v1", "v2"]:
            raise DataError(
                f"{csv_path}: line 1: expected a header starting 'v1,v2' (label, text), found "
                f"{header!r}; this is not the SMS Spam csv, put the right file in the mirror"
            )
        width = len(header)
        labels: list[str] = []
        texts: list[str] = []
        for row in reader:
            if not row:
                continue  # a blank line carries no message
            if not 2 <= len(row) <= width:
                raise DataError(
                    f"{csv_path}: line {reader.line_num}: {len(row)} columns, expected 2 to "
                    f"{width} (v1 label, v2 text, then the empty columns) as in the header; "
                    "fix the quoting on that line or re-download the file"
                )
            tail = [cell for cell in row[2:] if cell]
            labels.append(row[0].strip())
            texts.append(",".join([row[1], *tail]).strip())
    except csv.Error as err:
        raise DataError(
            f"{csv_path}: line {reader.line_num}: not parseable as csv ({err}); "
            "re-download the file"
        ) from None
    if not texts:
        raise DataError(f"{csv_path}: no messages after the header; re-download the file")

    positions = np.arange(len(texts))
    split = stratified_split(
        labels, test_fraction, seed, f"{csv_path}: {len(texts)} messages",
        "fix the labels or use another test_fraction",
    )  # fmt: skip
    return _finish(_frame(positions.tolist(), texts, labels, split), keep_test_duplicates)


# --------------------------------------------------------------------------------------------
# Registry entry -> documents + meta
# --------------------------------------------------------------------------------------------


def stratified_split(
    labels: Sequence[str], test_fraction: float, seed: int, what: str, fix: str
) -> list[str]:
    """``"train"``/``"test"`` per row: a ``test_fraction`` of the rows, stratified by label
    and seeded (the same labels and seed give the same split). ``what`` names the rows in
    an error (``"sms.csv: 5572 messages"``), ``fix`` says what to change."""
    from sklearn.model_selection import train_test_split

    try:
        _, test_rows = train_test_split(
            np.arange(len(labels)), test_size=test_fraction, random_state=seed, stratify=labels
        )
    except ValueError as err:
        raise DataError(
            f"{what}: cannot make a {test_fraction:.0%} test split stratified by label "
            f"({err}); every label needs at least two rows: {fix}"
        ) from None
    split = np.full(len(labels), "train", dtype=object)
    split[test_rows] = "test"
    return split.tolist()


def load_text_dataset(
    name: str | DatasetSpec, *, allow_download: bool = True
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Resolve a text dataset's files (mirror, cache, download; sha256 checked), parse them and
    return ``(documents, meta)`` ready for
    :func:`tokfrag.data.text_canonical.write_text_canonical`."""
    spec = get_spec(name) if isinstance(name, str) else name
    if spec.kind != "text":
        raise DataError(f"{spec.name} is a {spec.kind} dataset, not a text dataset")
    paths = {f: resolve_file(spec, f, allow_download=allow_download) for f in spec.files}
    documents = spec.parse(paths)
    return documents, text_meta(spec, documents)


def text_meta(spec: DatasetSpec, documents: pd.DataFrame) -> dict[str, Any]:
    """``meta.json`` for parsed documents: source files, class order, counts, dropped copies."""
    dropped = list(documents.attrs.get(DROPPED, []))
    label_names = sorted(spec.label_names) or sorted(set(documents["label"]))
    meta: dict[str, Any] = {
        "name": spec.name,
        "kind": "text",
        "label_names": label_names,
        "files": dict(spec.files),
        "sha256": combined_sha256(spec.files),
        "license": spec.license,
        "description": spec.description,
        "loader": f"{spec.module}.{spec.loader}",
        "loader_kwargs": dict(spec.loader_kwargs),
        "counts": {s: int((documents["split"] == s).sum()) for s in SPLITS},
        DROPPED: {"count": len(dropped), "doc_ids": dropped},
    }
    return meta
