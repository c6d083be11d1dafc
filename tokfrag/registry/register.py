"""Register the two family models as versions of one model per dataset, and crown one.

Registration happens in four phases, so a bad candidate never leaves the registry half-moved:

1. validate every candidate (files, metrics, run, data, a real forecast) - no writes;
2. log each candidate's pyfunc model into its own training run (tracking writes only);
3. register each logged model as a version, tagged with family, metrics, data hash, commit;
4. only then move the aliases: ``champion`` to the lowest ``test_mse``, ``challenger`` to
   the runner-up.

If phase 2 or 3 fails, existing aliases are untouched and still point at the previous
winner; a :class:`RegistrationError` names any versions that were already created.
"""

from __future__ import annotations

import math
import subprocess
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
from mlflow.exceptions import MlflowException
from mlflow.models.model import ModelInfo
from mlflow.pyfunc import PyFuncModel

from tokfrag.models.forecaster import CONFIG_FILE
from tokfrag.registry.frames import ForecastContract, windows_to_frame
from tokfrag.registry.pyfunc import ForecasterModel, log_forecaster_model
from tokfrag.registry.tracking import Store

CHAMPION = "champion"
CHALLENGER = "challenger"
METRIC_TAG_PREFIX = "metric."
MODEL_NAME_IN_RUN = "model"


class CandidateError(ValueError):
    """A candidate failed the checks made before any registry write; nothing was written."""


class RegistrationError(RuntimeError):
    """Registration failed after validation; the message says what was already written."""


@dataclass(frozen=True)
class Candidate:
    """One family's final model, ready to be registered."""

    family: str  # "token" | "fragment"
    run_id: str  # the family's training run; the model is logged into this run
    model_dir: Path  # saved forecaster folder (config.json [+ model.safetensors])
    metrics: dict[str, float]  # must include "test_mse"; usually "test_mae" too
    node_ids: tuple[str, ...]
    lags: int
    horizon: int
    data_sha256: str
    example_windows: np.ndarray  # (1, N, L): a real window, becomes the input example

    def contract(self, dataset: str) -> ForecastContract:
        return ForecastContract(
            node_ids=tuple(self.node_ids),
            lags=self.lags,
            horizon=self.horizon,
            dataset=dataset,
            family=self.family,
        )


@dataclass(frozen=True)
class RegistrationResult:
    """Which versions were created and which one is champion."""

    model_name: str
    versions: dict[str, int]  # family -> registered version
    champion: str  # family
    champion_version: int
    uri: str  # models:/<name>@champion
    challenger: str | None = None
    challenger_version: int | None = None
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)  # family -> metrics

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def register_candidates(
    store: Store, dataset: str, candidates: Sequence[Candidate]
) -> RegistrationResult:
    """Log, register and tag every candidate, then point the aliases at the winner.

    Raises ``ValueError`` (listing every problem) before any write if a candidate is
    invalid, and :class:`RegistrationError` if a write fails midway.
    """
    _check_dataset(store, dataset)
    contracts = _validate_candidates(store, dataset, candidates)
    store.activate()

    infos = {c.family: _log_into_run(c, contracts[c.family]) for c in candidates}

    commit = _git_commit(store.project_dir)
    versions: dict[str, int] = {}
    for candidate in candidates:
        try:
            version = mlflow.register_model(
                infos[candidate.family].model_uri,
                store.model_name,
                tags=_version_tags(candidate, dataset, commit),
            )
        except Exception as err:  # any failure here leaves a partial round: say what exists
            raise RegistrationError(
                f"registering {candidate.family!r} as {store.model_name!r} failed: {err}. "
                f"Versions already created: {versions or 'none'}; aliases were not moved."
            ) from err
        versions[candidate.family] = int(version.version)

    # Stable sort: on a tie the candidate listed first wins.
    ranked = sorted(candidates, key=lambda c: float(c.metrics["test_mse"]))
    champion = ranked[0]
    challenger = ranked[1] if len(ranked) > 1 else None
    _move_aliases(
        store,
        versions[champion.family],
        versions[challenger.family] if challenger else None,
    )

    return RegistrationResult(
        model_name=store.model_name,
        versions=versions,
        champion=champion.family,
        champion_version=versions[champion.family],
        uri=f"models:/{store.model_name}@{CHAMPION}",
        challenger=challenger.family if challenger else None,
        challenger_version=versions[challenger.family] if challenger else None,
        metrics={c.family: {k: float(v) for k, v in c.metrics.items()} for c in candidates},
    )


