"""One typed function per pipeline stage: ``(params, project folder) -> outputs``.

These are the only implementations of the pipeline's steps. The CLI exposes them, the DVC
stages call the CLI, the Prefect tasks wrap them, and the tests call them directly. Each
stage reads its inputs from, and writes its outputs to, the project's :class:`Layout`; every
output is written to a staging path and renamed into place, so a failed stage never leaves a
half-written output behind (nor clobbers the previous good one).

Each function is the same for every kind of data: what differs between series
(forecasting on a sensor graph) and text (document classification) is asked of the
project's :class:`~tokfrag.kinds.Kind` (:func:`~tokfrag.kinds.kind_of`). The rest of the
package holds the steps' shared parts: the validation gate's record (:mod:`.gate`), fitting
(:mod:`.training`, and :mod:`.fitting` for tuning and the final fit), scoring
(:mod:`.scoring`), evaluate's skeleton and its outputs (:mod:`.evaluation`,
:mod:`.records`), and registration with its promotion gate (:mod:`.registration`,
:mod:`.champion`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tokfrag.atomic import write_json
from tokfrag.config import Params
from tokfrag.families import FAMILIES
from tokfrag.kinds import kind_of
from tokfrag.layout import Layout, StageError, read_json

__all__ = [
    "FAMILIES",
    "Layout",
    "StageError",
    "evaluate",
    "check_file",
    "ingest",
    "prepare",
    "register",
    "train",
    "tune",
    "validate",
]


def ingest(params: Params, root: str | Path) -> Path:
    """Resolve the dataset's files and write the canonical Parquet form to
    ``data/<dataset>/``. A built-in dataset's files come from the mirror, the cache or
    upstream (sha256 checked); your own (``data.source``) are read where params.yaml says,
    and their sha256 is recorded. Both share everything after parsing. Data that fails the
    validation gate raises :class:`~tokfrag.data.validation.ValidationFailed` and is not
    written."""
    from tokfrag.data.registry import get_spec, resolve_file
    from tokfrag.data.validation import ValidationFailed

    kind = kind_of(params)
    layout = Layout.of(params, root)
    if params.data.source is None:
        spec = get_spec(params.data.dataset)
        paths = {name: resolve_file(spec, name) for name in spec.files}
    else:
        from tokfrag.data.custom import custom_spec

        spec, paths = custom_spec(
            params.data.dataset, params.data.source, Path(root), **_policy(params)
        )
    parsed = spec.parse(paths)
    # The gate runs here too, before anything is written: bad data never replaces the
    # last good canonical copy (`validate` then records the pass, with its data docs).
    report = kind.check(params, spec, parsed)
    if not report.success:
        files = ", ".join(_shown(Path(p), layout.root) for p in paths.values())
        raise ValidationFailed(
            report,
            note=f"ingest wrote nothing ({_shown(layout.data_dir, layout.root)} is as it was); "
            f"fix {files} and rerun `tokfrag ingest`",
        )
    return kind.ingest(params, layout, spec, parsed)


def _policy(params: Params) -> dict[str, Any]:
    """What your own series' loader needs beside the column mapping: ``data.missing`` and
    its keys, and the split (the rows training reads)."""
    return {"missing": params.data.missing_policy(), "split": params.split.model_dump()}


def _shown(path: Path, root: Path) -> str:
    """``path`` relative to the project when it is inside it (as a user would type it)."""
    path = path.resolve()
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def check_file(params: Params, root: str | Path, path: str | Path):
    """Run the validation gate alone on one file of your own, read with ``data.source``'s
    mapping (``path`` in place of ``data.source.path``); writes nothing. Returns the
    :class:`~tokfrag.data.validation.ValidationReport` (failed or not)."""
    from tokfrag.data.custom import parse_file

    if params.data.source is None:
        raise StageError(
            f"validate {path}: params.yaml has no data.source, so nothing says how to read "
            "the file; add data.source (kind, path, column names), see params.yaml"
        )
    spec, parsed = parse_file(params.data.source, Path(root), path, **_policy(params))
    return kind_of(params).check(params, spec, parsed)


def validate(params: Params, root: str | Path):
    """Run the Great Expectations gate on the canonical data: GX's HTML data docs go to
    ``outputs/<dataset>/data_docs/`` and, pass or fail, into an MLflow run named
    ``validate``. Raises :class:`~tokfrag.data.validation.ValidationFailed` when it fails; a
    failed check also removes any earlier pass recorded for this dataset."""
    from tokfrag.stages.gate import run_gate

    kind = kind_of(params)
    layout = Layout.of(params, root)
    # A stale pass must not outlive a failed check of the same data: remove it first.
    layout.validation.unlink(missing_ok=True)
    gate, data_sha256 = kind.canonical_gate(params, layout)
    return run_gate(params, layout, gate, data_sha256)


def prepare(params: Params, root: str | Path) -> Path:
    """Fix the split (and, for series, fit the node scaler on training steps only). Refuses
    to run unless the validation gate passed on exactly this data and split."""
    from tokfrag.stages.gate import require_gate

    kind = kind_of(params)
    layout = Layout.of(params, root)
    require_gate(layout, params)
    return kind.prepare(params, layout)


def _family(family: str) -> None:
    if family not in FAMILIES:
        raise StageError(f"unknown family {family!r}; expected one of {FAMILIES}")


def tune(
    params: Params, root: str | Path, family: str, workers: int | None = None
) -> dict[str, Any]:
    """Tune one family with Optuna under the shared budget (``tune`` in params.yaml): a
    study that resumes after a crash, ``workers`` processes on it, one MLflow child run per
    trial; writes ``tuning/<family>.json`` with the budget used and the best point."""
    from tokfrag.stages.fitting import tune as run_tuning

    _family(family)
    kind = kind_of(params)
    _check_device(params)
    return run_tuning(params, Layout.of(params, root), kind, family, workers)


def train(params: Params, root: str | Path, family: str) -> dict[str, Any]:
    """The final fit of one family: the tuned point retrained on train + validation (or,
    with ``tune.n_trials: 0``, the configured model early-stopped on validation), tracked as
    one MLflow run and saved (safetensors + JSON) to ``models/<family>/``."""
    from tokfrag.stages.fitting import final_fit

    _family(family)
    kind = kind_of(params)
    _check_device(params)
    return final_fit(params, Layout.of(params, root), kind, family)


def _check_device(params: Params) -> None:
    from tokfrag.train import pick_device

    try:
        pick_device(params.train.device)  # fail before an MLflow run is opened, not inside it
    except RuntimeError as err:
        raise StageError(f"params.yaml train.device: {err}") from None


def evaluate(params: Params, root: str | Path) -> dict[str, Any]:
    """Score every family and the baselines on the test split (the only place it is read),
    log the figures to MLflow, and write ``metrics.json``, plots and the HTML report."""
    from tokfrag.stages.evaluation import evaluate as run_evaluation

    kind = kind_of(params)
    return run_evaluation(params, Layout.of(params, root), kind)


def register(params: Params, root: str | Path, force: bool = False) -> dict[str, Any]:
    """Register every family's final model and the best baseline as versions of
    ``<prefix>-<dataset>``. The verdict's champion (a family, or the baseline when neither
    family beats it; the family winner is then ``challenger``) takes the ``champion`` alias
    only if it beats the current champion on this test split with significance (the
    promotion gate); otherwise the champion keeps its alias and the newcomer is
    ``challenger``. The gate fails closed (see
    :func:`~tokfrag.stages.champion.champion_gate`); ``force`` promotes without it, and the
    promoted version's ``promotion`` tag says so."""
    from tokfrag.families import BASELINE
    from tokfrag.registry.register import register_candidates
    from tokfrag.registry.tracking import open_store
    from tokfrag.stages.champion import champion_gate, forced_gate
    from tokfrag.stages.records import check_evaluated
    from tokfrag.stages.registration import candidates as make_candidates
    from tokfrag.stages.registration import version_tags
    from tokfrag.stores import registry_lock

    kind = kind_of(params)
    layout = Layout.of(params, root)
    metrics = read_json(layout.metrics, "evaluate")
    if "champion" not in metrics.get("verdict", {}):
        raise StageError(f"{layout.metrics} has no verdict's champion; rerun `tokfrag evaluate`")
    check_evaluated(layout, metrics)  # one finished evaluation, of the models on disk
    candidates = make_candidates(params, layout, kind, metrics)
    try:
        store = open_store(params.registry, layout.root, params.data.dataset)
    except Exception as err:  # a locked database, an unreachable tracking server
        raise StageError(
            f"opening the MLflow store (registry.tracking_uri in params.yaml) failed: "
            f"{type(err).__name__}: {err}. Nothing was registered and the champion keeps its "
            "alias; make the store reachable (or wait for the process holding it) and rerun"
        ) from err
    verdict = metrics["verdict"]
    winner = verdict["champion"] if verdict["champion"] in FAMILIES else BASELINE
    # A family winner that loses to the baseline waits as challenger.
    challenger = verdict["chosen"] if winner == BASELINE else None
    # From reading the champion to moving the aliases, one registration at a time per store:
    # a pipeline registering at the same moment waits, then faces this round's champion.
    with registry_lock(store.tracking_uri):
        if force:
            gate = forced_gate()
        else:
            contract = candidates[0].contract(params.data.dataset)
            gate = champion_gate(params, layout, store, kind, metrics, winner, contract)
        tags = {c.family: version_tags(params, layout, metrics, c.family) for c in candidates}
        result = register_candidates(
            store,
            params.data.dataset,
            candidates,
            winner=winner,
            challenger=challenger,
            promote=gate["promote"],
            extra_tags=tags,
            promotion_note=gate["reason"] if gate.get("ungated") else None,
        ).to_dict()
    result["gate"] = gate
    result["verdict"] = {k: verdict[k] for k in ("chosen", "champion", "champion_reason")}
    write_json(layout.registry, result)
    return result
