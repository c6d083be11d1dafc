"""Complete dependencies (issue 17): every params key and code file a stage reads is declared
in dvc.yaml, and a params change makes exactly the stages that read it stale, for `dvc status`
and for the Prefect flow's cache alike.

The truth is not dvc.yaml restated: each stage function runs once, in this process, on a tiny
project, with every read of its :class:`~tokfrag.config.Params` and every tokfrag source file
whose functions it calls traced (tokfrag_testing/stage_reads.py). The project is a real git +
DVC repository; `dvc commit` records the traced run in dvc.lock (what `dvc repro` would have
written, without running every stage a second time in its own process). Then each top-level
params key (and ``fragment.graph``, which dvc.yaml declares at that depth) is changed in
turn: ``dvc status --json`` must report changed params for exactly the stages whose traced
reads include that key, and ``tasks.caching.inputs_key`` must change for exactly those.

Reads are compared at the depth dvc.yaml can declare them: a leaf's cell is the finest
declarable name above it, so ``fragment.graph.source`` is in ``fragment.graph`` and
``fragment.model.K`` in ``fragment`` (see ``Reads.cells``).

The trace follows the series path on chickenpox (a built-in dataset with a given graph);
some reads depend on the data, and dvc.yaml, being static, declares their union:
``split`` in ingest (the series gate checks the data suffices for the split; text's does
not), ``calendar`` and ``fragment.graph`` in prepare (series only), ``baselines`` in evaluate
(the ridge baselines: series only), ``fragment.graph.k`` (read only for a correlation graph:
``fragment.graph.source: correlation``, or data without a graph), ``verdict`` in register (read
only by the gate against an existing champion, hence the second registration below), and
``tokfrag/families/token`` in register (the text token model, or the quantized and patch variants).
The text path on trec was traced once by hand: its reads and code are declared too.
"""

from __future__ import annotations

import copy
import functools
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from tokfrag_testing.dvcrepo import REPO, dvc_repo, sh
from tokfrag_testing.params import merge
from tokfrag_testing.stage_reads import Reads, cell_of, traced_code, traced_reads

import tokfrag
from tokfrag import stages
from tokfrag.config import Params, load_params, parse_params

# In the order `dvc repro` runs them.
RUNS: dict[str, Callable[[Params, Path], Any]] = {
    "ingest": stages.ingest,
    "validate": stages.validate,
    "prepare": stages.prepare,
    "tune_token": lambda p, root: stages.tune(p, root, "token"),
    "train_token": lambda p, root: stages.train(p, root, "token"),
    "tune_fragment": lambda p, root: stages.tune(p, root, "fragment"),
    "train_fragment": lambda p, root: stages.train(p, root, "fragment"),
    "evaluate": stages.evaluate,
    # Twice: the first registration has no champion to face; the second runs the gate.
    "register": lambda p, root: [stages.register(p, root) for _ in range(2)],
}

# One change per cell: a leaf in it (not in a deeper declared name), set to a value that
# still validates. For the keys DVC stages read, the leaf is one a stage reads on this path.
CHANGES: dict[str, tuple[str, Any]] = {
    "data": ("data.dataset", "pedalme_london"),
    "split": ("split.train_ratio", 0.25),
    "train": ("train.epochs", 3),
    "token": ("token.model.hidden_size", 48),
    "fragment": ("fragment.model.hidden_channels", 12),
    "fragment.graph": ("fragment.graph.source", "correlation"),
    "calendar": ("calendar.harmonics", 3),
    "baselines": ("baselines.ridge_alpha", 2.0),
    "tune": ("tune.seed", 1),
    "verdict": ("verdict.seed", 1),
    "registry": ("registry.model_prefix", "tokfrag2"),
    # Read by the Prefect flow and `tokfrag deploy` only: no DVC stage may go stale.
    "schedule": ("schedule.timezone", "Europe/Paris"),
    "pipeline": ("pipeline.workers", 3),
}
FLOW_ONLY = {"schedule", "pipeline"}

# Smaller still than SHRUNK: one final fit and fewer folds (the same code paths run).
TINY = {"train": {"epochs": 2, "patience": 1, "repeats": 1}, "tune": {"cv": {"folds": 2}}}

# Reads whose value the stage never uses, left out of the truth (none today: keep it empty
# unless a read is proven unused, and say why beside it).
UNUSED: dict[str, set[str]] = {}

# Where tokfrag dumps a whole Params: only to validate another one, whose reads are traced.
ROOT_DUMPS = {"tokfrag.config.with_overrides", "tokfrag.stages.fitting.tune"}


@dataclass
class Traced:
    root: Path
    raw: dict[str, Any]  # params.yaml as written
    reads: dict[str, Reads]
    code: dict[str, set[str]]


def declared() -> dict[str, dict[str, Any]]:
    return yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]


def units() -> set[str]:
    """The names a stage can declare: every top-level key, and the deeper names dvc.yaml
    uses (only the depth is taken from dvc.yaml, never which stage reads what)."""
    deeper = {p for stage in declared().values() for p in stage.get("params", []) if "." in p}
    return set(Params.model_fields) | deeper


