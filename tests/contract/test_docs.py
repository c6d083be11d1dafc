"""The README and docs/ name only things that exist.

Every `tokfrag <subcommand>` is a real command of the CLI (read from its Typer app), every
`make <target>` a target of the Makefile, every repository path and relative link a file or
folder in the tree, and the README's Layout section lists exactly the package folders under
tokfrag/ and tokfrag/families/. The README stays a newcomer's page: at most 250 lines.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
DOCS = sorted((REPO / "docs").glob("*.md"))
PAGES = [README, *DOCS]
README_MAX_LINES = 250

# What a named repository path may start with: the tracked source folders and root files.
# Generated places (data/, outputs/, reports/, mlruns.db, ...) and your own inputs/ are not
# in the repository, so naming them checks nothing.
ROOT_DIRS = ("tokfrag", "tests", "bench", "flows", "tasks", "docs", ".ci")
ROOT_FILES = (
    "params.yaml",
    "dvc.yaml",
    "dvc.lock",
    "Makefile",
    "BENCHMARKS.md",
    "README.md",
    "pyproject.toml",
)
# Folders whose files a bare name like `quantizer.py` may refer to.
SOURCE_DIRS = ("tokfrag", "flows", "tasks", "bench", "tests")

FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[^\n]*\n(.*?)^[ \t]*\1[ \t]*$", re.M | re.S)
INLINE = re.compile(r"(`+)(.+?)\1", re.S)
LINK = re.compile(r"\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.I)
# A maximal path-like token; placeholder characters are kept so the token can be skipped.
TOKEN = re.compile(r"(?<![\w./\\$-])[\w.][\w./<>{}*$-]*")
PLACEHOLDER = re.compile(r"[<>{}$]")
# `tokfrag` and the rest of its command line, up to a comment, a pipe or the next command.
COMMAND = re.compile(r"(?<![\w/.$-])tokfrag[ \t]+([^\n`#|;&]*)")
MAKE = re.compile(r"(?<![\w/.$-])make[ \t]+([^\s`|;&)]+)")
HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$", re.M)
TARGET = re.compile(r"^([A-Za-z0-9][\w.-]*)[ \t]*:(?![=:])", re.M)


def _rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def _split(text: str) -> tuple[list[str], str]:
    """(code: fenced blocks and inline spans, prose: the rest with code blanked out)."""
    code = [m.group(2) for m in FENCE.finditer(text)]
    prose = FENCE.sub("\n", text)
    code += [m.group(2) for m in INLINE.finditer(prose)]
    return code, INLINE.sub(" ", prose)


@cache
def _page(path: Path) -> tuple[tuple[str, ...], str]:
    code, prose = _split(path.read_text(encoding="utf-8"))
    return tuple(code), prose


def _code_text(path: Path) -> str:
    return "\n".join(_page(path)[0])


def _repo_paths(code: str) -> list[str]:
    """Repository paths named in code: `tokfrag/...`, `tests/...`, `params.yaml`, ..."""
    found = []
    for token in TOKEN.findall(URL.sub(" ", code)):
        token = token.rstrip(".,:")
        if PLACEHOLDER.search(token):
            continue  # data/<dataset>/, tokfrag-${x}: a placeholder, not a path
        head = token.split("/", 1)[0]
        if (head in ROOT_DIRS and "/" in token) or token in ROOT_FILES:
            found.append(token)
    return found


def _exists(token: str) -> bool:
    if "*" in token:
        return any(REPO.glob(token.rstrip("/")))
    return (REPO / token.rstrip("/")).exists()


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`|\*\*|__", "", heading).strip().lower()
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = FENCE.sub("\n", path.read_text(encoding="utf-8"))
    return {_slug(m.group(2)) for m in HEADING.finditer(text)}


@cache
def _cli():  # the Typer app's click group (typer vendors its own click)
    import typer

    from tokfrag.cli import app

    return typer.main.get_command(app)


@cache
def _make_targets() -> frozenset[str]:
    text = (REPO / "Makefile").read_text(encoding="utf-8")
    return frozenset(TARGET.findall(text))


def _section(text: str, title: str) -> str:
    match = re.search(rf"^##[ \t]+{re.escape(title)}[ \t]*$(.*?)(?=^##[ \t]|\Z)", text, re.M | re.S)
    assert match, f"README.md has no '## {title}' section"
    return match.group(1)


def _packages(folder: Path) -> set[str]:
    """Folders directly under `folder` that hold Python code (packages, namespace or not)."""
    return {
        p.name
        for p in folder.iterdir()
        if p.is_dir() and not p.name.startswith(("_", ".")) and any(p.glob("*.py"))
    }


# -- the pages themselves --------------------------------------------------------------------


def test_pages_found() -> None:
    assert README.is_file()
    assert DOCS, "docs/ has no Markdown page"


def test_readme_is_short() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, (
        f"README.md has {len(lines)} lines (at most {README_MAX_LINES}): move detail to docs/"
    )


def test_readme_links_every_docs_page() -> None:
    linked = {
        (REPO / target.split("#", 1)[0]).resolve()
        for target in LINK.findall(_page(README)[1])
        if not URL.match(target)
    }
    unlinked = [_rel(p) for p in DOCS if p.resolve() not in linked]
    assert unlinked == [], f"docs pages the README does not link to: {unlinked}"


# -- commands ---------------------------------------------------------------------------------


def _command_problem(words: list[str]) -> str | None:
    """What is wrong with `tokfrag <words>`, parsed by the CLI's own parser, or None."""
    group = _cli()
    name, rest = words[0], words[1:]
    if name.startswith("-"):
        return None if name == "--help" else f"tokfrag {name}: not an option of tokfrag"
    command = group.commands.get(name)
    if command is None:
        return f"tokfrag {name}: no such subcommand (there are {sorted(group.commands)})"
    options = {o for p in command.params for o in (*p.opts, *p.secondary_opts) if o[0] == "-"}
    for word in rest:
        if word.startswith("-") and word.split("=", 1)[0] not in options | {"--help"}:
            return f"tokfrag {name} {word}: no such option (there are {sorted(options)})"
    positional = []
    for word in rest:
        if word.startswith("-"):
            break
        positional.append(word)
    if not positional or any(PLACEHOLDER.search(w) or w.isupper() for w in positional):
        return None  # `tokfrag tune` in prose, `tokfrag train <family>`, `tokfrag validate FILE`
    try:  # the arguments as written: a family that is not one, an extra word, ...
        command.make_context(name, positional)
    except Exception as err:  # typer's vendored click raises its own UsageError
        return f"tokfrag {' '.join(words)}: {err}"
    return None