def load_champion(store: Store, dataset: str) -> PyFuncModel:
    """Load the ``champion`` version of the dataset's model as a pyfunc."""
    _check_dataset(store, dataset)
    client = store.client()
    try:
        client.get_model_version_by_alias(store.model_name, CHAMPION)
    except MlflowException as err:
        raise LookupError(
            f"no {CHAMPION!r} version of {store.model_name!r} in {store.tracking_uri}; "
            "run the register stage first"
        ) from err
    store.activate()
    return mlflow.pyfunc.load_model(f"models:/{store.model_name}@{CHAMPION}")


def describe_registry(store: Store, dataset: str) -> list[dict[str, Any]]:
    """Every version of the dataset's model, oldest first, as JSON-friendly dicts."""
    _check_dataset(store, dataset)
    client = store.client()
    if not client.search_registered_models(filter_string=f"name = '{store.model_name}'"):
        return []
    aliases_by_version: dict[str, list[str]] = {}
    for alias, version in client.get_registered_model(store.model_name).aliases.items():
        aliases_by_version.setdefault(str(version), []).append(alias)

    rows = []
    for mv in client.search_model_versions(f"name = '{store.model_name}'"):
        tags = dict(mv.tags)
        rows.append(
            {
                "version": int(mv.version),
                "family": tags.get("family"),
                "aliases": sorted(aliases_by_version.get(str(mv.version), [])),
                "metrics": {
                    key[len(METRIC_TAG_PREFIX) :]: float(value)
                    for key, value in tags.items()
                    if key.startswith(METRIC_TAG_PREFIX)
                },
                "run_id": mv.run_id,
                "created": datetime.fromtimestamp(mv.creation_timestamp / 1000, UTC).isoformat(),
                "data_sha256": tags.get("data_sha256"),
                "git_commit": tags.get("git_commit"),
                "lags": int(tags["lags"]) if "lags" in tags else None,
                "horizon": int(tags["horizon"]) if "horizon" in tags else None,
            }
        )
    return sorted(rows, key=lambda row: row["version"])


# --- phases ------------------------------------------------------------------------------


def _check_dataset(store: Store, dataset: str) -> None:
    if store.dataset and dataset != store.dataset:
        raise ValueError(
            f"store was opened for dataset {store.dataset!r}, not {dataset!r}; "
            f"call open_store(cfg, project_dir, {dataset!r})"
        )


def _validate_candidates(
    store: Store, dataset: str, candidates: Sequence[Candidate]
) -> dict[str, ForecastContract]:
    """Check everything that can be checked without writing; raise one error listing all."""
    if not candidates:
        raise ValueError("register_candidates: no candidates given")
    problems: list[str] = []
    families = [c.family for c in candidates]
    for family in sorted({f for f in families if families.count(f) > 1}):
        problems.append(f"family {family!r} appears more than once; one candidate per family")

    contracts: dict[str, ForecastContract] = {}
    for candidate in candidates:
        found = _candidate_problems(store, dataset, candidate)
        problems.extend(f"{candidate.family!r}: {p}" for p in found)
        if not found:
            contracts[candidate.family] = candidate.contract(dataset)

    # Champion and challenger are only comparable on the same data and the same task.
    first = _task_key(candidates[0])
    for other in candidates[1:]:
        for attr, value in _task_key(other).items():
            if value != first[attr]:
                problems.append(
                    f"{other.family!r} and {candidates[0].family!r} differ in {attr}; both "
                    "families must be trained and tested on the same data and windows"
                )
    if problems:
        listing = "\n".join(f"  - {p}" for p in problems)
        raise CandidateError(
            f"register_candidates: nothing was registered; fix these first:\n{listing}"
        )
    return contracts


def _task_key(candidate: Candidate) -> dict[str, Any]:
    return {
        "data_sha256": candidate.data_sha256,
        "lags": int(candidate.lags),
        "horizon": int(candidate.horizon),
        "node_ids": tuple(str(n) for n in candidate.node_ids),
    }


