"""The evaluate stage, one skeleton for every kind: load the families' models, fit the
kind's baselines, score everything on the test split, judge, log to MLflow and write the
outputs (``metrics.json`` last)."""

from __future__ import annotations

from typing import Any

from tokfrag.atomic import staged_dir, write_json, write_text
from tokfrag.config import Params
from tokfrag.families import BASELINE
from tokfrag.kinds import Kind
from tokfrag.layout import Layout
from tokfrag.stages.records import (
    EVALUATION_FILE,
    best_baseline,
    histories,
    save_items,
    tuning_summary,
)
from tokfrag.stages.scoring import scalar_test_metrics, score_models
from tokfrag.stages.training import load_trained


def evaluate(params: Params, layout: Layout, kind: Kind) -> dict[str, Any]:
    """Score every family (every seed of their final fits) and the kind's baselines on
    the test split, judge them, and write the outputs; returns ``metrics.json``'s content."""
    from tokfrag.report.page import write_report

    test = kind.evaluation(params, layout)
    fingerprint = test.fingerprint
    trained = load_trained(layout, fingerprint)
    baselines = test.baselines()
    models, items, outputs = score_models(layout, trained, baselines, test.scoring, test.inputs)
    metrics = {
        "dataset": params.data.dataset,
        **test.header(),
        "split_fingerprint": fingerprint,
        "tuning": tuning_summary(layout, fingerprint),
        "data_sha256": test.data_sha256,
        "models": models,
        "published": test.published(),
    }
    metrics["verdict"] = judge(params, metrics, items, **test.verdict_args(items))
    # MLflow first: if tracking fails, no metrics or report claim the stage succeeded.
    log_evaluation(
        params,
        layout,
        metrics,
        trained,
        test.baseline_params(list(baselines)),
        {"data_sha256": test.data_sha256, "split_fingerprint": fingerprint},
    )
    write_evaluation(
        params,
        layout,
        metrics,
        lambda plots_dir: write_report(
            metrics, plots_dir, histories=histories(layout), **test.report_args(outputs)
        ),
        items,
        baselines[best_baseline(metrics)][0],
    )
    return metrics


def judge(params: Params, metrics: dict[str, Any], items: dict[str, Any], **extra: Any) -> dict:
    """The verdict (``params.verdict``) on the scored models; see :mod:`tokfrag.report.decision`."""
    from tokfrag.report.decision import decide

    v = params.verdict
    return decide(
        metrics["models"],
        items,
        task=metrics["task"],
        primary=metrics["primary_metric"],
        label=dict(metrics["columns"])[metrics["primary_metric"]],
        higher_is_better=metrics["higher_is_better"],
        confidence=v.confidence,
        resamples=v.resamples,
        seed=v.seed,
        cheaper_by=v.cheaper_by,
        **extra,
    )


def log_evaluation(
    params: Params,
    layout: Layout,
    metrics: dict[str, Any],
    trained: dict[str, tuple[Any, dict[str, Any]]],
    baseline_params: dict[str, dict[str, Any]],
    tags: dict[str, str],
) -> None:
    """Test figures into each family's training run, and one MLflow run per baseline."""
    from tokfrag.registry.tracking import log_baseline_run, log_metrics_to_run, open_store

    store = open_store(params.registry, layout.root, params.data.dataset)
    models = metrics["models"]
    for family, (_, info) in trained.items():
        # Each seed's final-fit run gets its own test figures.
        runs = {r["seed"]: r["run_id"] for r in info.get("repeats", [info])}
        for row in models[family].get("per_seed", []):
            log_metrics_to_run(store, runs[row["seed"]], scalar_test_metrics(row))
    for name, run_params_ in baseline_params.items():
        # The best baseline is registered from its run, like a family from its training run.
        models[name]["run_id"] = log_baseline_run(
            store,
            name,
            params=run_params_,
            metrics=scalar_test_metrics(models[name]),
            tags={"family": "baseline", "dataset": params.data.dataset, **tags},
        )


def write_evaluation(
    params: Params,
    layout: Layout,
    metrics: dict[str, Any],
    render: Any,
    items: dict[str, Any],
    baseline: Any,
) -> None:
    """Write evaluate's outputs as one unit, ``metrics.json`` last.

    The report folder (``reports/<dataset>/``: ``report.html``, ``report.md``, ``plots/``
    from ``render(plots_dir) -> {"html", "md"}``) is logged to MLflow as one ``evaluation``
    run, whose id stamps every output: the report folder, ``models/baseline/`` (``baseline``,
    the best baseline, saved to be registered), ``item_scores.npz``, and finally
    ``metrics.json`` (``evaluation_id``). Each write is atomic; a kill between them leaves a
    ``metrics.json`` whose id the newer outputs do not carry, which ``register`` refuses
    (:func:`check_evaluated`)."""
    from tokfrag.registry.tracking import open_store, training_run

    store = open_store(params.registry, layout.root, params.data.dataset)
    verdict = metrics.get("verdict", {})
    tags = {
        "family": "evaluation",
        "dataset": params.data.dataset,
        "split_fingerprint": metrics["split_fingerprint"],
        "data_sha256": metrics["data_sha256"],
        "verdict_chosen": verdict.get("chosen", ""),
        "verdict_champion": verdict.get("champion", ""),
        "verdict_reason": verdict.get("reason", ""),
    }
    with staged_dir(layout.reports_dir) as staging:
        report = render(staging / "plots")
        write_text(staging / "report.html", report["html"])
        write_text(staging / "report.md", report["md"])
        with training_run(store, "evaluation", tags=tags) as run:
            metrics["evaluation_id"] = run.run_id
            stamp = {"evaluation_id": run.run_id}
            write_json(staging / EVALUATION_FILE, stamp)
            run.log_params({"verdict": params.verdict.model_dump()})
            if verdict:
                d = verdict["difference"]
                run.log_metrics(
                    {
                        # "token - fragment" -> difference_token_minus_fragment
                        "difference_" + d["of"].replace(" - ", "_minus_"): d["estimate"],
                        "difference_ci_low": d["low"],
                        "difference_ci_high": d["high"],
                        "test_p_value": verdict["test"]["p_value"],
                    }
                )
            run.log_artifacts(staging, "report")
    with staged_dir(layout.model_dir(BASELINE)) as staging:
        baseline.save(staging)
        name = best_baseline(metrics)
        write_json(
            staging / EVALUATION_FILE,
            {**stamp, "name": name, "run_id": metrics["models"][name]["run_id"]},
        )
    save_items(layout, items, metrics)
    write_json(layout.metrics, metrics)
