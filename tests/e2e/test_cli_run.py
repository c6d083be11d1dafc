"""`tokfrag run`: the flow from the command line, on a temporary Prefect server that Prefect
starts itself; a second run with nothing changed computes nothing and says so."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

TOKFRAG = [sys.executable, "-m", "tokfrag.cli"]


def _run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_API", "MLFLOW_"))}
    env.update(PREFECT_HOME=str(root / ".prefect"), PREFECT_LOGGING_TO_API_ENABLED="false")
    return subprocess.run(
        [*TOKFRAG, "run", *args], cwd=root, capture_output=True, text=True, env=env, timeout=900
    )


def test_run_then_run_again_is_all_cached(project: Path) -> None:
    root = project.parent
    first = _run(root)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "run: 9 of 9 stages ran" in first.stdout
    metrics = json.loads((root / "outputs/chickenpox/metrics.json").read_text())

    again = _run(root)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "run: 0 of 9 stages ran; cached: evaluate, ingest, prepare, register" in again.stdout
    assert json.loads((root / "outputs/chickenpox/metrics.json").read_text()) == metrics
