"""The served table contracts, without MLflow: pivot, order and errors that name the fault."""

from __future__ import annotations

import os
from dataclasses import replace

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DVC_NO_ANALYTICS", "1")

import json  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from tokfrag.registry.frames import (  # noqa: E402
    ClassifyContract,
    ForecastContract,
    forecasts_to_frame,
    frame_to_texts,
    frame_to_windows,
    probabilities_to_frame,
    read_contract,
    texts_to_frame,
    windows_to_frame,
)

NODES = ("a", "b", "c")


@pytest.fixture
def contract() -> ForecastContract:
    return ForecastContract(node_ids=NODES, lags=2, horizon=2, dataset="toy", family="token")


def _windows(s: int = 3) -> np.ndarray:
    return np.arange(s * len(NODES) * 2, dtype=float).reshape(s, len(NODES), 2)  # (S, N, L)


def test_round_trip_in_any_row_order(contract: ForecastContract) -> None:
    windows = _windows()
    frame = windows_to_frame(windows, NODES, window_ids=[10, 11, 12])
    assert list(frame.columns) == ["window", "node", "lag_2", "lag_1"]
    # lag_1 is the most recent step, i.e. the last one of each window.
    assert frame.loc[0, "lag_1"] == windows[0, 0, -1]

    shuffled = frame.sample(frac=1.0, random_state=1)
    ids, back, times = frame_to_windows(shuffled, contract)

    assert ids.tolist() == [10, 11, 12] and times is None
    np.testing.assert_array_equal(back, windows)


@pytest.mark.parametrize("kind", ["steps", "dates"])
def test_times_round_trip_per_window(contract: ForecastContract, kind: str) -> None:
    steps = np.array([520, 7, 99])
    times = (
        steps if kind == "steps" else np.datetime64("2012-03-01") + steps * np.timedelta64(5, "m")
    )
    frame = windows_to_frame(_windows(), NODES, window_ids=[10, 11, 12], times=times)
    assert list(frame.columns) == ["window", "time", "node", "lag_2", "lag_1"]
    if kind == "dates":
        contract = replace(contract, time_unit="ns")
    _, _, back = frame_to_windows(frame.sample(frac=1.0, random_state=2), contract)
    expected = steps if kind == "steps" else times.astype("datetime64[ns]").astype(np.int64)
    np.testing.assert_array_equal(back, expected)


def test_a_time_of_the_wrong_kind_is_refused(contract: ForecastContract) -> None:
    dates = np.datetime64("2012-03-01") + np.arange(2) * np.timedelta64(5, "m")
    with pytest.raises(ValueError, match="counts steps: give the step number"):
        frame_to_windows(windows_to_frame(_windows(2), NODES, times=dates), contract)
    by_dates = replace(contract, time_unit="ns")
    with pytest.raises(ValueError, match="has dates: give the date"):
        frame_to_windows(windows_to_frame(_windows(2), NODES, times=np.array([3, 4])), by_dates)


def test_a_window_with_two_times_is_refused(contract: ForecastContract) -> None:
    frame = windows_to_frame(_windows(2), NODES, times=np.array([3, 4]))
    frame.loc[4, "time"] = 9  # window 1, node b
    with pytest.raises(ValueError, match="window 1: its rows give different times"):
        frame_to_windows(frame, contract)


def test_output_rows_follow_window_then_node_order(contract: ForecastContract) -> None:
    forecasts = np.arange(2 * 3 * 2, dtype=float).reshape(2, 3, 2)  # (S, N, H)
    out = forecasts_to_frame(np.array([5, 9]), forecasts, contract)
    assert list(out.columns) == ["window", "node", "h1", "h2"]
    assert out["window"].tolist() == [5, 5, 5, 9, 9, 9]
    assert out["node"].tolist() == list(NODES) * 2
    np.testing.assert_array_equal(out[["h1", "h2"]].to_numpy(), forecasts.reshape(6, 2))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda f: f[~((f.window == 1) & (f.node == "b"))], r"window 1: missing node\(s\) \['b'\]"),
        (lambda f: f.replace({"node": {"c": "zz"}}), r"window 0: unknown node 'zz'"),
        (lambda f: pd.concat([f, f.iloc[[4]]]), r"window 1: node 'b' appears 2 times"),
        (lambda f: f.drop(columns="lag_2"), r"missing column\(s\) \['lag_2'\]"),
        (lambda f: f.assign(lag_1=np.where(f.index == 2, np.nan, f.lag_1)), r"'c': .*finite"),
        (lambda f: f.iloc[:0], "no rows"),
    ],
    ids=["missing-node", "unknown-node", "duplicate-node", "missing-column", "nan", "empty"],
)
def test_bad_input_names_window_and_node(contract: ForecastContract, edit, message) -> None:
    frame = windows_to_frame(_windows(2), NODES)
    with pytest.raises(ValueError, match=message):
        frame_to_windows(edit(frame), contract)


def test_contract_round_trips_through_json(contract: ForecastContract, tmp_path) -> None:
    assert ForecastContract.read(contract.write(tmp_path)) == contract
    with pytest.raises(ValueError, match="duplicates"):
        ForecastContract(node_ids=("a", "a"), lags=2, horizon=1, dataset="t", family="token")


# --- text ---------------------------------------------------------------------------------

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


def test_contracts_carry_their_kind_and_read_back_as_the_right_class(
    contract, text_contract, tmp_path
) -> None:
    series_dir, text_dir = tmp_path / "s", tmp_path / "t"
    series_dir.mkdir()
    text_dir.mkdir()
    contract.write(series_dir)
    text_contract.write(text_dir)

    assert json.loads((text_dir / "contract.json").read_text())["kind"] == "text"
    assert json.loads((series_dir / "contract.json").read_text())["kind"] == "series"
    assert read_contract(text_dir) == text_contract
    assert read_contract(series_dir / "contract.json") == contract
    assert ClassifyContract.read(text_dir) == text_contract
    with pytest.raises(ValueError, match="is a 'text' contract, not 'series'"):
        ForecastContract.read(text_dir)

    # A contract written before kinds existed is a series one.
    legacy = {k: v for k, v in contract.to_dict().items() if k != "kind"}
    (series_dir / "contract.json").write_text(json.dumps(legacy))
    assert read_contract(series_dir) == contract


def test_contracts_rank_by_their_own_metric(contract, text_contract) -> None:
    assert (contract.primary_metric, contract.higher_is_better) == ("test_mse", False)
    assert (text_contract.primary_metric, text_contract.higher_is_better) == (
        "test_accuracy",
        True,
    )


@pytest.mark.parametrize(
    ("labels", "message"),
    [((), "empty"), (("a", "a"), "duplicates"), (("a", ""), "empty name"), ("ab", "sequence")],
)
def test_bad_label_names_are_refused(labels, message) -> None:
    with pytest.raises(ValueError, match=message):
        ClassifyContract(label_names=labels, dataset="t", family="token")
