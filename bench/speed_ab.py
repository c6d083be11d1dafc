"""The A/B measurements of bench/speed.py (``--only optimisations``): each optimisation of the
speed pass measured both ways in one process, alternating, best of several runs, so a change
shows apart from the run-to-run noise of whole pipeline runs."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

# A stage process's imports before training starts (tune/train of a series family).
STAGE_IMPORTS = (
    "import tokfrag.stages.fitting, tokfrag.kinds.series, tokfrag.train, tokfrag.models, "
    "tokfrag.registry, tokfrag.tuning.study"
)


def optimisations(repeats: int) -> list[tuple[str, str, float, float, str]]:
    """Each optimisation of the speed pass measured both ways in this tree, alternating,
    best of ``repeats``: ``(model, metric, before, after, what changed)``."""
    import torch
    from torch_geometric.nn import ChebConv

    from tokfrag.families.fragment.gconvgru_model import FragmentNetConfig
    from tokfrag.families.fragment.gconvgru_net import FragmentNet, NormedChebConv
    from tokfrag.families.fragment.graph import batch_graph

    torch.manual_seed(0)
    n, b = 20, 32  # Chickenpox's nodes, the default batch
    graph = torch.randint(0, n, (2, 102)), torch.rand(102)
    net = FragmentNet(FragmentNetConfig(num_nodes=n, lags=4, hidden_channels=32), *graph)
    batch = {"x": torch.randn(b, n, 4), "y": torch.randn(b, n, 1)}
    batched = batch_graph(*graph, n, b)

    class EveryCall(NormedChebConv):  # the old path: ChebConv normalises on every call
        def forward(self, x: Any, edge_index: Any, norm: Any) -> Any:
            return ChebConv.forward(self, x, *batched)

    def step_ms(cls: type, steps: int = 100) -> float:
        for conv in (net.cell.gates, net.cell.candidate):
            conv.__class__ = cls
        started = time.perf_counter()
        for _ in range(steps):
            net.loss(batch).backward()
        return (time.perf_counter() - started) / steps * 1000

    def imports_s(code: str) -> float:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        return time.perf_counter() - started

    step_ms(NormedChebConv, 20)  # warm up
    steps = [(step_ms(EveryCall), step_ms(NormedChebConv)) for _ in range(repeats)]
    imports = [
        (imports_s(STAGE_IMPORTS + ", sklearn.metrics"), imports_s(STAGE_IMPORTS))
        for _ in range(repeats)
    ]
    return [
        ("GConvGRU train step (B=32, N=20, lags 4, 32 channels)", "train_step_ms",
         min(s[0] for s in steps), min(s[1] for s in steps),
         "the scaled Laplacian computed once per batch, not in each of the 2 x lags "
         "ChebConv calls (tokfrag.families.fragment.gconvgru_model.NormedChebConv)"),
        ("tune/train stage imports (series)", "import_seconds",
         min(i[0] for i in imports), min(i[1] for i in imports),
         "scikit-learn imported by evaluate's metrics only, not by every stage"),
    ]  # fmt: skip