@pytest.mark.parametrize("page", PAGES, ids=_rel)
def test_tokfrag_subcommands_exist(page: Path) -> None:
    wrong = []
    for line in COMMAND.findall(_code_text(page)):
        words = line.split()
        if words and (problem := _command_problem(words)):
            wrong.append(problem)
    assert wrong == [], f"{_rel(page)}: {wrong}"


def test_cli_parser_is_read() -> None:
    """The subcommand check reads the real parser, not a copy of its list."""
    commands = _cli().commands
    assert {"ingest", "validate", "evaluate", "register"} <= set(commands)
    assert "no-such-command" not in commands
    assert _command_problem(["tune", "token", "--workers", "2"]) is None
    assert _command_problem(["tune", "tokens"])  # not a family
    assert _command_problem(["summary", "--no-such-option"])
    assert _command_problem(["stages"])


def test_readme_lists_every_command_and_target() -> None:
    """The README's Commands section names every subcommand and every make target."""
    code = "\n".join(_split(_section(README.read_text(encoding="utf-8"), "Commands"))[0])
    named = {line.split()[0] for line in COMMAND.findall(code) if line.split()}
    assert sorted(set(_cli().commands) - named) == [], "subcommands missing from Commands"
    assert sorted(_make_targets() - set(MAKE.findall(code))) == [], "make targets missing"


