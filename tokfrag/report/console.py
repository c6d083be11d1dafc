"""What people see in the terminal: epoch progress and the comparison table."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tokfrag.report.table import (
    budget_rows,
    budget_sentence,
    columns,
    comparison_rows,
    every_family,
    value_text,
)

# Without a terminal (DVC logs, CI) rich would assume 80 columns and squash the tables.
console = Console(stderr=False, width=None if sys.stdout.isatty() else 132)


def _losses(metrics: dict[str, float]) -> str:
    named = (("train_loss", "train"), ("val_loss", "val"))
    return " ".join(f"{name} {metrics[key]:.4f}" for key, name in named if key in metrics)


@contextmanager
def _bar(description: str, total: int) -> Iterator[Callable[..., None]]:
    """A rich progress bar with a free-text ``note`` column; yields ``update(completed,
    note, total=None)``."""
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[note]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task(description, total=total, note="")

        def update(completed: int, note: str, total: int | None = None) -> None:
            progress.update(task, completed=completed, note=note, total=total)

        yield update


@contextmanager
def epoch_progress(total: int, description: str) -> Iterator[Any]:
    """A rich progress bar over epochs; yields an epoch callback ``(epoch, metrics) -> None``.
    When output is not a terminal (DVC logs, CI), one line per ten epochs is printed instead."""
    if not sys.stdout.isatty():

        def log(epoch: int, metrics: dict[str, float]) -> None:
            if epoch == 1 or epoch % 10 == 0 or epoch == total:
                console.print(
                    f"{description}: epoch {epoch}/{total} {_losses(metrics)}", highlight=False
                )

        yield log
        return
    last: list[Any] = [0, ""]
    with _bar(description, total) as update:

        def on_epoch(epoch: int, metrics: dict[str, float]) -> None:
            last[:] = [epoch, _losses(metrics)]
            update(*last)

        yield on_epoch
        update(*last, total=last[0])  # stopped early: show the bar full


@contextmanager
def trial_progress(total: int, description: str) -> Iterator[Any]:
    """Progress over a study's finished trials; yields ``(finished, total, best) -> None``.
    Without a terminal, one line each time the count of finished trials changes."""
    last = [-1]

    def note(best: float | None) -> str:
        return "best val " + ("-" if best is None else f"{best:.4f}")

    if not sys.stdout.isatty():

        def log(done: int, total: int, best: float | None) -> None:
            if done != last[0]:
                last[0] = done
                line = f"{description}: {done}/{total} trials, {note(best)}"
                console.print(line, highlight=False)

        yield log
        return
    with _bar(description, total) as update:
        yield lambda done, total, best: update(done, note(best), total=total)


def gaps_note(protocol: dict[str, Any]) -> str:
    """What the protocol line says about missing readings: the masked metrics' share of
    observed targets under data.missing mask or interpolate, and a sentinel's count."""
    parts = []
    gaps = protocol.get("missing")
    if gaps:
        parts.append(
            f"masked metrics ({gaps['policy']}): {gaps['observed_test_targets']:,} of "
            f"{gaps['test_targets']:,} test targets observed"
            + (
                f", {gaps['test_windows_without_target']} window(s) with none left out"
                if gaps["test_windows_without_target"]
                else ""
            )
        )
    sentinel = protocol.get("sentinel")
    if sentinel:
        parts.append(
            f"readings of {sentinel['missing_value']:g} declared missing: "
            f"{sentinel['cells']:,} found"
        )
    return "".join(f"; {p}" for p in parts)


def comparison_table(metrics: dict[str, Any]) -> Table:
    protocol = metrics["protocol"]
    if metrics["task"] == "forecasting":
        setting = (
            f"lags {protocol['lags']}, horizon {protocol['horizon']}, "
            f"{protocol['train_snapshots']} train / {protocol['test_snapshots']} test snapshots"
            + gaps_note(protocol)
        )
    else:
        setting = (
            f"{len(protocol['label_names'])} classes, {protocol['train_documents']} train / "
            f"{protocol['test_documents']} test documents"
        )
    table = Table(title=f"{metrics['dataset']}: test metrics ({setting})")
    shown = columns(metrics)
    for column in ("model", "family", *shown.values(), "params", "train s", "p50 ms"):
        table.add_column(column, justify="left" if column in ("model", "family") else "right")
    rows = comparison_rows(metrics)
    for row in rows:
        table.add_row(
            row["model"],
            row["family"],
            *(value_text(row, key) for key in shown),
            f"{row['n_params']:,}" if row.get("n_params") is not None else "-",
            f"{row['train_seconds']:.1f}" if "train_seconds" in row else "-",
            f"{row['latency_ms_p50']:.2f}" if "latency_ms_p50" in row else "-",
        )
    seeds = max((r.get("n_seeds", 1) for r in rows), default=1)
    if seeds > 1:
        table.caption = f"families: mean ± std over {seeds} seeds of the final fit"
    return table


def budget_table(metrics: dict[str, Any]) -> Table:
    """What each family was given for tuning, and what it used."""
    table = Table(title=f"tuning budget (the same for {every_family()})")
    for column in ("family", "model", "trials", "complete", "pruned", "failed", "seconds"):
        table.add_column(column, justify="left" if column in ("family", "model") else "right")
    table.add_column("best val loss", justify="right")
    for row in budget_rows(metrics):
        if not row["tuned"]:
            table.add_row(row["family"], "untuned", *["-"] * 6)
            continue
        cells = [str(row[k]) for k in ("model", "trials", "complete", "pruned", "failed")]
        best = row["best_val_loss"]
        table.add_row(row["family"], *cells, row["seconds"], "-" if best is None else f"{best:.4f}")
    table.caption = budget_sentence(metrics)
    return table
