"""Speed and memory of the pipeline on the default dataset -> bench/results/speed.json.

Each measurement runs in a fresh scratch project, a git + DVC repository with the repo's
``dvc.yaml``, ``inputs/``, ``tokfrag/`` and the params (``params.yaml`` unchanged unless
``--set``/``--quick`` say otherwise; the params used are recorded):

- ``cli_import``: ``tokfrag --help`` wall time (a subprocess), median of 7 runs; the note
  names the 5 top-level packages with the most self import time (``python -X importtime``).
- ``make_run``: what ``make run`` does, ``dvc repro`` then ``tokfrag summary``: wall seconds
  and peak memory, the peak over time of the summed RSS of the whole process tree (sampled
  every 0.1 s with psutil), and the largest RSS of any one process; plus the seconds each
  stage's ``tokfrag`` process spent in its stage (``TOKFRAG_STAGE_TIMES``).
- ``time_to_first_result``: seconds from the launch of that same run until the first tuning
  trial of either family is COMPLETE in ``optuna.db`` (read-only polls every 0.2 s), and
  until ``outputs/<dataset>/metrics.json`` (the verdict) exists.
- ``noop_dvc_repro``: ``dvc repro`` again with nothing changed, median of 3 runs; fails if
  any stage ran. Implies ``make_run`` (it needs a finished pipeline).
- ``--profile``: the same pipeline once more in another scratch project, under
  ``py-spy record --subprocesses`` (bench/runs/speed-profile-<label>.speedscope.json); the
  record's note holds the 15 functions with the most own (leaf) time summed over every process.

``--label before|after`` tags the records (``variant``); a run replaces only the records of
its own label, so the file keeps both. ``--quick`` shrinks the pipeline (2 trials, 3 epochs,
1 final fit per family) and the repeats for a smoke check (writes speed-quick.json).
Run: ``python bench/speed.py --label before`` on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from common import REPO, RESULTS, RUNS, command_line, dvc_project, machine, write_result
from records import Record, read_records, record
from speed_ab import optimisations
from speed_probes import (
    Milestones,
    TreeMemory,
    checked,
    import_top,
    optuna_trial_complete,
    own_time,
    run_logged,
)

MEASUREMENTS = ("cli_import", "make_run", "noop_dvc_repro", "optimisations")
QUICK = {"tune.n_trials": 2, "train.epochs": 3, "train.patience": 2, "train.repeats": 1}
MB = 2**20
MAKE_RUN = "dvc repro && tokfrag summary --params params.yaml"


# -- the measurements ----------------------------------------------------------------------


def cli_import(runs: int) -> dict[str, Any]:
    exe = Path(sys.executable).parent / "tokfrag"
    walls = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([exe, "--help"], check=True, capture_output=True)
        walls.append(time.perf_counter() - started)
    trace = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "tokfrag.cli", "--help"],
        check=True,
        capture_output=True,
        text=True,
    )
    return {"walls": walls, "top": import_top(trace.stderr)}


def make_run(root: Path, env: dict[str, str], dataset: str) -> dict[str, Any]:
    db, metrics = root / "optuna.db", root / "outputs" / dataset / "metrics.json"
    log = root.parent / f"{root.name}.log"
    started = time.perf_counter()
    proc = run_logged(["bash", "-c", MAKE_RUN], root, env, log)
    probes = {"first_trial": lambda: optuna_trial_complete(db), "metrics": metrics.is_file}
    with TreeMemory(proc.pid) as memory, Milestones(probes, started) as seen:
        proc.wait()
        wall = time.perf_counter() - started
    checked(proc, log)
    lines = [json.loads(x) for x in (root / ".stage-times.jsonl").read_text().splitlines()]
    return {
        "wall": wall,
        "peak_total": memory.peak_total,
        "peak_single": memory.peak_single,
        "peak_single_name": memory.peak_single_name,
        "samples": memory.samples,
        "first_trial": seen.seconds.get("first_trial"),
        "metrics": seen.seconds.get("metrics"),
        "stages": {" ".join(x["command"][:2]): round(x["seconds"], 2) for x in lines},
    }


def noop_repro(root: Path, env: dict[str, str], runs: int) -> list[float]:
    walls = []
    for _ in range(runs):
        started = time.perf_counter()
        out = subprocess.run(
            ["dvc", "repro"], cwd=root, env=env, check=True, capture_output=True, text=True
        ).stdout
        walls.append(time.perf_counter() - started)
        if "Running stage" in out:
            raise SystemExit(f"a no-op `dvc repro` ran a stage:\n{out}")
    return walls


def profile(root: Path, env: dict[str, str], out: Path) -> list[tuple[str, float]]:
    """``make run`` in ``root`` under py-spy (50 samples/s, every subprocess) -> ``out``
    (speedscope); the 15 functions with the most own time."""
    spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if spy is None:
        raise SystemExit("--profile needs py-spy: pip install py-spy")
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [spy, "record", "--subprocesses", "--rate", "50", "--format", "speedscope",
           "-o", str(out), "--", "bash", "-c", MAKE_RUN]  # fmt: skip
    log = root.parent / f"{root.name}.log"
    checked(run_logged(cmd, root, env, log), log)
    return own_time(json.loads(out.read_text()))


# -- the result file -----------------------------------------------------------------------


def merge_records(existing: Iterable[Record], new: list[Record], label: str) -> list[Record]:
    """``existing`` without the records that ``new`` remeasures (same ``label``, model and
    metric), then ``new``: a rerun of one label replaces its own figures and keeps the
    other label's (and, after ``--only``, its own other measurements)."""
    redone = {(r.get("variant", label), r.model, r.metric) for r in new}
    return [r for r in existing if (r.get("variant"), r.model, r.metric) not in redone] + new


