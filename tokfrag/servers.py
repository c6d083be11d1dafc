"""`tokfrag ui`: a Prefect server (API + UI) and the MLflow UI on the project's stores, as
child processes on the loopback interface, stopped together on Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import cast

from tokfrag.config import Params


class ServerError(RuntimeError):
    """A server could not start: its port is taken, or it exited; the message says which."""


LOOPBACK = ("127.0.0.1", "::1", "localhost")


def exposure_warning(host: str) -> str | None:
    """What to tell a user binding the servers to ``host``: None on loopback; otherwise that
    the Prefect API and MLflow have no authentication, so anyone who can reach the port can
    read the stores, run flows and move the ``champion`` alias."""
    if host in LOOPBACK or host.startswith("127."):
        return None
    return (
        f"--host {host} exposes the Prefect API and the MLflow UI beyond this machine, and "
        "neither has authentication: anyone who can reach these ports can read every run "
        "and model, start flows and move the champion alias. Bind 127.0.0.1 (the default) "
        "and use an SSH tunnel, or put an authenticating proxy in front."
    )


def port_free(host: str, port: int) -> bool:
    """Whether a server could listen on ``host:port`` now. Like the servers themselves
    (uvicorn, gunicorn), it allows reuse, so closed connections still in TIME_WAIT do not
    count as a listener."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def wait_healthy(url: str, process: subprocess.Popen, log: Path, timeout: float = 180) -> None:
    """Poll ``url`` until it answers 200; fail with the log's tail if the process exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log.is_file() else ""
            command = cast(list[str], process.args)  # the server started from a list of str
            raise ServerError(f"{command[0]} exited with {process.returncode}:\n{tail}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise ServerError(f"{url} did not answer within {timeout:.0f} s; see {log}")


def stop(process: subprocess.Popen, timeout: float = 20) -> None:
    """SIGINT to the process group (a clean shutdown), SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


def prefect_server_command(host: str, port: int, ui: bool = True) -> list[str]:
    """`prefect server start` on ``host:port``, analytics off, quiet (``ui=False``: API
    only, as the tests use it)."""
    command = [
        str(Path(sys.executable).parent / "prefect"), "server", "start", "--host", host,
        "--port", str(port), "--analytics-off", "--log-level", "WARNING",
    ]  # fmt: skip
    return command if ui else [*command, "--no-ui"]


def prefect_ui_env(host: str, port: int) -> dict[str, str]:
    """Settings for a Prefect server whose UI must call its API on this port (the UI's API
    URL is otherwise the default port 4200, and every page of it fails on another one)."""
    public = socket.gethostname() if host in ("0.0.0.0", "::") else host
    return {
        "PREFECT_SERVER_API_HOST": host,
        "PREFECT_SERVER_API_PORT": str(port),
        "PREFECT_SERVER_UI_API_URL": f"http://{public}:{port}/api",
        "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false",
    }


def run_uis(
    params: Params,
    root: Path,
    host: str,
    prefect_port: int,
    mlflow_port: int,
    say: Callable[[str], None],
) -> None:
    """Start both, print their URLs, and block until Ctrl-C (or one of them exits)."""
    from tokfrag.registry.tracking import resolve_artifact_root, resolve_tracking_uri

    for _name, port, option in (
        ("Prefect", prefect_port, "--prefect-port"),
        ("MLflow", mlflow_port, "--mlflow-port"),
    ):
        if not port_free(host, port):
            raise ServerError(f"port {port} on {host} is in use; pick another with {option}")
    bin_dir = Path(sys.executable).parent
    logs = root / ".prefect" / "ui-logs"
    logs.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PREFECT_HOME": os.environ.get("PREFECT_HOME", str(root / ".prefect")),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "1",
    }
    env.pop("PREFECT_API_URL", None)  # the server itself must not talk to another one
    env.update(prefect_ui_env(host, prefect_port))
    # Through the environment, not the command line: a database URL may hold a password,
    # and every user of the machine can read a process's arguments (`ps`).
    env["MLFLOW_BACKEND_STORE_URI"] = resolve_tracking_uri(params.registry.tracking_uri, root)
    commands = {
        "prefect": prefect_server_command(host, prefect_port),
        "mlflow": [
            str(bin_dir / "mlflow"), "ui",
            "--default-artifact-root", resolve_artifact_root(params.registry.artifact_root, root),
            "--host", host, "--port", str(mlflow_port),
        ],
    }  # fmt: skip
    processes: dict[str, subprocess.Popen] = {}
    # Ctrl-C and a plain `kill` both stop the two servers: SIGINT may arrive ignored (a
    # background job of a script), and SIGTERM (a supervisor) would otherwise skip `finally`.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        for name, command in commands.items():
            log = (logs / f"{name}.log").open("w")
            processes[name] = subprocess.Popen(
                command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        wait_healthy(f"http://{host}:{prefect_port}/api/health", processes["prefect"],
                     logs / "prefect.log")  # fmt: skip
        wait_healthy(f"http://{host}:{mlflow_port}/health", processes["mlflow"],
                     logs / "mlflow.log")  # fmt: skip
        say(f"Prefect UI: http://{host}:{prefect_port}")
        say(f"MLflow UI:  http://{host}:{mlflow_port}")
        say(f"for flows and deployments: export PREFECT_API_URL=http://{host}:{prefect_port}/api")
        say("Ctrl-C stops both")
        while all(p.poll() is None for p in processes.values()):
            time.sleep(0.5)
        gone = [n for n, p in processes.items() if p.poll() is not None]
        raise ServerError(f"{', '.join(gone)} exited; see {logs}")
    except KeyboardInterrupt:
        say("stopping")
    finally:
        for process in processes.values():
            stop(process)
