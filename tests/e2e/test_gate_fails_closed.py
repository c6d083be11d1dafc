"""The promotion gate fails closed: when the registry cannot be read or the champion cannot
be loaded, `tokfrag register` exits non-zero, registers nothing and leaves the champion's
alias where it was; `--force` promotes anyway and says so on the version."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml
from mlflow.tracking import MlflowClient
from tokfrag_testing.stages import until_evaluate, until_train

from tokfrag import stages
from tokfrag.config import load_params

TOKFRAG = [sys.executable, "-m", "tokfrag.cli"]
MODEL = "tokfrag-chickenpox"
SECRET_STORE = "postgresql://tokfrag:hunter2@127.0.0.1:1/mlflow"

# Holds an exclusive lock on an SQLite file until killed: every other reader and writer of
# the database waits, then fails with "database is locked".
LOCKER = """
import sqlite3, sys, time
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(600)
"""


def _cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TOKFRAG, *args], cwd=cwd, capture_output=True, text=True, env=os.environ
    )


def _state(client: MlflowClient) -> tuple[str, int]:
    """The champion's version and how many versions exist."""
    versions = client.search_model_versions(f"name = '{MODEL}'")
    return client.get_registered_model(MODEL).aliases["champion"], len(versions)


def test_a_failing_store_or_champion_refuses_promotion(project: Path) -> None:
    root = project.parent
    until_evaluate(project)
    first = stages.register(load_params(project), root)
    client = MlflowClient(tracking_uri=f"sqlite:///{root}/mlruns.db")
    before = _state(client)
    assert int(before[0]) == first["champion_version"]

    # New models (another seed), not evaluated yet: registering them would pair them with
    # the old models' metrics and gate scores.
    raw = yaml.safe_load(project.read_text())
    raw["train"]["seed"] = 1
    project.write_text(yaml.safe_dump(raw, sort_keys=False))
    until_train(project)
    registry_json = root / "outputs/chickenpox/registry.json"
    written = registry_json.read_bytes()
    done = _cli(["register"], root)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "trained after the evaluation" in done.stderr and "tokfrag evaluate" in done.stderr
    assert _state(client) == before and registry_json.read_bytes() == written
    stages.evaluate(load_params(project), root)  # now a round that would add new versions

    # 1. The database is locked by another process for the whole round.
    locker = subprocess.Popen(
        [sys.executable, "-c", LOCKER, str(root / "mlruns.db")], stdout=subprocess.PIPE, text=True
    )
    try:
        assert locker.stdout.readline().strip() == "locked"
        done = _cli(["register"], root)
    finally:
        locker.kill()
        locker.wait()
    assert done.returncode == 1, done.stdout + done.stderr
    assert "database is locked" in done.stderr and "Nothing was registered" in done.stderr
    assert _state(client) == before  # no version added, the alias did not move
    assert registry_json.read_bytes() == written

    # 2. The champion's artifacts are damaged: it cannot be loaded, so it cannot be scored.
    where = client.get_model_version_download_uri(MODEL, before[0])
    mlmodel = Path(urlparse(where).path if where.startswith("file:") else where) / "MLmodel"
    assert mlmodel.is_file()
    mlmodel.unlink()
    done = _cli(["register"], root)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"loading the champion (version {before[0]}) failed" in done.stderr
    assert "tokfrag register --force" in done.stderr
    assert _state(client) == before
    assert registry_json.read_bytes() == written

    # 3. --force promotes the verdict's choice without the gate, and the version says so.
    done = _cli(["register", "--force"], root)
    assert done.returncode == 0, done.stdout + done.stderr
    champion, count = _state(client)
    # Three new versions: both families and the best baseline.
    assert count == before[1] + 3 and int(champion) > int(before[0])
    tags = client.get_model_version(MODEL, champion).tags
    assert "--force" in tags["promotion"]
    assert registry_json.read_bytes() != written

    # Where the store is gets printed, its password never (registry.tracking_uri).
    raw["registry"] = {**raw.get("registry", {}), "tracking_uri": SECRET_STORE}
    project.write_text(yaml.safe_dump(raw, sort_keys=False))
    done = _cli(["summary"], root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "tokfrag:***@127.0.0.1" in done.stdout and "hunter2" not in done.stdout + done.stderr


def test_an_unlocked_database_is_readable_again(tmp_path: Path) -> None:
    """The locker above really locks, and only while it runs (so the test above cannot pass
    because of some other failure)."""
    db = tmp_path / "x.db"
    sqlite3.connect(db).execute("create table t (a)").connection.commit()
    locker = subprocess.Popen(
        [sys.executable, "-c", LOCKER, str(db)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert locker.stdout.readline().strip() == "locked"
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            sqlite3.connect(db, timeout=0.1).execute("select * from t").fetchall()
    finally:
        locker.kill()
        locker.wait()
    assert sqlite3.connect(db).execute("select count(*) from t").fetchone() == (0,)
