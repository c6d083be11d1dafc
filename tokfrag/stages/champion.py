"""The promotion gate: does the new winner beat the registered champion on this test split
with significance? It fails closed (:class:`GateRefused`) when it cannot tell."""

from __future__ import annotations

from typing import Any

from tokfrag.config import Params
from tokfrag.kinds import Kind
from tokfrag.layout import Layout, StageError
from tokfrag.stages.records import winner_items
from tokfrag.stages.registration import MISSING_TAG, missing_label
from tokfrag.stores import redact_url


class GateRefused(StageError):
    """The promotion gate could not decide (the registry or the champion failed), so nothing
    was registered; the champion keeps its alias."""


def champion_gate(
    params: Params,
    layout: Layout,
    store: Any,
    kind: Kind,
    metrics: dict[str, Any],
    winner: str,
    contract: Any,
) -> dict[str, Any]:
    """Should ``winner`` replace the current champion? Only if its registered model beats
    the champion on this test split: the paired bootstrap interval of the difference in the
    primary metric (``params.verdict``) must exclude zero in the winner's favour.

    It fails closed: when the registry cannot be read, or the champion cannot be loaded or
    cannot score this test split, it raises :class:`GateRefused` instead of promoting. A
    champion made on other data or another split is still scored on this test split when its
    contract (``contract``, the candidates': kind, nodes, lags and horizon, or classes)
    fits; only a champion whose contract cannot fit is replaced without a comparison, and
    the answer says why (``ungated``)."""
    from tokfrag.registry.champion import champion_contract, current_champion, load_champion
    from tokfrag.report.decision import compare_items

    try:
        found = current_champion(store)
    except Exception as err:
        raise _refusal(store, "reading the current champion from the registry failed", err) from err
    if found is None:
        return {"promote": True, "reason": "no champion yet"}
    family, version, tags = found
    base = {"champion_family": family, "champion_version": version}
    try:
        model = load_champion(store, params.data.dataset)
        theirs = champion_contract(model)
    except Exception as err:
        raise _refusal(store, f"loading the champion (version {version}) failed", err) from err
    if not _fits(theirs, contract):
        return {
            **base,
            "promote": True,
            "ungated": True,
            "reason": f"the champion (version {version}) serves {_describe(theirs)} but "
            f"this data needs {_describe(contract)}, so it cannot be compared here; the new "
            "winner replaces it without a gate",
        }
    try:
        champion = kind.champion_items(params, layout, model)
    except Exception as err:
        what = f"the champion (version {version}) could not score this test split"
        raise _refusal(store, what, err) from err
    v = params.verdict
    new = winner_items(layout, metrics, winner)
    interval = compare_items(
        new,
        champion,
        horizon=metrics["protocol"]["horizon"] if metrics["task"] == "forecasting" else None,
        confidence=v.confidence,
        resamples=v.resamples,
        seed=v.seed,
    )
    better = interval.low > 0 if metrics["higher_is_better"] else interval.high < 0
    label = dict(metrics["columns"])[metrics["primary_metric"]]
    verdict = "beats" if better else "does not significantly beat"
    # A champion made on other data or another split may have trained on some of these
    # test items, which favours it: the gate stays conservative, and says so.
    made_on = (tags.get("data_sha256"), tags.get("split_fingerprint"))
    elsewhere = made_on != (metrics["data_sha256"], metrics["split_fingerprint"])
    note = (
        " (the champion was made on other data or another split and was scored on this "
        "test split; it may have trained on some of these items)"
        if elsewhere
        else ""
    )
    policy, ours = tags.get(MISSING_TAG), missing_label(params)
    if policy is not None and policy != ours:
        note += (
            f" (the champion was made under data.missing {policy}, this round under {ours}: "
            "their data differ in how gaps were handled)"
        )
    return {
        **base,
        "promote": better,
        "difference": {
            "of": f"{winner} (new) - champion v{version}",
            "estimate": interval.estimate,
            "low": interval.low,
            "high": interval.high,
            "confidence": interval.confidence,
            "method": f"paired bootstrap ({interval.method})",
        },
        "reason": (
            f"{winner} {verdict} the champion (version {version}, {family}) on {label}: "
            f"difference {interval.estimate:+.4f}, {interval.confidence:.0%} CI "
            f"[{interval.low:+.4f}, {interval.high:+.4f}], paired bootstrap "
            f"({interval.method}){note}"
        ),
    }


def forced_gate() -> dict[str, Any]:
    """The gate's answer under ``tokfrag register --force``: promote, without a comparison."""
    return {
        "promote": True,
        "ungated": True,
        "forced": True,
        "reason": "promoted with `tokfrag register --force`: the champion was not compared",
    }


def _fits(theirs: Any, ours: Any) -> bool:
    """Can a model serving contract ``theirs`` answer this data's requests (``ours``)? The
    same kind and task (nodes, lags and horizon, or classes), for series the same ``time``
    column (step numbers or dates), and, when this data keeps gaps (``data.missing`` mask or
    interpolate), a champion that reads them."""
    return (
        theirs.kind == ours.kind
        and theirs.task_key() == ours.task_key()
        and getattr(theirs, "time_unit", None) == getattr(ours, "time_unit", None)
        and (getattr(theirs, "gaps", False) or not getattr(ours, "gaps", False))
    )


def _describe(contract: Any) -> str:
    key = contract.task_key()
    if "node_ids" in key:
        times = "dates" if contract.time_unit == "ns" else "step numbers"
        gaps = (
            "; empty readings read as gaps (data.missing mask or interpolate)"
            if getattr(contract, "gaps", False)
            else "; no gaps (data.missing refuse)"
        )
        return (
            f"{len(key['node_ids'])} nodes, lags {key['lags']}, horizon {key['horizon']} "
            f"(times as {times}{gaps})"
        )
    return f"{len(key['label_names'])} classes {list(key['label_names'])}"


def _refusal(store: Any, what: str, err: BaseException) -> GateRefused:
    return GateRefused(
        f"the promotion gate failed closed: {what}: {type(err).__name__}: {err}. Nothing was "
        f"registered and the champion keeps its alias. Fix the cause (is the MLflow store "
        f"{redact_url(store.tracking_uri)} reachable and not locked by another process? are the "
        "champion's artifacts intact?) and rerun `tokfrag register`, or run `tokfrag "
        "register --force` to promote the new winner without the gate (recorded on its "
        "version as the `promotion` tag)"
    )
