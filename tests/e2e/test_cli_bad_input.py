"""Bad input through the real CLI: a clear message, a non-zero exit, nothing half-written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

TOKFRAG = [sys.executable, "-m", "tokfrag.cli"]


def _run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TOKFRAG, *args], cwd=cwd, capture_output=True, text=True, env={**os.environ, **env}
    )


def test_corrupted_values_fail_validation_and_write_nothing(project: Path) -> None:
    root = project.parent
    assert _run(["ingest"], root).returncode == 0
    assert _run(["validate"], root).returncode == 0  # a pass on the clean data...
    values_path = root / "data/chickenpox/values.parquet"
    values = pd.read_parquet(values_path)
    values.loc[7, "BUDAPEST"] = np.nan
    values.loc[9, "VAS"] = np.inf
    values.to_parquet(values_path, index=False)

    done = _run(["validate"], root)
    assert done.returncode == 1
    message = done.stderr
    assert "expect_column_values_to_not_be_null" in message and "BUDAPEST" in message
    assert "VAS" in message and "row" in message
    # ...does not survive a failed check of the corrupted data.
    assert not (root / "outputs/chickenpox/validation.json").exists()

    # The gate holds downstream too: prepare refuses to run without a passed validation.
    done = _run(["prepare"], root)
    assert done.returncode == 1 and "validate" in done.stderr
    assert not (root / "outputs/chickenpox/prepared").exists()


def test_checksum_mismatch_is_a_clear_error(
    project: Path, chickenpox_file: Path, tmp_path: Path
) -> None:
    bad_mirror = tmp_path / "mirror"
    (bad_mirror / "chickenpox").mkdir(parents=True)
    data = bytearray(chickenpox_file.read_bytes())
    data[100] ^= 1
    (bad_mirror / "chickenpox" / "chickenpox.json").write_bytes(bytes(data))

    done = _run(["ingest"], project.parent, TOKFRAG_DATA_MIRROR=str(bad_mirror))
    assert done.returncode == 1
    assert "sha256" in done.stderr and "chickenpox.json" in done.stderr
    assert not (project.parent / "data").exists()


def test_unknown_params_key_names_the_key_and_section(project: Path) -> None:
    project.write_text(project.read_text().replace("patience:", "patients:"))
    done = _run(["prepare"], project.parent)
    assert done.returncode == 1
    assert "'patients'" in done.stderr and "'train'" in done.stderr and "patience" in done.stderr


@pytest.mark.parametrize(
    "command",
    [
        "ingest",
        "validate",
        "prepare",
        "tune",
        "train",
        "evaluate",
        "register",
        "compare",
        "deploy",
        "ui",
        "run",
        "summary",
    ],
)
def test_every_command_has_help(command: str, tmp_path: Path) -> None:
    done = _run([command, "--help"], tmp_path)
    assert done.returncode == 0 and "Usage" in done.stdout


def test_stages_refuse_to_run_out_of_order(project: Path) -> None:
    done = _run(["evaluate"], project.parent)
    assert done.returncode == 1 and "run `tokfrag ingest` first" in done.stderr


def test_prepare_refuses_data_changed_after_validation(project: Path) -> None:
    root = project.parent
    assert _run(["ingest"], root).returncode == 0
    assert _run(["validate"], root).returncode == 0
    values_path = root / "data/chickenpox/values.parquet"
    values = pd.read_parquet(values_path)
    values.loc[3, "PEST"] = 1e6  # finite, so only a re-validation could judge it
    values.to_parquet(values_path, index=False)

    done = _run(["prepare"], root)
    assert done.returncode == 1 and "has not passed on this data" in done.stderr
    assert not (root / "outputs/chickenpox/prepared").exists()


def test_a_diverging_fit_exits_with_the_setting_to_change_and_saves_nothing(
    project: Path,
) -> None:
    """A learning rate that blows the loss up stops `tokfrag train` with a message naming
    the model, the epoch and the setting, a non-zero exit and no model folder."""
    import yaml

    root = project.parent
    raw = yaml.safe_load(project.read_text())
    raw["fragment"]["lr"] = 1e12
    raw["train"]["clip_grad_norm"] = None
    raw["tune"]["n_trials"] = 0
    project.write_text(yaml.safe_dump(raw, sort_keys=False))
    for stage in ("ingest", "validate", "prepare"):
        assert _run([stage], root).returncode == 0
    done = _run(["train", "fragment"], root)
    assert done.returncode == 1, done.stderr
    message = done.stderr
    assert "fragment" in message and "epoch" in message and "fragment.lr" in message
    assert "Traceback" not in message
    assert not (root / "outputs/chickenpox/models/fragment").exists()
