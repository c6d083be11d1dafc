"""The verdict rule on real bootstrap intervals: a significant winner, or the cheaper model."""

from __future__ import annotations

import numpy as np
import pytest

from tokfrag.report.decision import cheaper, decide

RNG = np.random.default_rng(0)
N = 300


def _models(**costs: dict) -> dict:
    base = {
        "token": {"family": "token", "n_params": 1000, "latency_ms_p50": 2.0},
        "fragment": {"family": "fragment", "n_params": 500, "latency_ms_p50": 3.0},
        "ridge_ar": {"family": "baseline"},
        "zero": {"family": "baseline"},
    }
    for name, extra in costs.items():
        base[name].update(extra)
    return base


def _forecast(items: dict) -> tuple[dict, dict]:
    models = _models()
    for name, values in items.items():
        models[name]["test_mse"] = float(np.mean(values))
    return models, items


def _decide(models: dict, items: dict, **kw) -> dict:
    return decide(
        models,
        items,
        task="forecasting",
        primary="test_mse",
        label="test MSE",
        higher_is_better=False,
        resamples=500,
        **kw,
    )


def test_a_clear_difference_names_the_winner_with_its_interval_and_test() -> None:
    noise = RNG.normal(0, 0.1, N)
    models, items = _forecast(
        {
            "token": 1.0 + noise,
            "fragment": 0.7 + noise + RNG.normal(0, 0.05, N),
            "ridge_ar": 0.9 + noise,
            "zero": 2.0 + noise,
        }
    )
    verdict = _decide(models, items)
    assert verdict["winner"] == verdict["chosen"] == "fragment"
    d = verdict["difference"]
    assert d["low"] > 0 and d["estimate"] == pytest.approx(0.3, abs=0.02)  # token - fragment
    assert (
        verdict["test"]["name"].startswith("Diebold-Mariano") and verdict["test"]["p_value"] < 1e-6
    )
    assert verdict["baseline"]["name"] == "ridge_ar" and verdict["baseline"]["beaten"]
    text = verdict["sentence"]
    assert text.startswith("fragment wins on test MSE")
    assert "95% CI" in text and "Diebold-Mariano" in text and "beats the baseline ridge_ar" in text


def test_no_significant_difference_picks_the_cheaper_model_and_says_so() -> None:
    shared = RNG.normal(1.0, 0.2, N)
    models, items = _forecast(
        {
            "token": shared + RNG.normal(0, 0.01, N),
            "fragment": shared + RNG.normal(0, 0.01, N),
            "ridge_ar": shared - 0.5,
            "zero": shared + 1,
        }
    )
    verdict = _decide(models, items)
    assert verdict["winner"] is None
    assert verdict["chosen"] == "fragment"  # 500 parameters against 1000
    assert verdict["reason"] == "cheaper by n_params"
    assert verdict["sentence"].startswith("No significant difference on test MSE")
    assert "does NOT beat the baseline ridge_ar" in verdict["sentence"]
    assert verdict["baseline"]["worse"]
    # With equal sizes the median latency decides.
    models["fragment"]["n_params"] = 1000
    assert _decide(models, items)["chosen"] == "token"


def test_cheaper_falls_through_its_keys_in_order() -> None:
    models = _models(fragment={"n_params": 1000, "latency_ms_p50": 1.0})
    assert cheaper(models, ["n_params", "latency_ms_p50"]) == ("fragment", "latency_ms_p50")
    assert cheaper(models, ["n_params"]) == ("token", "tie")


