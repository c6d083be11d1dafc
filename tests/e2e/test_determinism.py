"""Two runs with the same seed give identical test metrics on CPU; another seed does not.

Each run is the real pipeline (ingest, validate, prepare, tune and train both families,
evaluate) in its own fresh project folder and its own Python process, so no process-wide
random state (Python's, NumPy's, torch's) can carry from one run to the other. The two
same-seed runs also get different ``PYTHONHASHSEED`` values, as two real processes would:
a result that hangs on set or dict-of-str ordering shows up as a difference here.

Compared exactly (``==``, never approx): every model's and baseline's test metrics, the
verdict, each family's tuning (every trial's point and value, the best point), the bytes of
every saved weights file, and the per-item test scores. Timings, memory and folder paths
are the only things left out. The text token family's WordPiece vocabulary is trained by
tokfrag itself (``tokenizers``' own trainer orders ties by a per-process hash map), so it
is compared like everything else.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from tokfrag_testing.bad_inputs import (
    TEXT_DATASET,
    TEXT_SOURCE,
    jsonl,
    series_project,
    text_frame,
    write_file,
)
from tokfrag_testing.params import TEXT_SHRUNK, merge

# One process per run: the stage functions in order, as `dvc repro` runs them (registration
# is left out: it copies the same files into MLflow and decides nothing numeric).
STAGES = """
import sys
from tokfrag import stages
from tokfrag.config import load_params

root = sys.argv[1]
params = load_params(root + "/params.yaml")
stages.ingest(params, root)
stages.validate(params, root)
stages.prepare(params, root)
for family in stages.FAMILIES:
    stages.tune(params, root, family)
    stages.train(params, root, family)
stages.evaluate(params, root)
"""
# What a run may differ in by nature: wall clock, memory, and where its folder is.
VOLATILE = {
    "latency_ms_p50",
    "latency_ms_p95",
    "peak_rss_mb",
    "predict_seconds",
    "train_seconds",
    "run_id",  # MLflow makes a new id per run
}
RUN_TIMEOUT = 600


def _series_project(root: Path, base: dict[str, Any], mirror: Path, seed: int) -> Path:
    """Chickenpox as a user's sensor CSV: two tuning trials per family, two epochs."""
    series_project(
        root, base, mirror, train={"seed": seed}, tune={"n_trials": 2}, verdict={"resamples": 200}
    )
    return root


