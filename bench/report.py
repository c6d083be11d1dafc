"""Regenerate BENCHMARKS.md from ``bench/results/*.json`` and ``bench/published.py``.

``python bench/report.py`` (after ``make bench``) rewrites BENCHMARKS.md from scratch: one
table per dataset (tokfrag's token and fragment models, every baseline, the published and
reference figures with their sources), then tuning, orchestration overhead, speed and memory,
and whatever else the result files hold. The output depends only on the files read (each
result file's own ``created`` stamp, no clock), so the same inputs give the same bytes.

Rows of the same model measured by several suites with the same values (same seeds, so the
same fits) are shown once, listing every file; a ``-quick`` file is left out when the full
run of the same suite is there. Published figures come from ``bench/published.py`` only: the
``family: "published"`` records inside result files are older copies and are not shown.
"""

from __future__ import annotations

import argparse
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from published import FIGURES, PublishedFigure
from targets import section as targets_section

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
OUT = BENCH.parent / "BENCHMARKS.md"

DATASETS = {
    "chickenpox": "Chickenpox",
    "los_loop": "Los-loop",
    "mr": "MR",
    "trec": "TREC",
    "sms_spam": "SMS Spam",
    "chickenpox_gaps_mask": "Chickenpox, half of the readings missing (data.missing: mask)",
    "chickenpox_gaps_interpolate": (
        "Chickenpox, half of the readings missing (data.missing: interpolate, max_gap 2)"
    ),
}
MEASURED = ("token", "fragment", "baseline")  # family order of the rows
OWN_SECTIONS = ("tuning.json", "orchestration.json", "speed.json")
MIN_SEEDS = 3

# How each published figure's protocol stands against tokfrag's run, (level, why); the figure's
# own protocol is in bench/published.py.
EXACT, SAME_SPLIT, DIFFERS = "same protocol", "same split and metric", "PROTOCOL DIFFERS"
VERSUS_TOKFRAG: dict[tuple[str, str], tuple[str, str]] = {
    ("chickenpox", "DCRNN (PGT docs)"): (
        SAME_SPLIT,
        "one run (seed 1), fit on all 103 training snapshots with no validation part, "
        "Adam 0.01 for 200 full-batch steps; tokfrag has no DCRNN variant",
    ),
    ("chickenpox", "AR(4) ridge, shared across counties"): (EXACT, "reproduced by ridge_ar"),
    ("chickenpox", "predict zero"): (EXACT, "reproduced by zero"),
    ("chickenpox", "repeat last value"): (EXACT, "reproduced by last_value"),
    ("los_loop", "T-GCN"): (
        SAME_SPLIT,
        "the same time-step split, one model per horizon and error pooled over steps 1..h in "
        "mph; T-GCN divides by the global maximum (test steps included), trains up to "
        "thousands of epochs and reports the epoch with the lowest test RMSE, where tokfrag "
        "scales each sensor on training steps only, stops early on the last 20% of training "
        "windows within a few epochs (see the protocol line), and keeps the last window of "
        "each part, which T-GCN's code leaves out",
    ),
    ("mr", "TextGCN"): (SAME_SPLIT, "transductive (test documents in the graph), 10 runs"),
    ("mr", "TextING"): (SAME_SPLIT, "GloVe-300 inputs, epoch chosen on the test set"),
    ("mr", "BERT-base (fine-tuned)"): (SAME_SPLIT, "bert-base, max_length 128 (tokfrag: 64)"),
    ("mr", "RoBERTa-base (fine-tuned)"): (SAME_SPLIT, "roberta-base, max_length 128"),
    ("mr", "BertGCN"): (SAME_SPLIT, "transductive BERT + GCN"),
    ("mr", "RoBERTaGCN"): (SAME_SPLIT, "transductive RoBERTa + GCN"),
    ("trec", "CNN-non-static (Kim 2014)"): (
        DIFFERS,
        "500 test questions; tokfrag drops the 10 that duplicate a training question (490)",
    ),
    ("sms_spam", "linear SVM (Almeida et al. 2011)"): (
        DIFFERS,
        "the paper's own hold-out split; tokfrag: seeded stratified 80/20, test duplicates dropped",
    ),
}


