"""Plots (PNG + CSV for `dvc plots`) and a self-contained HTML report."""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tokfrag.report.table import comparison_rows, verdict

COLORS = {"token": "#4C72B0", "fragment": "#DD8452", "baseline": "#8C8C8C"}


def _bar_chart(rows: list[dict[str, Any]], published: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 0.45 * len(rows) + 1.2))
    names = [r["model"] for r in rows][::-1]
    values = [r["test_mse"] for r in rows][::-1]
    ax.barh(names, values, color=[COLORS.get(r["family"], "#333") for r in rows][::-1])
    for i, v in enumerate(values):
        ax.text(v, i, f" {v:.4f}", va="center", fontsize=9)
    for ref in (p for p in published if p["metric"] == "test_mse"):
        ax.axvline(ref["value"], color="#C44E52", ls="--", lw=1)
        ax.text(
            ref["value"],
            len(rows) - 0.5,
            f" {ref['model']} {ref['value']:.4f}",
            color="#C44E52",
            fontsize=8,
            va="bottom",
        )
    ax.set_xlabel("test MSE (lower is better)")
    ax.set_xlim(0, max(values) * 1.2)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _forecast_chart(
    y_test: np.ndarray,
    predictions: dict[str, np.ndarray],
    node: int,
    node_name: str,
    first_step: int,
    path: Path,
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # The last 104 test steps (two years of weeks on Chickenpox): the whole split is too dense.
    shown = slice(max(len(y_test) - 104, 0), len(y_test))
    steps = first_step + np.arange(len(y_test))[shown]
    fig, ax = plt.subplots(figsize=(10, 3.2))
    ax.plot(steps, y_test[shown, node, 0], color="black", lw=1.4, label="actual")
    for name in ("token", "fragment", "ridge_ar"):
        if name in predictions:
            family = "baseline" if name == "ridge_ar" else name
            ax.plot(
                steps,
                predictions[name][shown, node, 0],
                lw=1.1,
                color=COLORS[family],
                label=name,
                ls=":" if family == "baseline" else "-",
            )
    ax.set_title(f"first forecast step on the end of the test split, node {node_name}")
    ax.set_xlabel("time step")
    ax.legend(ncol=4, fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _embed(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


def write_report(
    metrics: dict[str, Any],
    y_test: np.ndarray,
    predictions: dict[str, np.ndarray],
    node_ids: Sequence[str],
    first_target_step: int,
    plots_dir: Path,
) -> str:
    """Write ``test_mse.png``/``.csv`` and ``forecast.png``/``.csv`` into ``plots_dir`` and return
    the HTML report (plots embedded, so the file stands alone)."""
    plots_dir.mkdir(parents=True, exist_ok=True)
    rows = comparison_rows(metrics)

    with (plots_dir / "test_mse.csv").open("w") as out:
        out.write("model,family,test_mse,test_mae\n")
        for r in rows:
            out.write(f"{r['model']},{r['family']},{r['test_mse']:.6f},{r['test_mae']:.6f}\n")
    published = metrics.get("published", [])
    _bar_chart(rows, published, plots_dir / "test_mse.png")

    # The node whose test series varies most makes the clearest forecast picture.
    node = int(np.argmax(y_test[:, :, 0].std(axis=0)))
    names = [n for n in ("token", "fragment", "ridge_ar") if n in predictions]
    with (plots_dir / "forecast.csv").open("w") as out:
        out.write("step,actual," + ",".join(names) + "\n")
        for i in range(len(y_test)):
            cells = [f"{predictions[n][i, node, 0]:.6f}" for n in names]
            out.write(f"{first_target_step + i},{y_test[i, node, 0]:.6f}," + ",".join(cells) + "\n")
    _forecast_chart(
        y_test, predictions, node, node_ids[node], first_target_step, plots_dir / "forecast.png"
    )

    def cell(row: dict[str, Any], key: str, fmt: str) -> str:
        return format(row[key], fmt) if key in row else "&ndash;"

    best = min(r["test_mse"] for r in rows)
    body_rows = "\n".join(
        f"<tr class='{r['family']}{' best' if r['test_mse'] == best else ''}'>"
        f"<td>{html.escape(r['model'])}</td><td>{r['family']}</td>"
        f"<td>{r['test_mse']:.4f}</td><td>{r['test_mae']:.4f}</td>"
        f"<td>{cell(r, 'n_params', ',')}</td><td>{cell(r, 'train_seconds', '.1f')}</td>"
        f"<td>{r['predict_seconds'] * 1000:.1f}</td></tr>"
        for r in rows
    )
    published_html = "".join(
        f"<p class='meta'>Published: {html.escape(ref['model'])} {ref['metric']} "
        f"{ref['value']:.4f} ({html.escape(ref['source'])}).</p>"
        for ref in published
    )
    p = metrics["protocol"]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>tokfrag report: {html.escape(metrics["dataset"])}</title>
<style>
 body {{ font: 15px/1.5 system-ui, sans-serif; max-width: 980px; margin: 2em auto; color: #222; }}
 h1 {{ font-size: 1.6em; margin-bottom: 0.2em; }}
 .verdict {{ background: #f4f6fa; border-left: 4px solid #4C72B0; padding: 0.8em 1em; }}
 table {{ border-collapse: collapse; width: 100%; margin: 1em 0; }}
 th, td {{ padding: 0.35em 0.7em; border-bottom: 1px solid #e3e3e3; text-align: right; }}
 th:nth-child(-n+2), td:nth-child(-n+2) {{ text-align: left; }}
 tr.best td {{ font-weight: 600; }}
 tr.token td:first-child {{ border-left: 4px solid {COLORS["token"]}; }}
 tr.fragment td:first-child {{ border-left: 4px solid {COLORS["fragment"]}; }}
 tr.baseline td:first-child {{ border-left: 4px solid {COLORS["baseline"]}; }}
 img {{ max-width: 100%; }}
 .meta {{ color: #666; font-size: 0.9em; }}
</style></head><body>
<h1>tokfrag: tokens vs fragments on {html.escape(metrics["dataset"])}</h1>
<p class="meta">Protocol: chronological split, lags {p["lags"]}, horizon {p["horizon"]},
train ratio {p["train_ratio"]} ({p["train_snapshots"]} train / {p["test_snapshots"]} test
snapshots; the last {p["val_fraction"]:.0%} of training snapshots used for early stopping).
Split fingerprint <code>{metrics["split_fingerprint"]}</code>, data sha256
<code>{metrics["data_sha256"][:16]}&hellip;</code>.</p>
<p class="verdict">{html.escape(verdict(metrics))}</p>
{published_html}
<table><thead><tr><th>model</th><th>family</th><th>test MSE</th><th>test MAE</th>
<th>parameters</th><th>train s</th><th>predict ms (test split)</th></tr></thead>
<tbody>
{body_rows}
</tbody></table>
<img alt="test MSE per model" src="{_embed(plots_dir / "test_mse.png")}">
<img alt="forecasts against actual values" src="{_embed(plots_dir / "forecast.png")}">
</body></html>
"""
