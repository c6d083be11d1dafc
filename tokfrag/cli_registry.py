"""The model registry as `tokfrag` shows it: ``registry.json`` and the registered versions
in words, and the side-by-side table of `tokfrag compare`.

Plain data in (the dicts of ``registry.json`` and of
:func:`tokfrag.registry.describe_registry`), lines or a rich table out; no MLflow import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tokfrag.families import BASELINE

if TYPE_CHECKING:
    from rich.table import Table

ALIASES = ("champion", "challenger")  # tokfrag.registry's CHAMPION and CHALLENGER


def registration_words(reg: dict[str, Any]) -> list[str]:
    """``registry.json`` in words: the champion's URI and what it is, a family winner kept
    as challenger because a baseline beat it, and the gate's answer."""
    verdict = reg.get("verdict") or {}
    champion = reg["champion"]
    if champion == BASELINE and reg.get("promoted", True) and verdict.get("champion"):
        champion = f"the baseline {verdict['champion']}"
    lines = [f"champion: {reg['uri']} = {champion} (version {reg['champion_version']})"]
    chosen = verdict.get("chosen")
    if verdict.get("champion") not in (None, chosen) and reg.get("challenger") == chosen:
        lines.append(
            f"          {chosen}, the family winner, is challenger (version "
            f"{reg['challenger_version']}): {verdict['champion_reason']}"
        )
    if "gate" in reg:
        lines.append(f"gate:     {reg['gate']['reason']}")
    return lines


def alias_words(rows: list[dict[str, Any]]) -> list[str]:
    """What the ``champion`` and ``challenger`` versions are, in words: which model, and
    why it holds its alias (the verdict's reason, or how it was promoted)."""
    lines = []
    for alias in ALIASES:
        for r in rows:
            if alias not in r["aliases"]:
                continue
            what = r["family"] if r["family"] != BASELINE else f"the baseline {r['baseline']}"
            why = r.get("promotion") if alias == "champion" and r.get("promotion") else r["verdict"]
            if alias == "challenger" and why and why.startswith("verdict's champion"):
                why += "; the promotion gate kept the earlier champion"
            lines.append(f"{alias}: version {r['version']}, {what}" + (f" ({why})" if why else ""))
    return lines


def versions_table(rows: list[dict[str, Any]], title: str) -> Table:
    """The registered versions side by side: family, model, aliases, up to four test
    metrics (no per-horizon or ``_std`` ones), size, latency, training time and commit."""
    from rich.table import Table

    metric_keys = sorted({k for r in rows for k in r["metrics"] if not k.endswith("_std")})
    shown = [k for k in metric_keys if "_h" not in k][:4]
    table = Table(title=title)
    columns = [
        "version", "family", "model", "aliases", *shown, "params", "p50 ms", "train s", "commit"
    ]  # fmt: skip
    for column in columns:
        left = column in ("family", "model", "aliases")
        table.add_column(column, justify="left" if left else "right")
    for r in rows:
        costs = r.get("costs", {})
        table.add_row(
            str(r["version"]),
            r["family"] or "?",
            r.get("baseline") or r.get("model_kind") or "-",  # which baseline, by name
            ", ".join(r["aliases"]) or "-",
            *(f"{r['metrics'][k]:.4f}" if k in r["metrics"] else "-" for k in shown),
            f"{costs['n_params']:,.0f}" if "n_params" in costs else "-",
            f"{costs['latency_ms_p50']:.2f}" if "latency_ms_p50" in costs else "-",
            f"{costs['train_seconds']:.1f}" if "train_seconds" in costs else "-",
            (r.get("git_commit") or "-")[:8],
        )
    return table