@dataclass
class ResultFile:
    """One ``bench/results/*.json``."""

    name: str
    data: dict[str, Any]
    superseded_by: str | None = None

    @property
    def quick(self) -> bool:
        return bool(self.data.get("quick"))

    @property
    def records(self) -> list[dict[str, Any]]:
        return list(self.data.get("records", []))


@dataclass
class Row:
    """One measured model on one dataset: metric -> (mean, std), merged across files."""

    model: str
    family: str
    files: list[str]
    values: dict[str, tuple[float, float | None]]
    n_seeds: int | None
    seconds: float | None
    quick: bool
    protocols: list[str]
    notes: list[str] = field(default_factory=list)


# -- loading -----------------------------------------------------------------------------------


def load(results_dir: Path) -> list[ResultFile]:
    """Every result file, sorted by name; a ``x-quick.json`` beside ``x.json`` is superseded."""
    files = [
        ResultFile(p.name, json.loads(p.read_text())) for p in sorted(results_dir.glob("*.json"))
    ]
    names = {f.name for f in files}
    for f in files:
        full = f.name.removesuffix("-quick.json") + ".json"
        if f.name.endswith("-quick.json") and full in names:
            f.superseded_by = full
    return files


def _is_quality(r: dict[str, Any]) -> bool:
    return r["family"] in MEASURED and str(r["metric"]).startswith("test_")


def _table_files(files: Sequence[ResultFile]) -> list[ResultFile]:
    """The files whose model records feed the dataset tables."""
    return [f for f in files if f.superseded_by is None and f.name not in OWN_SECTIONS]


def rows_for(dataset: str, files: Sequence[ResultFile]) -> list[Row]:
    """The measured rows of ``dataset``: token, then fragment, then baseline, best first."""
    rows: list[Row] = []
    for f in _table_files(files):
        grouped: dict[tuple[str, str, str], Row] = {}
        for r in f.records:
            if r["dataset"] != dataset or not _is_quality(r) or r["value"] is None:
                continue
            key = (r["model"], r["family"], r["protocol"])
            quick = f.quick or "[QUICK" in r["protocol"]
            row = grouped.setdefault(
                key,
                Row(
                    r["model"],
                    r["family"],
                    [f.name],
                    {},
                    r["n_seeds"],
                    r["seconds"],
                    quick,
                    [r["protocol"]],
                ),
            )
            row.values[r["metric"]] = (float(r["value"]), r["std"])
            if r.get("note") and r["note"] not in row.notes:
                row.notes.append(str(r["note"]))
        for row in grouped.values():
            _merge_into(rows, row)
    for row in rows:
        if row.family != "baseline" and (row.n_seeds or 0) < MIN_SEEDS:
            row.notes.insert(0, f"{_seeds(row.n_seeds)}, fewer than {MIN_SEEDS}")
        if row.quick:
            row.notes.insert(0, "QUICK run")
    order = {family: i for i, family in enumerate(MEASURED)}
    headline = _metric_order({m for row in rows for m in row.values})[:1]
    return sorted(rows, key=lambda row: (order[row.family], *_rank(row, headline)))


def _rank(row: Row, headline: list[str]) -> tuple[float]:
    if not headline or headline[0] not in row.values:
        return (math.inf,)
    value = row.values[headline[0]][0]
    return (-value if _higher_is_better(headline[0]) else value,)


def _same_measurement(a: Row, b: Row) -> bool:
    shared = set(a.values) & set(b.values)
    return (
        a.family == b.family
        and a.n_seeds == b.n_seeds
        and bool(shared)
        and all(math.isclose(a.values[m][0], b.values[m][0], rel_tol=1e-6) for m in shared)
    )


