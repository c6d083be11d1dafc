"""The report page: :func:`write_report` draws every plot into ``plots/`` and renders the
comparison as a self-contained HTML page (plots embedded) and as Markdown (plots linked):
the verdict, the comparison table with the costs, the tuning budget and the figures.

The plots are in :mod:`tokfrag.report.plots`, :mod:`tokfrag.report.forecast_plots` and
:mod:`tokfrag.report.missingness`; the rows and sentences in :mod:`tokfrag.report.table`.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

from tokfrag.report.forecast_plots import forecast_plots
from tokfrag.report.plots import (
    COLORS,
    bar_chart,
    classification_plots,
    history_chart,
    learning_curves,
)
from tokfrag.report.table import (
    budget_rows,
    budget_sentence,
    columns,
    comparison_rows,
    missing_sentence,
    ranking_key,
    value_text,
    verdict,
)

COST_COLUMNS = (
    ("n_params", "parameters", ","),
    ("train_seconds", "train s", ".1f"),
    ("latency_ms_p50", "p50 ms/item", ".2f"),
    ("latency_ms_p95", "p95 ms/item", ".2f"),
    ("peak_rss_mb", "peak RSS MB", ".0f"),
)


def _cost(row: dict[str, Any], key: str, fmt: str) -> str:
    value = row.get(key)
    return "–" if value is None else format(value, fmt)


def write_report(
    metrics: dict[str, Any],
    plots_dir: Path,
    histories: dict[str, list[dict[str, float]]] | None = None,
    **data: Any,
) -> dict[str, str]:
    """Write the plots into ``plots_dir`` and return the report as ``{"html": ..., "md":
    ...}`` (the HTML embeds its plots, so it stands alone; the Markdown links them).

    Every task gets ``scores.csv``/``.png`` (the primary metric per model, beside published
    figures), the learning curves of the final fits (``histories``) and the Optuna history.
    Forecasting adds ``forecast.csv``/``.png`` and ``horizon_error.csv``/``.png``
    (``data``: ``y_test``, ``predictions``, ``node_ids``, ``first_target_step``; ``y_test``
    is NaN at unobserved targets), and, when ``data["missing"]`` (the whole series' ``(T,
    N)`` bool mask, True where a reading is missing) has a True cell,
    ``missingness.csv``/``.png`` (``data["times"]``, optional: the ``(T,)`` step times,
    numbers or epoch nanoseconds, for the time axis); classification a confusion matrix per
    family.
    """
    plots_dir.mkdir(parents=True, exist_ok=True)
    rows = comparison_rows(metrics)
    shown = columns(metrics)
    with (plots_dir / "scores.csv").open("w") as out:
        out.write("model,family,score," + ",".join(shown) + "\n")
        for r in rows:
            cells = [r[metrics["primary_metric"]], *(r[k] for k in shown)]
            out.write(f"{r['model']},{r['family']}," + ",".join(f"{v:.6f}" for v in cells) + "\n")
    bar_chart(metrics, rows, plots_dir / "scores.png")
    images = [(f"{metrics['primary_metric']} per model", "scores.png")]
    if metrics["task"] == "forecasting":
        images += forecast_plots(plots_dir, **data)
    else:
        images += classification_plots(plots_dir, metrics, rows)
    if learning_curves(histories or {}, plots_dir / "learning_curves.png"):
        images.append(("learning curves of the final fits", "learning_curves.png"))
    if history_chart(metrics, plots_dir / "tuning_history.png"):
        images.append(("tuning: best validation loss so far per trial", "tuning_history.png"))
    return {
        "html": _html(metrics, rows, shown, images, plots_dir),
        "md": _markdown(metrics, rows, shown, images),
    }


def _markdown(
    metrics: dict[str, Any],
    rows: list[dict[str, Any]],
    shown: dict[str, str],
    images: list[tuple[str, str]],
) -> str:
    head = ["model", "family", *shown.values(), *(label for _, label, _ in COST_COLUMNS)]
    lines = [
        f"# tokfrag: tokens vs fragments on {metrics['dataset']}",
        "",
        f"**Verdict.** {verdict(metrics)}",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for r in rows:
        cells = [r["model"], r["family"], *(value_text(r, k) for k in shown)]
        cells += [_cost(r, key, fmt) for key, _, fmt in COST_COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", f"Rule: {metrics['verdict']['rule']}." if "verdict" in metrics else ""]
    if gaps := missing_sentence(metrics):
        lines += ["", gaps]
    lines += ["", "## Tuning budget", "", budget_sentence(metrics), ""]
    for ref in metrics.get("published", []):
        lines.append(
            f"Published: {ref['model']} {ref['metric']} {ref['value']:.4f} ({ref['source']})."
        )
    lines.append("")
    lines += [f"![{alt}](plots/{file})" for alt, file in images]
    return "\n".join(lines) + "\n"


def _embed(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


def _budget_row(row: dict[str, Any]) -> str:
    if not row["tuned"]:
        return f"<tr class='{row['family']}'><td>{row['family']}</td><td>untuned</td>" + (
            "<td>&ndash;</td>" * 6 + "</tr>"
        )
    cells = ("model", "trials", "complete", "pruned", "failed", "seconds")
    best = row["best_val_loss"]
    return (
        f"<tr class='{row['family']}'><td>{row['family']}</td>"
        + "".join(f"<td>{html.escape(str(row[k]))}</td>" for k in cells)
        + f"<td>{'&ndash;' if best is None else f'{best:.4f}'}</td></tr>"
    )


def _budget_table(metrics: dict[str, Any]) -> str:
    body = "\n".join(_budget_row(r) for r in budget_rows(metrics))
    return f"""<h2>Tuning budget</h2>
