"""Scheduled deployments of the flows, from the ``schedule`` section of params.yaml.

Each dataset listed there gets up to two deployments: ``<dataset>-revalidate`` (ingest and
validate on its cron) and ``<dataset>-retrain`` (the whole pipeline on its cron). They are
served by the process that runs `tokfrag deploy` (Prefect's ``serve``: no work pool or
worker to set up), against the server ``PREFECT_API_URL`` points at, e.g. `tokfrag ui`'s.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import serve
from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron

from flows.pipeline import pipeline, validate_data
from tokfrag.config import load_params


def deployments(params_path: str | Path) -> list[RunnerDeployment]:
    """One deployment per scheduled (dataset, flow) pair, with its cron and timezone."""
    params_path = str(Path(params_path).resolve())
    schedule = load_params(params_path).schedule
    out: list[Any] = []  # called outside an event loop, to_deployment returns deployments
    for dataset, when in schedule.datasets.items():
        # Re-validation always fetches and checks again (force); retraining is cached, so
        # it re-runs only the stages whose data, params or code changed since the last run.
        for kind, flow_, cron, force in (
            ("revalidate", validate_data, when.revalidate, True),
            ("retrain", pipeline, when.retrain, False),
        ):
            if cron is None:
                continue
            out.append(
                flow_.to_deployment(
                    name=f"{dataset}-{kind}",
                    schedules=[Cron(cron, timezone=schedule.timezone)],
                    parameters={"params_path": params_path, "dataset": dataset, "force": force},
                    tags=["tokfrag", dataset, kind],
                    description=f"tokfrag {kind} of {dataset}, on '{cron}' ({schedule.timezone})",
                )
            )
    return out


def apply(params_path: str | Path) -> list[str]:
    """Create or update the deployments on the server; returns ``flow/deployment`` names."""
    names = []
    for deployment in deployments(params_path):
        deployment.apply()
        names.append(f"{deployment.flow_name}/{deployment.name}")
    return names


def serve_forever(params_path: str | Path) -> None:
    """Create the deployments and run their scheduled (and triggered) runs until stopped;
    Ctrl-C pauses them."""
    serve(*deployments(params_path))
