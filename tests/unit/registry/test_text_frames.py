"""The text table conversions, without MLflow: row order, labels and errors that name the row."""

from __future__ import annotations

import os

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DVC_NO_ANALYTICS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from tokfrag.registry.contracts import ClassifyContract  # noqa: E402
from tokfrag.registry.text_frames import (  # noqa: E402
    frame_to_texts,
    probabilities_to_frame,
    texts_to_frame,
)

LABELS = ("neg", "pos", "neutral")


@pytest.fixture
def text_contract() -> ClassifyContract:
    return ClassifyContract(label_names=LABELS, dataset="toy", family="token")


def test_text_frame_round_trip_keeps_row_order() -> None:
    texts = ["a fine film", "dull", "  padded  "]
    frame = texts_to_frame(texts)
    assert list(frame.columns) == ["text"]
    assert frame_to_texts(frame) == texts
    # Extra columns are ignored; a non-default index does not reorder anything.
    assert frame_to_texts(frame.assign(id=[7, 8, 9]).set_index("id")) == texts


def test_probabilities_become_label_and_one_column_per_class(text_contract) -> None:
    proba = np.array([[0.1, 0.7, 0.2], [0.5, 0.25, 0.25]])  # (B, C)
    out = probabilities_to_frame(proba, text_contract)
    assert list(out.columns) == ["label", "proba_neg", "proba_pos", "proba_neutral"]
    assert out["label"].tolist() == ["pos", "neg"]
    np.testing.assert_array_equal(out[text_contract.proba_columns].to_numpy(), proba)
    with pytest.raises(ValueError, match=r"shape \(B, 3\)"):
        probabilities_to_frame(proba[:, :2], text_contract)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"txt": ["a"]}), r"missing column 'text' \(got \['txt'\]\)"),
        (pd.DataFrame({"text": ["a", None]}), r"row 1: text is null; send one non-empty string"),
        (pd.DataFrame({"text": ["a", "b", np.nan]}), r"row 2: text is null"),
        (pd.DataFrame({"text": ["a", 3]}), r"row 1: text is int 3, not a string"),
        (pd.DataFrame({"text": [["a"], "b"]}), r"row 0: text is list \['a'\], not a string"),
        (pd.DataFrame({"text": ["ok", "   "]}), r"row 1: text is empty"),
        (pd.DataFrame({"text": pd.Series([], dtype=object)}), "no rows"),
        (["a", "b"], r"expected a pandas DataFrame, got list; send pd.DataFrame"),
    ],
    ids=["missing-column", "none", "nan", "int", "list", "blank", "empty", "not-a-frame"],
)
def test_bad_text_input_names_the_row_and_the_fix(frame, message) -> None:
    with pytest.raises(ValueError, match=message):
        frame_to_texts(frame)


def test_texts_to_frame_rejects_a_bare_string() -> None:
    with pytest.raises(ValueError, match="one string; wrap it in a list"):
        texts_to_frame("just one document")
