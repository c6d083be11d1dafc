"""The missingness heat map: which readings of the whole series are missing, per node and
time step, with the start of the test targets marked (``missingness.png``), and the share
missing per node (``missingness.csv``). Drawn only when some reading is missing."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tokfrag.report.plots import pyplot, save


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
    plt = pyplot()
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
    save(fig, path)


def missingness_plots(
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
