"""What bench/speed.py measures with, apart from the pipeline: a sampler of a process tree's
memory, a poller of milestones (the first COMPLETE Optuna trial), the parsers of
``python -X importtime`` and py-spy output, and logged subprocesses. Tested in
tests/bench/test_speed.py."""

from __future__ import annotations

import collections
import re
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import closing
from pathlib import Path
from typing import Any

import psutil

# -- memory and milestones -----------------------------------------------------------------


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


# -- parsers -------------------------------------------------------------------------------


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


# -- logged subprocesses -------------------------------------------------------------------


def run_logged(cmd: list[str], root: Path, env: dict[str, str], log: Path) -> subprocess.Popen:
    """``cmd`` started in ``root``, its stdout and stderr written to ``log``."""
    with log.open("w") as out:
        return subprocess.Popen(cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)


def checked(proc: subprocess.Popen, log: Path) -> None:
    """Wait for ``proc``; exit with the tail of its ``log`` if it failed."""
    if proc.wait() != 0:
        tail = "\n".join(log.read_text().splitlines()[-20:])
        raise SystemExit(f"{' '.join(map(str, proc.args))} failed ({log}):\n{tail}")
