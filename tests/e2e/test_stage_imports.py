"""Each stage process imports only what it uses (issue 20): `dvc repro` runs every stage in a
process of its own, and each pays again for what it imports. The stages run once each, in
`dvc repro`'s order, each through the real CLI in a fresh process, on the default (series)
project; each must stay within what its work needs and must load what that work uses (so a
stage that silently skipped its work cannot pass)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml
from tokfrag_testing.params import merge

HEAVY = (
    "great_expectations",
    "matplotlib",
    "mlflow",
    "optuna",
    "prefect",
    "scipy.stats",
    "sklearn",
    "tokenizers",
    "torch",
    "torch_geometric",
    "transformers",
)

# Run one stage through the real CLI, then name which heavy packages the process loaded.
PROBE = """
import atexit, json, sys
heavy = {heavy!r}
atexit.register(lambda: print("LOADED " + json.dumps(sorted(m for m in heavy if m in sys.modules))))
sys.argv = ["tokfrag", *{argv!r}]
from tokfrag.cli import app
app()
"""

# The token family's series models are BERT encoders (transformers, which brings tokenizers);
# the fragment family's are PyG networks, loaded without transformers
# (tokfrag/families/fragment/pyg.py). Both default variants: token inverted, fragment gconvgru.
TOKEN = {"torch", "transformers", "tokenizers"}
FRAGMENT = {"torch", "torch_geometric"}

# What each stage may load; everything else in HEAVY must stay out of its process.
ALLOWED: dict[str, set[str]] = {
    "ingest": {"great_expectations", "scipy.stats"},  # the gate before writing (GX imports SciPy)
    "validate": {"great_expectations", "scipy.stats", "mlflow"},  # the gate's run goes to MLflow
    "prepare": set(),  # the split, the scaler and the graph: NumPy and JSON
    "tune token": {"optuna", "mlflow", *TOKEN},
    "train token": {"mlflow", *TOKEN},
    "tune fragment": {"optuna", "mlflow", *FRAGMENT},
    "train fragment": {"mlflow", *FRAGMENT},
    # Both families' models and the baselines scored (sklearn's metrics), the verdict's
    # statistics (SciPy) and the plots.
    "evaluate": {"mlflow", "sklearn", "scipy.stats", "matplotlib", *TOKEN, *FRAGMENT},
    # Each model is loaded and asked for a real prediction before it is registered.
    "register": {"mlflow", "scipy.stats", *TOKEN, *FRAGMENT},
}
# What each stage must load: its work ran (a tune that built no model would pass ALLOWED).
USED: dict[str, set[str]] = {
    "ingest": {"great_expectations"},
    "validate": {"great_expectations", "mlflow"},
    "prepare": set(),
    "tune token": {"optuna", "mlflow", "transformers"},
    "train token": {"mlflow", "transformers"},
    "tune fragment": {"optuna", "mlflow", "torch_geometric"},
    "train fragment": {"mlflow", "torch_geometric"},
    "evaluate": {"mlflow", "transformers", "torch_geometric", "matplotlib"},
    "register": {"mlflow", "transformers", "torch_geometric"},
}

# The imports do not depend on the budget: one final fit, two epochs, two folds.
TINY = {"train": {"epochs": 2, "patience": 1, "repeats": 1}, "tune": {"cv": {"folds": 2}}}


def _loaded(root: Path, stage: str) -> set[str]:
    code = PROBE.format(heavy=HEAVY, argv=stage.split())
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_TRACKING")}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, env=env, timeout=600
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("LOADED "))
    return set(json.loads(line.removeprefix("LOADED ")))


def test_each_stage_loads_only_what_it_uses(project: Path) -> None:
    project.write_text(
        yaml.safe_dump(merge(yaml.safe_load(project.read_text()), TINY), sort_keys=False)
    )
    dvc = yaml.safe_load((Path(__file__).resolve().parents[2] / "dvc.yaml").read_text())
    commands = [
        s["cmd"].removeprefix("tokfrag ").removesuffix(" --params params.yaml")
        for s in dvc["stages"].values()
    ]
    assert commands == list(ALLOWED), "one entry per dvc.yaml stage, in its order"
    problems = []
    for stage in ALLOWED:  # in order: each reads the one before
        loaded = _loaded(project.parent, stage)
        if extra := loaded - ALLOWED[stage]:
            problems.append(f"{stage} imported {sorted(extra)}")
        if missing := USED[stage] - loaded:
            problems.append(f"{stage} did not import {sorted(missing)}: did its work run?")
    assert not problems, "\n".join(problems)
