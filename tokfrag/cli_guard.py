"""How every `tokfrag` command runs its stage: the shell around the stage functions.

:func:`load_params` reads params.yaml, :func:`writing` holds the project's lock while a stage
writes into it, :func:`guarded` turns the failures a user can fix into one clear message and
a non-zero exit (:func:`fail`), and :func:`timed` records how long a stage took when
``TOKFRAG_STAGE_TIMES`` asks for it. :func:`say` and :func:`warn` print.

Imports stay inside the functions so `tokfrag --help` is quick.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TypeVar

import typer

if TYPE_CHECKING:
    from tokfrag.config import Params

T = TypeVar("T")

OUTPUT_FOLDERS = ("data", "outputs", "reports")  # what tokfrag's stages write into


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``error: message`` on stderr and exit with ``code``."""
    from rich.console import Console
    from rich.markup import escape

    # Escaped: a gate failure's "[values.t]" is text, not a rich style tag.
    Console(stderr=True, soft_wrap=True).print(
        f"[bold red]error:[/] {escape(message)}", highlight=False
    )
    raise typer.Exit(code)


def warn(message: str) -> None:
    """Print ``warning: message`` on stderr."""
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True, soft_wrap=True).print(
        f"[bold yellow]warning:[/] {escape(message)}", highlight=False
    )


def say(message: str) -> None:
    """Print one line of a command's report on stdout."""
    from tokfrag.report.console import console

    console.print(message, highlight=False)


def timed(action: Callable[[], T]) -> T:
    """Run ``action``; with ``TOKFRAG_STAGE_TIMES=<file>`` set, append how long it took (one
    JSON line), so a benchmark can tell stage compute from orchestration (see
    bench/orchestration.py)."""
    import json
    import os
    import time

    started = time.perf_counter()
    try:
        return action()
    finally:
        if path := os.environ.get("TOKFRAG_STAGE_TIMES"):
            line = {"command": sys.argv[1:], "seconds": time.perf_counter() - started}
            with open(path, "a", encoding="utf-8") as out:
                out.write(json.dumps(line) + "\n")


def guarded(action: Callable[[], T]) -> T:
    """Run a stage; expected failures become one clear message and a non-zero exit."""
    from tokfrag.config import ParamsError
    from tokfrag.data.registry import DataError  # ValidationFailed is a DataError
    from tokfrag.data.splits import SplitError
    from tokfrag.stages import StageError
    from tokfrag.stores import ProjectBusy

    expected: tuple[type[BaseException], ...] = (
        ParamsError,
        DataError,
        SplitError,
        StageError,
        ProjectBusy,
    )
    try:
        return timed(action)
    except Exception as err:
        # Registry and tuning errors are looked up only if MLflow or Optuna was loaded:
        # importing them costs seconds.
        registry = sys.modules.get("tokfrag.registry")
        if registry is not None:
            expected += (registry.CandidateError, registry.RegistrationError)
        study = sys.modules.get("tokfrag.tuning.settings")
        if study is not None:
            expected += (study.TuningError,)
        loop = sys.modules.get("tokfrag.train.loop")
        if loop is not None:
            expected += (loop.TrainingDiverged,)
        servers = sys.modules.get("tokfrag.servers")
        if servers is not None:
            expected += (servers.ServerError,)
        if isinstance(err, expected):
            fail(str(err))
        raise


def writing(params: Path, action: Callable[[], T]) -> T:
    """Run a stage that writes into the project while holding the project's lock, so a
    second command writing into the same folder stops with a clear message instead."""
    from tokfrag.atomic import recover_tree
    from tokfrag.stores import project_lock

    def held() -> T:
        root = project_root(params)
        with project_lock(root, " ".join(sys.argv[1:])):
            # No other tokfrag command writes here now: what a killed one left is stale.
            for folder in OUTPUT_FOLDERS:
                recover_tree(root / folder)
            return action()

    return guarded(held)


def load_params(path: Path) -> Params:
    """The validated params of ``path`` (a bad file exits with the reason)."""
    from tokfrag.config import load_params as load

    return guarded(lambda: load(path))


def project_root(path: Path) -> Path:
    """The project folder: the one holding params.yaml."""
    return path.resolve().parent
