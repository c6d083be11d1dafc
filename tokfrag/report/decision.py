"""The verdict: which family wins, by how much, how sure we are, what it costs, and which
model is the champion once the baselines are counted.

The rule (``verdict`` in params.yaml) is explicit. Every family is scored on the same test
items, and the two with the best mean score (with two families registered, both) are
compared; a family wins when the paired bootstrap interval of the difference in the primary
metric excludes zero. Otherwise there is no significant difference and the cheaper model is
chosen (fewer parameters, then lower median latency, by default). The chosen family is then
held against the named baseline of its task (AR ridge for series, TF-IDF + logistic
regression for text) and against the best-scoring baseline by the same interval, and the
sentence says plainly whether it beats them.

The same rule then picks the champion against everything: the chosen family keeps it only
when it beats the best-scoring baseline; when that baseline is better, or no different and
cheaper, the baseline is the champion and the family winner its challenger.

Item scores are whatever averages to the primary metric: a window's squared error (MSE) or a
document's 0/1 correctness (accuracy). Series items are consecutive, overlapping windows, so
their intervals come from a stationary block bootstrap whose mean block length is chosen
from the data (at least the horizon) and stated in the text; text items are resampled one by
one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

import numpy as np

from tokfrag.families import BASELINE, FAMILIES
from tokfrag.report.stats import (
    Interval,
    block_length_for,
    diebold_mariano,
    mcnemar,
    paired_bootstrap,
)


class _Bootstrap(TypedDict):
    """The keyword arguments of :func:`compare_items` that every comparison of a verdict shares."""

    horizon: int | None
    confidence: float
    resamples: int
    seed: int


# The baseline each task's winner must beat, by name: the strongest simple model of the task.
NAMED_BASELINE = {"forecasting": "ridge_ar", "classification": "tfidf_logreg"}
COST_LABELS = {
    "n_params": "parameters",
    "latency_ms_p50": "median latency (ms per item)",
    "train_seconds": "training seconds",
}


def _interval_dict(interval: Interval) -> dict[str, Any]:
    return {
        "estimate": interval.estimate,
        "low": interval.low,
        "high": interval.high,
        "confidence": interval.confidence,
        "n_items": interval.n_items,
        "method": f"paired bootstrap ({interval.method})",
    }


def _favours(interval: Interval, higher_is_better: bool) -> int:
    """+1 when the interval says a beats b, -1 when b beats a, 0 when it cannot tell."""
    if not interval.excludes_zero():
        return 0
    a_higher = interval.low > 0
    return 1 if a_higher == higher_is_better else -1


def cheaper(
    models: Mapping[str, Mapping[str, Any]],
    keys: Sequence[str],
    names: Sequence[str] = FAMILIES,
) -> tuple[str, str]:
    """Which of the models ``names`` (the families by default) costs least by ``keys`` in
    order, and the cost that decided it. At each key the cheapest stay in; a key that one of
    them lacks, or on which they all tie, decides nothing; a tie left at the end falls to the
    first name (the cost ``"tie"``)."""
    left = list(names)
    for key in keys:
        costs = [models[name].get(key) for name in left]
        if None in costs or len(set(costs)) == 1:
            continue
        lowest = min(cost for cost in costs if cost is not None)  # no None left here
        left = [name for name, cost in zip(left, costs, strict=True) if cost == lowest]
        if len(left) == 1:
            return left[0], key
    return left[0], "tie"


def _contenders(items: Mapping[str, np.ndarray], higher_is_better: bool) -> tuple[str, str]:
    """The two families the paired comparison is between, in registry order: the two with
    the best mean item score (with two families registered, both of them)."""
    sign = -1.0 if higher_is_better else 1.0
    best_two = sorted(FAMILIES, key=lambda f: sign * float(np.mean(items[f])))[:2]
    first, second = sorted(best_two, key=FAMILIES.index)
    return first, second


def compare_items(
    a: np.ndarray,
    b: np.ndarray,
    *,
    horizon: int | None,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> Interval:
    """The paired bootstrap interval of ``mean(a - b)`` over the same test items ``(n,)``.

    ``horizon`` given (series: items are consecutive windows forecasting ``horizon`` steps):
    a stationary block bootstrap, with the mean block length chosen from the differences and
    at least ``horizon``. ``None`` (text: independent documents): items one by one."""
    block = None
    if horizon is not None:
        # A test split no longer than the horizon: the blocks are as long as it allows.
        block = min(block_length_for(a, b, horizon=min(horizon, len(a) - 1)), len(a) - 1)
    return paired_bootstrap(
        a, b, confidence=confidence, n_resamples=resamples, seed=seed, block_length=block
    )


def decide(
    models: Mapping[str, Mapping[str, Any]],
    items: Mapping[str, np.ndarray],
    *,
    task: str,
    primary: str,
    label: str,
    higher_is_better: bool,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
    cheaper_by: Sequence[str] = ("n_params", "latency_ms_p50"),
    horizon: int = 1,
    registered_correct: Mapping[str, np.ndarray] | None = None,
) -> dict[str, Any]:
    """Apply the verdict rule.

    Args:
        models: ``metrics.json`` entries by model name; every family must be present.
        items: per-item scores by model name, shape ``(n,)``, the same ``n`` test items in
            the same order for every model (families: averaged over their seeds).
        registered_correct: classification only, the registered (first-seed) models' 0/1
            answers by family, for McNemar's test.
    """
    boot: _Bootstrap = {
        "confidence": confidence,
        "resamples": resamples,
        "seed": seed,
        "horizon": horizon if task == "forecasting" else None,
    }
    first, second = _contenders(items, higher_is_better)
    interval = compare_items(items[first], items[second], **boot)
    direction = _favours(interval, higher_is_better)
    if task == "forecasting":
        test = diebold_mariano(items[first], items[second], horizon=horizon)
    else:
        answers = registered_correct or {f: items[f] > 0.5 for f in (first, second)}
        test = mcnemar(answers[first], answers[second])
    if direction:
        winner = first if direction > 0 else second
        chosen, reason = winner, "significant"
    else:
        winner = None
        chosen, cost = cheaper(models, cheaper_by, names=(first, second))
        reason = f"cheaper by {cost}"

    baselines = [k for k, v in models.items() if v.get("family") == BASELINE]
    if not baselines:
        raise ValueError("the verdict needs at least one baseline model beside the families")
    sign = -1.0 if higher_is_better else 1.0
    strongest = min(baselines, key=lambda k: sign * float(models[k][primary]))
    baseline = NAMED_BASELINE[task]
    if baseline not in models:  # a dataset without the named baseline: its best baseline
        baseline = strongest

    def held_against(name: str) -> dict[str, Any]:
        against = compare_items(items[chosen], items[name], **boot)
        return {
            "name": name,
            "difference": {"of": f"{chosen} - {name}", **_interval_dict(against)},
            "beaten": _favours(against, higher_is_better) > 0,
            "worse": _favours(against, higher_is_better) < 0,
        }

    verdict = {
        "rule": (
            f"a family wins when the {confidence:.0%} paired bootstrap interval of the "
            f"difference in {label} excludes zero; otherwise the cheaper model "
            f"(by {', then '.join(cheaper_by)}) is chosen; the chosen family is champion "
            "only when it beats the best-scoring baseline the same way, else that baseline is"
        ),
        "metric": primary,
        "label": label,
        "higher_is_better": higher_is_better,
        "difference": {"of": f"{first} - {second}", **_interval_dict(interval)},
        "test": {"name": test.name, "statistic": test.statistic, "p_value": test.p_value},
        "winner": winner,
        "chosen": chosen,
        "reason": reason,
        "baseline": held_against(baseline),
        # The best-scoring baseline when it is not the named one (e.g. the ridge with the
        # families' calendar covariates): the chosen model is held against it too.
        "strongest_baseline": None if strongest == baseline else held_against(strongest),
    }
    verdict["champion"], verdict["champion_reason"] = _champion(verdict, models, chosen, cheaper_by)
    verdict["sentence"] = sentence(verdict, models, (first, second))
    return verdict


def _champion(
    verdict: Mapping[str, Any],
    models: Mapping[str, Mapping[str, Any]],
    chosen: str,
    cheaper_by: Sequence[str],
) -> tuple[str, str]:
    """The model the rule picks against everything: the chosen family, or the best-scoring
    baseline when that baseline is better, or no different and cheaper. Returns the model's
    name and why."""
    best = verdict["strongest_baseline"] or verdict["baseline"]  # the best-scoring baseline
    name = best["name"]
    if best["beaten"]:
        return chosen, f"{chosen} beats the best baseline {name}"
    if best["worse"]:
        return name, f"the baseline {name} is significantly better than {chosen}"
    pick, cost = cheaper(models, cheaper_by, names=(chosen, name))
    if pick == chosen:
        return chosen, f"no significant difference from {name}; {chosen} is not dearer"
    return name, f"no significant difference from {chosen}; {name} is cheaper by {cost}"


def _ci(d: Mapping[str, Any]) -> str:
    return f"{d['estimate']:+.4f}, {d['confidence']:.0%} CI [{d['low']:+.4f}, {d['high']:+.4f}]"


def sentence(
    verdict: Mapping[str, Any],
    models: Mapping[str, Mapping[str, Any]],
    compared: tuple[str, str],
) -> str:
    """The verdict in words: metric, difference, interval, test, and the baseline.
    ``compared``: the two families the difference is between, in its order."""
    metric, label = verdict["metric"], verdict["label"]
    diff, test = verdict["difference"], verdict["test"]
    value = {f: float(models[f][metric]) for f in compared}
    evidence = (
        f"difference {diff['of']} {_ci(diff)} ({diff['method']} over "
        f"{diff['n_items']} test items); {test['name']} p = {test['p_value']:.3g}"
    )
    chosen = verdict["chosen"]
    first, second = compared
    other = second if chosen == first else first
    if verdict["winner"]:
        text = (
            f"{chosen} wins on {label}: {value[chosen]:.4f} against {other}'s "
            f"{value[other]:.4f} ({evidence})."
        )
    else:
        cost = verdict["reason"].removeprefix("cheaper by ")
        costs = ""
        if cost in COST_LABELS:
            mine, theirs = models[chosen].get(cost), models[other].get(cost)
            costs = f": {mine:,.4g} {COST_LABELS[cost]} against {theirs:,.4g}"
        text = (
            f"No significant difference on {label}: {first} {value[first]:.4f}, {second} "
            f"{value[second]:.4f} ({evidence}). {chosen} is chosen as the cheaper "
            f"model{costs}."
        )
    text += _against(verdict["baseline"], models, metric, "the baseline")
    if verdict.get("strongest_baseline"):
        text += _against(verdict["strongest_baseline"], models, metric, "the strongest baseline")
    return text + _crowned(verdict, models)


def _crowned(verdict: Mapping[str, Any], models: Mapping[str, Mapping[str, Any]]) -> str:
    """One sentence: which model the rule makes champion, when it is not the family winner."""
    champion, chosen = verdict.get("champion"), verdict["chosen"]
    if champion is None or champion == chosen:
        return f" {chosen} is the champion."
    best = verdict["strongest_baseline"] or verdict["baseline"]
    if best["worse"]:
        why = "it is significantly better"
    else:
        cost = verdict["champion_reason"].rsplit("cheaper by ", 1)[-1]
        label = COST_LABELS.get(cost, cost)
        mine, theirs = models[champion].get(cost), models[chosen].get(cost)
        amounts = (
            f" ({mine:,.4g} {label} against {theirs:,.4g})"
            if isinstance(mine, int | float) and isinstance(theirs, int | float)
            else ""
        )
        why = f"it is no different and cheaper{amounts}"
    return (
        f" So the champion is the baseline {champion}, because {why}; {chosen}, the family "
        "winner, is the challenger."
    )


def _against(base: Mapping[str, Any], models: Mapping[str, Any], metric: str, what: str) -> str:
    """One sentence: does the chosen model beat this baseline?"""
    reference = (
        f"{what} {base['name']} ({float(models[base['name']][metric]):.4f}; "
        f"{_ci(base['difference'])})"
    )
    if base["beaten"]:
        return f" It beats {reference}."
    if base["worse"]:
        return f" It does NOT beat {reference}: the baseline is better."
    return f" It does NOT beat {reference}: no significant difference."
