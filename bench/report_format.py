"""How BENCHMARKS.md writes numbers, metric names and tables."""

from __future__ import annotations

import re
from collections.abc import Iterable


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


def higher_is_better(metric: str) -> bool:
    return any(k in metric for k in ("accuracy", "f1", "mcc", "per_second", "throughput"))


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


def metric_order(metrics: Iterable[str]) -> list[str]:
    """MSE, MAE, RMSE, MAPE; per-step errors by step; accuracy, macro-F1; then the rest."""
    base = ["mse", "mae", "rmse", "mape", "accuracy", "macro_f1"]

    def key(metric: str) -> tuple[int, int, int, str]:
        name = metric.removeprefix("test_")
        pooled = re.fullmatch(r"(\w+?)_steps_1_to_(\d+)", name)
        step = re.fullmatch(r"(\w+?)_h(\d+)", name)
        if pooled:
            return (3, int(pooled[2]), index_of(base, pooled[1]), name)
        if step:
            return (1, int(step[2]), index_of(base, step[1]), name)
        return (0 if name in base[:4] else 2, index_of(base, name), 0, name)

    return sorted(set(metrics), key=key)


def index_of(items: list[str], item: str) -> int:
    return items.index(item) if item in items else len(items)


def cell(values: list[str]) -> str:
    return "| " + " | ".join(v.replace("|", "/") for v in values) + " |"


def table(header: list[str], body: list[list[str]]) -> list[str]:
    return [cell(header), cell(["---"] * len(header)), *(cell(r) for r in body)]


def short_citation(citation: str) -> str:
    """``Yao et al. 2019`` from ``Yao, Mao, Luo: Graph ... AAAI 2019``."""
    authors = re.split(r"[:(]", citation, maxsplit=1)[0].strip()
    names = [a.strip() for a in authors.split(",")]
    if len(names) > 2:
        authors = f"{names[0]} et al."
    year = re.search(r"\b(?:19|20)\d\d\b", citation)
    return f"{authors} {year[0]}" if year and year[0] not in authors else authors


def seeds_text(n: int | None) -> str:
    return f"{n} seed" if n == 1 else f"{n or '?'} seeds"
