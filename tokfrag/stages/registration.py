"""What a registered version carries: the candidates (both families and the best
baseline, with the kind's contract), and their tags (params hash, study, validation, costs,
the verdict's word, and how gaps in the data were handled)."""

from __future__ import annotations

import json
from typing import Any

from tokfrag.config import Params
from tokfrag.families import BASELINE, FAMILIES
from tokfrag.kinds import Kind
from tokfrag.layout import Layout, read_json
from tokfrag.stages.records import best_baseline, evaluated_model, registered_metrics


def candidates(params: Params, layout: Layout, kind: Kind, metrics: dict[str, Any]) -> list[Any]:
    """Both families' registered models and the best baseline (a candidate like the
    families), each with its training run, folder and test figures, and the kind's
    contract and input example."""
    make = kind.candidate_maker(params, layout, metrics)
    out = []
    for family in (*FAMILIES, BASELINE):
        run_id, entry = evaluated_model(layout, metrics, family)
        out.append(
            make(
                family=family,
                run_id=run_id,
                model_dir=layout.model_dir(family),
                metrics=registered_metrics(entry),
            )
        )
    return out


MISSING_TAG = "missing_policy"  # on every version: how gaps in the data were handled


def missing_label(params: Params) -> str:
    """``data.missing`` and the keys beside it that are set, in one line (a version tag)."""
    policy = params.data.missing_policy()
    words = [str(policy["missing"])]
    if policy["max_gap"] is not None:
        words.append(f"max_gap {policy['max_gap']}")
    if policy["max_missing_per_node"] < 1.0:
        words.append(f"max_missing_per_node {policy['max_missing_per_node']:g}")
    if policy["missing_value"] is not None:
        words.append(f"missing_value {policy['missing_value']:g}")
    return ", ".join(words)


def version_tags(
    params: Params, layout: Layout, metrics: dict[str, Any], family: str
) -> dict[str, str]:
    """What a registered version carries beyond its metrics: the hash of the params that
    made it, its study, the validation result, its costs, and the verdict's word on it."""
    import hashlib

    sections = {**{f: getattr(params, f) for f in FAMILIES}, BASELINE: params.baselines}
    shaping = {
        "split": params.split.model_dump(),
        "train": params.train.model_dump(),
        family: sections[family].model_dump(),
        "tune": params.tune.model_dump(),
    }
    digest = hashlib.sha256(json.dumps(shaping, sort_keys=True).encode()).hexdigest()[:16]
    gate = read_json(layout.validation, "validate")
    tuning = metrics.get("tuning", {}).get(family, {})
    verdict = metrics["verdict"]
    name = best_baseline(metrics) if family == BASELINE else family
    entry = metrics["models"][name]
    if verdict["champion"] == name:
        said = f"verdict's champion: {verdict['champion_reason']}"
    elif verdict["chosen"] == name:
        said = f"family winner ({verdict['reason']}); not champion: {verdict['champion_reason']}"
    else:
        said = ""
    tags = {
        "params_hash": digest,
        "study_name": tuning.get("study_name", "untuned"),
        "validation": f"passed {gate.get('checked', '?')} expectations"
        if gate.get("success")
        else "failed",
        "split_fingerprint": metrics["split_fingerprint"],
        "verdict": said,
        MISSING_TAG: missing_label(params),
    }
    if family == BASELINE:
        tags["baseline"] = name
    for key in ("n_params", "train_seconds", "latency_ms_p50", "latency_ms_p95", "peak_rss_mb"):
        if entry.get(key) is not None:
            tags[f"cost.{key}"] = repr(float(entry[key]))
    return tags
