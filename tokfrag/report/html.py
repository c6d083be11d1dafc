"""Plots (PNG + CSV for `dvc plots`) and a self-contained HTML report."""

from __future__ import annotations

import base64
import html
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

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

COLORS = {"token": "#4C72B0", "fragment": "#DD8452", "baseline": "#8C8C8C"}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _pyplot().close(fig)


def _bar_chart(metrics: dict[str, Any], rows: list[dict[str, Any]], path: Path) -> None:
    plt = _pyplot()
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
    _save(fig, path)


def _confusion_chart(matrix: list[list[int]], label_names: Sequence[str], title: str, path: Path):
    plt = _pyplot()
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
    _save(fig, path)


def _forecast_chart(
    y_test: np.ndarray,
    predictions: dict[str, np.ndarray],
    nodes: Sequence[int],
    node_names: Sequence[str],
    target_steps: np.ndarray,
    path: Path,
) -> None:
    """The first forecast step against the actual values, one panel per node (unobserved
    targets are NaN: the actual line shows a gap there); ``target_steps`` ``(S,)``: each
    window's first target step."""
    plt = _pyplot()
    # The last 104 test steps (two years of weeks on Chickenpox): the whole split is too dense.
    shown = slice(max(len(y_test) - 104, 0), len(y_test))
    steps = target_steps[shown]
    fig, axes = plt.subplots(len(nodes), 1, figsize=(10, 2.4 * len(nodes)), squeeze=False)
    for ax, node, node_name in zip(axes[:, 0], nodes, node_names, strict=True):
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
        ax.set_title(f"node {node_name}: first forecast step, end of the test split", fontsize=10)
        ax.spines[["top", "right"]].set_visible(False)
    axes[-1, 0].set_xlabel("time step")
    axes[0, 0].legend(ncol=4, fontsize=8, frameon=False)
    _save(fig, path)


def _learning_curves(histories: dict[str, list[dict[str, float]]], path: Path) -> bool:
    """Per-epoch losses of each family's registered final fit (one panel per family: the
    losses are in different units)."""
    shown = {f: h for f, h in histories.items() if h}
    if not shown:
        return False
    plt = _pyplot()
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
    _save(fig, path)
    return True


