"""The pipeline flow: the same stages, in the same order, as `dvc.yaml`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow

from tasks import stages as t
from tokfrag.config import load_params


def _load(params_path: str, dataset: str | None):
    params = load_params(params_path)
    if dataset is not None:
        params = params.with_overrides({"data.dataset": dataset})
    return params, str(Path(params_path).resolve().parent)


@flow(name="tokfrag-validate", log_prints=True)
def validate_data(params_path: str = "params.yaml", dataset: str | None = None) -> dict:
    """ingest -> validate: fetch the dataset (checksums checked) and run the gate. A failed
    gate fails the flow run, with the failed expectations in its logs."""
    params, root = _load(params_path, dataset)
    t.ingest(params, root)
    return t.validate(params, root)


@flow(name="tokfrag-pipeline", log_prints=True)
def pipeline(params_path: str = "params.yaml", dataset: str | None = None) -> dict[str, Any]:
    """ingest -> validate -> prepare -> tune and train token, tune and train fragment ->
    evaluate -> register.

    A failed validation raises inside the ``validate`` task, so the flow run fails before any
    training and nothing is registered.
    """
    params, root = _load(params_path, dataset)
    t.ingest(params, root)
    t.validate(params, root)
    t.prepare(params, root)
    for family in ("token", "fragment"):
        t.tune(params, root, family)
        t.train(params, root, family)
    metrics = t.evaluate(params, root)
    registration = t.register(params, root)
    return {"metrics": metrics, "registration": registration}
