"""Who holds champion and challenger: ranking and the gate's answer, without a store."""

from __future__ import annotations

import os

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DVC_NO_ANALYTICS", "1")

from types import SimpleNamespace  # noqa: E402

from tokfrag.registry.aliases import Aliases, choose_aliases, rank  # noqa: E402
from tokfrag.registry.contracts import ClassifyContract, ForecastContract  # noqa: E402

SERIES = ForecastContract(node_ids=("a",), lags=1, horizon=1, dataset="t", family="token")
TEXT = ClassifyContract(label_names=("neg", "pos"), dataset="t", family="token")
VERSIONS = {"token": 4, "fragment": 5, "baseline": 6}


def _scored(metric: str, **values: float) -> list[SimpleNamespace]:
    return [SimpleNamespace(family=f, metrics={metric: v}) for f, v in values.items()]


def test_rank_follows_the_contract_and_ties_keep_the_listed_order() -> None:
    series = _scored("test_mse", token=0.5, fragment=0.25, baseline=0.5)
    assert rank(series, SERIES) == ["fragment", "token", "baseline"]
    text = _scored("test_accuracy", token=0.5, fragment=0.25, baseline=0.75)
    assert rank(text, TEXT) == ["baseline", "token", "fragment"]
    assert rank(series, SERIES, winner="baseline") == ["baseline", "fragment", "token"]


def test_promoted_best_is_champion_and_the_named_challenger_waits() -> None:
    ranked = ["fragment", "token", "baseline"]
    assert choose_aliases(ranked, VERSIONS, ("token", 1), promote=True) == Aliases(
        "fragment", 5, "token", 4, True
    )
    assert choose_aliases(ranked, VERSIONS, None, promote=False, challenger="baseline") == Aliases(
        "fragment", 5, "baseline", 6, True
    )
    assert choose_aliases(["token"], VERSIONS, None, promote=True) == Aliases(
        "token", 4, None, None, True
    )


def test_held_back_the_old_champion_stays_and_the_newcomer_waits() -> None:
    ranked = ["fragment", "token"]
    assert choose_aliases(ranked, VERSIONS, ("token", 1), promote=False) == Aliases(
        "token", 1, "fragment", 5, False
    )
    assert choose_aliases(
        ranked, VERSIONS, ("token", 1), promote=False, challenger="token"
    ) == Aliases("token", 1, "token", 4, False)
    # The best already holds the alias: nothing to hold back.
    assert choose_aliases(ranked, VERSIONS, ("fragment", 5), promote=False).promoted
