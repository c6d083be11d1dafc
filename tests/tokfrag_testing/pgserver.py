"""A real, throwaway PostgreSQL server for tests (no mocks).

`postgres_server(tmp_dir)` runs `initdb` + `pg_ctl start` on a free loopback port and yields a
SQLAlchemy URL (the psycopg2 driver must be installed to use it); the server is always stopped.
Used by the slow Optuna-storage test; on a bare Debian container running as root, Debian's
`postgresql` package is installed on first use.

The cluster (data dir, unix socket, log) lives in its own `/tmp/tokfrag-pg-*` folder, removed
afterwards; the server log is copied to `tmp_dir/postgres.log`. Not inside `tmp_dir` because
(1) the unix socket path must stay under ~107 bytes and (2) PostgreSQL refuses to run as root:
as root the server runs as the `postgres` user (or a `tokfrag-pg` system user created for it),
which cannot reach pytest's `tmp_path`, whose parents are 0700 and root-owned.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from tokfrag_testing.debian import ensure_installed

_TOOLS = ("initdb", "pg_ctl", "postgres", "createdb")
_DB_USER = "tokfrag"


def _find_bin_dir() -> Path | None:
    def version(p: Path) -> tuple[int, ...]:
        parts = p.parent.name.split(".")
        return tuple(int(x) for x in parts) if all(x.isdigit() for x in parts) else (0,)

    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True)
    if pg_ctl := shutil.which("pg_ctl"):
        candidates.append(Path(pg_ctl).resolve().parent)
    for d in candidates:
        if all(os.access(d / tool, os.X_OK) for tool in _TOOLS):
            return d
    return None


def ensure_postgres_binaries() -> Path:
    """Folder holding initdb, pg_ctl, postgres and createdb; apt-installs them as root."""
    return ensure_installed(
        _find_bin_dir,
        "postgresql",
        "PostgreSQL server binaries (initdb, pg_ctl, postgres, createdb) not found in "
        "/usr/lib/postgresql/*/bin or on PATH: install them, e.g. `apt-get install postgresql` "
        "(Debian/Ubuntu) or `brew install postgresql` (macOS).",
    )


def _server_user() -> pwd.struct_passwd | None:
    """Unprivileged user to run PostgreSQL as when we are root; None when we are not root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "tokfrag-pg"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            pass
    subprocess.run(["useradd", "--system", "--no-create-home", "tokfrag-pg"], check=True)
    return pwd.getpwnam("tokfrag-pg")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _log_tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no server log)"


@contextmanager
def postgres_server(tmp_dir: Path) -> Iterator[str]:
    """Start a PostgreSQL server on 127.0.0.1 with an empty `optuna` database; yield its URL."""
    bin_dir = ensure_postgres_binaries()
    user = _server_user()
    # Short path: the unix socket path must fit in ~107 bytes; pytest's tmp_path may not.
    base = Path(tempfile.mkdtemp(prefix="tokfrag-pg-", dir="/tmp"))
    pgdata, log, port = base / "pgdata", base / "postgres.log", _free_port()
    # Drop PG* variables (PGHOST, PGPORT, ...) so they cannot redirect the client tools.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    run_as = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []} if user else {}

    def pg(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [str(bin_dir / args[0]), *args[1:]]
        done = subprocess.run(
            cmd, env=env, cwd=base, capture_output=True, text=True, timeout=120, **run_as
        )
        if check and done.returncode != 0:
            raise RuntimeError(
                f"{' '.join(cmd)} failed ({done.returncode}): {done.stdout}{done.stderr}\n"
                f"--- server log tail (kept as {tmp_dir}/postgres.log) ---\n{_log_tail(log)}"
            )
        return done

    started = False
    try:
        if user:
            os.chown(base, user.pw_uid, user.pw_gid)
        no_sync = ["--no-sync"] if "--no-sync" in pg("initdb", "--help").stdout else []
        initdb = ["-D", str(pgdata), "-U", _DB_USER, "--auth=trust", "--encoding=UTF8"]
        pg("initdb", *initdb, "--no-locale", *no_sync)
        # Durability off: a throwaway cluster only needs to be fast.
        opts = f"-h 127.0.0.1 -p {port} -k {base} -c fsync=off -c full_page_writes=off"
        started = True  # from here on, stop the server even if `start` fails or times out
        pg("pg_ctl", "-D", str(pgdata), "-o", opts, "-l", str(log), "-w", "-t", "60", "start")
        pg("createdb", "-h", "127.0.0.1", "-p", str(port), "-U", _DB_USER, "optuna")
        yield f"postgresql+psycopg2://{_DB_USER}@127.0.0.1:{port}/optuna"
    finally:
        if started:
            stop = ("pg_ctl", "-D", str(pgdata), "-w", "-m")
            if pg(*stop, "fast", "stop", check=False).returncode != 0:
                pg(*stop, "immediate", "stop", check=False)
        with suppress(OSError):
            Path(tmp_dir).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(log, Path(tmp_dir) / "postgres.log")
        shutil.rmtree(base, ignore_errors=True)
