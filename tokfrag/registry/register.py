"""Register the two family models as versions of one model per dataset, and crown one.

Both kinds of data go through the same path: a :class:`Candidate` (series forecaster) or a
:class:`TextCandidate` (text classifier) names its contract (:mod:`tokfrag.registry.frames`),
and the contract decides the input table, the example, the tags and the ranking metric
(series: lowest ``test_mse``; text: highest ``test_accuracy``).

Registration happens in four phases, so a bad candidate never leaves the registry half-moved:

1. validate every candidate (files, metrics, run, data, a real prediction) - no writes;
2. log each candidate's pyfunc model into its own training run (tracking writes only);
3. register each logged model as a version, tagged with family, metrics, data hash, commit
   (and the task: lags/horizon for series, label names for text);
4. only then move the aliases: ``champion`` to the best primary metric, ``challenger`` to
   the runner-up (ties: the candidate listed first wins).

If phase 2 or 3 fails, existing aliases are untouched and still point at the previous
winner; a :class:`RegistrationError` names any versions that were already created. After a
crash at any point (even SIGKILL), a rerun reuses the versions already created and finishes
the round; a training run left RUNNING by a crash in phase 2 is recognised by its
``tokfrag.logging_model`` tag and ends FINISHED again.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import math
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import mlflow
import numpy as np
from mlflow.exceptions import MlflowException
from mlflow.models.model import ModelInfo
from mlflow.pyfunc import PyFuncModel

from tokfrag.models.forecaster import CONFIG_FILE, read_config
from tokfrag.registry.frames import SERIES, TEXT, ClassifyContract, Contract, ForecastContract
from tokfrag.registry.pyfunc import TokfragModel, log_model
from tokfrag.registry.tracking import Store
from tokfrag.stores import redact_url

CHAMPION = "champion"
CHALLENGER = "challenger"
METRIC_TAG_PREFIX = "metric."
COST_TAG_PREFIX = "cost."
MODEL_NAME_IN_RUN = "model"
# Set on a finished training run while its model is logged into it (which resumes the run as
# RUNNING): a run left RUNNING with this tag was interrupted there, not in training.
LOGGING_TAG = "tokfrag.logging_model"
# On a version promoted without the gate's comparison: why (forced, or no gate possible).
PROMOTION_TAG = "promotion"
# sha256 over a version's artifact files, set at registration and checked before loading:
# loading runs the model's code from the artifact store.
ARTIFACTS_TAG = "artifacts_sha256"


class ArtifactsChanged(RuntimeError):
    """A registered version's files no longer match the digest recorded when it was
    registered; it is not loaded."""


class CandidateError(ValueError):
    """A candidate failed the checks made before any registry write; nothing was written."""


class RegistrationError(RuntimeError):
    """Registration failed after validation; the message says what was already written."""


@dataclass(frozen=True)
class Candidate:
    """One family's final series forecaster, ready to be registered (ranked by ``test_mse``)."""

    kind: ClassVar[str] = SERIES

    family: str  # "token" | "fragment" | "baseline"
    run_id: str  # the family's training run (a baseline's fit run); the model is logged into it
    model_dir: Path  # saved forecaster folder (config.json [+ model.safetensors])
    metrics: dict[str, float]  # must include "test_mse"; usually "test_mae" too
    node_ids: tuple[str, ...]
    lags: int
    horizon: int
    data_sha256: str
    example_windows: np.ndarray  # (1, N, L): a real window, becomes the input example
    example_times: np.ndarray | None = None  # (1,): its lag_1 step's time (int64)
    time_unit: str = "steps"  # what the `time` column holds: "steps" or "ns" (dates)
    gaps: bool = False  # the model reads missing (NaN) lag values (data.missing mask/interpolate)

    def contract(self, dataset: str) -> ForecastContract:
        return ForecastContract(
            node_ids=tuple(self.node_ids),
            lags=self.lags,
            horizon=self.horizon,
            dataset=dataset,
            family=self.family,
            time_unit=self.time_unit,
            gaps=self.gaps,
        )

    @property
    def example(self) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        if self.example_times is None:
            return self.example_windows
        return self.example_windows, self.example_times