def _merge_into(rows: list[Row], new: Row) -> None:
    """Add ``new``, or fold it into the row it repeats (same fits measured by another suite)."""
    for row in rows:
        if _same_measurement(row, new):
            if len(new.values) > len(row.values):  # the fuller record leads (its seconds)
                row.seconds = new.seconds
                row.files[:0] = new.files
            else:
                row.files.extend(new.files)
            row.values = {**new.values, **row.values}
            row.model = max((row.model, new.model), key=lambda name: (len(name), name))
            row.quick = row.quick and new.quick
            row.protocols += [p for p in new.protocols if p not in row.protocols]
            return
    rows.append(new)


# -- formatting --------------------------------------------------------------------------------


def fmt(value: float) -> str:
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.1f}"
    return f"{value:.4f}"


def fmt_seconds(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return "< 0.01" if seconds < 0.01 else f"{seconds:.3g}" if seconds < 100 else f"{seconds:.0f}"


def _higher_is_better(metric: str) -> bool:
    return any(k in metric for k in ("accuracy", "f1", "mcc", "per_second", "throughput"))


def _metric_key(fig: PublishedFigure) -> str:
    """A published figure's column: its metric, with ``_to_h`` made concrete."""
    return fig.metric.replace("_to_h", f"_to_{fig.horizon}") if fig.horizon else fig.metric


def metric_label(metric: str) -> str:
    m = re.fullmatch(r"test_(\w+?)_steps_1_to_(\d+)", metric)
    if m:
        return f"{m[1].upper()} steps 1-{m[2]} pooled"
    m = re.fullmatch(r"test_(\w+?)_h(\d+)", metric)
    if m:
        return f"{m[1].upper()} h{m[2]}"
    names = {"accuracy": "accuracy", "macro_f1": "macro-F1"}
    name = metric.removeprefix("test_")
    return "test " + names.get(name, name.upper())


def _metric_order(metrics: Iterable[str]) -> list[str]:
    """MSE, MAE, RMSE, MAPE; per-step errors by step; accuracy, macro-F1; then the rest."""
    base = ["mse", "mae", "rmse", "mape", "accuracy", "macro_f1"]

    def key(metric: str) -> tuple[int, int, int, str]:
        name = metric.removeprefix("test_")
        pooled = re.fullmatch(r"(\w+?)_steps_1_to_(\d+)", name)
        step = re.fullmatch(r"(\w+?)_h(\d+)", name)
        if pooled:
            return (3, int(pooled[2]), _index(base, pooled[1]), name)
        if step:
            return (1, int(step[2]), _index(base, step[1]), name)
        return (0 if name in base[:4] else 2, _index(base, name), 0, name)

    return sorted(set(metrics), key=key)


def _index(items: list[str], item: str) -> int:
    return items.index(item) if item in items else len(items)


def _cell(values: list[str]) -> str:
    return "| " + " | ".join(v.replace("|", "/") for v in values) + " |"


def _table(header: list[str], body: list[list[str]]) -> list[str]:
    return [_cell(header), _cell(["---"] * len(header)), *(_cell(r) for r in body)]


def _short_citation(citation: str) -> str:
    """``Yao et al. 2019`` from ``Yao, Mao, Luo: Graph ... AAAI 2019``."""
    authors = re.split(r"[:(]", citation, maxsplit=1)[0].strip()
    names = [a.strip() for a in authors.split(",")]
    if len(names) > 2:
        authors = f"{names[0]} et al."
    year = re.search(r"\b(?:19|20)\d\d\b", citation)
    return f"{authors} {year[0]}" if year and year[0] not in authors else authors


# -- sections ----------------------------------------------------------------------------------


def _machine(m: dict[str, Any]) -> str:
    gpu = m.get("cuda") or "no GPU"
    return (
        f"{m.get('cpus')} CPUs ({m.get('processor')}), {gpu}, Python {m.get('python')}, "
        f"torch {m.get('torch')} (torch threads: {m.get('torch_threads')}), {m.get('platform')}"
    )


def header(files: Sequence[ResultFile]) -> list[str]:
    lines = [
        "# Benchmarks",
        "",
        "Generated by `python bench/report.py` from `bench/results/*.json` (written by "
        "`make bench`) and the published figures in `bench/published.py`. Do not edit by "
        "hand: run `make bench`, then `python bench/report.py`.",
        "",
    ]
    body = []
    for f in files:
        status = []
        if f.quick:
            status.append("QUICK run")
        if f.superseded_by:
            status.append(f"superseded by `{f.superseded_by}`, not shown")
        total = (f.data.get("timings_seconds") or {}).get("total")
        if total is not None:
            status.append(f"took {total:.0f} s")
        body.append(
            [
                f"`{f.name}`",
                str(f.data.get("created", "?")),
                f"`{f.data.get('command', '?')}`",
                _machine(f.data.get("machine") or {}),
                ", ".join(status),
            ]
        )
    if body:
        lines += _table(["result file", "created", "command", "machine", "notes"], body)
    else:
        lines.append("No result files in `bench/results/` yet: run `make bench`.")
    lines += [
        "",
        "How to read the tables: each tokfrag value is the mean ± sample std over the seeds "
        "in the *seeds* column (one value when there is one seed); baselines are "
        "deterministic fits, run once. *seconds* is the mean wall time of one fit (training "
        "for the models), from the first file listed. **Bold**: the best tokfrag or baseline "
        "value in each column (published figures never are). Published rows carry their "
        "source and how their protocol stands against tokfrag's run: *same protocol*, *same "
        "split and metric* (a different training recipe; the numbers are comparable as "
        "results, not as a controlled experiment) or **PROTOCOL DIFFERS** (context only); "
        "**UNCONFIRMED** figures were not checked against their source. *reference* rows "
        "were computed by the data notes on the same protocol, not published.",
        "",
    ]
    return lines


def dataset_section(
    dataset: str, files: Sequence[ResultFile], published: Sequence[PublishedFigure]
) -> list[str]:
    title = DATASETS.get(dataset, dataset.replace("_", " ").title())
    rows = rows_for(dataset, files)
    groups = _figure_groups([f for f in published if f.dataset == dataset])
    measured = _metric_order({m for row in rows for m in row.values})
    columns = measured or _metric_order({_metric_key(f) for g in groups for f in g})
    inside = [g for g in groups if all(_metric_key(f) in columns for f in g)]
    outside = [g for g in groups if g not in inside]
    lines = [f"## {title}", ""]
    protocols: dict[str, list[str]] = {}
    for f in _table_files(files):
        for r in f.records:
            if r["dataset"] == dataset and _is_quality(r):
                names = protocols.setdefault(r["protocol"], [])
                names += [] if f.name in names else [f.name]
    if protocols:
        lines.append("tokfrag's protocol:")
        lines += [f"- {p} (`{'`, `'.join(names)}`)" for p, names in protocols.items()]
    else:
        lines.append(f"No tokfrag results for {title} yet.")
    lines.append("")
    if not columns:
        return lines
    best = {m: _best(rows, m) for m in measured}
    body = []
    for row in rows:
        cells = []
        for m in columns:
            if m not in row.values:
                cells.append("")
                continue
            mean, std = row.values[m]
            text = fmt(mean) + (
                f" ± {fmt(std)}" if std is not None and (row.n_seeds or 0) > 1 else ""
            )
            cells.append(f"**{text}**" if best.get(m) is not None and mean == best[m] else text)
        seeds = "1" if row.family == "baseline" else str(row.n_seeds or "?")
        files_cell = ", ".join(f"`{n}`" for n in row.files)
        body.append(
            [
                row.model,
                row.family,
                *cells,
                seeds,
                fmt_seconds(row.seconds),
                files_cell,
                "; ".join(row.notes),
            ]
        )
    sources: list[str] = []
    for g in inside:
        *cells, notes = _figure_row(g, columns, sources)
        body.append([*cells, "", "", "", notes])
    tail = ["seeds", "seconds", "from", "notes"]
    lines += _table(["model", "family", *map(metric_label, columns), *tail], body)
    lines.append("")
    if outside:
        other = _metric_order({_metric_key(f) for g in outside for f in g})
        lines += [
            f"Published figures in metrics tokfrag does not report on {title}: not comparable "
            "with the table above.",
            "",
        ]
        other_body = [_figure_row(g, other, sources) for g in outside]
        lines += _table(["model", "family", *map(metric_label, other), "notes"], other_body)
        lines.append("")
    lines += _verdict(rows, measured)
    for f in _table_files(files):
        for r in f.records:
            if r["dataset"] == dataset and r["metric"] == "skipped":
                lines += [
                    f"Not measured: {r['model']} (`{f.name}`): {r.get('note', 'skipped')}.",
                    "",
                ]
    lines += [f"[{i}] {ref}" for i, ref in enumerate(sources, 1)]
    return lines + ([""] if sources else [])


def _figure_groups(figs: Sequence[PublishedFigure]) -> list[list[PublishedFigure]]:
    """One group per model and source: a model's figures at every metric share a row."""
    groups: dict[tuple[str, str, str], list[PublishedFigure]] = {}
    for fig in figs:
        groups.setdefault((fig.model, fig.kind, fig.source.url), []).append(fig)
    return list(groups.values())


def _figure_row(
    group: Sequence[PublishedFigure], columns: Sequence[str], sources: list[str]
) -> list[str]:
    """A published row (value as printed by the source), numbering its source note."""
    fig = group[0]
    refs = []
    for f in group:
        note = _source_note(f)
        if note not in sources:
            sources.append(note)
        refs += [] if str(sources.index(note) + 1) in refs else [str(sources.index(note) + 1)]
    level, _ = VERSUS_TOKFRAG.get((fig.dataset, fig.model), ("protocol not assessed", ""))
    marks = [f"[{_short_citation(fig.source.citation)}]({fig.source.url}) [{', '.join(refs)}]"]
    marks.append(f"**{level}**" if level == DIFFERS else level)
    if not all(f.confirmed for f in group):
        marks.append("**UNCONFIRMED**")
    values = {_metric_key(f): f"{f.value:g}" for f in group}
    return [fig.model, fig.kind, *(values.get(m, "") for m in columns), "; ".join(marks)]


def _best(rows: Sequence[Row], metric: str) -> float | None:
    values = [row.values[metric][0] for row in rows if metric in row.values]
    if not values:
        return None
    return max(values) if _higher_is_better(metric) else min(values)


def _source_note(fig: PublishedFigure) -> str:
    _, why = VERSUS_TOKFRAG.get((fig.dataset, fig.model), ("", ""))
    text = (
        f"{fig.model}: {fig.source.citation}; {fig.source.location}; <{fig.source.url}>. "
        f"Protocol: {fig.protocol}."
    )
    if why:
        text += f" Against tokfrag's run: {why}."
    if fig.note:
        text += f" Note: {fig.note}"
    return text


def _seeds(n: int | None) -> str:
    return f"{n} seed" if n == 1 else f"{n or '?'} seeds"


def _verdict(rows: Sequence[Row], metrics: Sequence[str]) -> list[str]:
    """Who wins the headline metric, and by how much (differences of means, not a test)."""
    if not metrics:
        return []
    metric = metrics[0]
    leaders: dict[str, Row] = {}
    for row in rows:  # rows are sorted best first within each family
        if metric in row.values and row.family not in leaders:
            leaders[row.family] = row
    if not leaders:
        return []

    def show(row: Row) -> str:
        mean, std = row.values[metric]
        spread = f" ± {fmt(std)}" if std is not None and (row.n_seeds or 0) > 1 else ""
        tags = [] if row.family == "baseline" else [_seeds(row.n_seeds)]
        tags += ["quick run"] if row.quick else []
        return f"{row.model} {fmt(mean)}{spread}" + (f" ({', '.join(tags)})" if tags else "")

    direction = "higher" if _higher_is_better(metric) else "lower"
    text = [
        f"Headline, {metric_label(metric)} ({direction} is better): "
        + "; ".join(f"best {family} {show(row)}" for family, row in leaders.items())
        + "."
    ]
    token, fragment = leaders.get("token"), leaders.get("fragment")
    if token and fragment:
        text.append(
            _gap(metric, fragment, token, "the best fragment model", "the best token model")
        )
    models = [r for r in (token, fragment) if r]
    if models and "baseline" in leaders:
        model = min(models, key=lambda r: _rank(r, [metric]))
        base = leaders["baseline"]
        text.append(
            _gap(metric, model, base, f"`{model.model}`", f"the best baseline ({base.model})")
        )
    text.append("Differences of means over seeds, not a paired test.")
    return [" ".join(text), ""]


def _gap(metric: str, a: Row, b: Row, a_name: str, b_name: str) -> str:
    """``a_name beats b_name by ...`` (or trails it), and whether the seeds' spread covers it."""
    (va, sa), (vb, sb) = a.values[metric], b.values[metric]
    ahead = (va > vb) == _higher_is_better(metric)
    if va == vb:
        return f"{a_name[0].upper()}{a_name[1:]} and {b_name} tie."
    gap = abs(va - vb)
    rel = f" ({100 * gap / abs(vb):.1f}%)" if vb else ""
    spread = (sa or 0.0) + (sb or 0.0)
    caveat = " (within the seeds' spread)" if gap <= spread else ""
    verb = "beats" if ahead else "trails"
    return f"{a_name[0].upper()}{a_name[1:]} {verb} {b_name} by {fmt(gap)}{rel}{caveat}."


def tuning_section(files: Sequence[ResultFile]) -> list[str]:
    lines = ["## Tuning", ""]
    f = next((f for f in files if f.name == "tuning.json"), None)
    if f is None:
        return lines + ["Not measured yet (`bench/results/tuning.json` is missing).", ""]
    core = {
        "dataset",
        "protocol",
        "model",
        "family",
        "metric",
        "value",
        "std",
        "n_seeds",
        "seconds",
        "note",
        "target",
    }
    body = []
    for r in f.records:
        details = [
            f"{k} {f'{v:.3g}' if isinstance(v, float) else v}"
            for k, v in r.items()
            if k not in core
        ]
        details += [str(r["note"])] if r.get("note") else []
        value = r["value"]
        shown = "" if value is None else f"{value:.1f}%" if "pct" in r["metric"] else fmt(value)
        body.append(
            [
                r["family"],
                r["model"],
                f"`{r['metric']}`",
                shown,
                str(r.get("target", "")),
                fmt_seconds(r["seconds"]),
                "; ".join(details),
            ]
        )
    protocols = sorted({r["protocol"] for r in f.records})
    lines += [f"`{f.name}`, {'; '.join(protocols)}.", ""]
    lines += _table(["family", "model", "measure", "value", "target", "seconds", "details"], body)
    return lines + [""]


def orchestration_section(files: Sequence[ResultFile]) -> list[str]:
    lines = ["## Orchestration overhead", ""]
    f = next((f for f in files if f.name == "orchestration.json"), None)
    if f is None:
        return lines + ["Not measured yet (`bench/results/orchestration.json` is missing).", ""]
    body = []
    for r in f.records:
        path = r["family"] + (f" (`task_runner: {r['task_runner']}`)" if "task_runner" in r else "")
        speedup = r.get("speedup_vs_sequential")
        body.append(
            [
                path,
                fmt_seconds(r["seconds"]),
                fmt_seconds(r.get("stage_compute_seconds")),
                fmt_seconds(r.get("critical_path_seconds")),
                "" if r["value"] is None else f"{r['value']:.1f}%",
                str(r.get("target", "")),
                fmt_seconds(r.get("cached_rerun_seconds")),
                "" if speedup is None else f"{speedup:.2f}x",
            ]
        )
    protocols = sorted({r["protocol"] for r in f.records})
    lines += [
        f"`{f.name}`, {'; '.join(protocols)}. Overhead = (wall - stage compute) / wall; with "
        "the families side by side, against the critical path.",
        "",
    ]
    header_row = [
        "path",
        "wall s",
        "stage compute s",
        "critical path s",
        "overhead",
        "target",
        "cached re-run s",
        "speed-up vs sequential",
    ]
    return lines + _table(header_row, body) + [""]


def speed_section(files: Sequence[ResultFile]) -> list[str]:
    """``speed.json``: each (dataset, model, metric) before -> after, and the change."""
    lines = ["## Speed and memory", ""]
    f = next((f for f in files if f.name == "speed.json"), None)
    if f is None:
        return lines + ["Not measured yet (`bench/results/speed.json` is missing).", ""]
    pairs: dict[tuple[str, str, str], dict[str, dict[str, Any]]] = {}
    for r in f.records:
        key = (r["dataset"], r["model"], r["metric"])
        pairs.setdefault(key, {})[str(r.get("variant", "after"))] = r
    body = []
    for (dataset, model, metric), by_variant in pairs.items():
        before, after = by_variant.get("before"), by_variant.get("after")
        change = ""
        if before and after and before["value"] and after["value"] is not None:
            pct = 100 * (after["value"] - before["value"]) / before["value"]
            better = (pct > 0) == _higher_is_better(metric)
            change = f"{pct:+.1f}%" + ("" if pct == 0 else " (better)" if better else " (worse)")
        body.append(
            [
                dataset,
                model + (" (*A/B*)" if (after or before or {}).get("ab") else ""),
                f"`{metric}`",
                _speed_value(before),
                _speed_value(after),
                change,
            ]
        )
    protocols = sorted({r["protocol"] for r in f.records})
    lines += [
        f"`{f.name}`, {'; '.join(protocols)}.",
        "",
        "Rows marked *A/B* measure one optimisation both ways in one process, alternating, best "
        "of several: they are the figures to read for what a change did. The other rows are two "
        "whole runs (`python bench/speed.py --label before`, then `--label after`) at different "
        "times on a machine shared with other work, where the same pipeline varies by 10-25% "
        "from run to run; read small changes there as noise.",
        "",
    ]
    return lines + _table(["dataset", "what", "metric", "before", "after", "change"], body) + [""]


def _speed_value(r: dict[str, Any] | None) -> str:
    if r is None or r["value"] is None:
        return "-"
    text = fmt(r["value"])
    if r.get("std") is not None and (r.get("n_seeds") or 0) > 1:
        text += f" ± {fmt(r['std'])} (n={r['n_seeds']})"
    return text


def other_section(files: Sequence[ResultFile]) -> list[str]:
    """Records no other section shows: throughput, tokenizer agreement, and the like."""
    lines = ["## Other measurements", ""]
    for f in _table_files(files):
        by_protocol: dict[str, list[dict[str, Any]]] = {}
        for r in f.records:
            shown = _is_quality(r) or r["metric"] == "skipped"
            if not shown and r["family"] not in ("published", "reference"):
                by_protocol.setdefault(r["protocol"], []).append(r)
        for protocol, records in by_protocol.items():
            lines += [f"`{f.name}`, {records[0]['dataset']}: {protocol}", ""]
            body = [
                [
                    r["family"],
                    r["model"],
                    f"`{r['metric']}`",
                    "" if r["value"] is None else fmt(r["value"]),
                    fmt_seconds(r["seconds"]),
                ]
                for r in records
            ]
            lines += _table(["family", "model", "metric", "value", "seconds"], body) + [""]
    return lines if len(lines) > 2 else []


# -- the document ------------------------------------------------------------------------------


def render(results_dir: Path, published: Sequence[PublishedFigure] = FIGURES) -> str:
    """BENCHMARKS.md's text from the result files in ``results_dir`` and ``published``."""
    files = load(results_dir)
    measured = {r["dataset"] for f in _table_files(files) for r in f.records if _is_quality(r)}
    extra = sorted((measured | {f.dataset for f in published}) - set(DATASETS))
    lines = header(files)
    lines += targets_section(files)
    for dataset in [*DATASETS, *extra]:
        lines += dataset_section(dataset, files, published)
    lines += tuning_section(files)
    lines += orchestration_section(files)
    lines += speed_section(files)
    lines += other_section(files)
    return "\n".join(lines).rstrip() + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=RESULTS, help="result files folder")
    parser.add_argument("--out", type=Path, default=OUT, help="the Markdown file to write")
    args = parser.parse_args(argv)
    args.out.write_text(render(args.results))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
