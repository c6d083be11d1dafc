"""Scoring every model on the test items: each family's seeds and each baseline, their
metrics, per-item scores and costs (prediction latency)."""

from __future__ import annotations

import time
from typing import Any

from tokfrag.kinds import Scoring
from tokfrag.layout import Layout
from tokfrag.stages.training import load_repeats


def scalar_test_metrics(entry: dict[str, Any]) -> dict[str, float]:
    """The scalar test figures of one model's metrics entry (what MLflow records)."""
    return {k: float(v) for k, v in entry.items() if k.startswith("test_")}


def latency_ms(model: Any, scoring: Scoring, inputs: Any, k: int = 30) -> tuple[float, float]:
    """Median and 95th percentile of the time to predict one test item, in milliseconds
    (``k`` items one at a time, after two warm-up calls)."""
    import numpy as np

    n = min(k, scoring.n_items)
    for i in range(min(2, n)):
        scoring.predict(model, scoring.take(inputs, slice(i, i + 1)))
    times = []
    for i in range(n):
        one = scoring.take(inputs, slice(i, i + 1))
        started = time.perf_counter()
        scoring.predict(model, one)
        times.append((time.perf_counter() - started) * 1000)
    return float(np.percentile(times, 50)), float(np.percentile(times, 95))


def _scored(model: Any, scoring: Scoring, inputs: Any) -> tuple[dict[str, Any], Any, float]:
    started = time.perf_counter()
    outputs = scoring.predict(model, inputs)
    return scoring.metrics(outputs), outputs, time.perf_counter() - started


def score_models(
    layout: Layout,
    trained: dict[str, tuple[Any, dict[str, Any]]],
    baselines: dict[str, tuple[Any, float]],
    scoring: Scoring,
    inputs: Any,
) -> tuple[dict[str, dict[str, Any]], dict[str, Any], dict[str, Any]]:
    """Score every model on the test inputs.

    Returns ``(entries, items, outputs)``: the ``metrics.json`` entry per model (families:
    each scalar the mean over the final fit's seeds, with ``<key>_std`` and a ``per_seed``
    list; costs), the per-item scores per model (families: averaged over seeds; key
    ``<family>@registered`` for the registered seed alone), and the registered models'
    outputs (for the plots). ``baselines`` maps a name to ``(fitted model, fit seconds)``.
    """
    import numpy as np

    entries: dict[str, dict[str, Any]] = {}
    items: dict[str, Any] = {}
    outputs: dict[str, Any] = {}
    for family, (_, info) in trained.items():
        per_seed, seed_items = [], []
        for i, (seed, model) in enumerate(load_repeats(layout, family, info)):
            scores, out, seconds = _scored(model, scoring, inputs)
            per_seed.append({"seed": seed, **scalar_test_metrics(scores)})
            seed_items.append(np.asarray(scoring.items(out), dtype=float))
            if i == 0:
                registered, outputs[family], predict_seconds = scores, out, seconds
                p50, p95 = latency_ms(model, scoring, inputs)
                kind = model.kind
        entry: dict[str, Any] = {**registered, "family": family, "kind": kind}
        for key in scalar_test_metrics(registered):
            values = [row[key] for row in per_seed]
            entry[key] = float(np.mean(values))
            entry[f"{key}_std"] = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
        repeats = info.get("repeats", [info])
        entry.update(
            run_id=info["run_id"],  # the training run of the model registered from here
            n_seeds=len(per_seed),
            per_seed=per_seed,
            n_params=info["n_params"],
            train_seconds=float(np.mean([r["seconds"] for r in repeats])),
            peak_rss_mb=info.get("peak_rss_mb"),
            predict_seconds=predict_seconds,
            latency_ms_p50=p50,
            latency_ms_p95=p95,
        )
        entries[family] = entry
        items[family] = np.mean(seed_items, axis=0)
        items[f"{family}@registered"] = seed_items[0]
    for name, (model, fit_seconds) in baselines.items():
        scores, out, seconds = _scored(model, scoring, inputs)
        p50, p95 = latency_ms(model, scoring, inputs)
        entries[name] = {
            **scores,
            "family": model.family,
            "kind": model.kind,
            "n_params": int(getattr(model, "n_params", 0)),
            "train_seconds": fit_seconds,
            "predict_seconds": seconds,
            "latency_ms_p50": p50,
            "latency_ms_p95": p95,
        }
        items[name] = np.asarray(scoring.items(out), dtype=float)
        outputs[name] = out
    return entries, items, outputs