def write_speed(out: Path, new: list[Record], label: str, params: dict[str, Any]) -> Path:
    """Merge ``new`` into the result file ``out`` (see :func:`merge_records`); its ``runs``
    keep the command, machine and params of each label's last run."""
    old_runs = json.loads(out.read_text()).get("runs", {}) if out.is_file() else {}
    runs = {**old_runs, label: {"command": command_line(), "machine": machine(), "params": params}}
    merged = merge_records(read_records(out), new, label)
    return write_result(out, merged, params, command_line("make bench"), runs=runs)


# -- main ----------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--label", required=True, help="before or after (the records' variant)")
    parser.add_argument("--only", nargs="+", choices=MEASUREMENTS, default=list(MEASUREMENTS))
    parser.add_argument("--profile", action="store_true", help="also profile with py-spy")
    parser.add_argument("--quick", action="store_true", help="a smoke check: tiny pipeline")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="params overrides, e.g. tune.n_trials=4")  # fmt: skip
    parser.add_argument("--params", type=Path, default=REPO / "params.yaml")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    from tokfrag.config import load_params

    updates = {**(QUICK if args.quick else {}), **dict(s.split("=", 1) for s in args.set)}
    updates = {k: yaml.safe_load(v) if isinstance(v, str) else v for k, v in updates.items()}
    params = load_params(args.params).with_overrides(updates)
    raw = params.model_dump()
    dataset = params.data.dataset
    out = args.out or RESULTS / ("speed-quick.json" if args.quick else "speed.json")
    only = set(args.only) | ({"make_run"} if "noop_dvc_repro" in args.only else set())
    protocol = (
        f"{dataset}, params.yaml" + (f" with {updates}" if updates else "") + "; "
        f"{os.cpu_count()} CPU cores" + (" [QUICK]" if args.quick else "")
    )
    rec = lambda model, metric, value, variant=args.label, **kw: record(  # noqa: E731
        dataset, protocol, model, "speed", metric, value, variant=variant, **kw
    )
    records: list[Record] = []

    if "cli_import" in only:
        runs = 3 if args.quick else 7
        print(f"== cli_import: tokfrag --help x {runs}", flush=True)
        cli = cli_import(runs)
        records.append(
            rec("cli_import", "cli_import_seconds", statistics.median(cli["walls"]),
                std=statistics.stdev(cli["walls"]), seconds=sum(cli["walls"]),
                runs=cli["walls"], note=f"self import ms by package: {cli['top']}")
        )  # fmt: skip
        print(f"   median {records[-1].value:.2f} s; import time by package {cli['top']}")

    if "make_run" in only:
        print("== make_run: dvc repro && tokfrag summary in a fresh scratch project", flush=True)
        root, env = dvc_project("speed", raw)
        run = make_run(root, env, dataset)
        stages = {"stage_seconds": run["stages"]}
        records += [
            rec("make_run", "wall_seconds", run["wall"], seconds=run["wall"], **stages),
            rec("make_run", "peak_rss_tree_mb", run["peak_total"] / MB, seconds=run["wall"],
                samples=run["samples"], note="peak of the summed RSS of the process tree"),
            rec("make_run", "peak_rss_single_mb", run["peak_single"] / MB,
                seconds=run["wall"], process=run["peak_single_name"]),
            rec("time_to_first_result", "time_to_first_result_seconds", run["first_trial"],
                note="launch -> first COMPLETE tuning trial of either family in optuna.db"),
            rec("time_to_first_result", "time_to_metrics_seconds", run["metrics"],
                note=f"launch -> outputs/{dataset}/metrics.json exists"),
        ]  # fmt: skip
        print(
            f"   {run['wall']:.1f} s wall, peak RSS {run['peak_total'] / MB:.0f} MB (tree), "
            f"{run['peak_single'] / MB:.0f} MB (one process); first trial at "
            f"{run['first_trial']} s, metrics.json at {run['metrics']} s\n   stages {run['stages']}"
        )
        if "noop_dvc_repro" in only:
            runs = 1 if args.quick else 3
            print(f"== noop_dvc_repro: dvc repro x {runs}, nothing changed", flush=True)
            walls = noop_repro(root, env, runs)
            records.append(
                rec("noop_dvc_repro", "noop_dvc_repro_seconds", statistics.median(walls),
                    std=statistics.stdev(walls) if len(walls) > 1 else 0.0,
                    seconds=sum(walls), runs=walls)
            )  # fmt: skip
            print(f"   median {records[-1].value:.2f} s")

    if "optimisations" in only:
        print("== optimisations: each one measured both ways, alternating", flush=True)
        for model, metric, before, after, what in optimisations(3 if args.quick else 5):
            for variant, value in (("before", before), ("after", after)):
                records.append(rec(model, metric, value, variant, note=what, ab="same process"))
            print(f"   {model}: {metric} {before:.3f} -> {after:.3f} ({what})")

    if args.profile:
        path = RUNS / f"speed-profile-{args.label}.speedscope.json"
        print(f"== profile: the pipeline under py-spy -> {path}", flush=True)
        started = time.perf_counter()
        top = profile(*dvc_project("speed-profile", raw), path)
        wall = time.perf_counter() - started
        records.append(
            rec("profile", "profiled_wall_seconds", wall, seconds=wall,
                profile=str(path.relative_to(REPO)), top_own_seconds=top,
                note="15 functions with the most own time, summed over all processes")
        )  # fmt: skip
        for name, s in top:
            print(f"   {s:8.2f} s  {name}")

    print(f"wrote {write_speed(out, records, args.label, raw)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
