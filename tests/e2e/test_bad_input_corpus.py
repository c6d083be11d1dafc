"""The bad-input corpus (tests/tokfrag_testing/bad_inputs.py) through the real CLI.

One good project (Chickenpox as a user's sensor CSV) runs the whole pipeline once, to a
registered champion. Each variant then runs in a copy of that project and must give a non-zero
exit, a message naming the file, column or row and the fix, no traceback, no new MLflow
version, the same champion, and byte-identical earlier outputs (a failed bare `validate` is
documented to remove the earlier validation.json pass: that removal is asserted). Variants the
product documents as accepted are checked for the repair instead; variants the product gets
wrong today are strict xfails whose reason says what happens.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from tokfrag_testing.bad_inputs import (
    SERIES_DATASET,
    Variant,
    series_project,
    variants,
    write_variant,
)

TOKFRAG = [sys.executable, "-m", "tokfrag.cli"]
MODEL = f"tokfrag-{SERIES_DATASET}"
WATCHED = ("data", "outputs")  # earlier outputs that a bad input must not clobber
_MIRROR = Path(
    os.environ.get("TOKFRAG_DATA_MIRROR", Path(__file__).resolve().parents[3] / "shared" / "data")
)


def _corpus() -> list[Any]:
    if not (_MIRROR / "chickenpox" / "chickenpox.json").is_file():
        return [pytest.param(None, marks=pytest.mark.skip(reason="no data mirror"), id="corpus")]
    return [
        pytest.param(
            v,
            id=v.name,
            marks=[pytest.mark.xfail(strict=True, reason=v.bug)] if v.bug else [],
        )
        for v in variants(_MIRROR)
    ]


@dataclass(frozen=True)
class Good:
    root: Path
    registry: dict[str, Any]


def _registry(root: Path) -> dict[str, Any]:
    """Every registered version of the good dataset's model, and its aliases."""
    from mlflow import MlflowClient

    uri = f"sqlite:///{root / 'mlruns.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    versions = client.search_model_versions(f"name='{MODEL}'")
    return {
        "versions": sorted((int(v.version), v.run_id, v.source) for v in versions),
        "aliases": dict(client.get_registered_model(MODEL).aliases),
        "models": sorted(m.name for m in client.search_registered_models()),
    }


def _files(root: Path) -> dict[str, tuple[str, int]]:
    """sha256 and mtime of every file under data/ and outputs/."""
    out = {}
    for top in WATCHED:
        for path in sorted((root / top).rglob("*")):
            if path.is_file():
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                out[str(path.relative_to(root))] = (digest, path.stat().st_mtime_ns)
    return out


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory, shrunk_params: dict, mirror: Path) -> Good:
    """A project whose custom series dataset went through every stage to a champion: no
    tuning (n_trials 0), two epochs, one repeat, so it takes seconds."""
    from tokfrag import stages
    from tokfrag.config import load_params

    root = tmp_path_factory.mktemp("bad-input-corpus") / "good"
    params = load_params(series_project(root, shrunk_params, mirror))
    stages.ingest(params, root)
    stages.validate(params, root)
    stages.prepare(params, root)
    for family in stages.FAMILIES:
        stages.tune(params, root, family)
        stages.train(params, root, family)
    stages.evaluate(params, root)
    stages.register(params, root)
    registry = _registry(root)
    assert "champion" in registry["aliases"], registry
    assert (root / f"outputs/{SERIES_DATASET}/validation.json").is_file()
    return Good(root, registry)


def _run(
    args: tuple[str, ...], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TOKFRAG, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )


def _dataset(root: Path) -> str:
    raw = yaml.safe_load((root / "params.yaml").read_text(encoding="utf-8"))
    return str((raw.get("data") or {}).get("dataset", ""))