<p class="meta">{html.escape(budget_sentence(metrics))}</p>
<table><thead><tr><th>family</th><th>model</th><th>trials used</th><th>complete</th>
<th>pruned</th><th>failed</th><th>seconds used</th><th>best val loss</th></tr></thead>
<tbody>
{body}
</tbody></table>"""


def _html(
    metrics: dict[str, Any],
    rows: list[dict[str, Any]],
    shown: dict[str, str],
    images: list[tuple[str, str]],
    plots_dir: Path,
) -> str:
    best = min(rows, key=ranking_key(metrics))
    header = "".join(f"<th>{html.escape(label)}</th>" for label in shown.values())
    header += "".join(f"<th>{html.escape(label)}</th>" for _, label, _ in COST_COLUMNS)
    body_rows = "\n".join(
        f"<tr class='{r['family']}{' best' if r['model'] == best['model'] else ''}'>"
        f"<td>{html.escape(r['model'])}</td><td>{r['family']}</td>"
        + "".join(f"<td>{value_text(r, k)}</td>" for k in shown)
        + "".join(f"<td>{_cost(r, key, fmt)}</td>" for key, _, fmt in COST_COLUMNS)
        + "</tr>"
        for r in rows
    )
    published_html = "".join(
        f"<p class='meta'>Published: {html.escape(ref['model'])} {ref['metric']} "
        f"{ref['value']:.4f} ({html.escape(ref['source'])}).</p>"
        for ref in metrics.get("published", [])
    )
    rule = (
        f"<p class='meta'>Rule: {html.escape(metrics['verdict']['rule'])}.</p>"
        if "verdict" in metrics
        else ""
    )
    figures = "\n".join(
        f'<figure><img alt="{html.escape(alt)}" src="{_embed(plots_dir / file)}">'
        f"<figcaption>{html.escape(alt)}</figcaption></figure>"
        for alt, file in images
    )
    p = metrics["protocol"]
    # ``missing`` gets its own sentence; other nested entries (a sentinel's count) are
    # spelled out rather than shown as a Python dict.
    protocol = html.escape(
        ", ".join(
            f"{k} ({', '.join(f'{a} {b}' for a, b in v.items())})"
            if isinstance(v, dict)
            else f"{k} {v}"
            for k, v in p.items()
            if k not in ("label_names", "missing")
        )
    )
    gaps = missing_sentence(metrics)
    gaps_html = f'<p class="meta">{html.escape(gaps)}</p>' if gaps else ""
    seeds = max((r.get("n_seeds", 1) for r in rows), default=1)
    # A coloured left edge per family (and the baselines) on the comparison table's rows.
    row_colors = "\n".join(
        f" tr.{name} td:first-child {{ border-left: 4px solid {color}; }}"
        for name, color in COLORS.items()
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>tokfrag report: {html.escape(metrics["dataset"])}</title>
<style>
 body {{ font: 15px/1.5 system-ui, sans-serif; max-width: 1080px; margin: 2em auto; color: #222; }}
 h1 {{ font-size: 1.6em; margin-bottom: 0.2em; }}
 .verdict {{ background: #f4f6fa; border-left: 4px solid #4C72B0; padding: 0.8em 1em; }}
 table {{ border-collapse: collapse; width: 100%; margin: 1em 0; font-size: 0.92em; }}
 th, td {{ padding: 0.35em 0.6em; border-bottom: 1px solid #e3e3e3; text-align: right; }}
 th:nth-child(-n+2), td:nth-child(-n+2) {{ text-align: left; }}
 tr.best td {{ font-weight: 600; }}
{row_colors}
 figure {{ margin: 1.5em 0; }}
 img {{ max-width: 100%; display: block; }}
 figcaption, .meta {{ color: #666; font-size: 0.9em; }}
</style></head><body>
<h1>tokfrag: tokens vs fragments on {html.escape(metrics["dataset"])}</h1>
<p class="meta">Task: {metrics["task"]}. Protocol: {protocol}. Split fingerprint
<code>{metrics["split_fingerprint"]}</code>, data sha256
<code>{metrics["data_sha256"][:16]}&hellip;</code>. Families: mean &plusmn; std over
{seeds} seed(s) of the final fit.</p>
{gaps_html}
<p class="verdict">{html.escape(verdict(metrics))}</p>
{rule}
{published_html}
<table><thead><tr><th>model</th><th>family</th>{header}</tr></thead>
<tbody>
{body_rows}
</tbody></table>
{_budget_table(metrics)}
{figures}
</body></html>
"""
