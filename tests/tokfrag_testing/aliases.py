"""Which registered family should hold `champion` and `challenger` after a round, read from
the evaluation's ``metrics.json`` (what the verdict decided, and the registered seed's
figures), for tests that check a registration followed its evaluation."""

from __future__ import annotations

from typing import Any

FAMILIES = ("token", "fragment")


def expected_aliases(metrics: dict[str, Any]) -> tuple[str, str]:
    """``(champion, challenger)`` as registered family names (``baseline`` for the best
    baseline), for a first round (no earlier champion to defend its alias)."""
    verdict, models = metrics["verdict"], metrics["models"]
    if verdict["champion"] not in FAMILIES:
        return "baseline", verdict["chosen"]
    primary = metrics["primary_metric"]
    sign = -1.0 if metrics["higher_is_better"] else 1.0
    best = (verdict["strongest_baseline"] or verdict["baseline"])["name"]
    score = {f: models[f]["per_seed"][0][primary] for f in FAMILIES}
    score["baseline"] = models[best][primary]
    rest = sorted((c for c in score if c != verdict["champion"]), key=lambda c: sign * score[c])
    return verdict["champion"], rest[0]
