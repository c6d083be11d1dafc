"""The series kind (forecasting): node series on a sensor graph.

What the stages ask of a kind (:class:`~tokfrag.kinds.base.Kind`), for series: the gate,
the canonical files, the chronological split with the node scaler, graph and calendar
fitted on training steps, the forecasters' windows and rolling-origin folds, the evaluation
(:mod:`tokfrag.kinds.series_evaluation`) and the registered forecaster's contract. The
prepared inputs themselves are read in :mod:`tokfrag.kinds.series_data`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from tokfrag.atomic import staged_dir, write_json
from tokfrag.config import Params
from tokfrag.kinds.base import FitParts
from tokfrag.kinds.series_data import (
    calendar_fingerprint,
    choose_calendar,
    load_inputs,
    read_calendar,
    reads_gaps,
    scored_windows,
    windows,
)
from tokfrag.kinds.series_evaluation import SeriesEvaluation
from tokfrag.layout import Layout, StageError, read_json


def source_meta(spec: Any) -> dict[str, Any]:
    """The ``meta.json`` fields every canonical dataset carries about its upstream files."""
    from tokfrag.data.registry import combined_sha256

    return {
        "name": spec.name,
        "kind": spec.kind,
        "files": dict(spec.files),
        "sha256": combined_sha256(spec.files),
        "license": spec.license,
        "description": spec.description,
        "clock": dict(getattr(spec, "clock", {}) or {}),
    }


def ingest(params: Params, layout: Layout, spec: Any, parsed: Any) -> Path:
    from tokfrag.data.canonical import write_canonical

    values, edges = parsed
    return write_canonical(values, edges, source_meta(spec), layout.data_dir)


def canonical_gate(params: Params, layout: Layout) -> tuple[Callable[[Path], Any], str]:
    from tokfrag.data.canonical import read_canonical

    values, edges, meta = read_canonical(layout.data_dir)
    return (lambda docs: _gate(params, values, edges, docs, meta.get("missing"))), meta["sha256"]


def check(params: Params, spec: Any, parsed: Any):
    """The gate on parsed tables that were never ingested (`tokfrag validate PATH`, and
    `ingest` before it replaces the canonical data)."""
    values, edges = parsed
    return _gate(params, values, edges)


def _gate(params: Params, values, edges, docs_dir: Path | None = None, missing=None):
    from tokfrag.data.canonical import META_ATTR
    from tokfrag.data.validation import validate_series

    if missing is None:  # parsed tables carry what the policy did
        missing = values.attrs.get(META_ATTR, {}).get("missing")

    s = params.split
    return validate_series(
        values,
        edges,
        dataset=params.data.dataset,
        lags=s.lags,
        horizon=s.horizon,
        train_ratio=s.train_ratio,
        val_fraction=s.val_fraction,
        split_by=s.by,
        docs_dir=docs_dir,
        missing=missing,
    )


def prepare(params: Params, layout: Layout) -> Path:
    """Fix the chronological split and fit the node scaler on training steps only."""
    from tokfrag.data.canonical import load_series
    from tokfrag.data.splits import chronological_split
    from tokfrag.models.scaler import NodeScaler

    series = load_series(layout.data_dir)
    s = params.split
    split = chronological_split(
        series.num_steps, s.lags, s.horizon, s.train_ratio, s.val_fraction, s.by
    )
    # Scalers and data-built graphs see only the steps that training snapshots touch: no test
    # target leaks in.
    train_values = series.values[: split.train_steps_end]
    scaler = NodeScaler.fit(train_values)
    edge_index, edge_weight, source = _graph(params, series, train_values)
    calendar, why = choose_calendar(params, series, split.train_steps_end)
    with staged_dir(layout.prepared) as staging:
        write_json(
            staging / "calendar.json",
            {"spec": None if calendar is None else calendar.to_dict(), "reason": why},
        )
        write_json(
            staging / "split.json",
            {
                **split.to_dict(),
                "train_steps_end": split.train_steps_end,
                "first_test_target": split.first_test_target,
                "num_steps": series.num_steps,
                "node_ids": list(series.node_ids),
                "data_sha256": series.sha256,
            },
        )
        write_json(staging / "scaler.json", scaler.to_dict())
        write_json(
            staging / "graph.json",
            {
                "source": source,
                "edge_index": np.asarray(edge_index).tolist(),
                "edge_weight": np.asarray(edge_weight).tolist(),
            },
        )
    return layout.prepared


def _graph(params: Params, series, train_values: np.ndarray):
    """The given graph, or (asked for, or when the dataset has none) one built from the
    correlations of the training steps."""
    from tokfrag.families.fragment.graph import correlation_graph

    config = params.fragment.graph
    if config.source == "given" and series.edge_index.shape[1] > 0:
        return series.edge_index, series.edge_weight, "given"
    k = min(config.k, series.num_nodes - 1)
    edge_index, edge_weight = correlation_graph(train_values, k)
    return edge_index, edge_weight, f"correlation top-{k} (training steps)"


def build_forecaster(family: str, params: Params, series, layout: Layout):
    """A fresh, untrained forecaster of ``family`` sized from ``params``, built by the
    family's registry entry from what ``prepare`` fixed (scaler, graph, calendar)."""
    from tokfrag.families import get_family
    from tokfrag.models.family import SeriesSetting
    from tokfrag.models.scaler import NodeScaler

    graph = read_json(layout.prepared / "graph.json", "prepare")
    setting = SeriesSetting(
        lags=params.split.lags,
        horizon=params.split.horizon,
        scaler=NodeScaler.from_dict(read_json(layout.prepared / "scaler.json", "prepare")),
        edge_index=np.asarray(graph["edge_index"], dtype=np.int64).reshape(2, -1),
        edge_weight=np.asarray(graph["edge_weight"], dtype=np.float64),
        calendar=read_calendar(layout),
        observed=reads_gaps(params),  # an observed channel beside the filled inputs
    )
    try:
        entry = get_family(family)
    except ValueError as err:
        raise StageError(str(err)) from None
    return entry.build(getattr(params, family), setting)