def _candidate_problems(store: Store, dataset: str, candidate: Candidate) -> list[str]:
    problems: list[str] = []
    if not candidate.family or not candidate.family.replace("_", "").isalnum():
        problems.append("family must be a plain name such as 'token' or 'fragment'")

    model_dir = Path(candidate.model_dir)
    if not (model_dir / CONFIG_FILE).is_file():
        problems.append(f"{model_dir}: no saved forecaster ({CONFIG_FILE} missing)")

    if "test_mse" not in candidate.metrics:
        problems.append(f"metrics lack 'test_mse' (got {sorted(candidate.metrics)})")
    for key, value in candidate.metrics.items():
        try:
            finite = math.isfinite(float(value))
        except (TypeError, ValueError):
            finite = False
        if not finite:
            problems.append(f"metric {key!r} is {value!r}; metrics must be finite numbers")

    if not candidate.data_sha256:
        problems.append("data_sha256 is empty; register only models of hashed, versioned data")

    try:
        contract = candidate.contract(dataset)
    except ValueError as err:
        return [*problems, str(err)]
    expected = (1, len(contract.node_ids), contract.lags)
    if np.shape(candidate.example_windows) != expected:
        problems.append(
            f"example_windows has shape {np.shape(candidate.example_windows)}, expected {expected}"
        )

    problems.extend(_run_problems(store, candidate.run_id))
    if not problems:
        # Prove the packaged wrapper works on real data before anything is written.
        try:
            wrapper = ForecasterModel.from_folder(model_dir, contract)
            wrapper.predict(None, windows_to_frame(candidate.example_windows, contract.node_ids))
        except Exception as err:  # any failure here means the model cannot be served
            problems.append(f"{model_dir}: forecasting the example window failed: {err}")
    return problems


def _run_problems(store: Store, run_id: str) -> list[str]:
    try:
        run = store.client().get_run(run_id)
    except MlflowException:
        return [f"run {run_id!r} not found in {store.tracking_uri}"]
    if run.info.experiment_id != store.experiment_id:
        return [f"run {run_id!r} belongs to another experiment, not {store.experiment_name!r}"]
    if run.info.status != "FINISHED":
        # Resuming the run to log the model would mark a failed or live run FINISHED.
        return [f"run {run_id!r} has status {run.info.status}; only FINISHED runs register"]
    return []


def _log_into_run(candidate: Candidate, contract: ForecastContract) -> ModelInfo:
    mlflow.start_run(run_id=candidate.run_id)
    try:
        return log_forecaster_model(
            Path(candidate.model_dir),
            contract,
            np.asarray(candidate.example_windows),
            name=MODEL_NAME_IN_RUN,
        )
    except Exception as err:
        raise RegistrationError(
            f"logging the {candidate.family!r} model into run {candidate.run_id} failed: "
            f"{err}. Nothing was registered; aliases were not moved."
        ) from err
    finally:
        # Always FINISHED: the training it records did finish; only packaging failed.
        # (``with start_run`` would mark the training run FAILED on an error here.)
        mlflow.end_run()


def _version_tags(candidate: Candidate, dataset: str, commit: str) -> dict[str, str]:
    tags = {
        "family": candidate.family,
        "dataset": dataset,
        "data_sha256": candidate.data_sha256,
        "lags": str(candidate.lags),
        "horizon": str(candidate.horizon),
        "git_commit": commit,
    }
    tags.update({f"{METRIC_TAG_PREFIX}{k}": repr(float(v)) for k, v in candidate.metrics.items()})
    return tags


def _move_aliases(store: Store, champion_version: int, challenger_version: int | None) -> None:
    client = store.client()
    client.set_registered_model_alias(store.model_name, CHAMPION, str(champion_version))
    if challenger_version is not None:
        client.set_registered_model_alias(store.model_name, CHALLENGER, str(challenger_version))
    elif CHALLENGER in client.get_registered_model(store.model_name).aliases:
        # A lone candidate has no runner-up; an old challenger would claim a comparison
        # that this registration did not make.
        client.delete_registered_model_alias(store.model_name, CHALLENGER)


def _git_commit(project_dir: Path) -> str:
    """HEAD of the project's git repository, or ``"unknown"`` outside one."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=project_dir,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return result.stdout.strip() if result.returncode == 0 else "unknown"
