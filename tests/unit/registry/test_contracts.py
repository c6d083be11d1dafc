"""The served table contracts: their contract.json, their kind, ranking and refusals."""

from __future__ import annotations

import os

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DVC_NO_ANALYTICS", "1")

import json  # noqa: E402

import pytest  # noqa: E402

from tokfrag.registry.contracts import (  # noqa: E402
    ClassifyContract,
    ForecastContract,
    read_contract,
)

NODES = ("a", "b", "c")
LABELS = ("neg", "pos", "neutral")


@pytest.fixture
def contract() -> ForecastContract:
    return ForecastContract(node_ids=NODES, lags=2, horizon=2, dataset="toy", family="token")


@pytest.fixture
def text_contract() -> ClassifyContract:
    return ClassifyContract(label_names=LABELS, dataset="toy", family="token")


def test_contract_round_trips_through_json(contract: ForecastContract, tmp_path) -> None:
    assert ForecastContract.read(contract.write(tmp_path)) == contract
    with pytest.raises(ValueError, match="duplicates"):
        ForecastContract(node_ids=("a", "a"), lags=2, horizon=1, dataset="t", family="token")


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
