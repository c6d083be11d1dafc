"""The canonical text form: atomic write, exact round trip, TextData, on the real TREC data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tokfrag.data.canonical import canonical_digest
from tokfrag.data.registry import DataError
from tokfrag.data.text import TextData
from tokfrag.data.text_canonical import (
    DOCUMENTS,
    META,
    load_text,
    read_text_canonical,
    to_text,
    write_text_canonical,
)
from tokfrag.data.text_loaders import load_text_dataset


@pytest.fixture(scope="module")
def trec(mirror) -> tuple[pd.DataFrame, dict]:
    if not (mirror / "trec" / "TREC.txt").is_file():
        pytest.skip("TREC not in the mirror")
    return load_text_dataset("trec", allow_download=False)


def test_round_trip_is_exact(trec, tmp_path):
    documents, meta = trec
    out = write_text_canonical(documents, meta, tmp_path / "trec")
    assert sorted(p.name for p in out.iterdir()) == [DOCUMENTS, META]
    back, back_meta = read_text_canonical(out)
    pd.testing.assert_frame_equal(back, documents, check_dtype=True)
    assert back_meta == meta
    assert json.loads((out / META).read_text())["label_names"] == sorted(meta["label_names"])
    # Writing the same data again gives the same bytes (the digest the gate records).
    digest = canonical_digest(out)
    write_text_canonical(documents, meta, tmp_path / "again")
    assert canonical_digest(tmp_path / "again") == digest


def test_to_text(trec, tmp_path):
    documents, meta = trec
    write_text_canonical(documents, meta, tmp_path / "trec")
    data = load_text(tmp_path / "trec")
    assert isinstance(data, TextData)
    assert data.name == "trec" and data.sha256 == meta["sha256"]
    assert data.label_names == ("ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM")
    assert data.labels.dtype == np.int64 and data.is_test.dtype == bool
    assert len(data.texts) == len(documents) == 5_942
    assert int(data.is_test.sum()) == 490
    names = np.asarray(data.label_names)[data.labels]
    np.testing.assert_array_equal(names, documents["label"].to_numpy(str))
    train_texts, train_labels = data.part(test=False)
    assert len(train_texts) == len(train_labels) == 5_452
    assert train_texts[0] == "How did serfdom develop in and then leave Russia ?"


def test_failed_write_keeps_the_previous_output(trec, tmp_path):
    documents, meta = trec
    out = write_text_canonical(documents, meta, tmp_path / "trec")
    digest = canonical_digest(out)
    with pytest.raises(DataError, match="lacks"):
        write_text_canonical(documents, {"name": "trec"}, out)
    broken = documents.drop(columns=["split"])
    with pytest.raises(DataError, match=r"lack columns \['split'\]"):
        write_text_canonical(broken, meta, out)
    assert canonical_digest(out) == digest


def test_missing_folder_and_wrong_kind(trec, tmp_path):
    with pytest.raises(DataError, match="run `tokfrag ingest` first"):
        read_text_canonical(tmp_path / "nothing")
    documents, meta = trec
    out = write_text_canonical(documents, meta, tmp_path / "trec")
    (out / META).write_text(json.dumps({**meta, "kind": "series"}))
    with pytest.raises(DataError, match="not a text one"):
        read_text_canonical(out)


def test_to_text_refuses_undeclared_labels(trec):
    documents, meta = trec
    bad = documents.copy()
    bad.loc[3, "label"] = "FOO"
    with pytest.raises(DataError, match=r"labels \['FOO'\] are not in label_names"):
        to_text(bad, meta)
