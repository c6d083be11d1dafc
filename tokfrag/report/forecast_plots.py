"""Forecasting's plots: forecasts against the actual values, and the test error per forecast
step, each as a PNG with its CSV (for `dvc plots`), for every family and the task's named
baseline; then the missingness heat map (:mod:`tokfrag.report.missingness`) when the series
has gaps."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tokfrag.families import BASELINE, FAMILIES
from tokfrag.report.decision import NAMED_BASELINE
from tokfrag.report.missingness import missingness_plots
from tokfrag.report.plots import COLORS, pyplot, save


def _plotted(predictions: dict[str, np.ndarray]) -> list[str]:
    """The models the forecast plots show, in order: each family, then the named baseline."""
    return [n for n in (*FAMILIES, NAMED_BASELINE["forecasting"]) if n in predictions]


def _family_of(name: str) -> str:
    """The family a plotted model belongs to (the named baseline is a baseline)."""
    return name if name in FAMILIES else BASELINE


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
    plt = pyplot()
    # The last 104 test steps (two years of weeks on Chickenpox): the whole split is too dense.
    shown = slice(max(len(y_test) - 104, 0), len(y_test))
    steps = target_steps[shown]
    fig, axes = plt.subplots(len(nodes), 1, figsize=(10, 2.4 * len(nodes)), squeeze=False)
    for ax, node, node_name in zip(axes[:, 0], nodes, node_names, strict=True):
        ax.plot(steps, y_test[shown, node, 0], color="black", lw=1.4, label="actual")
        for name in _plotted(predictions):
            family = _family_of(name)
            ax.plot(
                steps,
                predictions[name][shown, node, 0],
                lw=1.1,
                color=COLORS[family],
                label=name,
                ls=":" if family == BASELINE else "-",
            )
        ax.set_title(f"node {node_name}: first forecast step, end of the test split", fontsize=10)
        ax.spines[["top", "right"]].set_visible(False)
    axes[-1, 0].set_xlabel("time step")
    axes[0, 0].legend(ncol=4, fontsize=8, frameon=False)
    save(fig, path)


def _horizon_chart(
    y_test: np.ndarray, predictions: dict[str, np.ndarray], path: Path
) -> list[tuple[str, list[float]]]:
    """Test MSE per forecast step for the families and the named baseline."""
    plt = pyplot()
    names = _plotted(predictions)
    steps = np.arange(1, y_test.shape[-1] + 1)
    rows = []
    fig, ax = plt.subplots(figsize=(7, 3.0))
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        per_step = _nanmean((y_test - predictions[name]) ** 2, axis=(0, 1))
        rows.append((name, per_step.tolist()))
        family = _family_of(name)
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
    save(fig, path)
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


def forecast_plots(
    plots_dir: Path,
    y_test: np.ndarray,
    predictions: dict[str, np.ndarray],
    node_ids: Sequence[str],
    first_target_step: int,
    missing: Any = None,
    times: Any = None,
    target_steps: Any = None,
) -> list[tuple[str, str]]:
    """``forecast.csv``/``.png`` (the three nodes whose test values vary most) and
    ``horizon_error.csv``/``.png``, then the missingness plots; returns the ``(caption,
    file)`` of each image. ``target_steps`` ``(S,)``: each test window's first target step
    (default: consecutive from ``first_target_step``)."""
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
    names = _plotted(predictions)
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
    return shown + missingness_plots(plots_dir, missing, node_ids, first_target_step, times)
