"""The comparison as rows, and the plain-words verdict, shared by the console and HTML."""

from __future__ import annotations

from typing import Any

FAMILY_ORDER = {"token": 0, "fragment": 1, "baseline": 2}


def comparison_rows(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per model, families first, each group by test MSE (lowest first)."""
    rows = [{"model": name, **entry} for name, entry in metrics["models"].items()]
    return sorted(rows, key=lambda r: (FAMILY_ORDER.get(r["family"], 9), r["test_mse"]))


def verdict(metrics: dict[str, Any]) -> str:
    """Which family won on test MSE, by how much, and whether it beats the best baseline."""
    models = metrics["models"]
    token, fragment = models["token"]["test_mse"], models["fragment"]["test_mse"]
    # Ties go to the token family, as in the registry (the first candidate listed wins a tie).
    winner, loser = ("fragment", "token") if fragment < token else ("token", "fragment")
    w, lo = models[winner]["test_mse"], models[loser]["test_mse"]
    baselines = {k: v for k, v in models.items() if v["family"] == "baseline"}
    best_name = min(baselines, key=lambda k: baselines[k]["test_mse"])
    best = baselines[best_name]["test_mse"]
    gap = (lo - w) / lo * 100 if lo else 0.0
    sentence = (
        f"{winner} wins on test MSE: {w:.4f} against {loser}'s {lo:.4f} "
        f"({gap:.1f}% lower, single seed, no significance test yet)."
    )
    if w < best:
        sentence += f" It also beats the best baseline, {best_name} ({best:.4f})."
    else:
        sentence += (
            f" It does NOT beat the best baseline, {best_name} ({best:.4f}): "
            "neither family has learned more than that baseline here."
        )
    return sentence