@dataclass(frozen=True)
class TextCandidate:
    """One family's final text classifier, ready to be registered (ranked by ``test_accuracy``)."""

    family: str  # "token" | "fragment" | "baseline"
    run_id: str  # the family's training run (a baseline's fit run); the model is logged into it
    model_dir: Path  # saved classifier folder (config.json [+ weights]), for load_forecaster
    metrics: dict[str, float]  # must include "test_accuracy"; usually "test_macro_f1" too
    label_names: tuple[str, ...]  # class names in the classifier's probability order
    data_sha256: str
    example_texts: Sequence[str]  # a few real documents: they become the input example

    kind: ClassVar[str] = TEXT

    def contract(self, dataset: str) -> ClassifyContract:
        return ClassifyContract(label_names=self.label_names, dataset=dataset, family=self.family)

    @property
    def example(self) -> Sequence[str]:
        # One bare string stays a string, so the example check refuses it by name.
        return self.example_texts


AnyCandidate = Candidate | TextCandidate


@dataclass(frozen=True)
class RegistrationResult:
    """Which versions were created and which one is champion."""

    model_name: str
    versions: dict[str, int]  # family ("token", "fragment", "baseline") -> registered version
    champion: str  # family
    champion_version: int
    uri: str  # models:/<name>@champion
    challenger: str | None = None
    challenger_version: int | None = None
    promoted: bool = True  # False: the gate kept an earlier champion
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)  # family -> metrics
    kind: str = SERIES  # "series" | "text"
    ranked_by: str = "test_mse"  # the contract's primary metric
    higher_is_better: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def register_candidates(
    store: Store,
    dataset: str,
    candidates: Sequence[AnyCandidate],
    *,
    winner: str | None = None,
    challenger: str | None = None,
    promote: bool = True,
    extra_tags: dict[str, dict[str, str]] | None = None,
    promotion_note: str | None = None,
) -> RegistrationResult:
    """Log, register and tag every candidate, then move the aliases.

    All candidates must be of one kind (all :class:`Candidate` or all
    :class:`TextCandidate`). The winner is ``winner`` (the verdict's choice) or else the best
    value of the contract's primary metric: lowest ``test_mse`` for series, highest
    ``test_accuracy`` for text; on a tie the candidate listed first wins.

    ``promote`` is the promotion gate's answer: when True the winner becomes ``champion``
    and ``challenger`` (a family name; by default the runner-up on the primary metric)
    becomes ``challenger``; when False the current champion keeps its alias and
    ``challenger`` (by default the winner) becomes ``challenger``. ``extra_tags`` adds tags
    per family (params hash, study name, validation result, costs). ``promotion_note``, when
    given, is set as the ``promotion`` tag of the version that holds ``champion`` after this
    round, when this round moved the alias to it (why it was promoted: forced, or no gate
    possible).

    Raises :class:`CandidateError` (a ``ValueError``, listing every problem) before any
    write if a candidate is invalid, and :class:`RegistrationError` if a write fails midway.
    """
    _check_dataset(store, dataset)
    contracts = _validate_candidates(store, dataset, candidates)
    store.activate()

    # A retried registration (a Prefect retry, a rerun after a crash) reuses the version
    # each training run already has instead of adding a duplicate.
    versions: dict[str, int] = _existing_versions(store, candidates)
    todo = [c for c in candidates if c.family not in versions]
    infos = {c.family: _log_into_run(store, c, contracts[c.family]) for c in todo}

    commit = _git_commit(store.project_dir)
    for candidate in todo:
        try:
            version = mlflow.register_model(
                infos[candidate.family].model_uri,
                store.model_name,
                tags={
                    **_version_tags(candidate, contracts[candidate.family], commit),
                    **(extra_tags or {}).get(candidate.family, {}),
                },
            )
        except Exception as err:  # any failure here leaves a partial round: say what exists
            raise RegistrationError(
                f"registering {candidate.family!r} as {store.model_name!r} failed: {err}. "
                f"Versions already created: {versions or 'none'}; aliases were not moved."
            ) from err
        versions[candidate.family] = int(version.version)

    # Every version of this round carries the digest of its files (also one a crash left
    # untagged after registering it: a rerun reuses the version and tags it here).
    client = store.client()
    for version in versions.values():
        if ARTIFACTS_TAG not in client.get_model_version(store.model_name, str(version)).tags:
            with tempfile.TemporaryDirectory() as tmp:
                digest = artifacts_digest(_download_version(store, version, Path(tmp)))
            client.set_model_version_tag(store.model_name, str(version), ARTIFACTS_TAG, digest)

    # Stable sort: on a tie the candidate listed first wins.
    first = contracts[candidates[0].family]
    sign = -1.0 if first.higher_is_better else 1.0
    ranked = sorted(candidates, key=lambda c: sign * float(c.metrics[first.primary_metric]))
    if winner is not None:
        ranked = sorted(ranked, key=lambda c: c.family != winner)
    best = ranked[0]
    previous = _current_version(store)
    if promote or previous is None or previous[1] == versions[best.family]:
        champion_family, champion_version = best.family, versions[best.family]
        rest = [c.family for c in ranked[1:]]
        if challenger is not None and challenger in rest:
            rest.remove(challenger)
            rest.insert(0, challenger)
        challenger_family = rest[0] if rest else None
        challenger_version = versions[challenger_family] if challenger_family else None
    else:
        # The gate kept the old champion: the newcomer waits as challenger (or the family
        # named ``challenger``: a family winner that a baseline beat waits in its place).
        champion_family, champion_version = previous
        challenger_family = challenger if challenger in versions else best.family
        challenger_version = versions[challenger_family]
    _move_aliases(store, champion_version, challenger_version)
    moved = previous is None or previous[1] != champion_version
    if promotion_note and moved:
        store.client().set_model_version_tag(
            store.model_name, str(champion_version), PROMOTION_TAG, promotion_note[:4000]
        )

    return RegistrationResult(
        model_name=store.model_name,
        versions=versions,
        champion=champion_family,
        champion_version=champion_version,
        uri=f"models:/{store.model_name}@{CHAMPION}",
        challenger=challenger_family,
        challenger_version=challenger_version,
        promoted=promote or previous is None or previous[1] == versions[best.family],
        metrics={c.family: {k: float(v) for k, v in c.metrics.items()} for c in candidates},
        kind=first.kind,
        ranked_by=first.primary_metric,
        higher_is_better=first.higher_is_better,
    )


