"""Each kind of data is one module checked against the :class:`~tokfrag.kinds.Kind`
interface, picked from one explicit mapping, and kinds sit below the stages."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from tokfrag.kinds import KINDS, Evaluation, Kind, kind_of
from tokfrag.kinds.series_evaluation import SeriesEvaluation
from tokfrag.kinds.text import TextEvaluation

REPO = Path(__file__).resolve().parents[3]


def _members(protocol: type) -> dict[str, inspect.Signature | None]:
    """The protocol's methods (their signatures without ``self``) and properties (None)."""
    out: dict[str, inspect.Signature | None] = {}
    for name, value in vars(protocol).items():
        if isinstance(value, property):
            out[name] = None
        elif inspect.isfunction(value) and not name.startswith("_"):
            signature = inspect.signature(value)
            params = list(signature.parameters.values())[1:]  # without self
            out[name] = signature.replace(parameters=params)
    return out


def _names(signature: inspect.Signature) -> list[str]:
    return list(signature.parameters)


def test_the_mapping_names_series_and_text() -> None:
    assert sorted(KINDS) == ["series", "text"]
    assert {module.__name__ for module in KINDS.values()} == {  # type: ignore[attr-defined]
        "tokfrag.kinds.series",
        "tokfrag.kinds.text",
    }


@pytest.mark.parametrize("name", sorted(KINDS))
def test_each_kind_has_every_function_of_the_interface(name: str) -> None:
    kind = KINDS[name]
    assert isinstance(kind, Kind)
    for member, wanted in _members(Kind).items():
        function = getattr(kind, member)
        assert wanted is not None and callable(function), member
        assert _names(inspect.signature(function)) == _names(wanted), (name, member)


@pytest.mark.parametrize("cls", [SeriesEvaluation, TextEvaluation])
def test_each_evaluation_answers_what_the_evaluate_stage_asks(cls: type) -> None:
    for member, wanted in _members(Evaluation).items():
        value = inspect.getattr_static(cls, member)
        if wanted is None:
            assert isinstance(value, property), (cls.__name__, member)
        else:
            signature = inspect.signature(value)
            params = list(signature.parameters.values())[1:]
            assert _names(signature.replace(parameters=params)) == _names(wanted), member


def test_kind_of_follows_the_dataset(shrunk_params: dict) -> None:
    from tokfrag.config import parse_params

    series = parse_params(shrunk_params)
    assert series.data.kind == "series" and kind_of(series) is KINDS["series"]
    text = parse_params({**shrunk_params, "data": {**shrunk_params["data"], "dataset": "trec"}})
    assert kind_of(text) is KINDS["text"]


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_kinds_and_the_layout_never_import_the_stages() -> None:
    sources = [*sorted((REPO / "tokfrag" / "kinds").glob("*.py")), REPO / "tokfrag/layout.py"]
    offenders = {
        p.name: sorted(m for m in _imports(p) if f"{m}.".startswith("tokfrag.stages."))
        for p in sources
    }
    assert {k: v for k, v in offenders.items() if v} == {}


@pytest.mark.parametrize("package", ["stages", "kinds"])
def test_every_module_is_under_400_lines(package: str) -> None:
    long = {
        p.name: n
        for p in sorted((REPO / "tokfrag" / package).glob("*.py"))
        if (n := len(p.read_text(encoding="utf-8").splitlines())) >= 400
    }
    assert long == {}
