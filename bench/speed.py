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
import collections
import datetime as dt
import json
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import closing
from pathlib import Path
from typing import Any

import psutil
import yaml
from common import REPO, RESULTS, RUNS, command_line, dvc_project, machine, record

MEASUREMENTS = ("cli_import", "make_run", "noop_dvc_repro", "optimisations")
QUICK = {"tune.n_trials": 2, "train.epochs": 3, "train.patience": 2, "train.repeats": 1}
MB = 2**20


# -- pure parts (tested in tests/bench/test_speed.py) ---------------------------------------


class TreeMemory:
    """Samples the RSS of a process and all its descendants every ``interval`` seconds in a
    thread: ``peak_total`` is the largest sum over the tree at one instant, ``peak_single``
    the largest RSS of any one process (in bytes), ``peak_single_name`` its command."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.pid, self.interval = pid, interval
        self.peak_total = self.peak_single = self.samples = 0
        self.peak_single_name = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def sample(self) -> None:
        try:
            root = psutil.Process(self.pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            return
        total = 0
        for proc in procs:
            try:
                rss = proc.memory_info().rss
            except psutil.Error:  # exited between the listing and the read
                continue
            total += rss
            if rss > self.peak_single:
                self.peak_single, self.peak_single_name = rss, _name(proc)
        self.peak_total = max(self.peak_total, total)
        self.samples += 1

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)


def _name(proc: psutil.Process) -> str:
    try:
        return " ".join(proc.cmdline()[:4])[:120]
    except psutil.Error:
        return "?"


def optuna_trial_complete(db: Path) -> bool:
    """Whether the Optuna SQLite storage ``db`` holds a COMPLETE trial (read-only; False
    while the file or its tables do not exist yet)."""
    if not db.is_file():
        return False
    try:
        with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.1)) as conn:
            row = conn.execute("SELECT 1 FROM trials WHERE state = 'COMPLETE' LIMIT 1").fetchone()
    except sqlite3.Error:  # no tables yet, or locked for a moment by a writer
        return False
    return row is not None


class Milestones:
    """Polls ``probes`` (name -> predicate) every ``interval`` seconds in a thread and keeps
    ``seconds[name]``: the time from ``start`` until the first poll at which it held."""

    def __init__(
        self, probes: Mapping[str, Callable[[], bool]], start: float, interval: float = 0.2
    ) -> None:
        self.probes, self.start, self.interval = dict(probes), start, interval
        self.seconds: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Milestones:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.poll()  # one last look: a milestone reached in the final interval still counts

    def poll(self) -> None:
        for name, probe in self.probes.items():
            if name not in self.seconds and probe():
                self.seconds[name] = time.perf_counter() - self.start

    def _run(self) -> None:
        while not self._stop.is_set() and len(self.seconds) < len(self.probes):
            self.poll()
            self._stop.wait(self.interval)


def merge_records(
    existing: Iterable[dict[str, Any]], new: list[dict[str, Any]], label: str
) -> list[dict[str, Any]]:
    """``existing`` without the records that ``new`` remeasures (same ``label``, model and
    metric), then ``new``: a rerun of one label replaces its own figures and keeps the
    other label's (and, after ``--only``, its own other measurements)."""
    redone = {(r.get("variant", label), r["model"], r["metric"]) for r in new}
    return [r for r in existing if (r.get("variant"), r["model"], r["metric"]) not in redone] + new


def import_top(stderr: str, n: int = 5) -> list[tuple[str, float]]:
    """The ``n`` top-level packages with the most self import time (ms), from the output
    of ``python -X importtime``."""
    totals: collections.Counter[str] = collections.Counter()
    for line in stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", line)
        if m:
            totals[m.group(2).split(".")[0]] += int(m.group(1)) / 1000
    return [(name, round(ms, 1)) for name, ms in totals.most_common(n)]


def own_time(speedscope: dict[str, Any], n: int = 15) -> list[tuple[str, float]]:
    """The ``n`` functions with the most own (leaf) time in seconds over every process and
    thread of a py-spy speedscope file; a function is ``name (file)``, lines merged."""
    frames = speedscope["shared"]["frames"]
    totals: collections.Counter[str] = collections.Counter()
    for profile in speedscope["profiles"]:
        for stack, weight in zip(profile["samples"], profile["weights"], strict=True):
            if stack:
                f = frames[stack[-1]]  # stacks run root -> leaf
                if f["name"].startswith("process "):  # py-spy's frame for a process
                    totals[f"(no Python frame) {f['name'][:70]}"] += weight
                    continue
                where = Path(f.get("file") or "?")
                totals[f"{f['name']} ({'/'.join(where.parts[-2:])})"] += weight
    return [(name, round(s, 2)) for name, s in totals.most_common(n)]


# -- the scratch project --------------------------------------------------------------------


MAKE_RUN = "dvc repro && tokfrag summary --params params.yaml"


def run_logged(cmd: list[str], root: Path, env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen(cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)


def checked(proc: subprocess.Popen, log: Path) -> None:
    if proc.wait() != 0:
        tail = "\n".join(log.read_text().splitlines()[-20:])
        raise SystemExit(f"{' '.join(map(str, proc.args))} failed ({log}):\n{tail}")


# -- the measurements ----------------------------------------------------------------------


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


# -- main ----------------------------------------------------------------------------------


def _value(text: str) -> Any:
    return yaml.safe_load(text)


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
    updates = {k: _value(v) if isinstance(v, str) else v for k, v in updates.items()}
    params = load_params(args.params).with_overrides(updates)
    raw = params.model_dump()
    dataset = params.data.dataset
    out = args.out or RESULTS / ("speed-quick.json" if args.quick else "speed.json")
    only = set(args.only) | ({"make_run"} if "noop_dvc_repro" in args.only else set())
    protocol = (
        f"{dataset}, params.yaml" + (f" with {updates}" if updates else "") + "; "
        f"{os.cpu_count()} CPU cores" + (" [QUICK]" if args.quick else "")
    )
    rec = lambda model, metric, value, **kw: record(  # noqa: E731
        dataset, protocol, model, "speed", metric, value, variant=args.label, **kw
    )
    records: list[dict[str, Any]] = []

    if "cli_import" in only:
        runs = 3 if args.quick else 7
        print(f"== cli_import: tokfrag --help x {runs}", flush=True)
        cli = cli_import(runs)
        records.append(
            rec("cli_import", "cli_import_seconds", statistics.median(cli["walls"]),
                std=statistics.stdev(cli["walls"]), seconds=sum(cli["walls"]),
                runs=cli["walls"], note=f"self import ms by package: {cli['top']}")
        )  # fmt: skip
        print(f"   median {records[-1]['value']:.2f} s; import time by package {cli['top']}")

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
            print(f"   median {records[-1]['value']:.2f} s")

    if "optimisations" in only:
        print("== optimisations: each one measured both ways, alternating", flush=True)
        for model, metric, before, after, what in optimisations(3 if args.quick else 5):
            for variant, value in (("before", before), ("after", after)):
                records.append(
                    {**rec(model, metric, value, note=what, ab="same process"), "variant": variant}
                )
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

    old = json.loads(out.read_text()) if out.is_file() else {}
    runs_meta = {
        **old.get("runs", {}),
        args.label: {"command": command_line(), "machine": machine(), "params": raw},
    }
    result = {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": command_line("make bench"),
        "machine": machine(),
        "params": raw,
        "runs": runs_meta,
        "records": merge_records(old.get("records", []), records, args.label),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
