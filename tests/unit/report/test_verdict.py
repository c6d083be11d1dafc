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