def _existing_versions(store: Store, candidates: Sequence[AnyCandidate]) -> dict[str, int]:
    """family -> the version already registered from the candidate's training run."""
    client = store.client()
    found = {}
    for candidate in candidates:
        query = f"name = '{store.model_name}' and run_id = '{candidate.run_id}'"
        matches = [
            int(mv.version)
            for mv in client.search_model_versions(query)
            if mv.tags.get("family") == candidate.family
        ]
        if matches:
            found[candidate.family] = max(matches)
    return found


def _current_version(store: Store) -> tuple[str, int] | None:
    """``(family, version)`` of the current champion, or None when there is none."""
    found = current_champion(store)
    return None if found is None else (found[0], found[1])


def current_champion(store: Store) -> tuple[str, int, dict[str, str]] | None:
    """``(family, version, tags)`` of the current champion, or None when there is none
    (load its model with :func:`load_champion`).

    None means the registry answered and has no champion: the model is not registered or
    has no ``champion`` alias. Any other failure (a locked database, a tracking server's 5xx,
    a broken version) is raised, so a caller deciding on promotion cannot mistake an outage
    for an empty registry.
    """
    client = store.client()
    try:
        model = client.get_registered_model(store.model_name)
    except MlflowException as err:
        if err.error_code == "RESOURCE_DOES_NOT_EXIST":
            return None
        raise
    version = model.aliases.get(CHAMPION)
    if version is None:
        return None
    mv = client.get_model_version(store.model_name, str(version))
    return mv.tags.get("family", "?"), int(mv.version), dict(mv.tags)


def champion_contract(model: PyFuncModel) -> Contract:
    """The contract a loaded champion serves (what it expects and returns)."""
    wrapper = model.unwrap_python_model()
    if not isinstance(wrapper, TokfragModel):
        raise ValueError(f"the model is not a tokfrag model ({type(wrapper).__name__})")
    return wrapper.contract


def load_champion(store: Store, dataset: str) -> PyFuncModel:
    """Load the ``champion`` version of the dataset's model as a pyfunc."""
    _check_dataset(store, dataset)
    client = store.client()
    try:
        mv = client.get_model_version_by_alias(store.model_name, CHAMPION)
    except MlflowException as err:
        raise LookupError(
            f"no {CHAMPION!r} version of {store.model_name!r} in "
            f"{redact_url(store.tracking_uri)}; run the register stage first"
        ) from err
    # Loading runs the model's code: load only files whose digest matches the one recorded
    # at registration, from a local copy made first (so what is checked is what is loaded).
    local = Path(tempfile.mkdtemp(prefix="tokfrag-champion-"))
    atexit.register(shutil.rmtree, local, ignore_errors=True)
    folder = _download_version(store, int(mv.version), local)
    expected = mv.tags.get(ARTIFACTS_TAG)
    found = artifacts_digest(folder)
    if expected != found:
        raise ArtifactsChanged(
            f"version {mv.version} of {store.model_name}: its files' sha256 is {found[:16]}..., "
            + (
                f"but {expected[:16]}... was recorded at registration: the artifacts changed "
                "since (tampering or corruption); restore them, or register a new champion"
                if expected
                else f"and it has no {ARTIFACTS_TAG} tag (registered by an older tokfrag or "
                "by hand); re-register it with tokfrag"
            )
        )
    # Loading puts the model's copy of tokfrag (its code_paths) first on sys.path. In this
    # process tokfrag is already imported and stays the one in use; but processes spawned
    # later inherit sys.path and would import the registered copy instead of the
    # installed code, so the path is put back as it was.
    path = list(sys.path)
    try:
        return mlflow.pyfunc.load_model(str(folder))
    finally:
        sys.path[:] = path


