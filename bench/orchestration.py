"""`make bench`: what orchestration costs on the default dataset (Chickenpox).

The same pipeline (4 tuning trials per family, one final fit each) two ways, each in a
fresh scratch project, with the stage compute measured inside the same run (separate runs
differ by more than the overhead on a shared 2-core machine):

1. Prefect: the `tokfrag-pipeline` flow against an already running local API (the test
   harness: a temporary server on 127.0.0.1); compute = the summed run times of its task
   runs, read back from the API;
2. DVC: `dvc repro` in a fresh git + DVC repository; compute = the time each `tokfrag`
   process spent in its stage (``TOKFRAG_STAGE_TIMES``), so interpreter start-up, imports
   and DVC's own hashing count as orchestration.

Overhead = (wall time - stage compute) / wall time; the target for Prefect is under 10%.
Writes bench/results/orchestration.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from common import (
    REPO,
    RESULTS,
    command_line,
    load_base,
    record,
    scratch_project,
    timed,
    write_result,
)

PROTOCOL = "Chickenpox, PGT split; 4 trials per family, 1 final fit each; 2 CPU cores"


def prefect(params) -> tuple[float, float]:
    """``(flow wall seconds, summed task run seconds)`` of one flow run."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.testing.utilities import prefect_test_harness

    from flows.pipeline import pipeline

    root = scratch_project("orchestration-prefect")
    path = root / "params.yaml"
    path.write_text(yaml.safe_dump(params.model_dump(), sort_keys=False))
    with prefect_test_harness(server_startup_timeout=120):
        state, wall = timed(lambda: pipeline(params_path=str(path), return_state=True))
        with get_client(sync_client=True) as client:
            runs = client.read_task_runs(
                flow_run_filter=FlowRunFilter(
                    id=FlowRunFilterId(any_=[state.state_details.flow_run_id])
                )
            )
    return wall, sum(r.total_run_time.total_seconds() for r in runs)


def dvc(params) -> tuple[float, float]:
    """``(dvc repro wall seconds, summed stage seconds measured inside each process)``."""
    root = scratch_project("orchestration-dvc")
    shutil.copy(REPO / "dvc.yaml", root / "dvc.yaml")
    shutil.copytree(
        REPO / "tokfrag", root / "tokfrag", ignore=shutil.ignore_patterns("__pycache__")
    )
    (root / "params.yaml").write_text(yaml.safe_dump(params.model_dump(), sort_keys=False))
    times = root.parent / "orchestration-dvc-times.jsonl"
    times.unlink(missing_ok=True)
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "TOKFRAG_STAGE_TIMES": str(times),
    }
    for command in (
        ["git", "init", "-q"],
        ["dvc", "init", "-q"],
        ["git", "add", "-A"],
        ["git", "-c", "user.name=bench", "-c", "user.email=bench@tokfrag.invalid", "commit",
         "-qm", "pipeline"],
    ):  # fmt: skip
        subprocess.run(command, cwd=root, env=env, check=True, capture_output=True)
    run = lambda: subprocess.run(  # noqa: E731
        ["dvc", "repro"], cwd=root, env=env, check=True, capture_output=True
    )
    wall = timed(run)[1]
    lines = [json.loads(line) for line in times.read_text().splitlines()]
    return wall, sum(line["seconds"] for line in lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--params", type=Path, default=REPO / "params.yaml")
    parser.add_argument("--out", type=Path, default=RESULTS / "orchestration.json")
    args = parser.parse_args()

    params = load_base(args.params, "chickenpox", {"tune.n_trials": 4})
    records = []
    for path, measure in (("prefect", prefect), ("dvc", dvc)):
        wall, compute = measure(params)
        overhead = 100 * (wall - compute) / wall
        print(
            f"{path}: {wall:.1f} s wall, {compute:.1f} s inside the stages, "
            f"orchestration overhead {overhead:.1f}%"
        )
        records.append(
            record("chickenpox", PROTOCOL, "pipeline", path, "orchestration_overhead_pct",
                   overhead, seconds=wall, stage_compute_seconds=compute,
                   target="< 10" if path == "prefect" else None)
        )  # fmt: skip
    write_result(args.out, records, params, command_line("make bench"))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
