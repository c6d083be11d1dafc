"""Reading back what a pipeline run did, from the Prefect API."""

from __future__ import annotations

from uuid import UUID

from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterId,
    FlowRunFilterParentFlowRunId,
)
from prefect.client.schemas.objects import TaskRun

SUBFLOW_PREFIX = "tokfrag-"  # subflows also appear as task runs of their parent, by flow name


def flow_run_ids(client: SyncPrefectClient, flow_run_id: UUID) -> list[UUID]:
    """The flow run and its subflow runs (a task's logs belong to the subflow it ran in)."""
    children = client.read_flow_runs(
        flow_run_filter=FlowRunFilter(
            parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[flow_run_id])
        )
    )
    return [flow_run_id, *(run.id for run in children)]


def stage_runs(client: SyncPrefectClient, flow_run_id: UUID) -> list[TaskRun]:
    """The stage task runs of a pipeline run, its subflows' included (``ingest``,
    ``tune-token``, ...), without the task runs that stand for the subflows themselves."""
    ids = flow_run_ids(client, flow_run_id)
    runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=ids)))
    return [run for run in runs if not run.name.startswith(SUBFLOW_PREFIX)]


def stage_states(flow_run_id: UUID) -> dict[str, str]:
    """``{stage task run name: state name}`` of a pipeline run (``Completed``, ``Cached``...)."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        runs = stage_runs(client, flow_run_id)
        return {run.name: str(run.state.name) if run.state else "Unknown" for run in runs}
