"""One BENCHMARKS.md section per dataset: tokfrag's rows, the published figures beside them
with their sources, and the headline verdict."""

from __future__ import annotations

from collections.abc import Sequence

from published import PublishedFigure
from records import ResultFile
from report_format import (
    fmt,
    fmt_seconds,
    higher_is_better,
    metric_label,
    metric_order,
    seeds_text,
    short_citation,
    table,
)
from report_rows import Row, best, is_quality, rank, rows_for, table_files

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


def _metric_key(fig: PublishedFigure) -> str:
    """A published figure's column: its metric, with ``_to_h`` made concrete."""
    return fig.metric.replace("_to_h", f"_to_{fig.horizon}") if fig.horizon else fig.metric


def dataset_section(
    dataset: str, files: Sequence[ResultFile], published: Sequence[PublishedFigure]
) -> list[str]:
    title = DATASETS.get(dataset, dataset.replace("_", " ").title())
    rows = rows_for(dataset, files)
    groups = _figure_groups([f for f in published if f.dataset == dataset])
    measured = metric_order({m for row in rows for m in row.values})
    columns = measured or metric_order({_metric_key(f) for g in groups for f in g})
    inside = [g for g in groups if all(_metric_key(f) in columns for f in g)]
    outside = [g for g in groups if g not in inside]
    lines = [f"## {title}", ""]
    protocols: dict[str, list[str]] = {}
    for f in table_files(files):
        for r in f.records:
            if r.dataset == dataset and is_quality(r):
                names = protocols.setdefault(r.protocol, [])
                names += [] if f.name in names else [f.name]
    if protocols:
        lines.append("tokfrag's protocol:")
        lines += [f"- {p} (`{'`, `'.join(names)}`)" for p, names in protocols.items()]
    else:
        lines.append(f"No tokfrag results for {title} yet.")
    lines.append("")
    if not columns:
        return lines
    leading = {m: best(rows, m) for m in measured}
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
            cells.append(
                f"**{text}**" if leading.get(m) is not None and mean == leading[m] else text
            )
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
    lines += table(["model", "family", *map(metric_label, columns), *tail], body)
    lines.append("")
    if outside:
        other = metric_order({_metric_key(f) for g in outside for f in g})
        lines += [
            f"Published figures in metrics tokfrag does not report on {title}: not comparable "
            "with the table above.",
            "",
        ]
        other_body = [_figure_row(g, other, sources) for g in outside]
        lines += table(["model", "family", *map(metric_label, other), "notes"], other_body)
        lines.append("")
    lines += _verdict(rows, measured)
    for f in table_files(files):
        for r in f.records:
            if r.dataset == dataset and r.metric == "skipped":
                lines += [
                    f"Not measured: {r.model} (`{f.name}`): {r.get('note', 'skipped')}.",
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
    marks = [f"[{short_citation(fig.source.citation)}]({fig.source.url}) [{', '.join(refs)}]"]
    marks.append(f"**{level}**" if level == DIFFERS else level)
    if not all(f.confirmed for f in group):
        marks.append("**UNCONFIRMED**")
    values = {_metric_key(f): f"{f.value:g}" for f in group}
    return [fig.model, fig.kind, *(values.get(m, "") for m in columns), "; ".join(marks)]


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
        tags = [] if row.family == "baseline" else [seeds_text(row.n_seeds)]
        tags += ["quick run"] if row.quick else []
        return f"{row.model} {fmt(mean)}{spread}" + (f" ({', '.join(tags)})" if tags else "")

    direction = "higher" if higher_is_better(metric) else "lower"
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
        model = min(models, key=lambda r: rank(r, [metric]))
        base = leaders["baseline"]
        text.append(
            _gap(metric, model, base, f"`{model.model}`", f"the best baseline ({base.model})")
        )
    text.append("Differences of means over seeds, not a paired test.")
    return [" ".join(text), ""]


def _gap(metric: str, a: Row, b: Row, a_name: str, b_name: str) -> str:
    """``a_name beats b_name by ...`` (or trails it), and whether the seeds' spread covers it."""
    (va, sa), (vb, sb) = a.values[metric], b.values[metric]
    ahead = (va > vb) == higher_is_better(metric)
    if va == vb:
        return f"{a_name[0].upper()}{a_name[1:]} and {b_name} tie."
    gap = abs(va - vb)
    rel = f" ({100 * gap / abs(vb):.1f}%)" if vb else ""
    spread = (sa or 0.0) + (sb or 0.0)
    caveat = " (within the seeds' spread)" if gap <= spread else ""
    verb = "beats" if ahead else "trails"
    return f"{a_name[0].upper()}{a_name[1:]} {verb} {b_name} by {fmt(gap)}{rel}{caveat}."
