"""Scheduled deployments against a real `prefect server start` on a free loopback port:
created from params.yaml's schedule, listed with their crons, a triggered run executed by
`tokfrag deploy`'s serve process; and `tokfrag ui` starting and stopping both servers."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from mlflow import MlflowClient

from flows.runs import stage_runs
from tokfrag.servers import port_free, prefect_server_command, stop, wait_healthy

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_LOGGING_TO_API_ENABLED="false",
        PREFECT_RUNNER_POLL_FREQUENCY="1",
        DO_NOT_TRACK="1",
        PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}",
        **extra,
    )
    return env


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory: pytest.TempPathFactory):
    """A real Prefect server (its own SQLite database in a temp PREFECT_HOME)."""
    home = tmp_path_factory.mktemp("prefect-home")
    port = _free_port()
    log = home / "server.log"
    process = subprocess.Popen(
        prefect_server_command("127.0.0.1", port, ui=False),
        env=_env(home), stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        wait_healthy(f"http://127.0.0.1:{port}/api/health", process, log)
        yield f"http://127.0.0.1:{port}/api", home
    finally:
        stop(process)


def test_scheduled_deployments_are_listed_and_a_triggered_run_completes(
    project: Path, prefect_server
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    url, home = prefect_server
    env = _env(home, PREFECT_API_URL=url)
    log = project.parent / "serve.log"
    # cwd: the runner loads the flows from their files, relative to where `serve` runs.
    serving = subprocess.Popen(
        [str(BIN / "tokfrag"), "deploy", "--params", str(project)],
        cwd=REPO, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        with temporary_settings(updates={PREFECT_API_URL: url}):
            deadline, found = time.monotonic() + 120, []
            while time.monotonic() < deadline and len(found) < 2:
                assert serving.poll() is None, log.read_text()[-3000:]
                with get_client(sync_client=True) as client:
                    found = client.read_deployments()
                time.sleep(1)
            schedules = {d.name: d.schedules[0].schedule for d in found}
            assert set(schedules) == {"chickenpox-revalidate", "chickenpox-retrain"}
            assert schedules["chickenpox-revalidate"].cron == "0 2 * * *"
            assert schedules["chickenpox-retrain"].timezone == "UTC"

            run = run_deployment(
                "tokfrag-validate/chickenpox-revalidate", timeout=300, poll_interval=1
            )
            assert run.state.is_completed(), (run.state, log.read_text()[-3000:])
            gate = project.parent / "outputs/chickenpox/validation.json"
            assert gate.is_file()  # the scheduled flow ran the real stages on the project

            # The newcomer's path: the retraining deployment, run from the served process
            # (families in its process pool), leaves a champion in the MLflow registry.
            run = run_deployment(
                "tokfrag-pipeline/chickenpox-retrain", timeout=600, poll_interval=1
            )
            assert run.state.is_completed(), (run.state, log.read_text()[-3000:])

            # Triggered again with nothing changed: the server records every stage Cached.
            again = run_deployment(
                "tokfrag-pipeline/chickenpox-retrain", timeout=600, poll_interval=1
            )
            assert again.state.is_completed(), (again.state, log.read_text()[-3000:])
            with get_client(sync_client=True) as client:
                states = {r.name: r.state.name for r in stage_runs(client, again.id)}
            assert len(states) == 9 and set(states.values()) == {"Cached"}, states
        uri = f"sqlite:///{project.parent / 'mlruns.db'}"
        registry = MlflowClient(tracking_uri=uri, registry_uri=uri)
        champion = registry.get_model_version_by_alias("tokfrag-chickenpox", "champion")
        # The verdict's champion: a family, or the best baseline when neither beats it.
        assert champion.tags["family"] in {"token", "fragment", "baseline"}
        assert champion.tags["verdict"].startswith("verdict's champion: ")
    finally:
        stop(serving)


@pytest.mark.parametrize(
    "how",
    [
        pytest.param("ctrl-c", id="ctrl-c"),  # SIGINT to the terminal's process group
        pytest.param("kill", id="sigterm"),  # a supervisor's plain kill, to tokfrag only
    ],
)
def test_ui_starts_both_servers_on_loopback_and_stops_them(
    project: Path, tmp_path: Path, how: str
) -> None:
    prefect_port, mlflow_port = _free_port(), _free_port()
    log = tmp_path / "ui.log"
    process = subprocess.Popen(
        [str(BIN / "tokfrag"), "ui", "--params", str(project),
         "--prefect-port", str(prefect_port), "--mlflow-port", str(mlflow_port)],
        env=_env(tmp_path / "home"), stdout=log.open("w"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        wait_healthy(f"http://127.0.0.1:{prefect_port}/api/health", process, log)
        wait_healthy(f"http://127.0.0.1:{mlflow_port}/health", process, log)
        deadline = time.monotonic() + 30
        while "Ctrl-C stops both" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.5)
        printed = log.read_text()
        assert f"http://127.0.0.1:{prefect_port}" in printed
        assert f"http://127.0.0.1:{mlflow_port}" in printed
        # The UI calls the API on the port it was given (Prefect's default is 4200).
        with urllib.request.urlopen(f"http://127.0.0.1:{prefect_port}/ui-settings") as page:
            assert json.load(page)["api_url"] == f"http://127.0.0.1:{prefect_port}/api"
        if how == "ctrl-c":
            os.killpg(process.pid, signal.SIGINT)
        else:
            process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0
    finally:
        stop(process)
    for port in (prefect_port, mlflow_port):  # nothing listens any more
        assert port_free("127.0.0.1", port)
        with socket.socket() as client, pytest.raises(ConnectionRefusedError):
            client.connect(("127.0.0.1", port))
