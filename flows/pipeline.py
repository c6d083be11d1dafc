"""The pipeline flow: the same stages, in the same order, as `dvc.yaml`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow

from tasks import stages as t
from tokfrag.config import load_params


@flow(name="tokfrag-pipeline", log_prints=True)
def pipeline(params_path: str = "params.yaml") -> dict[str, Any]:
    """ingest -> validate -> prepare -> tune and train token, tune and train fragment ->
    evaluate -> register.

    A failed validation raises inside the ``validate`` task, so the flow run fails before any
    training and nothing is registered.
    """
    params = load_params(params_path)
    root = str(Path(params_path).resolve().parent)
    t.ingest(params, root)
    t.validate(params, root)
    t.prepare(params, root)
    for family in ("token", "fragment"):
        t.tune(params, root, family)
        t.train(params, root, family)
    metrics = t.evaluate(params, root)
    registration = t.register(params, root)
    return {"metrics": metrics, "registration": registration}
