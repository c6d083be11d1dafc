"""What people see in the terminal: epoch progress and the comparison table."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tokfrag.report.table import columns, comparison_rows, verdict

console = Console(stderr=False)


@contextmanager
def epoch_progress(total: int, description: str) -> Iterator[Any]:
    """A rich progress bar over epochs; yields an epoch callback ``(epoch, metrics) -> None``.
    When output is not a terminal (DVC logs, CI), one line per ten epochs is printed instead."""
    if not sys.stdout.isatty():

        def log(epoch: int, metrics: dict[str, float]) -> None:
            if epoch == 1 or epoch % 10 == 0:
                console.print(
                    f"{description}: epoch {epoch}/{total} "
                    f"train {metrics['train_loss']:.4f} val {metrics['val_loss']:.4f}",
                    highlight=False,
                )

        yield log
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("val {task.fields[val]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task(description, total=total, val="-")

        def update(epoch: int, metrics: dict[str, float]) -> None:
            progress.update(task, completed=epoch, val=f"{metrics['val_loss']:.4f}")

        yield update
        progress.update(task, total=progress.tasks[0].completed)


def comparison_table(metrics: dict[str, Any]) -> Table:
    protocol = metrics["protocol"]
    if metrics["task"] == "forecasting":
        setting = (
            f"lags {protocol['lags']}, horizon {protocol['horizon']}, "
            f"{protocol['train_snapshots']} train / {protocol['test_snapshots']} test snapshots"
        )
    else:
        setting = (
            f"{len(protocol['label_names'])} classes, {protocol['train_documents']} train / "
            f"{protocol['test_documents']} test documents"
        )
    table = Table(title=f"{metrics['dataset']}: test metrics ({setting})")
    shown = columns(metrics)
    for column in ("model", "family", *shown.values(), "params", "train s"):
        table.add_column(column, justify="left" if column in ("model", "family") else "right")
    for row in comparison_rows(metrics):
        table.add_row(
            row["model"],
            row["family"],
            *(f"{row[key]:.4f}" for key in shown),
            f"{row['n_params']:,}" if "n_params" in row else "-",
            f"{row['train_seconds']:.1f}" if "train_seconds" in row else "-",
        )
    table.caption = verdict(metrics)
    return table