@pytest.mark.parametrize("variant", _corpus())
def test_bad_input(variant: Variant, good: Good, tmp_path: Path) -> None:
    root = tmp_path / "project"
    shutil.copytree(good.root, root)
    before = _files(root)
    write_variant(variant, root)
    dataset = _dataset(root)

    done = []
    for command in variant.commands:
        result = _run(command, root, variant.env)
        done.append((command, result))
        if result.returncode != 0:
            break
    command, last = done[-1]
    shown = "\n".join(
        f"$ tokfrag {' '.join(c)} -> {r.returncode}\n{r.stderr[-3000:]}" for c, r in done
    )
    for _, result in done:
        assert "Traceback" not in result.stderr, shown

    if variant.accepted:
        assert all(r.returncode == 0 for _, r in done) and len(done) == len(variant.commands), shown
        _check_repaired(variant, good, root)
    else:
        # Every command before the one expected to fail succeeds; that one fails.
        assert command == variant.fails_on, shown
        assert last.returncode != 0, shown
        message = last.stderr
        assert message.lstrip().startswith("error:"), shown
        for fragment in variant.expect:
            assert fragment in message, f"{fragment!r} not in the message:\n{shown}"
        assert variant.fix in message, f"fix {variant.fix!r} not in the message:\n{shown}"
        if "max_lines" in variant.extra:  # one summary, not a line per column
            lines = message.strip().splitlines()
            assert len(lines) <= variant.extra["max_lines"], f"{len(lines)} lines:\n{shown}"

    # The registry: no new version, no new model, the same champion.
    assert _registry(root) == good.registry, shown

    # Earlier outputs: byte-identical, except the pass a failed bare `validate` removes.
    after = _files(root)
    removed = set(before) - set(after)
    gate_pass = f"outputs/{SERIES_DATASET}/validation.json"
    if not variant.accepted and command == ("validate",) and dataset == SERIES_DATASET:
        assert removed == {gate_pass}, f"removed {sorted(removed)}\n{shown}"
    else:
        assert not removed, f"removed {sorted(removed)}\n{shown}"
    changed = sorted(k for k in set(before) & set(after) if before[k] != after[k])
    assert not changed, f"earlier outputs changed: {changed}\n{shown}"
    if not variant.accepted:
        created = sorted(set(after) - set(before))
        assert not created, f"a failed run wrote {created}\n{shown}"


def _check_repaired(variant: Variant, good: Good, root: Path) -> None:
    """What the product documents for the inputs it accepts."""
    if variant.name in (
        "series_unsorted_time",
        "series_time_numbers_as_text",
        "series_time_as_decimals",
    ):
        # The loader sorts rows by time, and reads whole step numbers stored as text or as
        # decimals as step numbers: each file ingests to the good table.
        dataset = variant.extra["dataset"]
        ingested = pd.read_parquet(root / f"data/{dataset}/values.parquet")
        original = pd.read_parquet(good.root / f"data/{SERIES_DATASET}/values.parquet")
        pd.testing.assert_frame_equal(ingested, original)
        gate = json.loads((root / f"outputs/{dataset}/validation.json").read_text())
        assert gate["success"] is True
    elif variant.name == "series_dates_across_dst":
        # Offsets are converted to UTC: hourly steps, no gap or repeat at the change, the
        # readings as they were.
        dataset = variant.extra["dataset"]
        ingested = pd.read_parquet(root / f"data/{dataset}/values.parquet")
        original = pd.read_parquet(good.root / f"data/{SERIES_DATASET}/values.parquet")
        assert ingested["t"].iloc[0] == pd.Timestamp(variant.extra["start"])
        assert set(ingested["t"].diff().dropna()) == {pd.Timedelta(hours=1)}
        pd.testing.assert_frame_equal(ingested.drop(columns="t"), original.drop(columns="t"))
        gate = json.loads((root / f"outputs/{dataset}/validation.json").read_text())
        assert gate["success"] is True
    elif variant.name == "text_near_duplicate_across_split":
        # Case, NFD and spacing do not hide a copy: the test copy is dropped at ingest.
        dataset = variant.extra["dataset"]
        documents = pd.read_parquet(root / f"data/{dataset}/documents.parquet")
        assert variant.extra["text"] not in set(documents["text"])
        meta = json.loads((root / f"data/{dataset}/meta.json").read_text())
        assert meta["dropped_test_duplicates"]["count"] == 1
    elif variant.name == "text_jsonl_bom":
        # The byte-order mark is not part of the first column's name: every row is read.
        dataset = variant.extra["dataset"]
        documents = pd.read_parquet(root / f"data/{dataset}/documents.parquet")
        assert len(documents) == variant.extra["documents"]
        gate = json.loads((root / f"outputs/{dataset}/validation.json").read_text())
        assert gate["success"] is True
    elif variant.name == "text_same_document_in_train_and_test":
        # The test copy of a training document is dropped at ingest, so the gate passes.
        dataset = variant.extra["dataset"]
        documents = pd.read_parquet(root / f"data/{dataset}/documents.parquet")
        copies = documents.loc[documents["text"] == variant.extra["text"], "split"]
        assert copies.tolist() == ["train"]
        meta = json.loads((root / f"data/{dataset}/meta.json").read_text())
        assert meta["dropped_test_duplicates"]["count"] == 1
        gate = json.loads((root / f"outputs/{dataset}/validation.json").read_text())
        assert gate["success"] is True
    elif variant.name == "series_constant_column":
        # A flat node is scaled by 1.0 (NodeScaler) and 1.0 for all-zero windows (the
        # quantiser): the gate lets it through, and `validate FILE` writes nothing.
        assert not (root / "data" / "my_sensors_constant").exists()
    else:  # pragma: no cover - a new accepted variant needs its check here
        raise AssertionError(f"no check for accepted variant {variant.name}")
