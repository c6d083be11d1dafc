"""Shared test set-up: telemetry off, the real data mirror, and small real projects."""

from __future__ import annotations

import os
import sys
from pathlib import Path

for _key, _value in {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DVC_NO_ANALYTICS": "1",
    "HF_HUB_OFFLINE": "1",
    "DO_NOT_TRACK": "1",
}.items():
    os.environ.setdefault(_key, _value)

import pytest  # noqa: E402
import yaml  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
# The tests' own helpers (tests/tokfrag_testing: servers, browsers) import by name.
sys.path.insert(0, str(REPO / "tests"))
from tokfrag_testing.params import SHRUNK, merge  # noqa: E402

_DEFAULT_MIRROR = REPO.parent / "shared" / "data"
if "TOKFRAG_DATA_MIRROR" not in os.environ and _DEFAULT_MIRROR.is_dir():
    os.environ["TOKFRAG_DATA_MIRROR"] = str(_DEFAULT_MIRROR)


@pytest.fixture(autouse=True)
def _restore_sys_path():
    """Tests that load a pyfunc model in-process get the model's code copy put first on
    sys.path by MLflow; processes spawned by later tests must import this checkout."""
    path = list(sys.path)
    yield
    sys.path[:] = path


@pytest.fixture(scope="session")
def mirror() -> Path:
    path = Path(os.environ.get("TOKFRAG_DATA_MIRROR", _DEFAULT_MIRROR))
    if not (path / "chickenpox" / "chickenpox.json").is_file():
        pytest.skip(f"real data mirror not found at {path}; set TOKFRAG_DATA_MIRROR")
    return path


@pytest.fixture(scope="session")
def chickenpox_file(mirror: Path) -> Path:
    return mirror / "chickenpox" / "chickenpox.json"


@pytest.fixture(scope="session")
def shrunk_params() -> dict:
    """The project's real params.yaml with the training budget shrunk."""
    base = yaml.safe_load((REPO / "params.yaml").read_text())
    return merge(base, SHRUNK)


def write_project(folder: Path, params: dict) -> Path:
    """A project folder holding ``params.yaml``; returns the params path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "params.yaml"
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    return path


@pytest.fixture
def project(tmp_path: Path, shrunk_params: dict, mirror: Path) -> Path:
    """A fresh project folder (its own SQLite MLflow store) with shrunk params.yaml."""
    return write_project(tmp_path / "project", shrunk_params)


@pytest.fixture(scope="session")
def prefect_api():
    """One real Prefect API (a temporary local server on 127.0.0.1) for the whole session,
    started only when a test asks for it."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory):
    """A real PostgreSQL server on a free loopback port for the session (installed from
    Debian's packages when missing, as root); yields its SQLAlchemy URL, then stops it."""
    from tokfrag_testing.pgserver import postgres_server

    pytest.importorskip("psycopg2", reason="pip install psycopg2-binary (in the dev extra)")
    with postgres_server(tmp_path_factory.mktemp("postgres")) as url:
        yield url
