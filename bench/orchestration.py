"""`make bench`: what orchestration costs on the default dataset (Chickenpox).

The same pipeline (4 tuning trials per family, one final fit each) two ways, each in a
fresh scratch project, with the stage compute measured inside the same run (separate runs
differ by more than the overhead on a shared 2-core machine):

1. Prefect: the `tokfrag-pipeline` flow against an already running local API (the test
   harness: a temporary server on 127.0.0.1); compute = the summed run times of its stage
   task runs, read back from the API. Once with ``pipeline.task_runner: sequential``
   (overhead against the summed compute), once with ``process`` (the families side by
   side: overhead against the critical path, and the speed-up); each followed by a second,
   fully cached run of the same flow;
2. DVC: `dvc repro` in a fresh git + DVC repository; compute = the time each `tokfrag`
   process spent in its stage (``TOKFRAG_STAGE_TIMES``), so interpreter start-up, imports
   and DVC's own hashing count as orchestration.

Overhead = (wall time - stage compute) / wall time; the target for Prefect is under 10%.
Writes bench/results/orchestration.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import yaml
from common import (
    REPO,
    RESULTS,
    command_line,
    dvc_project,
    load_base,
    scratch_project,
    timed,
    write_result,
)
from records import record

PROTOCOL = "Chickenpox, PGT split; 4 trials per family, 1 final fit each; 2 CPU cores"


def _stage_seconds(client, flow_run_id) -> dict[str, float]:
    """Each stage task's run time, in the flow run and its subflow runs."""
    from flows.runs import stage_runs

    return {r.name: r.total_run_time.total_seconds() for r in stage_runs(client, flow_run_id)}


def _critical_path(stages: dict[str, float]) -> float:
    """The stage time a perfect orchestrator would wait for when the families run side by
    side: the shared stages plus the slower family."""
    family = max(stages[f"tune-{f}"] + stages[f"train-{f}"] for f in ("token", "fragment"))
    shared = sum(v for k, v in stages.items() if not k.startswith(("tune-", "train-")))
    return shared + family


def prefect(params, runner: str) -> dict[str, float]:
    """One flow run on a fresh project, then the same flow again (every stage cached)."""
    from prefect.client.orchestration import get_client
    from prefect.testing.utilities import prefect_test_harness

    from flows.pipeline import pipeline

    root = scratch_project(f"orchestration-prefect-{runner}")
    path = root / "params.yaml"
    raw = params.model_dump()
    raw["pipeline"]["task_runner"] = runner
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    with prefect_test_harness(server_startup_timeout=120):
        state, wall = timed(lambda: pipeline(params_path=str(path), return_state=True))
        with get_client(sync_client=True) as client:
            stages = _stage_seconds(client, state.state_details.flow_run_id)
        _, cached_wall = timed(lambda: pipeline(params_path=str(path)))
    return {
        "wall": wall,
        "compute": sum(stages.values()),
        "critical_path": _critical_path(stages),
        "cached_rerun": cached_wall,
    }


def dvc(params) -> tuple[float, float]:
    """``(dvc repro wall seconds, summed stage seconds measured inside each process)``."""
    root, env = dvc_project("orchestration-dvc", params.model_dump())
    times = root / ".stage-times.jsonl"
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
    sequential = prefect(params, "sequential")
    overhead = 100 * (sequential["wall"] - sequential["compute"]) / sequential["wall"]
    print(
        f"prefect (sequential): {sequential['wall']:.1f} s wall, "
        f"{sequential['compute']:.1f} s inside the stages, overhead {overhead:.1f}%; "
        f"cached re-run {sequential['cached_rerun']:.1f} s"
    )
    records.append(
        record("chickenpox", PROTOCOL, "pipeline", "prefect", "orchestration_overhead_pct",
               overhead, seconds=sequential["wall"], stage_compute_seconds=sequential["compute"],
               cached_rerun_seconds=sequential["cached_rerun"], task_runner="sequential",
               target="< 10")
    )  # fmt: skip
    parallel = prefect(params, "process")
    overhead = 100 * (parallel["wall"] - parallel["critical_path"]) / parallel["wall"]
    speedup = sequential["wall"] / parallel["wall"]
    print(
        f"prefect (process, families side by side): {parallel['wall']:.1f} s wall "
        f"({speedup:.2f}x the sequential flow), critical path of the stages "
        f"{parallel['critical_path']:.1f} s, overhead {overhead:.1f}%; "
        f"cached re-run {parallel['cached_rerun']:.1f} s"
    )
    records.append(
        record("chickenpox", PROTOCOL, "pipeline", "prefect-process",
               "orchestration_overhead_pct", overhead, seconds=parallel["wall"],
               stage_compute_seconds=parallel["compute"],
               critical_path_seconds=parallel["critical_path"],
               speedup_vs_sequential=speedup, cached_rerun_seconds=parallel["cached_rerun"],
               task_runner="process", target="< 10")
    )  # fmt: skip
    wall, compute = dvc(params)
    overhead = 100 * (wall - compute) / wall
    print(
        f"dvc: {wall:.1f} s wall, {compute:.1f} s inside the stages, "
        f"orchestration overhead {overhead:.1f}%"
    )
    records.append(
        record("chickenpox", PROTOCOL, "pipeline", "dvc", "orchestration_overhead_pct",
               overhead, seconds=wall, stage_compute_seconds=compute)
    )  # fmt: skip
    write_result(args.out, records, params, command_line("make bench"))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
