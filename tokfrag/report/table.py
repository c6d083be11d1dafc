"""The comparison as rows, and the plain-words verdict, shared by the console and HTML.

Both read the task's own description from ``metrics.json``: ``primary_metric`` (what decides),
``higher_is_better``, and ``columns`` (the figures to show, with their display names).
"""

from __future__ import annotations

from typing import Any

from tokfrag.families import BASELINE, FAMILIES

# Rows: the families in registry order, then the baselines, then anything else.
FAMILY_ORDER = {**{family: i for i, family in enumerate(FAMILIES)}, BASELINE: len(FAMILIES)}


def every_family() -> str:
    """All the families, as the report's sentences name them: "both families" for two."""
    return "both families" if len(FAMILIES) == 2 else f"all {len(FAMILIES)} families"


def columns(metrics: dict[str, Any]) -> dict[str, str]:
    """The figures to show, metric key -> display name, in the task's own order."""
    return dict(metrics["columns"])


def ranking_key(metrics: dict[str, Any]):
    """Sort key for model entries: best first by the primary metric."""
    primary, sign = metrics["primary_metric"], -1.0 if metrics["higher_is_better"] else 1.0
    return lambda entry: sign * float(entry[primary])


def value_text(row: dict[str, Any], key: str) -> str:
    """``mean ± std`` for a model fitted over several seeds, else the value."""
    std = row.get(f"{key}_std")
    if std and row.get("n_seeds", 1) > 1:
        return f"{row[key]:.4f} ± {std:.4f}"
    return f"{row[key]:.4f}"


def comparison_rows(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per model, families first, each group best first."""
    rows = [{"model": name, **entry} for name, entry in metrics["models"].items()]
    key = ranking_key(metrics)
    return sorted(rows, key=lambda r: (FAMILY_ORDER.get(r["family"], len(FAMILY_ORDER)), key(r)))


def verdict(metrics: dict[str, Any]) -> str:
    """The verdict sentence: the one :mod:`tokfrag.report.decision` wrote into
    ``metrics.json``, or (older files without it) the plain ranking on the primary metric."""
    if "verdict" in metrics:
        return metrics["verdict"]["sentence"]
    models, primary = metrics["models"], metrics["primary_metric"]
    label = columns(metrics).get(primary, primary)
    key = ranking_key(metrics)
    # The best family against the next best. Ties go to the family registered first, as in
    # the registry (the first candidate listed wins a tie).
    present = [f for f in FAMILIES if f in models]  # an older file may lack a newer family
    winner, runner_up = sorted(present, key=lambda f: key(models[f]))[:2]
    w, lo = models[winner][primary], models[runner_up][primary]
    baselines = {k: v for k, v in models.items() if v["family"] == BASELINE}
    best_name = min(baselines, key=lambda k: key(baselines[k]))
    best = baselines[best_name][primary]
    gap = abs(w - lo) / abs(lo) * 100 if lo else 0.0
    better = "higher" if metrics["higher_is_better"] else "lower"
    sentence = (
        f"{winner} wins on {label}: {w:.4f} against {runner_up}'s {lo:.4f} "
        f"({gap:.1f}% {better}, single seed, no significance test yet)."
    )
    if key(models[winner]) < key(baselines[best_name]):
        sentence += f" It also beats the best baseline, {best_name} ({best:.4f})."
    else:
        sentence += (
            f" It does NOT beat the best baseline, {best_name} ({best:.4f}): "
            f"{'neither' if len(FAMILIES) == 2 else 'no'} family has learned more than that "
            "baseline here."
        )
    return sentence


def budget_rows(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per family: the tuning budget it was given and what it used of it."""
    rows = []
    for family in FAMILIES:
        tuning = metrics.get("tuning", {}).get(family, {"tuned": False})
        if not tuning.get("tuned"):
            rows.append({"family": family, "tuned": False})
            continue
        used, configured, best = tuning["used"], tuning["configured"], tuning.get("best") or {}
        rows.append(
            {
                "family": family,
                "tuned": True,
                "model": tuning.get("model", ""),
                "trials": f"{used['trials']}/{configured['n_trials']}",
                "complete": used["complete"],
                "pruned": used["pruned"],
                "failed": used["failed"],
                "seconds": f"{used['seconds']:.0f}/{configured['timeout_seconds']:.0f}",
                "best_val_loss": best.get("value"),
            }
        )
    return rows


def budget_sentence(metrics: dict[str, Any]) -> str:
    """The tuning budget in words: what each family was given and used."""
    rows = budget_rows(metrics)
    if not any(r["tuned"] for r in rows):
        return f"Untuned: {every_family()} trained their configured model (tune.n_trials is 0)."
    # The same for every family: the evaluation refuses families tuned under different budgets.
    given = metrics["tuning"][FAMILIES[0]]["configured"]
    used = "; ".join(
        f"{r['family']} used {r['trials']} trials ({r['complete']} complete, {r['pruned']} "
        f"pruned, {r['failed']} failed) and {r['seconds']} s"
        for r in rows
    )
    return (
        f"Same tuning budget for {every_family()}: {given['n_trials']} trials and "
        f"{given['timeout_seconds']:.0f} s each; {used}."
    )


def missing_sentence(metrics: dict[str, Any]) -> str:
    """How the metrics treat gaps in the series (``protocol.missing``, written when
    ``data.missing`` is not the default), or ``""`` when the data had none to treat."""
    missing = metrics.get("protocol", {}).get("missing")
    if not missing:
        return ""
    policy = missing.get("policy", "")
    observed, targets = missing.get("observed_test_targets"), missing.get("test_targets")
    over = (
        f"computed over the {observed:,} observed of {targets:,} test targets"
        if observed is not None and targets is not None
        else "computed over the observed test targets only"
    )
    if policy == "mask":
        sentence = f"Metrics are masked: {over} (data.missing: mask)"
    elif policy == "interpolate":
        sentence = (
            "Gaps are interpolated (data.missing: interpolate): interpolated cells count as "
            f"readings, and any gaps left are masked, so metrics are {over}"
        )
    else:
        sentence = f"Missing readings are handled by data.missing: {policy}; metrics are {over}"
    dropped = missing.get("test_windows_without_target")
    if dropped:
        windows = missing.get("test_windows")
        of = f" of {windows:,}" if windows is not None else ""
        noun = "window" if dropped == 1 else "windows"
        verb = "is" if dropped == 1 else "are"
        sentence += (
            f"; {dropped:,}{of} test {noun} with no observed target {verb} left out of the "
            "paired comparison"
        )
    share = missing.get("missing_share")
    if share is not None:
        sentence += f". {share:.1%} of the series' readings are missing in the data"
    return sentence + "."
