"""SIGKILL during registration, against a real SQLite MLflow registry in a temporary project.

A first round registers in this process and crowns ``token``. A second round (new training
runs; ``fragment`` is better now) registers in child processes, each killed with a real
SIGKILL at the next point of ``register_candidates``: while the second model is logged into
its training run, between the two new versions, before any alias moves, and between the two
alias moves. Each child reruns what the one before left half done. A child stops itself with
``os.kill(getpid(), SIGKILL)`` on entering a named call, so the kill lands at the same place
on every run.

After every kill, each alias points at a READY version with every model file and the full set
of version tags; until the aliases move, the first round's champion keeps its alias. A last
child then completes the round: one version per training run (no duplicates from the
reruns), aliases on the new winner and runner-up, whose models load and predict.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from urllib.parse import urlparse

import mlflow
import yaml

from tokfrag.config import RegistryConfig
from tokfrag.models.saving import CONFIG_FILE
from tokfrag.registry import Candidate, Store, open_store, register_candidates
from tokfrag.registry.pyfunc import FORECASTER_ARTIFACT
from tokfrag.registry.tracking import LOGGING_TAG

DATASET = "faults"
EXTRA = {"token": {"params_hash": "p-token"}, "fragment": {"params_hash": "p-fragment"}}

# Runs register_candidates in a fresh process. With a kill point (``module:attribute`` and
# the call to stop at), the process SIGKILLs itself on entering that call: the attribute is
# wrapped (the real function runs on the other calls), so the kill lands at the same place
# on every run.
CHILD = """
import functools, os, pickle, signal, sys
from importlib import import_module
from tokfrag.config import RegistryConfig
from tokfrag.registry import open_store, register_candidates

dataset, project, candidates_file, target, nth = sys.argv[1:6]
store = open_store(RegistryConfig(), project, dataset)
candidates, extra = pickle.loads(open(candidates_file, "rb").read())
if target:
    module, name = target.split(":")
    owner = import_module(module)
    *path, attr = name.split(".")
    for part in path:
        owner = getattr(owner, part)
    real, calls = getattr(owner, attr), [0]

    @functools.wraps(real)
    def killing(*args, **kwargs):
        calls[0] += 1
        if calls[0] == int(nth):
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)

    setattr(owner, attr, killing)
register_candidates(store, dataset, candidates, extra_tags=extra)
"""

# Where each child dies, in order, all in one round: the attribute register_candidates
# reaches the point through, and which call of it. Each child reruns the registration the
# one before left half done; a last child finishes it.
KILL_POINTS = [
    # Phase 2: the token model is logged; the fragment run is resumed and being logged into.
    ("logging_second_model", "mlflow.tracking.client:MlflowClient.log_model_artifacts", 2),
    # Phase 3: the token version exists, the fragment version does not.
    ("between_versions", "mlflow:register_model", 2),
    # Phase 4 not begun: both versions exist, no alias moved.
    ("before_aliases", "tokfrag.registry.register:move_aliases", 1),
    # Phase 4 half done: champion moved, challenger not yet.
    ("between_aliases", "mlflow.tracking.client:MlflowClient.set_registered_model_alias", 2),
]


def _child(project: Path, candidates_file: Path, target: str = "", nth: int = 0):
    return subprocess.run(
        [
            sys.executable,
            "-c",
            CHILD,
            DATASET,
            str(project),
            str(candidates_file),
            target,
            str(nth),
        ],
        capture_output=True,
        text=True,
        cwd=project,
        env={k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_TRACKING_URI")},
        timeout=120,
    )


def _model_files(store: Store, version: str) -> list[str]:
    """What the version's MLmodel names that is missing from its artifact folder."""
    uri = store.client().get_model_version_download_uri(store.model_name, version)
    root = Path(urlparse(uri).path)
    if not (root / "MLmodel").is_file():
        return ["MLmodel"]
    flavor = yaml.safe_load((root / "MLmodel").read_text())["flavors"]["python_function"]
    wanted = [a["path"] for a in flavor["artifacts"].values()] + [flavor["code"]]
    wanted.append(f"{flavor['artifacts'][FORECASTER_ARTIFACT]['path']}/{CONFIG_FILE}")
    return [path for path in wanted if not (root / path).exists()]