@pytest.mark.parametrize("page", PAGES, ids=_rel)
def test_make_targets_exist(page: Path) -> None:
    targets = _make_targets()
    named = {t for t in MAKE.findall(_code_text(page)) if not t.startswith("-")}
    wrong = sorted(named - targets)
    assert wrong == [], f"{_rel(page)} names make targets the Makefile lacks: {wrong}"


def test_makefile_targets_are_read() -> None:
    assert {"run", "test"} <= _make_targets()


# -- paths and links --------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES, ids=_rel)
def test_named_repository_paths_exist(page: Path) -> None:
    missing = sorted({p for p in _repo_paths(_code_text(page)) if not _exists(p)})
    assert missing == [], f"{_rel(page)} names paths that do not exist: {missing}"


@pytest.mark.parametrize("page", PAGES, ids=_rel)
def test_named_python_files_exist(page: Path) -> None:
    """A bare file name like `quantizer.py` must be a file somewhere in the source."""
    known = {p.name for d in SOURCE_DIRS for p in (REPO / d).rglob("*.py")}
    named = {
        span.strip()
        for span in _page(page)[0]
        if re.fullmatch(r"\s*[\w-]+\.py\s*", span) and "/" not in span
    }
    missing = sorted(named - known)
    assert missing == [], f"{_rel(page)} names Python files that do not exist: {missing}"


@pytest.mark.parametrize("page", PAGES, ids=_rel)
def test_relative_links_resolve(page: Path) -> None:
    broken = []
    for target in LINK.findall(_page(page)[1]):
        if URL.match(target) or target.startswith("mailto:"):
            continue
        file_part, _, anchor = target.partition("#")
        dest = (page.parent / file_part).resolve() if file_part else page
        if not dest.exists():
            broken.append(target)
        elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
            broken.append(f"{target} (no such heading)")
    assert broken == [], f"{_rel(page)} has broken links: {broken}"


# -- the Layout section against the tree ------------------------------------------------------


def test_layout_lists_the_package_folders() -> None:
    code, _ = _split(_section(README.read_text(encoding="utf-8"), "Layout"))
    paths = _repo_paths("\n".join(code))
    top, families = set(), set()
    for path in paths:
        parts = path.rstrip("/").split("/")
        if parts[0] != "tokfrag" or "." in parts[-1]:
            continue  # a file, or outside tokfrag/
        if len(parts) == 2:
            top.add(parts[1])
        elif len(parts) == 3 and parts[1] == "families":
            families.add(parts[2])
    tree_top = _packages(REPO / "tokfrag")
    tree_families = _packages(REPO / "tokfrag" / "families")
    assert tree_top and tree_families
    assert sorted(tree_top - top) == [], "Layout misses folders under tokfrag/"
    assert sorted(top - tree_top) == [], "Layout lists folders tokfrag/ does not have"
    assert sorted(tree_families - families) == [], "Layout misses tokfrag/families/ folders"
    assert sorted(families - tree_families) == [], "Layout lists families that do not exist"


# -- the extractors themselves ----------------------------------------------------------------


def test_extractors_find_what_they_should() -> None:
    sample = (
        "Run `make run` and `tokfrag tune token`, see [x](docs/a.md#b) and "
        "`tokfrag/stages/`.\n```bash\npython bench/seeds.py  # http://x.org/tokfrag/y\n"
        "tokfrag register --force\n```\n`outputs/<dataset>/metrics.json`, `bench/results/*.json`"
    )
    code, prose = _split(sample)
    text = "\n".join(code)
    assert MAKE.findall(text) == ["run"]
    assert sorted(COMMAND.findall(text)) == ["register --force", "tune token"]
    assert sorted(_repo_paths(text)) == [
        "bench/results/*.json",
        "bench/seeds.py",
        "tokfrag/stages/",
    ]
    assert LINK.findall(prose) == ["docs/a.md#b"]
    assert _slug("The `tokfrag` command, step 2") == "the-tokfrag-command-step-2"