# Written by MLflow into a copy downloaded through a models:/ URI (name and version); not
# part of what was logged.
_ADDED_ON_DOWNLOAD = {"registered_model_meta"}


def artifacts_digest(folder: Path) -> str:
    """sha256 over every file under ``folder``: its relative path and its bytes' sha256."""
    total = hashlib.sha256()
    files = (p for p in Path(folder).rglob("*") if p.is_file())
    for path in sorted(
        p for p in files if p.relative_to(folder).as_posix() not in _ADDED_ON_DOWNLOAD
    ):
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        total.update(path.relative_to(folder).as_posix().encode() + b"\0" + digest.digest())
    return total.hexdigest()


def _download_version(store: Store, version: int, into: Path) -> Path:
    """A local copy of a registered version's model files."""
    store.activate()
    return Path(
        mlflow.artifacts.download_artifacts(
            artifact_uri=f"models:/{store.model_name}/{version}", dst_path=str(into)
        )
    )


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
        # Versions registered before kinds existed were all series forecasters.
        kind = tags.get("kind", SERIES if "lags" in tags else None)
        rows.append(
            {
                "version": int(mv.version),
                "family": tags.get("family"),
                "kind": kind,
                "aliases": sorted(aliases_by_version.get(str(mv.version), [])),
                "metrics": {
                    key[len(METRIC_TAG_PREFIX) :]: float(value)
                    for key, value in tags.items()
                    if key.startswith(METRIC_TAG_PREFIX)
                },
                "run_id": mv.run_id,
                "created": datetime.fromtimestamp(mv.creation_timestamp / 1000, UTC).isoformat(),
                "costs": {
                    key[len(COST_TAG_PREFIX) :]: float(value)
                    for key, value in tags.items()
                    if key.startswith(COST_TAG_PREFIX)
                },
                "model_kind": tags.get("model_kind"),
                "baseline": tags.get("baseline"),
                "verdict": tags.get("verdict") or None,
                "promotion": tags.get(PROMOTION_TAG),
                "params_hash": tags.get("params_hash"),
                "study_name": tags.get("study_name"),
                "data_sha256": tags.get("data_sha256"),
                "git_commit": tags.get("git_commit"),
                "lags": int(tags["lags"]) if "lags" in tags else None,
                "horizon": int(tags["horizon"]) if "horizon" in tags else None,
                "label_names": json.loads(tags["label_names"]) if "label_names" in tags else None,
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
    store: Store, dataset: str, candidates: Sequence[AnyCandidate]
) -> dict[str, Contract]:
    """Check everything that can be checked without writing; raise one error listing all."""
    if not candidates:
        raise ValueError("register_candidates: no candidates given")
    problems: list[str] = []
    families = [c.family for c in candidates]
    for family in sorted({f for f in families if families.count(f) > 1}):
        problems.append(f"family {family!r} appears more than once; one candidate per family")
    unknown = [c for c in candidates if not isinstance(c, Candidate | TextCandidate)]
    if unknown:
        raise CandidateError(
            "register_candidates: nothing was registered; candidates must be Candidate "
            f"(series) or TextCandidate (text), got {sorted({type(c).__name__ for c in unknown})}"
        )
    kinds = {c.family: c.kind for c in candidates}
    if len(set(kinds.values())) > 1:
        problems.append(
            f"candidates mix kinds {kinds}; one registered model serves one kind of data"
        )

    contracts: dict[str, Contract] = {}
    for candidate in candidates:
        found, contract = _candidate_problems(store, dataset, candidate)
        problems.extend(f"{candidate.family!r}: {p}" for p in found)
        if contract is not None:
            contracts[candidate.family] = contract

    # Champion and challenger are only comparable on the same data and the same task.
    reference = candidates[0]
    if len(set(kinds.values())) == 1 and reference.family in contracts:
        first = _task_key(reference, contracts[reference.family])
        for other in candidates[1:]:
            if other.family not in contracts:
                continue
            for attr, value in _task_key(other, contracts[other.family]).items():
                if value != first[attr]:
                    problems.append(
                        f"{other.family!r} and {reference.family!r} differ in {attr}; both "
                        "families must be trained and tested on the same data and task"
                    )
    if problems:
        listing = "\n".join(f"  - {p}" for p in problems)
        raise CandidateError(
            f"register_candidates: nothing was registered; fix these first:\n{listing}"
        )
    return contracts


def _task_key(candidate: AnyCandidate, contract: Contract) -> dict[str, Any]:
    return {"data_sha256": candidate.data_sha256, **contract.task_key()}


def _candidate_problems(
    store: Store, dataset: str, candidate: AnyCandidate
) -> tuple[list[str], Contract | None]:
    """Problems with one candidate, and its contract when the contract itself is valid."""
    problems: list[str] = []
    if not candidate.family or not candidate.family.replace("_", "").isalnum():
        problems.append("family must be a plain name such as 'token' or 'fragment'")

    model_dir = Path(candidate.model_dir)
    if not (model_dir / CONFIG_FILE).is_file():
        problems.append(f"{model_dir}: no saved model ({CONFIG_FILE} missing)")

    try:
        contract = candidate.contract(dataset)
    except ValueError as err:
        contract = None
        problems.append(str(err))
    metric = (ForecastContract if candidate.kind == SERIES else ClassifyContract).primary_metric
    if metric not in candidate.metrics:
        problems.append(
            f"metrics lack {metric!r}, which ranks {candidate.kind} models "
            f"(got {sorted(candidate.metrics)})"
        )
    for key, value in candidate.metrics.items():
        try:
            finite = math.isfinite(float(value))
        except (TypeError, ValueError):
            finite = False
        if not finite:
            problems.append(f"metric {key!r} is {value!r}; metrics must be finite numbers")

    if not candidate.data_sha256:
        problems.append("data_sha256 is empty; register only models of hashed, versioned data")

    example = None
    if contract is not None:
        try:
            example = contract.example_frame(candidate.example)
        except ValueError as err:
            problems.append(f"bad example: {err}")

    problems.extend(_run_problems(store, candidate.run_id))
    if not problems and contract is not None and example is not None:
        # Prove the packaged wrapper works on real data before anything is written.
        try:
            TokfragModel.from_folder(model_dir, contract).predict(None, example)
        except Exception as err:  # any failure here means the model cannot be served
            problems.append(f"{model_dir}: predicting the example failed: {err}")
    return problems, contract


def _run_problems(store: Store, run_id: str) -> list[str]:
    try:
        run = store.client().get_run(run_id)
    except MlflowException:
        return [f"run {run_id!r} not found in {redact_url(store.tracking_uri)}"]
    if run.info.experiment_id != store.experiment_id:
        return [f"run {run_id!r} belongs to another experiment, not {store.experiment_name!r}"]
    interrupted = run.info.status == "RUNNING" and LOGGING_TAG in run.data.tags
    if run.info.status != "FINISHED" and not interrupted:
        # Resuming the run to log the model would mark a failed or live run FINISHED.
        return [f"run {run_id!r} has status {run.info.status}; only FINISHED runs register"]
    return []


def _log_into_run(store: Store, candidate: AnyCandidate, contract: Contract) -> ModelInfo:
    client = store.client()
    client.set_tag(candidate.run_id, LOGGING_TAG, "true")
    mlflow.start_run(run_id=candidate.run_id)
    try:
        return log_model(
            Path(candidate.model_dir), contract, candidate.example, name=MODEL_NAME_IN_RUN
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
        client.delete_tag(candidate.run_id, LOGGING_TAG)


def _version_tags(candidate: AnyCandidate, contract: Contract, commit: str) -> dict[str, str]:
    tags = {
        "family": candidate.family,
        "kind": contract.kind,
        "dataset": contract.dataset,
        "data_sha256": candidate.data_sha256,
        "git_commit": commit,
        "ranked_by": contract.primary_metric,
        # What sits inside (e.g. fragment_gconvgru, ridge_ar_calendar, tfidf_logreg).
        "model_kind": str(read_config(Path(candidate.model_dir)).get("kind", "?")),
        **contract.tags(),
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