def _check_aliases(
    store: Store, runs: dict[str, Candidate], full_tags: set[str], *, load: bool
) -> dict[str, int]:
    """Every alias on a READY, fully tagged version with every model file (``load``: and
    whose model loads and predicts the candidate's example)."""
    client = store.client()
    aliases = dict(client.get_registered_model(store.model_name).aliases)
    assert "champion" in aliases
    for alias, version in aliases.items():
        mv = client.get_model_version(store.model_name, version)
        assert mv.status == "READY", (alias, mv)
        assert set(mv.tags) >= full_tags, (alias, full_tags - set(mv.tags))
        candidate = runs[mv.run_id]
        assert mv.tags["family"] == candidate.family
        assert float(mv.tags["metric.test_mse"]) == candidate.metrics["test_mse"]
        assert _model_files(store, version) == [], (alias, version)
        if load:
            store.activate()
            model = mlflow.pyfunc.load_model(f"models:/{store.model_name}@{alias}")
            frame = candidate.contract(DATASET).example_frame(candidate.example)
            assert len(model.predict(frame)) == len(candidate.node_ids)
    return {alias: int(version) for alias, version in aliases.items()}


def test_sigkill_at_each_point_of_registration_leaves_aliases_on_complete_versions(
    tmp_path: Path, trained, make_candidate
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    store = open_store(RegistryConfig(), project, DATASET)
    first = [
        make_candidate(store, "token", trained.ridge_dir, 0.25),
        make_candidate(store, "fragment", trained.last_dir, 0.75),
    ]
    before = register_candidates(store, DATASET, first, extra_tags=EXTRA)
    old = {"champion": before.champion_version, "challenger": before.challenger_version}
    client = store.client()
    full_tags = set(client.get_model_version(store.model_name, before.champion_version).tags)
    second = [  # fragment wins this round
        make_candidate(store, "token", trained.ridge_dir, 0.5),
        make_candidate(store, "fragment", trained.last_dir, 0.125),
    ]
    runs = {c.run_id: c for c in first + second}
    candidates_file = tmp_path / "candidates.pickle"
    candidates_file.write_bytes(pickle.dumps((second, EXTRA)))

    fresh = {c.run_id for c in second}

    def new_versions() -> dict[str, int]:
        found = client.search_model_versions(f"name = '{store.model_name}'")
        return {runs[mv.run_id].family: int(mv.version) for mv in found if mv.run_id in fresh}

    for point, target, nth in KILL_POINTS:
        killed = _child(project, candidates_file, target, nth)
        assert killed.returncode == -signal.SIGKILL, (point, killed.stderr[-3000:])
        if point == "logging_second_model":  # killed inside the resumed training run
            assert client.get_run(second[1].run_id).info.status == "RUNNING"
        aliases = _check_aliases(store, runs, full_tags, load=False)
        if point == "between_aliases":  # the champion moved to the new winner, not challenger
            assert aliases == {**old, "champion": new_versions()["fragment"]}, point
        else:  # no alias moved yet: the first round's versions keep them
            assert aliases == old, point

    rerun = _child(project, candidates_file)
    assert rerun.returncode == 0, rerun.stderr[-3000:]

    versions = client.search_model_versions(f"name = '{store.model_name}'")
    per_run = Counter(mv.run_id for mv in versions)
    assert set(per_run) == set(runs) and set(per_run.values()) == {1}, per_run
    assert all(mv.status == "READY" for mv in versions)
    new = new_versions()
    assert _check_aliases(store, runs, full_tags, load=True) == {
        "champion": new["fragment"],
        "challenger": new["token"],
    }
    for candidate in second:  # resumed to log the model, then ended as it was: finished
        run = client.get_run(candidate.run_id)
        assert run.info.status == "FINISHED" and LOGGING_TAG not in run.data.tags
