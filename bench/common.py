"""What the benchmark scripts share: the machine, scratch projects run through the real
stages, parameter overrides, timing, and writing a result file (the record type itself is
``records.Record``).
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import records as records_module
import yaml
from records import Record, record

import tokfrag  # noqa: F401  (telemetry off)

REPO = Path(__file__).resolve().parents[1]
RUNS = REPO / "bench" / "runs"
RESULTS = REPO / "bench" / "results"


def machine() -> dict[str, object]:
    import torch

    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "torch_threads": torch.get_num_threads(),
    }


def command_line(prefix: str | None = None) -> str:
    """The command that produced a result: ``python bench/x.py ...``, optionally as run by
    ``prefix`` (``"make bench"``)."""
    cmd = "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]])
    return f"{prefix}  ({cmd})" if prefix else cmd


# -- params --------------------------------------------------------------------------------


def override(params: Any, updates: Mapping[str, Any]) -> Any:
    """``params`` with dotted keys replaced (``{"train.text.lr": 5e-5}``), re-validated."""
    return params.with_overrides(dict(updates))


def load_base(params_path: Path, dataset: str, updates: Mapping[str, Any] | None = None) -> Any:
    """The project's params for ``dataset`` with ``updates`` applied. Tuning is off and each
    final fit runs once unless ``updates`` says otherwise: these suites measure the
    configured models (early-stopped on the validation part) over seeds they set
    themselves; bench/tuning.py measures tuning itself."""
    from tokfrag.config import load_params

    fixed = {"data.dataset": dataset, "tune.n_trials": 0, "train.repeats": 1, **(updates or {})}
    return override(load_params(params_path), fixed)


# -- scratch projects through the real stages ---------------------------------------------


def model_label(params: Any, family: str) -> str:
    """The name a tokfrag model gets in every result file: its family and what runs in it
    (``token_quantized``, ``token_patch``, ``fragment_gconvgru``; text: ``token_wordpiece``,
    ``token_pretrained``, ``fragment_docgraph``), so suites that fit the same model agree."""
    from tokfrag.data.registry import get_spec
    from tokfrag.kinds.series import model_name

    source = params.data.source  # your own data, or a built-in dataset
    kind = source.kind if source is not None else get_spec(params.data.dataset).kind
    if kind == "text":
        if family == "token":
            return "token_pretrained" if params.token.text.pretrained else "token_wordpiece"
        return "fragment_docgraph"
    return f"{family}_{model_name(params, family)}"  # the variant the series stages run


def scratch_project(name: str) -> Path:
    """An empty project folder ``bench/runs/<name>`` (its own MLflow store)."""
    root = RUNS / name
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    return root


def prepare_project(params: Any, root: Path) -> Path:
    """Run the stages before training (ingest, validate, prepare) in ``root``."""
    from tokfrag import stages

    stages.ingest(params, root)
    stages.validate(params, root)
    stages.prepare(params, root)
    return root


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    """``(fn(), seconds)``."""
    started = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - started


def best_of(fns: Mapping[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    """Best (smallest) wall time in seconds of each callable over ``repeats`` rounds, after
    one warm-up call each; the callables alternate within each round, so a slow spell of a
    shared machine hits all of them alike."""
    for fn in fns.values():
        fn()
    best = {name: float("inf") for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            started = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - started)
    return best


# -- records ---------------------------------------------------------------------------------


def published_records(
    dataset: str, protocol: str, split: dict[str, Any] | None = None
) -> list[Record]:
    """The registry's published figures for ``dataset`` as ``family: "published"`` records."""
    from tokfrag.data.registry import published_figures

    return [
        record(
            dataset,
            protocol,
            ref["model"],
            "published",
            ref["metric"],
            ref["value"],
            source=ref["source"],
        )
        for ref in published_figures(dataset, split)
    ]


def write_result(
    out: Path, records: Sequence[Record], params: Any, command: str, **extra: Any
) -> Path:
    """Write a result file on this machine (see ``records.py``); ``extra`` adds top-level keys."""
    return records_module.write_result(out, records, params, command, machine(), **extra)


def dvc_project(name: str, params: dict[str, Any]) -> tuple[Path, dict[str, str]]:
    """A fresh git + DVC repository ``bench/runs/<name>`` holding the project's pipeline
    (dvc.yaml, inputs/, a copy of tokfrag/) and ``params``, and the environment to run
    ``dvc``/``tokfrag`` in it: stage times (``TOKFRAG_STAGE_TIMES``) go to
    ``<root>/.stage-times.jsonl``."""
    root = scratch_project(name)
    shutil.copy(REPO / "dvc.yaml", root / "dvc.yaml")
    shutil.copytree(REPO / "inputs", root / "inputs")
    shutil.copytree(
        REPO / "tokfrag", root / "tokfrag", ignore=shutil.ignore_patterns("__pycache__")
    )
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    (root / ".gitignore").write_text(".stage-times.jsonl\n")
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "TOKFRAG_STAGE_TIMES": str(root / ".stage-times.jsonl"),
    }
    for command in (
        ["git", "init", "-q"],
        ["dvc", "init", "-q"],
        ["git", "add", "-A"],
        ["git", "-c", "user.name=bench", "-c", "user.email=bench@tokfrag.invalid", "commit",
         "-qm", "pipeline"],
    ):  # fmt: skip
        subprocess.run(command, cwd=root, env=env, check=True, capture_output=True)
    return root, env
