"""A copy of the project (pipeline, the source its stages depend on, ``inputs/``) as its own
git + DVC repository in a temp folder, for `dvc repro` end to end."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def env() -> dict[str, str]:
    out = dict(os.environ)
    out["PATH"] = f"{BIN}{os.pathsep}{out['PATH']}"
    out.setdefault("GIT_AUTHOR_NAME", "tokfrag tests")
    out.setdefault("GIT_AUTHOR_EMAIL", "tests@tokfrag.invalid")
    out.setdefault("GIT_COMMITTER_NAME", "tokfrag tests")
    out.setdefault("GIT_COMMITTER_EMAIL", "tests@tokfrag.invalid")
    return out


def sh(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, cwd=cwd, env=env(), capture_output=True, text=True)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done


def dvc_repo(root: Path, params: dict, inputs: dict[str, Path] | None = None) -> Path:
    """``root`` made a git + DVC repository holding dvc.yaml, tokfrag's source, params.yaml
    and ``inputs/`` (plus the given files copied into it, by name), committed."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "dvc.yaml", root / "dvc.yaml")
    shutil.copytree(REPO / "inputs", root / "inputs")
    for name, source in (inputs or {}).items():
        shutil.copy(source, root / "inputs" / name)
    shutil.copytree(
        REPO / "tokfrag", root / "tokfrag", ignore=shutil.ignore_patterns("__pycache__")
    )
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    sh("git", "init", "-q", cwd=root)
    sh("dvc", "init", "-q", cwd=root)
    sh("dvc", "config", "core.analytics", "false", cwd=root)
    sh("git", "add", "-A", cwd=root)
    sh("git", "commit", "-q", "-m", "pipeline", cwd=root)
    return root
