"""The plots every task's report shows, and what they share.

The family colours and the matplotlib plumbing (:func:`pyplot`, :func:`save`), then one
function per plot: the primary metric per model (:func:`bar_chart`), the confusion matrices
of classification (:func:`classification_plots`), the learning curves of the final fits
(:func:`learning_curves`) and the Optuna history (:func:`history_chart`). Forecasting's own
plots are in :mod:`tokfrag.report.forecast_plots`, the missingness heat map in
:mod:`tokfrag.report.missingness`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tokfrag.families import BASELINE, FAMILIES
from tokfrag.report.table import columns

#: Family colours in registry order: a family registered later takes the next one.
PALETTE = ("#4C72B0", "#DD8452", "#55A868", "#8172B3", "#937860", "#DA8BC3", "#CCB974")
COLORS = {
    **{family: PALETTE[i % len(PALETTE)] for i, family in enumerate(FAMILIES)},
    BASELINE: "#8C8C8C",
}


def pyplot():
    """matplotlib's pyplot on the Agg backend (files only, no display), imported when a plot
    is first drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig: Any, path: Path) -> None:
    """Write ``fig`` to ``path`` as a PNG, and close it."""
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    pyplot().close(fig)


def bar_chart(metrics: dict[str, Any], rows: list[dict[str, Any]], path: Path) -> None:
    """The primary metric per model, one bar each in ``rows``' order, beside the published
    figures."""
    plt = pyplot()
    primary = metrics["primary_metric"]
    label = columns(metrics).get(primary, primary)
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(rows) + 1.2))
    names = [r["model"] for r in rows][::-1]
    values = [r[primary] for r in rows][::-1]
    ax.barh(names, values, color=[COLORS.get(r["family"], "#333") for r in rows][::-1])
    for i, v in enumerate(values):
        ax.text(v, i, f" {v:.4f}", va="center", fontsize=9)
    for ref in (p for p in metrics.get("published", []) if p["metric"] == primary):
        ax.axvline(ref["value"], color="#C44E52", ls="--", lw=1)
        ax.text(
            ref["value"],
            len(rows) - 0.5,
            f" {ref['model']} {ref['value']:.4f}",
            color="#C44E52",
            fontsize=8,
            va="bottom",
        )
    better = "higher" if metrics["higher_is_better"] else "lower"
    ax.set_xlabel(f"{label} ({better} is better)")
    top = max([*values, *(p["value"] for p in metrics.get("published", []))])
    ax.set_xlim(0, top * 1.2)
    ax.spines[["top", "right"]].set_visible(False)
    save(fig, path)


def _confusion_chart(matrix: list[list[int]], label_names: Sequence[str], title: str, path: Path):
    plt = pyplot()
    m = np.asarray(matrix)
    size = 1.2 + 0.55 * len(label_names)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    ax.imshow(m, cmap="Blues")
    ax.set_xticks(range(len(label_names)), label_names, rotation=45, ha="right")
    ax.set_yticks(range(len(label_names)), label_names)
    for (i, j), v in np.ndenumerate(m):
        ax.text(
            j, i, str(v), ha="center", va="center", color="white" if v > m.max() / 2 else "black"
        )
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    save(fig, path)


def classification_plots(
    plots_dir: Path, metrics: dict[str, Any], rows: list[dict[str, Any]]
) -> list[tuple[str, str]]:
    """A test confusion matrix per family's model (``confusion_<model>.png``); returns the
    ``(caption, file)`` of each."""
    names = metrics["protocol"]["label_names"]
    shown = []
    for row in rows:
        if row["family"] in FAMILIES:
            file = f"confusion_{row['model']}.png"
            _confusion_chart(
                row["confusion_matrix"], names, f"{row['model']}: test confusion", plots_dir / file
            )
            shown.append((f"confusion matrix, {row['model']}", file))
    return shown


def learning_curves(histories: dict[str, list[dict[str, float]]], path: Path) -> bool:
    """Per-epoch losses of each family's registered final fit (one panel per family: the
    losses are in different units)."""
    shown = {f: h for f, h in histories.items() if h}
    if not shown:
        return False
    plt = pyplot()
    fig, axes = plt.subplots(1, len(shown), figsize=(5 * len(shown), 3.0), squeeze=False)
    for ax, (family, history) in zip(axes[0], shown.items(), strict=True):
        epochs = [r["epoch"] for r in history]
        for key, style in (("train_loss", "-"), ("val_loss", "--")):
            if all(key in r for r in history):
                ax.plot(epochs, [r[key] for r in history], style, color=COLORS[family], label=key)
        ax.set_title(f"{family}: final fit")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.legend(fontsize=8, frameon=False)
        ax.spines[["top", "right"]].set_visible(False)
    save(fig, path)
    return True


def _points(history: list[dict[str, Any]], state: str) -> list[tuple[int, float]]:
    return [
        (t["number"], t["value"]) for t in history if t["state"] == state and t["value"] is not None
    ]


def history_chart(metrics: dict[str, Any], path: Path) -> bool:
    """Best validation loss so far against trial number, one panel per tuned family (their
    losses are in different units: token cross-entropy, or scaled MSE)."""
    tuned = [(family, t) for family, t in metrics.get("tuning", {}).items() if t.get("tuned")]
    if not tuned:
        return False
    plt = pyplot()
    fig, axes = plt.subplots(1, len(tuned), figsize=(5 * len(tuned), 3.2), squeeze=False)
    for ax, (family, tuning) in zip(axes[0], tuned, strict=True):
        complete, pruned = (_points(tuning["history"], state) for state in ("COMPLETE", "PRUNED"))
        best, so_far = float("inf"), []
        for number, value in complete:
            best = min(best, value)
            so_far.append((number, best))
        color = COLORS.get(family, "#555555")
        if complete:
            ax.scatter(*zip(*complete, strict=True), color=color, s=22, label="complete")
            last = max(t["number"] for t in tuning["history"])
            steps = [*so_far, (last, so_far[-1][1])]
            ax.step(*zip(*steps, strict=True), where="post", color=color, label="best so far")
        if pruned:
            ax.scatter(
                *zip(*pruned, strict=True),
                color="#999999",
                marker="x",
                s=22,
                label="pruned (last reported)",
            )
        ax.set_title(f"{family} ({tuning.get('model', '')}): {len(tuning['history'])} trials")
        ax.set_xlabel("trial")
        ax.set_ylabel("validation loss")
        ax.legend(fontsize=8)
    save(fig, path)
    return True
