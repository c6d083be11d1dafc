"""Register the family models as versions of one model per dataset, and crown one.

Both kinds of data go through the same path: a :class:`~tokfrag.registry.candidates.Candidate`
(series forecaster) or a :class:`~tokfrag.registry.candidates.TextCandidate` (text
classifier) names its contract (:mod:`tokfrag.registry.contracts`), and the contract decides
the input table, the example, the tags and the ranking metric (series: lowest ``test_mse``;
text: highest ``test_accuracy``).

Registration happens in four phases, so a bad candidate never leaves the registry half-moved:

1. validate every candidate (files, metrics, run, data, a real prediction) - no writes
   (:mod:`tokfrag.registry.candidates`);
2. log each candidate's pyfunc model into its own training run (tracking writes only);
3. register each logged model as a version, tagged with family, metrics, data hash, commit
   (and the task: lags/horizon for series, label names for text)
   (:mod:`tokfrag.registry.versions`);
4. only then move the aliases: ``champion`` to the best primary metric, ``challenger`` to
   the runner-up (ties: the candidate listed first wins) (:mod:`tokfrag.registry.aliases`).

If phase 2 or 3 fails, existing aliases are untouched and still point at the previous
winner; a :class:`RegistrationError` names any versions that were already created. After a
crash at any point (even SIGKILL), a rerun reuses the versions already created and finishes
the round; a training run left RUNNING by a crash in phase 2 is recognised by its
``tokfrag.logging_model`` tag and ends FINISHED again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import mlflow
from mlflow.models.model import ModelInfo

from tokfrag.registry.aliases import CHAMPION, choose_aliases, move_aliases, rank
from tokfrag.registry.candidates import AnyCandidate, validate_candidates
from tokfrag.registry.champion import current_version
from tokfrag.registry.contracts import SERIES, Contract
from tokfrag.registry.pyfunc import log_model
from tokfrag.registry.tracking import LOGGING_TAG, Store
from tokfrag.registry.versions import (
    PROMOTION_TAG,
    existing_versions,
    git_commit,
    tag_artifacts,
    version_tags,
)

MODEL_NAME_IN_RUN = "model"


class RegistrationError(RuntimeError):
    """Registration failed after validation; the message says what was already written."""


@dataclass(frozen=True)
class RegistrationResult:
    """Which versions were created and which one is champion."""

    model_name: str
    versions: dict[str, int]  # family (one of FAMILIES, or BASELINE) -> registered version
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
    store.check_dataset(dataset)
    contracts = validate_candidates(store, dataset, candidates)
    store.activate()

    # A retried registration (a Prefect retry, a rerun after a crash) reuses the version
    # each training run already has instead of adding a duplicate.
    versions: dict[str, int] = existing_versions(store, candidates)
    todo = [c for c in candidates if c.family not in versions]
    infos = {c.family: _log_into_run(store, c, contracts[c.family]) for c in todo}

    commit = git_commit(store.project_dir)
    for candidate in todo:
        try:
            version = mlflow.register_model(
                infos[candidate.family].model_uri,
                store.model_name,
                tags={
                    **version_tags(candidate, contracts[candidate.family], commit),
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
    tag_artifacts(store, versions.values())

    first = contracts[candidates[0].family]
    previous = current_version(store)
    chosen = choose_aliases(
        rank(candidates, first, winner),
        versions,
        previous,
        promote=promote,
        challenger=challenger,
    )
    move_aliases(store, chosen.champion_version, chosen.challenger_version)
    moved = previous is None or previous[1] != chosen.champion_version
    if promotion_note and moved:
        store.client().set_model_version_tag(
            store.model_name, str(chosen.champion_version), PROMOTION_TAG, promotion_note[:4000]
        )

    return RegistrationResult(
        model_name=store.model_name,
        versions=versions,
        champion=chosen.champion,
        champion_version=chosen.champion_version,
        uri=f"models:/{store.model_name}@{CHAMPION}",
        challenger=chosen.challenger,
        challenger_version=chosen.challenger_version,
        promoted=chosen.promoted,
        metrics={c.family: {k: float(v) for k, v in c.metrics.items()} for c in candidates},
        kind=first.kind,
        ranked_by=first.primary_metric,
        higher_is_better=first.higher_is_better,
    )


def _log_into_run(store: Store, candidate: AnyCandidate, contract: Contract) -> ModelInfo:
    """Phase 2: log the candidate's pyfunc model into its (finished) training run."""
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
