"""Resource limits checked before anything big is read or built.

A file of your own (``data.source``) larger than :data:`MEMORY_SHARE` of the available memory,
and a dense ``N x N`` float64 matrix (the correlation graph `prepare` builds for data without an
edge list) larger than the same share, are refused with a :class:`DataError` that names the
file, the size, the limit and the fix, before the file is read or the matrix allocated.

The available memory comes from :mod:`psutil` when it is installed; without it, the limits
are :data:`MEMORY_SHARE` of a conservative :data:`FALLBACK_MEMORY`. Each limit can be set in
bytes by an environment variable (:data:`INPUT_BYTES_ENV`, :data:`GRAPH_BYTES_ENV`), to allow
more on a machine you know, or less in a test.
"""

from __future__ import annotations

import os
from pathlib import Path

from tokfrag.data.registry import DataError

MEMORY_SHARE = 0.25  # of the available memory: room for the parsed tables and their copies
FALLBACK_MEMORY = 8 << 30  # bytes assumed available when psutil cannot say
INPUT_BYTES_ENV = "TOKFRAG_MAX_INPUT_BYTES"
GRAPH_BYTES_ENV = "TOKFRAG_MAX_GRAPH_BYTES"


def human(size: float) -> str:
    """``3200`` -> ``"3.2 kB"`` (decimal units, as file managers show sizes)."""
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


def available_memory() -> int | None:
    """Bytes of memory available now, or None without psutil."""
    try:
        import psutil
    except ImportError:
        return None
    return int(psutil.virtual_memory().available)


def env_number(name: str, default: float) -> float:
    """A positive number from environment variable ``name``, or ``default`` when unset."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise DataError(f"{name}={raw!r} is not a positive number; set it to one, or unset it")
    return value


def memory_limit(env: str) -> tuple[int, str]:
    """The limit in bytes and how it was set (for the message)."""
    if os.environ.get(env, "").strip():
        return int(env_number(env, 0)), f"set by {env}"
    available = available_memory()
    if available is None:
        limit = int(MEMORY_SHARE * FALLBACK_MEMORY)
        return limit, (
            f"{MEMORY_SHARE:.0%} of an assumed {human(FALLBACK_MEMORY)} (psutil is not "
            f"installed); {env} sets it"
        )
    limit = int(MEMORY_SHARE * available)
    return limit, f"{MEMORY_SHARE:.0%} of the {human(available)} available; {env} sets it"


def check_input_size(path: Path, key: str) -> None:
    """Refuse a file too large to read into memory, before reading it."""
    size = Path(path).stat().st_size
    limit, how = memory_limit(INPUT_BYTES_ENV)
    if size > limit:
        raise DataError(
            f"{path}: {human(size)} (data.source.{key}) is more than tokfrag reads into memory "
            f"({human(limit)}: {how}); nothing was read. Make the file smaller (fewer nodes, "
            "coarser time steps or a shorter span), or run on a machine with more memory"
        )


def dense_matrix_bytes(num_nodes: int) -> int:
    """Bytes of one dense ``N x N`` float64 matrix."""
    return int(num_nodes) * int(num_nodes) * 8


def check_dense_graph(num_nodes: int, where: str, fix: str) -> None:
    """Refuse ``num_nodes`` whose dense ``N x N`` float64 correlation matrix would not fit,
    before it is built. ``where`` starts the message (the file, or the stage), ``fix`` ends
    it."""
    need = dense_matrix_bytes(num_nodes)
    limit, how = memory_limit(GRAPH_BYTES_ENV)
    if need > limit:
        raise DataError(
            f"{where}: {num_nodes} nodes: the correlation graph is built from a dense "
            f"{num_nodes} x {num_nodes} float64 matrix of {human(need)}, more than the limit "
            f"of {human(limit)} ({how}); {fix}"
        )