def model_name(params: Params, family: str) -> str:
    """Which of the family's models runs (the key of its search space)."""
    from tokfrag.families import get_family

    return get_family(family).variant(getattr(params, family), "series")


def fit_parts(params: Params, layout: Layout, family: str, final: bool) -> FitParts:
    """Windows of the fit part and the validation part (``final``: all training windows,
    no validation part), the rolling-origin folds of ``tune.cv`` over the training windows,
    and builders of fresh forecasters for any params. A model that can warm-start (a ridge
    skip) does so on the windows it is about to be trained on, and nothing else."""
    from tokfrag.data.splits import folds_fingerprint, rolling_folds

    series, split = load_inputs(params, layout)

    def builder(fit_part: np.ndarray, val_part: np.ndarray | None):
        fit_windows = windows(series, split, fit_part)
        val_windows = None if val_part is None else windows(series, split, val_part)

        def build(p: Params) -> tuple[Any, Any, Any]:
            model = build_forecaster(family, p, series, layout)
            x, y, t = fit_windows
            train = model.tensors(x, y, times=t)
            if hasattr(model, "warm_start"):
                model.warm_start(train)
            val = None
            if val_windows is not None:
                val = model.tensors(val_windows[0], val_windows[1], times=val_windows[2])
            return model, train, val

        return build

    folds = []
    if params.tune.n_trials > 0:  # untuned, no fold is fit: its sizes cannot stop training
        try:
            folds = rolling_folds(split, params.tune.cv.folds)
        except ValueError as err:
            raise StageError(f"params.yaml tune.cv: {err}") from None
    build = builder(split.train, None) if final else builder(split.fit, split.val)
    tags = {
        "data_sha256": series.sha256,
        "split_fingerprint": split.fingerprint(),
        # What prepare chose for the covariates: a study tuned on others must not resume.
        "calendar": calendar_fingerprint(layout),
    }
    return FitParts(
        "series",
        build,
        tags,
        folds=tuple(builder(f.fit, f.val) for f in folds),
        folds_fingerprint=folds_fingerprint(folds),
    )


def evaluation(params: Params, layout: Layout) -> SeriesEvaluation:
    """The test windows with an observed target, ready to score."""
    return SeriesEvaluation.load(params, layout)


def champion_items(params: Params, layout: Layout, champion: Any) -> np.ndarray:
    """Per-window squared errors of a registered pyfunc model on this test split, asked
    through its predict contract (the way a client would)."""
    from tokfrag.registry.series_frames import windows_to_frame
    from tokfrag.train.metrics import item_losses

    series, split = load_inputs(params, layout)
    x_test, y_test, t_test, _ = scored_windows(series, split)
    times = t_test.astype("datetime64[ns]") if series.time_unit == "ns" else t_test
    frame = champion.predict(windows_to_frame(x_test, series.node_ids, times=times))
    position = {node: i for i, node in enumerate(series.node_ids)}
    forecasts = np.full_like(y_test, np.nan)
    rows = frame["window"].to_numpy(dtype=int), frame["node"].map(position).to_numpy(dtype=int)
    forecasts[rows] = frame[[f"h{k + 1}" for k in range(split.horizon)]].to_numpy()
    if np.isnan(forecasts).any():
        raise ValueError("its forecasts do not cover every test window and node")
    return item_losses(y_test, forecasts)


def candidate_maker(params: Params, layout: Layout, metrics: dict[str, Any]) -> Callable[..., Any]:
    """A registered forecaster's contract (nodes, lags, horizon, time column, gaps) and its
    input example, for :class:`~tokfrag.registry.Candidate`."""
    from tokfrag.registry.candidates import Candidate

    series, split = load_inputs(params, layout)
    if metrics["split_fingerprint"] != split.fingerprint():
        raise StageError(f"{layout.metrics} is from another split; rerun `tokfrag evaluate`")
    x_test, _, t_test, _ = scored_windows(series, split)
    # The input example: the latest test window with the fewest missing readings (all of
    # them, without gaps): a lag column left empty in every row would not infer as a number.
    gaps = np.isnan(x_test).reshape(len(x_test), -1).sum(axis=1)  # (S,)
    example = len(x_test) - 1 - int(np.argmin(gaps[::-1]))
    return functools.partial(
        Candidate,
        node_ids=series.node_ids,
        lags=split.lags,
        horizon=split.horizon,
        data_sha256=series.sha256,
        example_windows=np.ascontiguousarray(x_test[example : example + 1]),
        example_times=t_test[example : example + 1],
        time_unit=series.time_unit,
        gaps=reads_gaps(params),
    )
