"""The text registry entries and loaders on the real MR, TREC and SMS Spam files, and on damaged
copies of them."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tokfrag.data import loaders, text_loaders
from tokfrag.data.registry import (
    CACHE_ENV,
    MIRROR_ENV,
    DataError,
    combined_sha256,
    get_spec,
    resolve_file,
    sha256_file,
)
from tokfrag.data.text_loaders import (
    COLUMNS,
    DROPPED,
    drop_test_duplicates,
    load_sms_spam,
    load_text_dataset,
    load_textgcn,
)

TEXT_DATASETS = ("mr", "trec", "sms_spam")


def _need(path: Path) -> Path:
    if not path.is_file():
        pytest.skip(f"{path} not in the mirror")
    return path


@pytest.fixture(scope="module")
def mr_files(mirror) -> tuple[Path, Path]:
    return _need(mirror / "mr" / "mr.txt"), _need(mirror / "mr" / "mr.meta.txt")


@pytest.fixture(scope="module")
def trec_files(mirror) -> tuple[Path, Path]:
    return _need(mirror / "trec" / "TREC.txt"), _need(mirror / "trec" / "TREC.meta.txt")


@pytest.fixture(scope="module")
def sms_file(mirror) -> Path:
    return _need(mirror / "sms_spam" / "spam.csv")


def _split_counts(documents: pd.DataFrame) -> tuple[int, int]:
    return int((documents["split"] == "train").sum()), int((documents["split"] == "test").sum())


# ---------------------------------------------------------------------------------------------
# registry


@pytest.mark.parametrize("name", TEXT_DATASETS)
def test_registry_sha_matches_the_real_files(mirror, name):
    spec = get_spec(name)
    assert spec.kind == "text"
    assert spec.label_names == tuple(sorted(spec.label_names))
    for file_name, sha in spec.files.items():
        assert sha256_file(_need(mirror / name / file_name)) == sha
        assert resolve_file(spec, file_name, allow_download=False) == mirror / name / file_name


def test_loader_lookup_for_text_and_series_specs():
    assert get_spec("mr").loader_function() is text_loaders.load_textgcn
    assert get_spec("sms_spam").loader_function() is text_loaders.load_sms_spam
    assert get_spec("chickenpox").loader_function() is loaders.load_pgt_json  # unchanged
    assert get_spec("trec").loader_kwargs["strip_first_word"] is True
    assert get_spec("mr").urls["mr.txt"].endswith("/data/corpus/mr.txt")
    assert get_spec("mr").urls["mr.meta.txt"].endswith("/data/mr.txt")
    bad = dataclasses.replace(get_spec("mr"), loader="nope")
    with pytest.raises(DataError, match="no loader 'nope'"):
        bad.loader_function()


def test_file_without_url_asks_for_the_mirror(tmp_path, monkeypatch):
    monkeypatch.setenv(MIRROR_ENV, str(tmp_path / "empty"))
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    spec = get_spec("sms_spam")
    with pytest.raises(DataError) as info:
        resolve_file(spec, "spam.csv")  # downloading allowed, but there is nothing to download
    message = str(info.value)
    assert "no stable download URL" in message
    assert "$TOKFRAG_DATA_MIRROR/sms_spam/spam.csv" in message
    assert spec.files["spam.csv"] in message
    assert not (tmp_path / "cache").exists()


def test_combined_sha256():
    assert combined_sha256({"a": "x"}) == "x"
    assert combined_sha256({"a": "x", "b": "y"}) == combined_sha256({"b": "y", "a": "x"})
    assert len(combined_sha256(get_spec("mr").files)) == 64


# ---------------------------------------------------------------------------------------------
# MR


def test_mr_real_file(mr_files):
    raw = load_textgcn(*mr_files, encoding="cp1252", keep_test_duplicates=True)
    assert list(raw.columns) == list(COLUMNS)
    assert len(raw) == 10_662
    assert _split_counts(raw) == (7_108, 3_554)
    assert raw["doc_id"].dtype == np.int64
    np.testing.assert_array_equal(raw["doc_id"], np.arange(10_662))
    assert set(raw["label"]) == {"0", "1"}
    assert not raw["text"].str.contains("\r").any()
    assert (raw["text"] == raw["text"].str.strip()).all()
    # Windows-1252: 0x97 is an em dash (latin-1 would make it the control character U+0097).
    assert raw["text"].str.contains("\u2014").any()
    assert not raw["text"].str.contains("\u0097").any()
    assert raw.loc[1, "text"] == "idiotic and ugly ."
    deduped = load_textgcn(*mr_files, encoding="cp1252")
    assert deduped.attrs[DROPPED] == []  # MR has no document in both splits
    pd.testing.assert_frame_equal(deduped, raw)


def test_mr_is_not_utf8_and_the_error_says_where(mr_files):
    with pytest.raises(DataError) as info:
        load_textgcn(*mr_files)  # default utf-8
    message = str(info.value)
    assert str(mr_files[0]) in message
    assert "line " in message and "not valid utf-8" in message
    assert "encoding" in message


# ---------------------------------------------------------------------------------------------
# TREC


def test_trec_strips_the_fine_label(trec_files):
    raw = load_textgcn(*trec_files, strip_first_word=True, keep_test_duplicates=True)
    assert len(raw) == 5_952
    assert _split_counts(raw) == (5_452, 500)
    assert set(raw["label"]) == {"ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"}
    lines = trec_files[0].read_text(encoding="utf-8").rstrip("\n").split("\n")
    fine = [line.split(maxsplit=1)[0] for line in lines]
    assert len(set(fine)) > 40  # the fine-grained labels: manner, cremat, ind, ...
    for text, label, line in zip(raw["text"], fine, lines, strict=True):
        assert text == line.split(maxsplit=1)[1].strip()
        assert not text.startswith(label + " ")
    assert raw.loc[0, "text"] == "How did serfdom develop in and then leave Russia ?"


def test_trec_test_copies_of_training_questions_are_dropped(trec_files):
    raw = load_textgcn(*trec_files, strip_first_word=True, keep_test_duplicates=True)
    documents = load_textgcn(*trec_files, strip_first_word=True)
    dropped = documents.attrs[DROPPED]
    assert len(dropped) == 10
    assert _split_counts(documents) == (5_452, 490)
    train_texts = set(raw.loc[raw["split"] == "train", "text"])
    leaked = raw[raw["doc_id"].isin(dropped)]
    assert (leaked["split"] == "test").all()
    assert leaked["text"].isin(train_texts).all()
    assert "What is leukemia ?" in set(leaked["text"])
    kept_test = documents.loc[documents["split"] == "test", "text"]
    assert not kept_test.isin(train_texts).any()
    # Doc ids keep their upstream line numbers: the rows are raw's rows minus the dropped ones.
    pd.testing.assert_frame_equal(
        documents, raw[~raw["doc_id"].isin(dropped)].reset_index(drop=True), check_like=False
    )


def test_drop_test_duplicates_keeps_repeats_inside_a_split():
    frame = pd.DataFrame(
        {
            "doc_id": [0, 1, 2, 3, 4],
            "text": ["a", "a", "b", "a", "b"],
            "label": ["x", "x", "y", "x", "y"],
            "split": ["train", "train", "test", "test", "test"],
        }
    )
    kept, dropped = drop_test_duplicates(frame)
    assert dropped == [3]
    assert kept["doc_id"].tolist() == [0, 1, 2, 4]


# ---------------------------------------------------------------------------------------------
# SMS Spam


def test_sms_real_file_stratified_and_deterministic(sms_file):
    raw = load_sms_spam(sms_file, keep_test_duplicates=True)
    assert len(raw) == 5_572
    assert raw["label"].value_counts().to_dict() == {"ham": 4_825, "spam": 747}
    assert _split_counts(raw) == (4_457, 1_115)
    share = raw[raw["split"] == "test"].groupby("label").size() / raw.groupby("label").size()
    assert share.between(0.19, 0.21).all()  # stratified: 20% of each class in test
    again = load_sms_spam(sms_file, keep_test_duplicates=True)
    pd.testing.assert_frame_equal(raw, again)
    other_seed = load_sms_spam(sms_file, seed=1, keep_test_duplicates=True)
    assert not raw["split"].equals(other_seed["split"])
    # A message split by an unquoted comma is joined back (the "empty" columns hold its tail).
    ringtone = raw.loc[raw["text"].str.contains("PO Box 5249"), "text"].iloc[0]
    assert ringtone.endswith('FML, PO Box 5249, MK17 92H. 450Ppw 16"')


def test_sms_drops_test_copies(sms_file):
    raw = load_sms_spam(sms_file, keep_test_duplicates=True)
    documents = load_sms_spam(sms_file)
    dropped = documents.attrs[DROPPED]
    assert len(documents) == len(raw) - len(dropped)
    assert len(dropped) == 117
    train_texts = set(documents.loc[documents["split"] == "train", "text"])
    assert not documents.loc[documents["split"] == "test", "text"].isin(train_texts).any()


@pytest.mark.parametrize("name", TEXT_DATASETS)
def test_load_text_dataset_meta(name):
    documents, meta = load_text_dataset(name, allow_download=False)
    spec = get_spec(name)
    assert meta["name"] == name and meta["kind"] == "text"
    assert meta["label_names"] == sorted(spec.label_names)
    assert meta["files"] == spec.files
    assert meta["sha256"] == combined_sha256(spec.files)
    assert meta["counts"] == dict(zip(("train", "test"), _split_counts(documents), strict=True))
    assert meta[DROPPED]["count"] == len(meta[DROPPED]["doc_ids"])
    assert meta[DROPPED]["count"] == {"mr": 0, "trec": 10, "sms_spam": 117}[name]


# ---------------------------------------------------------------------------------------------
# damaged copies


def _copy(src: Path, dest: Path, data: bytes | None = None) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(src.read_bytes() if data is None else data)
    return dest


def test_undecodable_byte_names_file_and_line(trec_files, tmp_path):
    lines = trec_files[0].read_bytes().split(b"\n")
    lines[2] = lines[2][:5] + b"\xff" + lines[2][5:]
    docs = _copy(trec_files[0], tmp_path / "TREC.txt", b"\n".join(lines))
    with pytest.raises(DataError) as info:
        load_textgcn(docs, trec_files[1], strip_first_word=True)
    message = str(info.value)
    assert str(docs) in message
    assert "line 3, byte column 6" in message
    assert "re-download" in message


def test_meta_line_with_wrong_field_count(trec_files, tmp_path):
    lines = trec_files[1].read_text().split("\n")
    lines[41] = "41\ttrain"  # the label field is gone
    meta = _copy(trec_files[1], tmp_path / "TREC.meta.txt", "\n".join(lines).encode())
    with pytest.raises(DataError) as info:
        load_textgcn(trec_files[0], meta)
    message = str(info.value)
    assert str(meta) in message and "line 42" in message
    assert "expected 3 tab-separated fields" in message


def test_meta_and_documents_line_count_mismatch(trec_files, tmp_path):
    lines = trec_files[1].read_text().split("\n")
    meta = _copy(trec_files[1], tmp_path / "TREC.meta.txt", "\n".join(lines[:-5]).encode())
    with pytest.raises(DataError) as info:
        load_textgcn(trec_files[0], meta)
    message = str(info.value)
    assert "5952 documents" in message and "5947 lines" in message
    assert str(meta) in message and str(trec_files[0]) in message
    assert "re-download both" in message


def test_meta_lines_out_of_order(trec_files, tmp_path):
    lines = trec_files[1].read_text().split("\n")
    lines[7], lines[8] = lines[8], lines[7]
    meta = _copy(trec_files[1], tmp_path / "TREC.meta.txt", "\n".join(lines).encode())
    with pytest.raises(DataError, match=r"line 8, column 1: index '8', expected 7"):
        load_textgcn(trec_files[0], meta)


def test_sms_row_with_too_many_columns(sms_file, tmp_path):
    lines = sms_file.read_bytes().split(b"\r\n")
    lines[10] = lines[10] + b",extra"  # six columns under a five-column header
    bad = _copy(sms_file, tmp_path / "spam.csv", b"\r\n".join(lines))
    with pytest.raises(DataError) as info:
        load_sms_spam(bad)
    message = str(info.value)
    assert str(bad) in message and "line 11" in message and "6 columns" in message


def test_sms_wrong_header(sms_file, tmp_path):
    data = sms_file.read_bytes().replace(b"v1,v2", b"label,message", 1)
    bad = _copy(sms_file, tmp_path / "spam.csv", data)
    with pytest.raises(DataError, match=r"line 1: expected a header starting 'v1,v2'"):
        load_sms_spam(bad)
