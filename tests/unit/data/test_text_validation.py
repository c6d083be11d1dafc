"""The Great Expectations text suite on the real MR, TREC and SMS Spam data and on copies with
one problem each."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tokfrag.data.text_loaders import load_text_dataset, load_textgcn
from tokfrag.data.validation import (
    CROSS_SPLIT,
    DOCUMENTS,
    TRAIN,
    Failure,
    ValidationFailed,
    ValidationReport,
    validate_text,
)

UNIQUE = "expect_column_values_to_be_unique"
IN_SET = "expect_column_values_to_be_in_set"
NON_BLANK = "expect_column_values_to_match_regex"
NOT_NULL = "expect_column_values_to_not_be_null"
CONTAINS = "expect_column_distinct_values_to_contain_set"
EXISTS = "expect_column_to_exist"


@pytest.fixture(scope="module")
def datasets(mirror) -> dict[str, tuple[pd.DataFrame, dict]]:
    if not (mirror / "trec" / "TREC.txt").is_file():
        pytest.skip("text datasets not in the mirror")
    return {n: load_text_dataset(n, allow_download=False) for n in ("mr", "trec", "sms_spam")}


def _validate(documents: pd.DataFrame, meta: dict) -> ValidationReport:
    return validate_text(documents, dataset=meta["name"], label_names=meta["label_names"])


def _only(report: ValidationReport) -> Failure:
    assert not report.success
    assert len(report.failures) == 1, report.summary()
    return report.failures[0]


@pytest.mark.parametrize("name", ["mr", "trec", "sms_spam"])
def test_real_datasets_pass(datasets, name):
    documents, meta = datasets[name]
    report = _validate(documents, meta)
    assert report.success, report.summary()
    assert report.checked == 16
    assert report.raise_if_failed() is report
    assert len(report.gx_results) == 3  # documents, train, cross_split
    json.dumps(report.to_dict(include_gx=True))  # strict JSON, ready to archive


@pytest.mark.parametrize("blank", ["", "   \t "])
def test_empty_document(datasets, blank):
    documents, meta = datasets["trec"]
    bad = documents.copy()
    bad.loc[17, "text"] = blank
    failure = _only(_validate(bad, meta))
    assert (failure.expectation, failure.table, failure.column) == (NON_BLANK, DOCUMENTS, "text")
    assert "1 empty or whitespace-only documents (row 17)" in failure.detail


def test_null_document(datasets):
    documents, meta = datasets["trec"]
    bad = documents.copy()
    bad.loc[4, "text"] = None
    failure = _only(_validate(bad, meta))
    assert (failure.expectation, failure.column) == (NOT_NULL, "text")
    assert "(row 4)" in failure.detail


def test_unknown_label(datasets):
    documents, meta = datasets["trec"]
    bad = documents.copy()
    bad.loc[[5, 9], "label"] = "QUESTION"
    failure = _only(_validate(bad, meta))
    assert (failure.expectation, failure.table, failure.column) == (IN_SET, DOCUMENTS, "label")
    assert "2 labels outside the declared classes" in failure.detail
    assert "(rows 5, 9)" in failure.detail and "'QUESTION'" in failure.detail
    assert "label_names" in failure.detail  # the fix


def test_unknown_split(datasets):
    documents, meta = datasets["trec"]
    bad = documents.copy()
    bad.loc[11, "split"] = "dev"
    report = _validate(bad, meta)
    failure = _only(report)
    assert (failure.expectation, failure.column) == (IN_SET, "split")
    assert "(row 11): 'dev'" in failure.detail


def test_class_missing_from_training(datasets):
    documents, meta = datasets["sms_spam"]
    bad = documents.copy()
    bad.loc[bad["label"] == "spam", "split"] = "test"  # every spam message is a test message
    report = _validate(bad, meta)
    assert not report.success
    by_kind = {f.expectation: f for f in report.failures}
    assert set(by_kind) == {CONTAINS, "expect_column_unique_value_count_to_be_between"}
    failure = by_kind[CONTAINS]
    assert (failure.table, failure.column) == (TRAIN, "label")
    assert "classes ['spam'] have no training document" in failure.detail
    assert "training labels: ['ham']" in failure.detail
    # Two classes with one missing from training leave a single class to learn from.
    assert "needs at least two" in by_kind["expect_column_unique_value_count_to_be_between"].detail


def test_document_copied_into_both_splits(datasets):
    documents, meta = datasets["mr"]
    bad = documents.copy()
    test_row = int(bad.index[bad["split"] == "test"][0])
    bad.loc[test_row, "text"] = bad.loc[0, "text"]  # a training sentence, now also in test
    failure = _only(_validate(bad, meta))
    assert (failure.expectation, failure.table, failure.column) == (UNIQUE, CROSS_SPLIT, "text")
    assert failure.detail.startswith("1 texts are in both train and test")
    assert f"test {test_row}; train 0" in failure.detail
    assert "drop the test copies" in failure.detail


def test_raw_trec_leak_is_caught(trec_raw):
    """The upstream TREC split has 10 test questions that are also training questions: the
    gate catches them when the loader is told to keep them."""
    documents, meta = trec_raw
    failure = _only(_validate(documents, meta))
    assert (failure.expectation, failure.table) == (UNIQUE, CROSS_SPLIT)
    assert failure.detail.startswith("10 texts are in both train and test")
    train_texts = set(documents.loc[documents["split"] == "train", "text"])
    leaked = documents.index[(documents["split"] == "test") & documents["text"].isin(train_texts)]
    assert len(leaked) == 10
    assert "test " + ", ".join(str(i) for i in leaked) + "; train " in failure.detail


@pytest.fixture(scope="module")
def trec_raw(mirror, datasets) -> tuple[pd.DataFrame, dict]:
    raw = load_textgcn(
        mirror / "trec" / "TREC.txt",
        mirror / "trec" / "TREC.meta.txt",
        strip_first_word=True,
        keep_test_duplicates=True,
    )
    return raw, datasets["trec"][1]


def test_missing_column_and_raise(datasets):
    documents, meta = datasets["trec"]
    report = _validate(documents.drop(columns=["label"]), meta)
    keys = {(f.expectation, f.column) for f in report.failures}
    assert keys == {(EXISTS, "label")}
    with pytest.raises(ValidationFailed) as info:
        report.raise_if_failed()
    assert "documents.label" in str(info.value)
    assert info.value.report is report


def test_label_names_required(datasets):
    documents, _ = datasets["trec"]
    with pytest.raises(ValueError, match="label_names is empty"):
        validate_text(documents, dataset="trec", label_names=[])