def _horizon_chart(
    y_test: np.ndarray, predictions: dict[str, np.ndarray], path: Path
) -> list[tuple[str, list[float]]]:
    """Test MSE per forecast step for the families and the ridge baseline."""
    plt = _pyplot()
    names = [n for n in ("token", "fragment", "ridge_ar") if n in predictions]
    steps = np.arange(1, y_test.shape[-1] + 1)
    rows = []
    fig, ax = plt.subplots(figsize=(7, 3.0))
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        per_step = _nanmean((y_test - predictions[name]) ** 2, axis=(0, 1))
        rows.append((name, per_step.tolist()))
        family = "baseline" if name == "ridge_ar" else name
        ax.bar(
            steps + (i - (len(names) - 1) / 2) * width,
            per_step,
            width,
            label=name,
            color=COLORS[family],
        )
    ax.set_xticks(steps)
    ax.set_xlabel("forecast step")
    ax.set_ylabel("test MSE, observed targets" if np.isnan(y_test).any() else "test MSE")
    ax.legend(fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    _save(fig, path)
    return rows


def _nanmean(values: np.ndarray, axis: Any) -> np.ndarray:
    """The mean over the observed (non-NaN) cells; NaN where there are none, silently."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(values, axis=axis)


def _varied_nodes(y_test: np.ndarray, count: int) -> list[int]:
    """The ``count`` nodes whose observed first-step test values vary most (a node with no
    observed value comes last)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        spread = np.nanstd(y_test[:, :, 0], axis=0)
    spread = np.where(np.isnan(spread), -np.inf, spread)
    return [int(n) for n in np.argsort(-spread, kind="stable")[:count]]


def _number(value: float) -> str:
    """A CSV cell: empty for NaN (an unobserved target), so plots leave a gap."""
    return "" if np.isnan(value) else f"{value:.6f}"


def _time_axis(times: Any, steps: np.ndarray) -> tuple[list[str], str]:
    """Tick labels for the series positions ``steps``, and the axis label: the step numbers
    (``times`` absent, or step numbers themselves), or dates when ``times`` are datetimes or
    epoch nanoseconds (integers past 10**15: 1970-01-12 in ns, never a step count)."""
    if times is None:
        return [str(int(s)) for s in steps], "time step"
    times = np.asarray(times)
    picked = times[steps]
    if np.issubdtype(times.dtype, np.datetime64) or (
        np.issubdtype(times.dtype, np.integer) and len(times) and np.abs(times).max() > 10**15
    ):
        stamps = picked.astype("datetime64[ns]")
        unit = "D" if (stamps == stamps.astype("datetime64[D]")).all() else "m"
        return [str(t).replace("T", " ") for t in stamps.astype(f"datetime64[{unit}]")], "time"
    return [f"{t:g}" for t in picked.tolist()], "time step"


def _binned(values: np.ndarray, limit: int, axis: int) -> np.ndarray:
    """Means over at most ``limit`` near-equal consecutive bins along ``axis`` (a single
    missing step among thousands stays visible as a grey column instead of vanishing in the
    image's resampling)."""
    n = values.shape[axis]
    if n <= limit:
        return values
    edges = np.linspace(0, n, limit + 1).astype(int)[:-1]
    counts = np.diff(np.append(edges, n))
    sums = np.add.reduceat(values, edges, axis=axis)
    shape = [1, 1]
    shape[axis] = len(counts)
    return sums / counts.reshape(shape)


# Above this many nodes the heat map sorts them by missing share and drops per-node labels.
MISSING_NODE_LABELS = 60


def _missingness_chart(
    missing: np.ndarray,
    node_ids: Sequence[str],
    first_target_step: int,
    times: np.ndarray | None,
    path: Path,
) -> None:
    """Nodes (rows) against series steps (columns), missing cells dark, with the start of
    the test targets marked."""
    plt = _pyplot()
    from matplotlib.colors import Normalize, PowerNorm

    n_steps, n_nodes = missing.shape
    shares = missing.mean(axis=0)
    sort = n_nodes > MISSING_NODE_LABELS
    order = np.argsort(-shares, kind="stable") if sort else np.arange(n_nodes)
    cells = missing[:, order].T.astype(float)  # (nodes, steps)
    # About one image column per pixel, and rows no thinner than a pixel or two.
    binned = _binned(_binned(cells, 800, axis=1), 300, axis=0)
    height = min(1.6 + 0.16 * n_nodes, 9.0)
    fig, ax = plt.subplots(figsize=(11, height))
    pooled = binned.shape != cells.shape
    # Pooled cells show their share missing; the square-root scale keeps a lone gap in a
    # cell of many steps visible.
    norm = PowerNorm(0.5, vmin=0.0, vmax=1.0) if pooled else Normalize(vmin=0.0, vmax=1.0)
    image = ax.imshow(
        binned,
        aspect="auto",
        cmap="Greys",
        norm=norm,
        interpolation="nearest",
        extent=(-0.5, n_steps - 0.5, n_nodes - 0.5, -0.5),
    )
    if pooled:
        fig.colorbar(image, ax=ax, pad=0.01, label="share missing in cell")
    if 0 <= first_target_step <= n_steps:
        ax.axvline(first_target_step - 0.5, color="#C44E52", lw=1.4)
        ax.text(
            first_target_step,
            1.01,
            " test targets \u2192",
            transform=ax.get_xaxis_transform(),
            color="#C44E52",
            fontsize=8,
            va="bottom",
            ha="left",
        )
    ticks = np.unique(np.linspace(0, n_steps - 1, min(n_steps, 7)).round().astype(int))
    labels, axis_label = _time_axis(times, ticks)
    ax.set_xticks(ticks, labels, fontsize=8)
    ax.set_xlabel(axis_label)
    if sort:
        ax.set_yticks([])
        ax.set_ylabel(f"{n_nodes} nodes, most missing at the top")
    else:
        ax.set_yticks(range(n_nodes), [str(node_ids[i]) for i in order], fontsize=7)
        ax.set_ylabel("node")
    ax.set_title(
        f"missing readings: {missing.mean():.1%} of {n_steps:,} steps \u00d7 {n_nodes} nodes "
        f"(dark: missing)",
        fontsize=10,
        pad=14,
    )
    _save(fig, path)


def _missingness_plots(
    plots_dir: Path,
    missing: Any,
    node_ids: Sequence[str],
    first_target_step: int,
    times: Any = None,
) -> list[tuple[str, str]]:
    """``missingness.csv`` (per node: missing steps and share) and ``missingness.png``, when
    any reading is missing; nothing otherwise."""
    if missing is None:
        return []
    missing = np.asarray(missing, dtype=bool)
    if missing.ndim != 2:
        raise ValueError(f"missing must be (steps, nodes), not of shape {missing.shape}")
    if not missing.any():
        return []
    n_steps, n_nodes = missing.shape
    if len(node_ids) != n_nodes:
        raise ValueError(f"missing has {n_nodes} nodes, node_ids {len(node_ids)}")
    if times is not None and len(times) != n_steps:
        raise ValueError(f"missing has {n_steps} steps, times {len(times)}")
    counts, shares = missing.sum(axis=0), missing.mean(axis=0)
    with (plots_dir / "missingness.csv").open("w") as out:
        out.write("node,missing_steps,missing_share\n")
        for node, count, share in zip(node_ids, counts, shares, strict=True):
            out.write(f"{node},{int(count)},{share:.6f}\n")
    _missingness_chart(missing, node_ids, first_target_step, times, plots_dir / "missingness.png")
    caption = (
        f"missing readings per node and time step ({missing.mean():.1%} of all cells; "
        "the red line marks the first test target)"
    )
    return [(caption, "missingness.png")]


def _embed(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


def _forecast_plots(
    plots_dir: Path,
    y_test: np.ndarray,
    predictions: dict[str, np.ndarray],
    node_ids: Sequence[str],
    first_target_step: int,
    missing: Any = None,
    times: Any = None,
    target_steps: Any = None,
) -> list[tuple[str, str]]:
    # Each window's first target step: windows left out (no observed target) leave holes.
    steps = (
        first_target_step + np.arange(len(y_test))
        if target_steps is None
        else np.asarray(target_steps)
    )
    if len(steps) != len(y_test):
        raise ValueError(f"{len(steps)} target steps for {len(y_test)} test windows")
    # The three nodes whose test series vary most make the clearest forecast pictures.
    nodes = _varied_nodes(y_test, 3)
    names = [n for n in ("token", "fragment", "ridge_ar") if n in predictions]
    with (plots_dir / "forecast.csv").open("w") as out:
        out.write("node,step,actual," + ",".join(names) + "\n")
        for node in nodes:
            for i in range(len(y_test)):
                cells = [_number(predictions[n][i, node, 0]) for n in names]
                out.write(
                    f"{node_ids[node]},{steps[i]},{_number(y_test[i, node, 0])},"
                    + ",".join(cells)
                    + "\n"
                )
    _forecast_chart(
        y_test,
        predictions,
        nodes,
        [node_ids[n] for n in nodes],
        steps,
        plots_dir / "forecast.png",
    )
    per_step = _horizon_chart(y_test, predictions, plots_dir / "horizon_error.png")
    with (plots_dir / "horizon_error.csv").open("w") as out:
        out.write("model,step,mse\n")
        for name, values in per_step:
            out.writelines(f"{name},{k + 1},{v:.6f}\n" for k, v in enumerate(values))
    shown = [
        ("forecasts against actual values", "forecast.png"),
        ("test MSE per forecast step", "horizon_error.png"),
    ]
    return shown + _missingness_plots(plots_dir, missing, node_ids, first_target_step, times)


def _classification_plots(
    plots_dir: Path, metrics: dict[str, Any], rows: list[dict[str, Any]]
) -> list[tuple[str, str]]:
    names = metrics["protocol"]["label_names"]
    shown = []
    for row in rows:
        if row["family"] in ("token", "fragment"):
            file = f"confusion_{row['model']}.png"
            _confusion_chart(
                row["confusion_matrix"], names, f"{row['model']}: test confusion", plots_dir / file
            )
            shown.append((f"confusion matrix, {row['model']}", file))
    return shown


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


def _points(history: list[dict[str, Any]], state: str) -> list[tuple[int, float]]:
    return [
        (t["number"], t["value"]) for t in history if t["state"] == state and t["value"] is not None
    ]


def _history_chart(metrics: dict[str, Any], path: Path) -> bool:
    """Best validation loss so far against trial number, one panel per tuned family (their
    losses are in different units: token cross-entropy, or scaled MSE)."""
    tuned = [(family, t) for family, t in metrics.get("tuning", {}).items() if t.get("tuned")]
    if not tuned:
        return False
    plt = _pyplot()
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
    _save(fig, path)
    return True


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
    _bar_chart(metrics, rows, plots_dir / "scores.png")
    images = [(f"{metrics['primary_metric']} per model", "scores.png")]
    if metrics["task"] == "forecasting":
        images += _forecast_plots(plots_dir, **data)
    else:
        images += _classification_plots(plots_dir, metrics, rows)
    if _learning_curves(histories or {}, plots_dir / "learning_curves.png"):
        images.append(("learning curves of the final fits", "learning_curves.png"))
    if _history_chart(metrics, plots_dir / "tuning_history.png"):
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
 tr.token td:first-child {{ border-left: 4px solid {COLORS["token"]}; }}
 tr.fragment td:first-child {{ border-left: 4px solid {COLORS["fragment"]}; }}
 tr.baseline td:first-child {{ border-left: 4px solid {COLORS["baseline"]}; }}
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