@pytest.fixture(scope="module")
def traced(tmp_path_factory: pytest.TempPathFactory, shrunk_params: dict, mirror: Path) -> Traced:
    raw = merge(shrunk_params, TINY)
    root = dvc_repo(tmp_path_factory.mktemp("deps") / "project", raw)
    params = load_params(root / "params.yaml")
    package = Path(tokfrag.__file__).resolve().parent
    reads: dict[str, Reads] = {}
    code: dict[str, set[str]] = {}
    environ = dict(os.environ)  # MLflow exports its tracking URI: keep it to this module
    try:
        for stage, run in RUNS.items():
            with traced_reads() as reads[stage], traced_code(package) as code[stage]:
                run(params, root)
    finally:
        os.environ.clear()
        os.environ.update(environ)
    sh("dvc", "commit", "--force", "--quiet", cwd=root)
    assert json.loads(sh("dvc", "status", "--json", cwd=root).stdout) == {}
    return Traced(root, raw, reads, code)


def changed(raw: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(raw)
    *path, key = dotted.split(".")
    node = out
    for part in path:
        node = node[part]
    assert key in node, dotted
    node[key] = value
    return out


def expected(traced: Traced, name: str) -> set[str]:
    """The stages whose traced reads include the cell the change to ``name`` falls in."""
    cells = units()
    leaf = CHANGES[name][0]
    assert cell_of(leaf, cells) == name, f"{leaf} is not in the cell {name}"
    return {stage for stage in RUNS if name in used(traced, stage).cells(cells)}


def used(traced: Traced, stage: str) -> Reads:
    reads = traced.reads[stage]
    return Reads(reads.fields - UNUSED.get(stage, set()), reads.root_dumps)


def mismatches(traced: Traced, stale: Callable[[str, dict[str, Any]], set[str]]) -> list[str]:
    out = []
    for name, (leaf, value) in CHANGES.items():
        want, got = expected(traced, name), stale(name, changed(traced.raw, leaf, value))
        if got != want:
            out.append(
                f"{leaf} -> {value!r}: stale {sorted(got)}, but read by {sorted(want)} "
                f"(undeclared: {sorted(want - got)}; declared, not read: {sorted(got - want)})"
            )
    return out


def test_the_trace_covers_every_key_and_reads_the_changed_values(traced: Traced) -> None:
    cells = units()
    assert set(CHANGES) == cells  # every top-level key, and fragment.graph, is changed
    for stage, reads in traced.reads.items():
        assert reads.fields, f"{stage}: no params read traced"
        assert reads.root_dumps <= ROOT_DUMPS, (stage, reads.root_dumps)
        # The flow's sections are no stage's business.
        assert not reads.cells(cells) & FLOW_ONLY, (stage, sorted(reads.fields))
    for name, (leaf, _) in CHANGES.items():
        readers = {
            stage
            for stage, reads in traced.reads.items()
            if any(leaf == f or leaf.startswith(f"{f}.") for f in reads.fields)
        }
        # A change a stage uses (not only a key beside one it uses), except the flow's own.
        assert bool(readers) == (name not in FLOW_ONLY), (leaf, readers)


def test_dvc_status_marks_exactly_the_stages_that_read_each_key(traced: Traced) -> None:
    params_file = traced.root / "params.yaml"
    original = params_file.read_text()

    def stale(name: str, raw: dict[str, Any]) -> set[str]:
        params_file.write_text(yaml.safe_dump(raw, sort_keys=False))
        try:
            status = json.loads(sh("dvc", "status", "--json", cwd=traced.root).stdout)
        finally:
            params_file.write_text(original)
        out = set()
        for stage, entries in status.items():
            for entry in entries:
                keys = (
                    entry.get("changed deps", {}).get("params.yaml")
                    if isinstance(entry, dict)
                    else None
                )
                if keys:
                    out.add(stage)
                    # What DVC names is the declared name the change falls in, or above it.
                    leaf = CHANGES[name][0]
                    assert all(leaf.startswith(f"{k}.") for k in keys), (stage, keys, leaf)
        return out

    problems = mismatches(traced, stale)
    assert not problems, "\n".join(problems)
    assert json.loads(sh("dvc", "status", "--json", cwd=traced.root).stdout) == {}


def test_prefect_cache_keys_change_for_exactly_the_same_stages(
    traced: Traced, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tasks import caching

    # The code and the outputs do not change here, only params.yaml: hash each tree once
    # (and a file saved under tokfrag/ meanwhile cannot pass for a params change).
    monkeypatch.setattr(caching, "tree_digest", functools.cache(caching.tree_digest))

    def keys(params: Params) -> dict[str, str]:
        return {
            stage: caching.inputs_key(
                caching.stage_spec(traced.root, stage, params.data.dataset), params, traced.root
            )
            for stage in RUNS
        }

    before = keys(parse_params(traced.raw))

    def stale(name: str, raw: dict[str, Any]) -> set[str]:
        after = keys(parse_params(raw))
        return {stage for stage in RUNS if after[stage] != before[stage]}

    problems = mismatches(traced, stale)
    assert not problems, "\n".join(problems)


def test_each_stage_declares_the_code_it_runs(traced: Traced) -> None:
    stages_yaml = declared()
    undeclared = {}
    for stage, files in traced.code.items():
        deps = [d for d in stages_yaml[stage]["deps"] if d.split("/", 1)[0] == "tokfrag"]
        missing = sorted(f for f in files if not any(f == d or f.startswith(f"{d}/") for d in deps))
        if missing:
            undeclared[stage] = missing
    assert not undeclared, "\n".join(f"{k}: {v}" for k, v in undeclared.items())
