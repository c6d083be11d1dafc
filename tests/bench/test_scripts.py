"""Every bench script starts (imports resolve, arguments parse), and the suites name the same
model the same way, so BENCHMARKS.md shows one row per model."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench"
sys.path.insert(0, str(BENCH))  # the bench scripts import each other by name

import common  # noqa: E402

SCRIPTS = sorted(p.name for p in BENCH.glob("*.py") if 'if __name__ == "__main__"' in p.read_text())


def test_every_make_bench_suite_is_a_script_here() -> None:
    makefile = (REPO / "Makefile").read_text()
    recipe = makefile.split("\nbench:", 1)[1].split("\n\n", 1)[0]
    called = {
        line.split()[1].removeprefix("bench/")
        for line in recipe.splitlines()
        if line.strip().startswith("python bench/")
    }
    assert called and called <= set(SCRIPTS)


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_starts(script: str) -> None:
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DVC_NO_ANALYTICS": "1"}
    done = subprocess.run(
        [sys.executable, str(BENCH / script), "--help"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    if "argparse" in (BENCH / script).read_text():
        assert "usage:" in done.stdout


@pytest.mark.parametrize(
    ("dataset", "updates", "family", "label"),
    [
        ("chickenpox", {}, "token", "token_inverted"),
        ("chickenpox", {"token.variant": "quantized"}, "token", "token_quantized"),
        ("chickenpox", {"token.variant": "patch"}, "token", "token_patch"),
        ("chickenpox", {}, "fragment", "fragment_gconvgru"),
        ("los_loop", {"fragment.variant": "stgcn"}, "fragment", "fragment_stgcn"),
        ("mr", {}, "token", "token_pretrained"),
        ("mr", {"token.text.pretrained": False}, "token", "token_wordpiece"),
        ("trec", {}, "fragment", "fragment_docgraph"),
    ],
)
def test_model_label_follows_the_params(dataset, updates, family, label) -> None:
    params = common.load_base(REPO / "params.yaml", dataset, updates)
    assert common.model_label(params, family) == label


SUITES = sorted(
    line.split()[1].removeprefix("bench/")
    for line in (REPO / "Makefile").read_text().splitlines()
    if line.strip().startswith("python bench/")
)


@pytest.mark.parametrize("name", sorted(set(SUITES)))
def test_each_suite_is_one_module_of_at_most_300_lines(name: str) -> None:
    assert len((BENCH / name).read_text().splitlines()) <= 300


def test_every_bench_module_stays_small() -> None:
    sizes = {p.name: len(p.read_text().splitlines()) for p in BENCH.glob("*.py")}
    assert {name: n for name, n in sizes.items() if n > 350} == {}
