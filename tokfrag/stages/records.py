"""What evaluate leaves on disk and how later stages read it back: the tuning summary,
the learning curves, the per-item scores (``item_scores.npz``), the stamps that tie every
output to one evaluation run, and each registered model's run and figures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tokfrag.atomic import write_bytes
from tokfrag.families import BASELINE, FAMILIES
from tokfrag.layout import Layout, StageError, read_json
from tokfrag.stages.scoring import scalar_test_metrics

# models/baseline/ (BASELINE): the best-scoring baseline, saved by evaluate and registered
# beside the families (it can be champion when no family beats it).
# The stamp evaluate leaves in every output but metrics.json (written last, it commits the
# round): item_scores.npz, models/baseline/ and the report folder each name the evaluation
# run that wrote them, so a reader can tell a finished evaluation from an interrupted one.
EVALUATION_FILE = "evaluation.json"


RUNS_KEY = "_evaluated_runs"  # in item_scores.npz: the evaluation and the runs it scored


def registered_metrics(entry: dict[str, Any]) -> dict[str, float]:
    """The test figures of the model that is registered (the first seed's final fit)."""
    per_seed = entry.get("per_seed")
    return scalar_test_metrics(per_seed[0] if per_seed else entry)


def tuning_summary(layout: Layout, fingerprint: str) -> dict[str, Any]:
    """Each family's tuning as the comparison shows it: the budget configured and used,
    the best trial and the trial history. Refuses records made on another split, and two
    families tuned under different budgets: the comparison would not be fair."""
    summary: dict[str, Any] = {}
    for family in FAMILIES:
        path = layout.tuning(family)
        if not path.is_file():
            summary[family] = {"tuned": False}
            continue
        record = json.loads(path.read_text())
        if record["split_fingerprint"] != fingerprint:
            raise StageError(f"{path} was tuned on another split; rerun `tokfrag tune {family}`")
        keep = (
            "tuned",
            "model",
            "study_name",
            "storage",
            "sampler",
            "configured",
            "used",
            "best",
            "cv",
        )
        summary[family] = {k: record[k] for k in keep if k in record}
        summary[family]["history"] = [
            {k: t[k] for k in ("number", "state", "value")} for t in record.get("trials", [])
        ]
    tuned = [summary[f] for f in FAMILIES if summary[f]["tuned"]]

    def budget(t: dict[str, Any]) -> tuple:
        # The wall-clock limit only means the same thing at the same number of workers, and
        # trial scores only compare when they come from the same folds.
        return t["configured"], t["used"].get("workers"), t.get("cv", {}).get("fingerprint")

    if len(tuned) == 1 or (tuned and budget(tuned[0]) != budget(tuned[1])):
        budgets = ", ".join(
            f"{f}: {summary[f].get('configured', 'untuned')}, "
            f"{summary[f].get('used', {}).get('workers', '-')} worker(s)"
            for f in FAMILIES
        )
        raise StageError(
            f"{layout.out_dir / 'tuning'}: the families were tuned under different budgets "
            "or folds "
            f"({budgets}); rerun `tokfrag tune token` and `tokfrag tune fragment` with one "
            "params.yaml"
        )
    return summary


def histories(layout: Layout) -> dict[str, list[dict[str, float]]]:
    """Each family's per-epoch losses in its registered final fit (learning curves)."""
    out = {}
    for family in FAMILIES:
        path = layout.model_dir(family) / "train.json"
        if path.is_file():
            out[family] = json.loads(path.read_text()).get("history", [])
    return out


def best_baseline(metrics: dict[str, Any]) -> str:
    """The best-scoring baseline of an evaluation: the one saved in ``models/baseline/``."""
    verdict = metrics["verdict"]
    return (verdict["strongest_baseline"] or verdict["baseline"])["name"]


def evaluated_runs(metrics: dict[str, Any]) -> dict[str, str | None]:
    """What an evaluation stamps on its outputs: the MLflow run of the evaluation itself,
    and per candidate (each family, and the best baseline) the run of the model it scored
    (None: not stamped)."""
    models = metrics["models"]
    runs = {f: models.get(f, {}).get("run_id") for f in FAMILIES}
    runs[BASELINE] = models.get(best_baseline(metrics), {}).get("run_id")
    runs["evaluation"] = metrics.get("evaluation_id")
    return runs


def save_items(layout: Layout, items: dict[str, Any], metrics: dict[str, Any]) -> None:
    """Per-item test scores of every model (``item_scores.npz``), for the registry's gate,
    stamped with the runs ``metrics`` scored, so the pair can be checked."""
    import io

    import numpy as np

    buffer = io.BytesIO()
    stamp = np.array(json.dumps(evaluated_runs(metrics), sort_keys=True))
    arrays: dict[str, Any] = {k.replace("@", "__"): v for k, v in items.items()}
    arrays[RUNS_KEY] = stamp
    # numpy types **arrays as if one could be allow_pickle; none is (keys are item names)
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    write_bytes(layout.items, buffer.getvalue())


def load_items(layout: Layout) -> dict[str, Any]:
    import numpy as np

    if not layout.items.is_file():
        raise StageError(f"{layout.items}: missing; run `tokfrag evaluate` first")
    with np.load(layout.items) as data:
        return {k.replace("__", "@"): data[k] for k in data.files if k != RUNS_KEY}


def winner_items(layout: Layout, metrics: dict[str, Any], winner: str) -> Any:
    """The per-item scores of the model registered for ``winner`` (a family: its first
    seed's final fit; ``baseline``: the best baseline)."""
    key = best_baseline(metrics) if winner == BASELINE else f"{winner}@registered"
    return load_items(layout)[key]


def _stamp(folder: Path) -> dict[str, Any] | None:
    path = folder / EVALUATION_FILE
    return json.loads(path.read_text()) if path.is_file() else None


def check_evaluated(layout: Layout, metrics: dict[str, Any]) -> None:
    """Refuse to register unless evaluate's outputs are one finished round and the models
    on disk are the ones it scored: ``metrics.json`` (written last), ``item_scores.npz``,
    ``models/baseline/`` and the report folder carry the same evaluation run, and each
    family's folder holds the training run ``metrics.json`` scored. A model retrained after
    ``evaluate`` (``tokfrag train`` then ``tokfrag register``), or an evaluation killed
    before it wrote ``metrics.json``, would otherwise pair new models with old scores."""
    import numpy as np

    fix = "run `tokfrag evaluate` (or `dvc repro`) before `tokfrag register`"
    scored = evaluated_runs(metrics)
    if scored["evaluation"] is None:
        raise StageError(f"{layout.metrics} was written by an older tokfrag; {fix}")
    if not layout.items.is_file():
        raise StageError(f"{layout.items}: missing; {fix}")
    with np.load(layout.items) as data:
        stamped = json.loads(str(data[RUNS_KEY])) if RUNS_KEY in data.files else None
    if stamped != scored:
        raise StageError(
            f"{layout.items} was not written with {layout.metrics} (it scored runs "
            f"{stamped}, the metrics {scored}): the evaluation was interrupted or is from "
            f"another round; {fix}"
        )
    for folder, what in (
        (layout.model_dir(BASELINE), "baseline model"),
        (layout.reports_dir, "report"),
    ):
        stamp = _stamp(folder) or {}
        if stamp.get("evaluation_id") != scored["evaluation"]:
            raise StageError(
                f"{folder} ({what}) was written by evaluation run "
                f"{stamp.get('evaluation_id')}, but {layout.metrics} by run "
                f"{scored['evaluation']}: the evaluation was interrupted; {fix}"
            )
    for family in FAMILIES:
        info = read_json(layout.model_dir(family) / "train.json", f"train {family}")
        if scored[family] != info["run_id"]:
            raise StageError(
                f"{layout.model_dir(family)} holds the model of training run "
                f"{info['run_id']}, but {layout.metrics} scored run {scored[family]}: the "
                f"{family} model was trained after the evaluation; {fix}"
            )


def evaluated_model(layout: Layout, metrics: dict[str, Any], family: str) -> tuple[str, dict]:
    """``(run_id, metrics entry)`` of the model registered for ``family`` (a family, or
    ``baseline``: the best baseline, whose entry also names it as ``name``)."""
    if family == BASELINE:
        name = best_baseline(metrics)
        return metrics["models"][name]["run_id"], {"name": name, **metrics["models"][name]}
    info = read_json(layout.model_dir(family) / "train.json", f"train {family}")
    return info["run_id"], metrics["models"][family]
