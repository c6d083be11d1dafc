"""bench/report.py: BENCHMARKS.md rendered from small synthetic result files and the real
published figures (bench/published.py)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))  # the bench scripts import each other by name

import report  # noqa: E402
from published import FIGURES  # noqa: E402
from records import Record, record  # noqa: E402

MACHINE = {
    "platform": "Linux-test",
    "processor": "x86_64",
    "cpus": 2,
    "python": "3.11.7",
    "torch": "2.13.0+cpu",
    "cuda": None,
    "torch_threads": 2,
}
PGT = "PGT chronological split, lags 4, horizon 1, train_ratio 0.2"


def rec(
    dataset: str,
    model: str,
    family: str,
    metric: str,
    value: float | None,
    std: float | None = 0.0,
    n: int | None = 3,
    seconds: float | None = 1.5,
    protocol: str = PGT,
    **extra: Any,
) -> Record:
    return record(dataset, protocol, model, family, metric, value, std, n, seconds, **extra)


def write(folder: Path, name: str, records: list[Record], **extra: Any) -> None:
    result = {
        "created": "2026-01-02T03:04:05+00:00",
        "command": f"python bench/{name}.py",
        "machine": MACHINE,
        "params": {},
        **extra,
        "records": [r.to_json() for r in records],
    }
    (folder / f"{name}.json").write_text(json.dumps(result, indent=2))


@pytest.fixture
def results(tmp_path: Path) -> Path:
    folder = tmp_path / "results"
    folder.mkdir()
    write(
        folder,
        "suite",
        [
            rec("chickenpox", "token", "token", "test_mse", 0.8, 0.02),
            rec("chickenpox", "token", "token", "test_mae", 0.6, 0.01),
            rec("chickenpox", "fragment_gconvgru", "fragment", "test_mse", 0.7, 0.01),
            rec("chickenpox", "fragment_gconvgru", "fragment", "test_mae", 0.55, 0.005),
            rec("chickenpox", "ridge_ar", "baseline", "test_mse", 0.7045, n=1, seconds=1e-4),
            rec("chickenpox", "ridge_ar", "baseline", "test_mae", 0.5459, n=1, seconds=1e-4),
            rec(
                "chickenpox",
                "DCRNN (published)",
                "published",
                "test_mse",
                0.7418,
                None,
                None,
                None,
                source="an old copy",
            ),
            *(
                rec(
                    "los_loop",
                    "fragment_stgcn",
                    "fragment",
                    f"test_{m}_steps_1_to_{h}",
                    3.0 + h / 10,
                    0.01,
                    protocol="T-GCN protocol",
                    horizon=h,
                )
                for h in (3, 6, 9, 12)
                for m in ("mae", "rmse")
            ),
            rec(
                "los_loop",
                "fragment_wavenet",
                "fragment",
                "skipped",
                None,
                None,
                None,
                130.0,
                protocol="T-GCN protocol",
                note="skipped: too slow",
            ),
            rec("mr", "token_text", "token", "test_accuracy", 0.74, 0.008),
            rec("mr", "fragment_docgraph", "fragment", "test_accuracy", 0.72, n=1),
            rec("mr", "tfidf_logreg", "baseline", "test_accuracy", 0.7693, n=1),
            rec("trec", "fragment_docgraph", "fragment", "test_accuracy", 0.78, n=1),
            rec("sms_spam", "tfidf_logreg", "baseline", "test_accuracy", 0.97, n=1),
            rec("pedalme_london", "fragment_gconvgru", "fragment", "test_mse", 1.2, 0.1),
            rec("chickenpox", "slice_windows", "slicer", "windows_per_second", 2.5e7, None, None),
        ],
    )
    # the same fits measured by a second suite: shown once, both files listed
    write(
        folder,
        "second",
        [
            rec("chickenpox", "fragment", "fragment", "test_mse", 0.7, 0.01, seconds=9.0),
            rec("mr", "token (quick)", "token", "test_accuracy", 0.70, n=1, protocol="mr [QUICK]"),
        ],
    )
    write(
        folder,
        "suite-quick",
        [rec("chickenpox", "token", "token", "test_mse", 9.9, n=1)],
        quick=True,
    )
    write(
        folder,
        "tuning",
        [
            rec(
                "chickenpox",
                "gconvgru",
                "fragment",
                "bookkeeping_pct_of_trial_wall",
                4.93,
                None,
                None,
                18.2,
                target="< 5",
                interval_epochs=5,
            ),
        ],
    )
    write(
        folder,
        "orchestration",
        [
            rec(
                "chickenpox",
                "pipeline",
                "prefect",
                "orchestration_overhead_pct",
                5.65,
                None,
                None,
                61.4,
                stage_compute_seconds=57.9,
                cached_rerun_seconds=4.1,
                task_runner="sequential",
                target="< 10",
            ),
        ],
    )
    return folder


def section(text: str, title: str) -> str:
    """The text of the ``## title`` section."""
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def test_every_dataset_has_a_section(results: Path) -> None:
    text = report.render(results, FIGURES)
    for title in ("Chickenpox", "Los-loop", "MR", "TREC", "SMS Spam", "Pedalme London"):
        assert f"\n## {title}\n" in text
    for title in ("Tuning", "Orchestration overhead", "Speed and memory", "Other measurements"):
        assert f"\n## {title}\n" in text
    assert "`make bench`, then `python bench/report.py`" in text
    assert "2026-01-02T03:04:05+00:00" in text and "python bench/suite.py" in text


