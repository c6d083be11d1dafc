"""The registered versions and their tags (phase 3), and reading them back.

Each version carries what it is (family, kind, dataset, what sits inside), where it came from
(data hash, git commit), how it ranks (``metric.<name>`` tags, the ranking metric), its task
(lags/horizon for series, label names for text) and the sha256 of its files
(:data:`ARTIFACTS_TAG`, checked before a champion is loaded). :func:`existing_versions` lets a
rerun after a crash reuse the versions already created; :func:`describe_registry` reads every
version back as JSON-friendly rows.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import mlflow

from tokfrag.models.saving import read_config
from tokfrag.registry.candidates import AnyCandidate
from tokfrag.registry.contracts import SERIES, Contract
from tokfrag.registry.tracking import Store

METRIC_TAG_PREFIX = "metric."
COST_TAG_PREFIX = "cost."
# On a version promoted without the gate's comparison: why (forced, or no gate possible).
PROMOTION_TAG = "promotion"
# sha256 over a version's artifact files, set at registration and checked before loading:
# loading runs the model's code from the artifact store.
ARTIFACTS_TAG = "artifacts_sha256"
# Written by MLflow into a copy downloaded through a models:/ URI (name and version); not
# part of what was logged.
_ADDED_ON_DOWNLOAD = {"registered_model_meta"}


def existing_versions(store: Store, candidates: Sequence[AnyCandidate]) -> dict[str, int]:
    """``family -> version`` for the candidates whose training run already has a version."""
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


def version_tags(candidate: AnyCandidate, contract: Contract, commit: str) -> dict[str, str]:
    """The tags a candidate's version is registered with (besides any extra ones)."""
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


def tag_artifacts(store: Store, versions: Iterable[int]) -> None:
    """Give each version that lacks it the digest of its files (:data:`ARTIFACTS_TAG`)."""
    client = store.client()
    for version in versions:
        if ARTIFACTS_TAG not in client.get_model_version(store.model_name, str(version)).tags:
            with tempfile.TemporaryDirectory() as tmp:
                digest = artifacts_digest(download_version(store, version, Path(tmp)))
            client.set_model_version_tag(store.model_name, str(version), ARTIFACTS_TAG, digest)


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


def download_version(store: Store, version: int, into: Path) -> Path:
    """A local copy of a registered version's model files."""
    store.activate()
    return Path(
        mlflow.artifacts.download_artifacts(
            artifact_uri=f"models:/{store.model_name}/{version}", dst_path=str(into)
        )
    )


def git_commit(project_dir: Path) -> str:
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


def describe_registry(store: Store, dataset: str) -> list[dict[str, Any]]:
    """Every version of the dataset's model, oldest first, as JSON-friendly dicts."""
    store.check_dataset(dataset)
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
                "metrics": _numbers(tags, METRIC_TAG_PREFIX),
                "run_id": mv.run_id,
                "created": datetime.fromtimestamp(mv.creation_timestamp / 1000, UTC).isoformat(),
                "costs": _numbers(tags, COST_TAG_PREFIX),
                "model_kind": tags.get("model_kind"),
                "baseline": tags.get("baseline"),  # which baseline, by name
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


def _numbers(tags: Mapping[str, str], prefix: str) -> dict[str, float]:
    """The tags named ``<prefix><name>`` as ``{name: float}`` (metrics, costs)."""
    return {
        key[len(prefix) :]: float(value) for key, value in tags.items() if key.startswith(prefix)
    }
