"""The BENCHMARKS.md sections of the suites that are not model tables: tuning, orchestration
overhead, speed and memory, and every other record (throughput, tokenizer agreement)."""

from __future__ import annotations

from collections.abc import Sequence

from records import Record, ResultFile
from report_format import fmt, fmt_seconds, higher_is_better, table
from report_rows import is_quality, table_files


def tuning_section(files: Sequence[ResultFile]) -> list[str]:
    lines = ["## Tuning", ""]
    f = next((f for f in files if f.name == "tuning.json"), None)
    if f is None:
        return lines + ["Not measured yet (`bench/results/tuning.json` is missing).", ""]
    body = []
    for r in f.records:
        details = [
            f"{k} {f'{v:.3g}' if isinstance(v, float) else v}"
            for k, v in r.extra.items()
            if k not in ("note", "target")
        ]
        details += [str(r.get("note"))] if r.get("note") else []
        value = r.value
        shown = "" if value is None else f"{value:.1f}%" if "pct" in r.metric else fmt(value)
        body.append(
            [
                r.family,
                r.model,
                f"`{r.metric}`",
                shown,
                str(r.get("target", "")),
                fmt_seconds(r.seconds),
                "; ".join(details),
            ]
        )
    protocols = sorted({r.protocol for r in f.records})
    lines += [f"`{f.name}`, {'; '.join(protocols)}.", ""]
    lines += table(["family", "model", "measure", "value", "target", "seconds", "details"], body)
    return lines + [""]


def orchestration_section(files: Sequence[ResultFile]) -> list[str]:
    lines = ["## Orchestration overhead", ""]
    f = next((f for f in files if f.name == "orchestration.json"), None)
    if f is None:
        return lines + ["Not measured yet (`bench/results/orchestration.json` is missing).", ""]
    body = []
    for r in f.records:
        path = r.family + (
            f" (`task_runner: {r.extra['task_runner']}`)" if "task_runner" in r.extra else ""
        )
        speedup = r.get("speedup_vs_sequential")
        body.append(
            [
                path,
                fmt_seconds(r.seconds),
                fmt_seconds(r.get("stage_compute_seconds")),
                fmt_seconds(r.get("critical_path_seconds")),
                "" if r.value is None else f"{r.value:.1f}%",
                str(r.get("target", "")),
                fmt_seconds(r.get("cached_rerun_seconds")),
                "" if speedup is None else f"{speedup:.2f}x",
            ]
        )
    protocols = sorted({r.protocol for r in f.records})
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
    return lines + table(header_row, body) + [""]


def speed_section(files: Sequence[ResultFile]) -> list[str]:
    """``speed.json``: each (dataset, model, metric) before -> after, and the change."""
    lines = ["## Speed and memory", ""]
    f = next((f for f in files if f.name == "speed.json"), None)
    if f is None:
        return lines + ["Not measured yet (`bench/results/speed.json` is missing).", ""]
    pairs: dict[tuple[str, str, str], dict[str, Record]] = {}
    for r in f.records:
        key = (r.dataset, r.model, r.metric)
        pairs.setdefault(key, {})[str(r.get("variant", "after"))] = r
    body = []
    for (dataset, model, metric), by_variant in pairs.items():
        before, after = by_variant.get("before"), by_variant.get("after")
        ab = any(r is not None and r.get("ab") for r in (after, before))
        change = ""
        if before and after and before.value and after.value is not None:
            pct = 100 * (after.value - before.value) / before.value
            better = (pct > 0) == higher_is_better(metric)
            change = f"{pct:+.1f}%" + ("" if pct == 0 else " (better)" if better else " (worse)")
        body.append(
            [
                dataset,
                model + (" (*A/B*)" if ab else ""),
                f"`{metric}`",
                _speed_value(before),
                _speed_value(after),
                change,
            ]
        )
    protocols = sorted({r.protocol for r in f.records})
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
    return lines + table(["dataset", "what", "metric", "before", "after", "change"], body) + [""]


def _speed_value(r: Record | None) -> str:
    if r is None or r.value is None:
        return "-"
    text = fmt(r.value)
    if r.get("std") is not None and (r.get("n_seeds") or 0) > 1:
        text += f" ± {fmt(r.std)} (n={r.n_seeds})"
    return text


def other_section(files: Sequence[ResultFile]) -> list[str]:
    """Records no other section shows: throughput, tokenizer agreement, and the like."""
    lines = ["## Other measurements", ""]
    for f in table_files(files):
        by_protocol: dict[str, list[Record]] = {}
        for r in f.records:
            shown = is_quality(r) or r.metric == "skipped"
            if not shown and r.family not in ("published", "reference"):
                by_protocol.setdefault(r.protocol, []).append(r)
        for protocol, records in by_protocol.items():
            lines += [f"`{f.name}`, {records[0].dataset}: {protocol}", ""]
            body = [
                [
                    r.family,
                    r.model,
                    f"`{r.metric}`",
                    "" if r.value is None else fmt(r.value),
                    fmt_seconds(r.seconds),
                ]
                for r in records
            ]
            lines += table(["family", "model", "metric", "value", "seconds"], body) + [""]
    return lines if len(lines) > 2 else []