def _text_project(root: Path, base: dict[str, Any], mirror: Path, seed: int) -> Path:
    """A TREC slice as a user's JSONL of questions, with the text budget shrunk."""
    write_file(root / "inputs" / "questions.jsonl", jsonl(text_frame(mirror)))
    raw = merge(
        merge(base, TEXT_SHRUNK),
        {
            "data": {"dataset": TEXT_DATASET, "source": TEXT_SOURCE},
            "train": {"repeats": 1, "seed": seed},
            "tune": {"n_trials": 2},
            "verdict": {"resamples": 200},
        },
    )
    (root / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return root


def _start(root: Path, hash_seed: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONHASHSEED": str(hash_seed)}
    log = (root / "run.log").open("w")
    return subprocess.Popen(
        [sys.executable, "-c", STAGES, str(root)],
        cwd=root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, shrunk_params: dict, mirror: Path):
    """Series: seed 0 twice and seed 1 once; text: seed 0 twice. Each in its own process
    and folder, as many at once as there are CPUs; returns their folders by name."""
    top = tmp_path_factory.mktemp("determinism")
    projects = {
        "series_a": (_series_project, 0, 11),
        "series_b": (_series_project, 0, 22),
        "text_a": (_text_project, 0, 11),
        "text_b": (_text_project, 0, 22),
        "series_other_seed": (_series_project, 1, 11),
    }
    roots = {
        name: make(top / name, shrunk_params, mirror, seed)
        for name, (make, seed, _) in projects.items()
    }
    waiting = list(projects)
    running: dict[str, subprocess.Popen] = {}
    failed = []
    deadline = time.monotonic() + RUN_TIMEOUT
    while waiting or running:
        while waiting and len(running) < max(2, os.cpu_count() or 2):
            name = waiting.pop(0)
            running[name] = _start(roots[name], projects[name][2])
        for name, process in list(running.items()):
            code = process.poll()
            if code is None and time.monotonic() > deadline:
                process.kill()
                code = process.wait()
                code = f"killed after {RUN_TIMEOUT} s"
            if code is not None:
                del running[name]
                if code != 0:
                    tail = (roots[name] / "run.log").read_text(errors="replace")[-3000:]
                    failed.append(f"{name}: exit {code}\n{tail}")
        time.sleep(0.2)
    assert not failed, "\n\n".join(failed)
    return roots


def _out(root: Path) -> Path:
    (out,) = (root / "outputs").iterdir()  # one dataset per project
    return out


def _metrics(root: Path) -> dict[str, Any]:
    """metrics.json without timings, memory or paths: everything a seed decides."""
    metrics = json.loads((_out(root) / "metrics.json").read_text())
    models = {
        name: {k: v for k, v in entry.items() if k not in VOLATILE}
        for name, entry in metrics["models"].items()
    }
    return {"models": models, "verdict": metrics["verdict"], "protocol": metrics["protocol"]}


def _tuning(root: Path) -> dict[str, Any]:
    """Each family's study: its digest, every trial's point, value and state, the best."""
    out = {}
    for path in sorted((_out(root) / "tuning").glob("*.json")):
        record = json.loads(path.read_text())
        trials = [
            {k: t[k] for k in ("number", "params", "value", "state", "best_epoch")}
            for t in record["trials"]
        ]
        out[path.stem] = {
            "study_digest": record["study_digest"],
            "best": record["best"],
            "trials": trials,
        }
    return out


def _weights(root: Path) -> dict[str, bytes]:
    models = _out(root) / "models"
    return {
        str(p.relative_to(models)): p.read_bytes() for p in sorted(models.rglob("*.safetensors"))
    }


def _items(root: Path) -> dict[str, np.ndarray]:
    from tokfrag.stages.records import RUNS_KEY  # the stamp of the scored runs: ids differ

    with np.load(_out(root) / "item_scores.npz") as data:
        return {k: data[k] for k in data.files if k != RUNS_KEY}


def _results(root: Path) -> dict[str, Any]:
    results = {
        "metrics": _metrics(root),
        "tuning": _tuning(root),
        "weights": _weights(root),
        "items": {k: v.tobytes() + str(v.dtype).encode() for k, v in _items(root).items()},
    }
    metrics = results["metrics"]["models"]
    assert {"token", "fragment"} <= set(metrics) and len(metrics) >= 4  # + the baselines
    for name, entry in metrics.items():
        assert any(k.startswith("test_") for k in entry), name
    for family in ("token", "fragment"):
        assert len(results["tuning"][family]["trials"]) == 2, family  # tuning ran
        assert results["tuning"][family]["best"]["params"], family
        assert any(k.startswith(f"{family}/") for k in results["weights"]), family
    assert {"token", "fragment"} <= set(results["items"])
    return results


def _assert_same(a: dict[str, Any], b: dict[str, Any]) -> None:
    """Equal, part by part, so a failure says which part differs."""
    for name in a["metrics"]["models"].keys() | b["metrics"]["models"].keys():
        assert a["metrics"]["models"].get(name) == b["metrics"]["models"].get(name), name
    assert a["metrics"] == b["metrics"]
    assert a["tuning"] == b["tuning"]
    assert a["weights"].keys() == b["weights"].keys()
    for name in a["weights"]:
        assert a["weights"][name] == b["weights"][name], f"weights {name} differ"
    assert a["items"].keys() == b["items"].keys()
    for name in a["items"]:
        assert a["items"][name] == b["items"][name], f"item scores {name} differ"


def test_same_seed_gives_identical_series_results(runs):
    _assert_same(_results(runs["series_a"]), _results(runs["series_b"]))


def test_same_seed_gives_identical_text_results(runs):
    _assert_same(_results(runs["text_a"]), _results(runs["text_b"]))


def test_another_seed_gives_other_results(runs):
    """The comparison above can fail: train.seed 1 instead of 0 changes the trained models."""
    same, other = runs["series_a"], runs["series_other_seed"]
    metrics, changed = _metrics(same)["models"], _metrics(other)["models"]
    for family in ("token", "fragment"):
        assert metrics[family]["test_mse"] != changed[family]["test_mse"], family
    # The baselines have no seed: they agree across the two runs.
    for name in set(metrics) - {"token", "fragment"}:
        assert metrics[name] == changed[name], name
    weights, changed_weights = _weights(same), _weights(other)
    assert weights.keys() == changed_weights.keys()
    assert all(weights[name] != changed_weights[name] for name in weights)