def test_classification_uses_mcnemar_on_the_registered_answers() -> None:
    truth_token = RNG.random(N) < 0.9
    truth_fragment = RNG.random(N) < 0.6
    items = {
        "token": truth_token.astype(float),
        "fragment": truth_fragment.astype(float),
        "tfidf_logreg": (RNG.random(N) < 0.7).astype(float),
        "majority": np.zeros(N),
    }
    models = {
        "token": {"family": "token", "n_params": 10},
        "fragment": {"family": "fragment", "n_params": 5},
        "tfidf_logreg": {"family": "baseline"},
        "majority": {"family": "baseline"},
    }
    for name, values in items.items():
        models[name]["test_accuracy"] = float(values.mean())
    verdict = decide(
        models,
        items,
        task="classification",
        primary="test_accuracy",
        label="test accuracy",
        higher_is_better=True,
        resamples=500,
    )
    assert verdict["chosen"] == verdict["winner"] == "token"
    assert verdict["test"]["name"].startswith("McNemar") and verdict["test"]["p_value"] < 1e-6
    assert verdict["baseline"]["name"] == "tfidf_logreg" and verdict["baseline"]["beaten"]


def _baseline_cost(models: dict) -> dict:
    models["ridge_ar"].update(n_params=13, latency_ms_p50=0.1)
    models["zero"].update(n_params=0, latency_ms_p50=0.05)
    return models


def test_a_baseline_that_beats_the_family_winner_is_champion_and_the_winner_challenger() -> None:
    noise = RNG.normal(0, 0.1, N)
    models, items = _forecast(
        {
            "token": 1.0 + noise,
            "fragment": 0.8 + noise + RNG.normal(0, 0.05, N),
            "ridge_ar": 0.6 + noise + RNG.normal(0, 0.05, N),
            "zero": 2.0 + noise,
        }
    )
    verdict = _decide(_baseline_cost(models), items)
    assert verdict["chosen"] == "fragment" and verdict["baseline"]["worse"]
    assert verdict["champion"] == "ridge_ar"
    assert "significantly better" in verdict["champion_reason"]
    assert "So the champion is the baseline ridge_ar" in verdict["sentence"]
    assert "fragment, the family winner, is the challenger" in verdict["sentence"]


def test_a_family_winner_that_beats_every_baseline_is_champion() -> None:
    noise = RNG.normal(0, 0.1, N)
    models, items = _forecast(
        {
            "token": 1.0 + noise,
            "fragment": 0.6 + noise + RNG.normal(0, 0.05, N),
            "ridge_ar": 0.8 + noise + RNG.normal(0, 0.05, N),
            "zero": 2.0 + noise,
        }
    )
    verdict = _decide(_baseline_cost(models), items)
    assert verdict["champion"] == verdict["chosen"] == "fragment"
    assert verdict["sentence"].endswith("fragment is the champion.")


def test_a_baseline_no_different_from_the_winner_is_champion_by_being_cheaper() -> None:
    shared = RNG.normal(1.0, 0.2, N)
    models, items = _forecast(
        {
            "token": shared + 0.5,
            "fragment": shared + RNG.normal(0, 0.01, N),
            "ridge_ar": shared + RNG.normal(0, 0.01, N),
            "zero": shared + 1,
        }
    )
    verdict = _decide(_baseline_cost(models), items)
    held = verdict["baseline"]
    assert verdict["chosen"] == "fragment" and not held["beaten"] and not held["worse"]
    assert verdict["champion"] == "ridge_ar"
    assert "cheaper by n_params" in verdict["champion_reason"]
    assert "no different and cheaper (13 parameters against 500)" in verdict["sentence"]


def test_series_intervals_are_block_bootstrap_and_say_their_block_length() -> None:
    # Autocorrelated differences (AR(1), as consecutive overlapping windows give): the
    # interval is a block bootstrap whose block length the text states; a horizon of 12
    # makes the blocks at least 12 long.
    d = np.zeros(N)
    for t in range(1, N):
        d[t] = 0.9 * d[t - 1] + RNG.normal(0, 0.1)
    base = RNG.normal(1.0, 0.1, N)
    models, items = _forecast(
        {"token": base + d, "fragment": base, "ridge_ar": base + 1, "zero": base + 2}
    )
    verdict = _decide(models, items, horizon=12)
    method = verdict["difference"]["method"]
    assert "block" in method and "block" in verdict["sentence"]
    length = int(method.rsplit(" ", 1)[-1].rstrip(")"))
    assert length >= 12
    iid = _decide(models, items)  # horizon 1: still blocks for series, chosen from the data
    assert "block" in iid["difference"]["method"]
