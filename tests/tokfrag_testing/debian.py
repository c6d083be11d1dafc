"""Find a system tool, installing Debian's package for it first when it is missing."""

import os
import shutil
import subprocess
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def ensure_installed(find: Callable[[], T | None], package: str, missing: str) -> T:
    """What ``find()`` finds. When it finds nothing and we are root with apt-get, install
    ``package`` (``apt-get update`` only if the first try fails) and look again; otherwise
    raise ``RuntimeError(missing)``."""
    if (found := find()) is not None:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "--no-install-recommends", package]
        if subprocess.run(install, env=env, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update"], env=env, capture_output=True)
            subprocess.run(install, env=env, capture_output=True)
        if (found := find()) is not None:
            return found
    raise RuntimeError(missing)