def test_published_rows_carry_source_link_and_markers(results: Path) -> None:
    text = report.render(results, FIGURES)
    for fig in FIGURES:
        body = section(text, report.DATASETS[fig.dataset])
        row = next(line for line in body.splitlines() if line.startswith(f"| {fig.model} |"))
        assert f"]({fig.source.url})" in row
        assert fig.kind in row
        assert ("**UNCONFIRMED**" in row) == (not fig.confirmed)
    # T-GCN's pooled errors share the table with tokfrag's own (bench/seeds.py los_loop):
    # one row for all eight numbers, in the same columns as the tokfrag model's
    los = section(text, "Los-loop")
    tgcn = [line for line in los.splitlines() if line.startswith("| T-GCN |")]
    assert len(tgcn) == 1 and "same split and metric" in tgcn[0]
    stgcn = next(line for line in los.splitlines() if line.startswith("| fragment_stgcn |"))
    header = next(line for line in los.splitlines() if line.startswith("| model |"))
    column = header.split(" | ").index("MAE steps 1-3 pooled")
    assert stgcn.split(" | ")[column].strip("*") == "3.3000 ± 0.0100"
    assert tgcn[0].split(" | ")[column] == "3.1802"
    assert "not comparable" not in los
    # the published records inside result files are not shown: bench/published.py is
    assert "an old copy" not in text and "DCRNN (published)" not in text


def test_mean_std_seeds_and_bold_best(results: Path) -> None:
    text = report.render(results, FIGURES)
    chickenpox = section(text, "Chickenpox")
    row = next(line for line in chickenpox.splitlines() if "| fragment_gconvgru |" in line)
    assert "**0.7000 ± 0.0100**" in row  # the best MSE, bold
    assert "| 3 |" in row  # seeds
    assert "`suite.json`, `second.json`" in row  # one row for the same fits in two files
    assert sum("| fragment" in line for line in chickenpox.splitlines()) == 1
    ridge = next(line for line in chickenpox.splitlines() if "| ridge_ar |" in line)
    assert "**0.5459**" in ridge  # best MAE is a baseline's
    # a better published figure is never bold
    mr = section(text, "MR")
    assert "0.897" in mr and "**0.897**" not in mr and "**0.7693**" in mr
    assert "The best fragment model beats the best token model by 0.1000" in chickenpox


def test_quick_and_few_seed_rows_are_marked(results: Path) -> None:
    text = report.render(results, FIGURES)
    mr = section(text, "MR")
    quick = next(line for line in mr.splitlines() if "| token (quick) |" in line)
    assert "QUICK run" in quick and "1 seed, fewer than 3" in quick
    docgraph = next(line for line in mr.splitlines() if "| fragment_docgraph |" in line)
    assert "fewer than 3" in docgraph
    ridge = next(line for line in mr.splitlines() if "| tfidf_logreg |" in line)
    assert "fewer than" not in ridge  # baselines are deterministic fits
    assert "9.9000" not in text  # the superseded quick file is left out of the tables
    assert "superseded by `suite.json`" in text
    assert "Not measured: fragment_wavenet" in section(text, "Los-loop")


def test_render_is_deterministic(results: Path, tmp_path: Path) -> None:
    first = report.render(results, FIGURES)
    assert report.render(results, FIGURES) == first
    assert dt.date.today().isoformat() not in first  # no clock: only each file's `created`
    out = tmp_path / "BENCHMARKS.md"
    report.main(["--results", str(results), "--out", str(out)])
    assert out.read_text() == first


def test_speed_missing_says_not_measured(results: Path) -> None:
    speed = section(report.render(results, FIGURES), "Speed and memory")
    assert "Not measured yet" in speed


def test_speed_before_after_and_change(results: Path) -> None:
    write(
        results,
        "speed",
        [
            rec(
                "chickenpox",
                "tokfrag run",
                "pipeline",
                "wall_seconds",
                40.0,
                1.0,
                3,
                None,
                protocol="p",
                variant="before",
            ),
            rec(
                "chickenpox",
                "tokfrag run",
                "pipeline",
                "wall_seconds",
                30.0,
                1.0,
                3,
                None,
                protocol="p",
                variant="after",
            ),
            rec(
                "chickenpox",
                "tokfrag run",
                "pipeline",
                "peak_rss_mb",
                1000.0,
                None,
                None,
                None,
                protocol="p",
                variant="before",
            ),
            rec(
                "chickenpox",
                "tokfrag run",
                "pipeline",
                "peak_rss_mb",
                1100.0,
                None,
                None,
                None,
                protocol="p",
                variant="after",
            ),
            rec(
                "chickenpox",
                "import tokfrag",
                "pipeline",
                "import_seconds",
                2.0,
                None,
                None,
                None,
                protocol="p",
                variant="after",
            ),
        ],
    )
    speed = section(report.render(results, FIGURES), "Speed and memory")
    assert "Not measured yet" not in speed
    wall = next(line for line in speed.splitlines() if "`wall_seconds`" in line)
    assert "40.0000 ± 1.0000 (n=3)" in wall and "-25.0% (better)" in wall
    rss = next(line for line in speed.splitlines() if "`peak_rss_mb`" in line)
    assert "+10.0% (worse)" in rss
    imports = next(line for line in speed.splitlines() if "`import_seconds`" in line)
    assert "| - |" in imports  # no `before` yet
