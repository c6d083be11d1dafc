"""The text suites (``documents``, ``train``, ``cross_split``) and :func:`validate_text`.

``DOCUMENTS_SUITE``, ``TRAIN_SUITE`` and ``CROSS_SPLIT_SUITE`` list what is checked, each
expectation beside the function that words its failure; what each checks is in
:mod:`tokfrag.data.validation`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from tokfrag.data.validation import engine
from tokfrag.data.validation.report import ValidationReport
from tokfrag.data.validation.suite import (
    CROSS_SPLIT,
    DOCUMENTS,
    TRAIN,
    Block,
    Failed,
    From,
    expect,
    listing,
)

TEXT_COLUMNS = ("doc_id", "text", "label", "split")
MAX_DOCUMENT_CHARS = 1_000_000  # longer is a parsing accident, not a document
TEXT_SPLITS = ("train", "test")
_NON_BLANK = r"\S"  # a document needs one non-whitespace character


# --------------------------------------------------------------------------------------------
# The messages, one per expectation
# --------------------------------------------------------------------------------------------


def _no_column(f: Failed) -> str:
    return (
        f"the documents table has no column {f.column!r} (columns: {list(f.frame.columns)[:8]}); "
        f"canonical documents need {list(TEXT_COLUMNS)}: fix the loader"
    )


def _nulls(f: Failed) -> str:
    return f"{f.label} has {f.count} null values{f.rows}; drop those documents or fix the loader"


def _repeated_ids(f: Failed) -> str:
    return (
        f"{f.label} has {f.count} rows with a repeated id{f.rows}: {f.examples}; give every "
        "document its own id (its 0-based line number upstream)"
    )


def _blank_documents(f: Failed) -> str:
    return (
        f"{f.label} has {f.count} empty or whitespace-only documents{f.rows}; drop them or fix "
        "the loader (e.g. a TREC line that held only its label word)"
    )


def _long_documents(f: Failed) -> str:
    return (
        f"{f.label} has {f.count} documents longer than {MAX_DOCUMENT_CHARS:,} characters"
        f"{f.rows}; such a document is usually several run together (a missing newline or "
        "an unclosed quote): split or drop it"
    )


def _unknown_labels(f: Failed) -> str:
    return (
        f"{f.label} has {f.count} labels outside the declared classes "
        f"{list(f.kwargs['value_set'])}{f.rows}: {f.short_examples}; fix those labels or "
        "declare the class in the registry entry's label_names"
    )


def _unknown_splits(f: Failed) -> str:
    return (
        f"{f.label} has {f.count} values other than 'train'/'test'{f.rows}: "
        f"{f.short_examples}; fix the split column of the meta file"
    )


def _train_classes(f: Failed) -> list[str]:
    return sorted({str(v) for v in f.frame["label"].dropna()})  # frame: the train rows


def _untrained_classes(f: Failed) -> str:
    present = _train_classes(f)
    missing = sorted(
        f.result.get("partial_missing_list") or set(f.kwargs["value_set"]) - set(present)
    )
    return (
        f"classes {missing} have no training document (training labels: {present}); no "
        "model can learn them: move some of their documents into train or re-split"
    )


def _single_class(f: Failed) -> str:
    present = _train_classes(f)
    return (
        f"the training documents have {len(present)} class(es) {present}; a classifier "
        "needs at least two: add documents of another class"
    )


def _leaked_texts(f: Failed) -> str:
    documents = f.context["documents"]
    text, split = documents["text"], documents["split"]
    # GX's partial list quotes a few texts; the rows come from the whole table.
    leaked = set(text[split == "test"].dropna()) & set(text[split == "train"].dropna())
    test_rows = documents.index[(split == "test") & text.isin(leaked)].tolist()
    train_rows = documents.index[(split == "train") & text.isin(leaked)].tolist()
    total = f.count // 2  # each leaked text appears once per split in the check's frame
    return (
        f"{total} texts are in both train and test (documents rows: test "
        f"{listing(test_rows, len(test_rows))}; train "
        f"{listing(train_rows, len(train_rows))}), e.g. {f.short_examples}; drop the test "
        "copies (the loaders do: drop_test_duplicates) so no test document is seen in "
        "training"
    )


# --------------------------------------------------------------------------------------------
# The suites
# --------------------------------------------------------------------------------------------

_NOT_NULL = "ExpectColumnValuesToNotBeNull"
_IN_SET = "ExpectColumnValuesToBeInSet"

DOCUMENTS_SUITE = (
    Block(DOCUMENTS, (expect("ExpectColumnToExist", _no_column),),
          each=TEXT_COLUMNS, absent_too=True),
    Block(DOCUMENTS, (
        expect(_NOT_NULL, _nulls),
        expect("ExpectColumnValuesToBeUnique", _repeated_ids),
    ), each=("doc_id",)),
    Block(DOCUMENTS, (
        expect(_NOT_NULL, _nulls),
        expect("ExpectColumnValuesToMatchRegex", _blank_documents, regex=_NON_BLANK),
        expect("ExpectColumnValueLengthsToBeBetween", _long_documents,
               max_value=MAX_DOCUMENT_CHARS),
    ), each=("text",)),
    Block(DOCUMENTS, (
        expect(_NOT_NULL, _nulls),
        expect(_IN_SET, _unknown_labels, value_set=From("label_names")),
    ), each=("label",)),
    Block(DOCUMENTS, (
        expect(_NOT_NULL, _nulls),
        expect(_IN_SET, _unknown_splits, value_set=list(TEXT_SPLITS)),
    ), each=("split",)),
)  # fmt: skip
TRAIN_SUITE = (
    Block(TRAIN, (
        expect("ExpectColumnDistinctValuesToContainSet", _untrained_classes,
               value_set=From("label_names")),
        # One class leaves nothing to classify (and every metric trivially perfect).
        expect("ExpectColumnUniqueValueCountToBeBetween", _single_class, min_value=2),
    ), each=("label",), absent_too=True),
)  # fmt: skip
CROSS_SPLIT_SUITE = (
    Block(CROSS_SPLIT, (expect("ExpectColumnValuesToBeUnique", _leaked_texts),),
          each=("text",), absent_too=True),
)  # fmt: skip


def _cross_split_frame(documents: pd.DataFrame) -> pd.DataFrame:
    """One row per distinct train text and one per distinct test text: a text that repeats
    here is in both splits."""
    parts = [
        pd.DataFrame(
            {"text": documents.loc[documents["split"] == s, "text"].dropna().unique()}
        ).assign(split=s)
        for s in TEXT_SPLITS
    ]
    return pd.concat(parts, ignore_index=True)


def validate_text(
    documents: pd.DataFrame,
    *,
    dataset: str,
    label_names: Sequence[str],
    docs_dir: Path | None = None,
) -> ValidationReport:
    """Validate a canonical text ``documents`` table (doc_id, text, label, split) against the
    declared classes ``label_names`` with Great Expectations.

    Never raises for bad data: every problem becomes a :class:`Failure` (call
    ``report.raise_if_failed()`` to stop a pipeline). Row numbers in the details are 0-based
    positions in ``documents``. With ``docs_dir``, GX's HTML data docs are written there.
    """
    label_names = [str(n) for n in label_names]
    if not label_names:
        raise ValueError(f"{dataset}: label_names is empty; declare the classes in the registry")
    start = time.perf_counter()
    documents = documents.set_axis([str(c) for c in documents.columns], axis=1)
    documents = documents.reset_index(drop=True)
    columns = set(documents.columns)
    context = {"documents": documents, "label_names": label_names}

    batches: list[engine.Batch] = [(DOCUMENTS, documents, DOCUMENTS_SUITE)]
    if {"label", "split"} <= columns:
        train = documents.loc[documents["split"] == "train"].reset_index(drop=True)
        batches.append((TRAIN, train, TRAIN_SUITE))
    if {"text", "split"} <= columns:
        batches.append((CROSS_SPLIT, _cross_split_frame(documents), CROSS_SPLIT_SUITE))
    failures, checked, gx_results = engine.run(batches, context, dataset=dataset, docs_dir=docs_dir)
    return ValidationReport(
        dataset=dataset,
        success=not failures,
        failures=tuple(failures),
        checked=checked,
        seconds=time.perf_counter() - start,
        gx_results=gx_results,
    )
