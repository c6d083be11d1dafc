"""The validation gate's record: running the gate inside an MLflow run, writing what it
passed on, and refusing to go on unless it passed on exactly this data and split."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tokfrag.atomic import staged_dir, write_json
from tokfrag.config import Params
from tokfrag.layout import Layout, StageError, read_json


def run_gate(params: Params, layout: Layout, gate: Callable[[Path], Any], data_sha256: str) -> Any:
    """The validate stage around one kind's ``gate(docs_dir) -> ValidationReport``.

    GX writes this run's HTML data docs into a staging folder; pass or fail, they and the
    figures go into an MLflow run named ``validate`` (FAILED when the gate fails). Only a
    pass replaces ``outputs/<dataset>/data_docs/`` and writes the gate's record, so a failure
    leaves every earlier output as it was.
    """
    from tokfrag.data.validation import ValidationFailed
    from tokfrag.registry.tracking import open_store, training_run

    with staged_dir(layout.data_docs) as staging:
        report = gate(staging)
        store = open_store(params.registry, layout.root, params.data.dataset)
        tags = {
            "stage": "validate",
            "dataset": params.data.dataset,
            "data_sha256": data_sha256,
            "validation.success": str(report.success).lower(),
        }
        split = params.split.model_dump()
        with training_run(store, "validate", params={"split": split}, tags=tags) as run:
            run.log_metrics(
                {
                    "expectations_checked": report.checked,
                    "expectations_failed": len(report.failures),
                    "validation_seconds": report.seconds,
                }
            )
            run.log_artifacts(staging, "data_docs")
            if not report.success:
                raise ValidationFailed(
                    report,
                    note=(
                        f"GX data docs of this check: MLflow run {run.run_id} "
                        f"(experiment {store.experiment_name}), artifacts data_docs/index.html"
                    ),
                )
    return record_gate(layout, params, report, data_sha256)


def record_gate(layout: Layout, params: Params, report: Any, data_sha256: str) -> Any:
    """Write the passed gate's record: what was checked, on exactly which bytes and split."""
    from tokfrag.data.canonical import canonical_digest

    write_json(
        layout.validation,
        {
            **report.to_dict(),
            "data_sha256": data_sha256,
            "data_digest": canonical_digest(layout.data_dir),
            "split": params.split.model_dump(),
        },
    )
    return report


def require_gate(layout: Layout, params: Params) -> None:
    """Refuse to go on unless the gate passed on exactly these files and this split."""
    from tokfrag.data.canonical import canonical_digest

    gate = read_json(layout.validation, "validate")
    passed = (
        gate.get("success")
        and gate.get("data_digest") == canonical_digest(layout.data_dir)
        and gate.get("split") == params.split.model_dump()
    )
    if not passed:
        raise StageError(
            f"{layout.validation}: the validation gate has not passed on this data and split; "
            "run `tokfrag validate` and fix what it reports"
        )
