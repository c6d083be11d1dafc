"""The stages for spatio-temporal series (forecasting): node series on a sensor graph."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from tokfrag.atomic import staged_dir, write_json
from tokfrag.config import Params
from tokfrag.stages.common import (
    BASELINE,
    FAMILIES,
    FitParts,
    Layout,
    Scoring,
    StageError,
    best_baseline,
    check_prepared,
    evaluated_model,
    fitted,
    judge,
    load_trained,
    log_evaluation,
    read_json,
    registered_metrics,
    require_gate,
    run_gate,
    score_models,
    source_meta,
    tuning_summary,
    write_evaluation,
)
from tokfrag.stages.common import histories as _histories


def _load_inputs(params: Params, layout: Layout):
    """The validated series and its split, as every stage after `prepare` sees them."""
    from tokfrag.data.canonical import load_series
    from tokfrag.data.splits import chronological_split

    series = load_series(layout.data_dir)
    s = params.split
    split = chronological_split(
        series.num_steps, s.lags, s.horizon, s.train_ratio, s.val_fraction, s.by
    )
    check_prepared(layout, split.fingerprint(), series.sha256)
    return series, split


def _windows(series, split, part: str | np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Input windows ``(S, N, L)``, targets ``(S, N, H)`` and the time index of each
    window's most recent input step ``(S,)`` for one part of the split (or snapshots)."""
    from tokfrag.fragments import slice_windows

    snapshots = getattr(split, part) if isinstance(part, str) else part
    x, y = slice_windows(series.values, split.lags, split.horizon, snapshots)
    return x, y, series.time[np.asarray(snapshots) + split.lags - 1]


def _test_windows(series, split) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The test windows that are scored: those with at least one observed target (every
    window, when the series has no gap), and which of the split's test windows they are
    (``keep``, bool ``(S_test,)``: the others were left out for having none)."""
    from tokfrag.train.metrics import observed_windows

    x, y, t = _windows(series, split, "test")
    keep = observed_windows(y)
    if not keep.any():
        raise StageError(
            f"no test window has an observed target: all {len(y)} test windows' targets are "
            "missing, so nothing can be scored; move split.train_ratio, or drop the nodes "
            "whose test part is empty (data.max_missing_per_node)"
        )
    return x[keep], y[keep], t[keep], keep


def reads_gaps(params: Params) -> bool:
    """Whether the series may keep gaps (``data.missing`` mask or interpolate): models are
    then built with an observed channel and baselines with a per-node fill."""
    return params.data.missing != "refuse"


def choose_calendar(params: Params, series, train_steps: int):
    """The calendar covariates for this series, or ``None``, and why: a clock comes from
    dates in the time column, from ``calendar.start`` / ``calendar.step``, or from the
    built-in dataset's known start and step."""
    import pandas as pd

    from tokfrag.fragments.calendar import CalendarSpec

    config = params.calendar
    if not config.enabled:
        return None, "calendar.enabled is false"
    if series.time_unit == "ns":
        steps = np.diff(series.time[: max(train_steps, 2)])
        step_seconds = float(np.median(steps)) / 1e9
        spec = CalendarSpec.choose("ns", step_seconds, train_steps, config.harmonics)
        clock = "dates in the time column"
    else:
        from tokfrag.data.registry import DATASETS

        # Data ingested before clocks were recorded: the registry still knows a built-in one.
        known = series.clock or (DATASETS[series.name].clock if series.name in DATASETS else {})
        step = config.step or known.get("step")
        start = config.start or known.get("start")
        if step is None or start is None:
            return None, (
                "the time column holds step numbers and the clock is unknown; set "
                "calendar.start (the date of step 0) and calendar.step (e.g. 5min, 1D)"
            )
        seconds = pd.Timedelta(step).total_seconds()
        stamp = pd.Timestamp(start)
        epoch = (stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp).timestamp()
        spec = CalendarSpec.choose("steps", seconds, train_steps, config.harmonics, epoch)
        clock = f"step 0 at {start}, one step every {step}"
    if not spec.cycles:
        return None, f"no cycle is both 4 steps long and covered by the training steps ({clock})"
    return spec, f"{', '.join(spec.cycles)} ({config.harmonics} harmonic(s)); {clock}"


def _calendar_fingerprint(layout: Layout) -> str:
    import hashlib
    import json

    record = read_json(layout.prepared / "calendar.json", "prepare")
    return hashlib.sha256(json.dumps(record["spec"], sort_keys=True).encode()).hexdigest()[:12]


def read_calendar(layout: Layout):
    """The calendar ``prepare`` chose (``None`` when it chose none)."""
    from tokfrag.fragments.calendar import CalendarSpec

    record = read_json(layout.prepared / "calendar.json", "prepare")
    return None if record["spec"] is None else CalendarSpec.from_dict(record["spec"])


def ingest(params: Params, layout: Layout, spec: Any, parsed: Any) -> Path:
    from tokfrag.data.canonical import write_canonical

    values, edges = parsed
    return write_canonical(values, edges, source_meta(spec), layout.data_dir)


def validate(params: Params, layout: Layout):
    from tokfrag.data.canonical import read_canonical

    values, edges, meta = read_canonical(layout.data_dir)
    return run_gate(
        params,
        layout,
        lambda docs: _gate(params, values, edges, docs, meta.get("missing")),
        meta["sha256"],
    )


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
    from tokfrag.fragments import NodeScaler

    require_gate(layout, params)
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
    from tokfrag.fragments.graph import correlation_graph

    config = params.fragment.graph
    if config.source == "given" and series.edge_index.shape[1] > 0:
        return series.edge_index, series.edge_weight, "given"
    k = min(config.k, series.num_nodes - 1)
    edge_index, edge_weight = correlation_graph(train_values, k)
    return edge_index, edge_weight, f"correlation top-{k} (training steps)"


def build_forecaster(family: str, params: Params, series, layout: Layout):
    """A fresh, untrained forecaster of ``family`` sized from ``params``; the variants that
    read calendar covariates get the calendar ``prepare`` chose."""
    from tokfrag.fragments import NodeScaler

    lags, horizon = params.split.lags, params.split.horizon
    calendar = read_calendar(layout)
    observed = reads_gaps(params)  # an observed channel beside the filled inputs
    if family == "token":  # the token variants share the Transformer's sizes
        sizes = params.token.model.model_dump()
    if family == "token" and params.token.variant == "quantized":
        from tokfrag.models.token_model import TokenForecaster
        from tokfrag.tokens import MeanScaleQuantizer

        q = params.token.tokenizer
        return TokenForecaster.build(
            MeanScaleQuantizer(q.n_bins, q.low, q.high), lags, horizon, observed=observed, **sizes
        )
    if family == "token" and params.token.variant == "patch":
        from tokfrag.models.patch_model import PatchForecaster
        from tokfrag.tokens.patch import PatchTokenizer

        p = params.token.patch
        return PatchForecaster.build(
            PatchTokenizer(p.patch_len, p.stride), lags, horizon, observed=observed, **sizes
        )
    scaler = NodeScaler.from_dict(read_json(layout.prepared / "scaler.json", "prepare"))
    if family == "token" and params.token.variant == "inverted":
        from tokfrag.models.inverted_model import InvertedForecaster

        return InvertedForecaster.build(
            scaler, lags, horizon, calendar, skip=params.token.skip, observed=observed, **sizes
        )
    if family == "fragment":
        from tokfrag.models.fragment_model import FragmentForecaster
        from tokfrag.models.stgcn_model import STGCNForecaster
        from tokfrag.models.wavenet_model import WaveNetForecaster

        f = params.fragment
        cls, sizes = {
            "gconvgru": (FragmentForecaster, f.model),
            "stgcn": (STGCNForecaster, f.stgcn),
            "wavenet": (WaveNetForecaster, f.wavenet),
        }[f.variant]
        graph = read_json(layout.prepared / "graph.json", "prepare")
        return cls.build(
            scaler,
            np.asarray(graph["edge_index"], dtype=np.int64).reshape(2, -1),
            np.asarray(graph["edge_weight"], dtype=np.float64),
            lags,
            horizon,
            calendar=calendar,
            observed=observed,
            **sizes.model_dump(),
        )
    raise StageError(f"unknown family {family!r}; expected 'token' or 'fragment'")


def model_name(params: Params, family: str) -> str:
    """Which of the family's models runs (the key of its search space)."""
    return params.token.variant if family == "token" else params.fragment.variant


def fit_parts(params: Params, layout: Layout, family: str, final: bool) -> FitParts:
    """Windows of the fit part and the validation part (``final``: all training windows,
    no validation part), the rolling-origin folds of ``tune.cv`` over the training windows,
    and builders of fresh forecasters for any params. A model that can warm-start (a ridge
    skip) does so on the windows it is about to be trained on, and nothing else."""
    from tokfrag.data.splits import folds_fingerprint, rolling_folds

    series, split = _load_inputs(params, layout)

    def builder(fit_part: np.ndarray, val_part: np.ndarray | None):
        fit_windows = _windows(series, split, fit_part)
        val_windows = None if val_part is None else _windows(series, split, val_part)

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
        "calendar": _calendar_fingerprint(layout),
    }
    return FitParts(
        "series",
        build,
        tags,
        folds=tuple(builder(f.fit, f.val) for f in folds),
        folds_fingerprint=folds_fingerprint(folds),
    )


def scoring(x_test: np.ndarray, y_test: np.ndarray) -> Any:
    """Series models are scored on test windows, given as ``(windows, times)``: metrics
    from the forecasts, and each window's squared error as its item score (their mean is
    the MSE). With gaps, both count observed targets only (masked metrics), and the windows
    are those with at least one (:func:`_test_windows`)."""
    from tokfrag.train import forecast_metrics
    from tokfrag.train.metrics import item_losses

    return Scoring(
        predict=lambda model, inputs: model.forecast(inputs[0], times=inputs[1]),
        metrics=lambda forecasts: forecast_metrics(y_test, forecasts),
        items=lambda forecasts: item_losses(y_test, forecasts),
        take=lambda inputs, part: (inputs[0][part], inputs[1][part]),
        n_items=len(x_test),
    )


def evaluate(params: Params, layout: Layout) -> dict[str, Any]:
    from tokfrag.data.registry import published_figures
    from tokfrag.models.baselines import (
        HistoricalAverageForecaster,
        LastValueForecaster,
        RidgeARForecaster,
        ZeroForecaster,
    )
    from tokfrag.report import write_report

    series, split = _load_inputs(params, layout)
    x_train, y_train, t_train = _windows(series, split, "train")
    x_test, y_test, t_test, keep = _test_windows(series, split)
    unscored = int((~keep).sum())
    lags, horizon = split.lags, split.horizon
    trained = load_trained(layout, split.fingerprint())
    alpha, calendar = params.baselines.ridge_alpha, read_calendar(layout)
    # With gaps, a missing input reading takes its node's training mean (the scaler's).
    fill = _training_means(layout) if reads_gaps(params) else None
    baselines = {
        "zero": fitted(lambda: ZeroForecaster(lags, horizon, fill=fill)),
        "last_value": fitted(lambda: LastValueForecaster(lags, horizon, fill=fill)),
        "historical_average": fitted(lambda: HistoricalAverageForecaster(lags, horizon, fill=fill)),
        "ridge_ar": fitted(
            lambda: RidgeARForecaster(lags, horizon, alpha, fill=fill).fit(x_train, y_train)
        ),
    }
    if calendar is not None:  # the linear filter with the covariates the families read
        baselines["ridge_ar_calendar"] = fitted(
            lambda: RidgeARForecaster(lags, horizon, alpha, calendar, fill=fill).fit(
                x_train, y_train, times=t_train
            )
        )
    models, items, predictions = score_models(
        layout, trained, baselines, scoring(x_test, y_test), (x_test, t_test)
    )
    columns = [
        ["test_mse", "test MSE"],
        ["test_mae", "test MAE"],
        ["test_rmse", "test RMSE"],
        ["test_mape", "test MAPE"],
    ]
    metrics = {
        "dataset": params.data.dataset,
        "task": "forecasting",
        "primary_metric": "test_mse",
        "higher_is_better": False,
        # A list, not a mapping: metrics.json is written with sorted keys, columns keep order.
        "columns": columns,
        "protocol": {
            "name": "tgcn-chronological" if params.split.by == "steps" else "pgt-chronological",
            "by": params.split.by,
            "lags": lags,
            "horizon": horizon,
            "train_ratio": params.split.train_ratio,
            "val_fraction": params.split.val_fraction,
            "train_snapshots": int(len(split.train)),
            "test_snapshots": int(len(split.test)),
            **_gaps_protocol(params, layout, series, y_test, unscored),
        },
        "split_fingerprint": split.fingerprint(),
        "tuning": tuning_summary(layout, split.fingerprint()),
        "data_sha256": series.sha256,
        "models": models,
        "published": published_figures(params.data.dataset, params.split.model_dump()),
    }
    metrics["verdict"] = judge(params, metrics, items, horizon=horizon)
    # MLflow first: if tracking fails, no metrics or report claim the stage succeeded.
    log_evaluation(
        params,
        layout,
        metrics,
        trained,
        {
            name: {"lags": lags, "horizon": horizon, "kind": name, "alpha": alpha}
            for name in baselines
        },
        {"data_sha256": series.sha256, "split_fingerprint": split.fingerprint()},
    )
    write_evaluation(
        params,
        layout,
        metrics,
        lambda plots_dir: write_report(
            metrics,
            plots_dir,
            y_test=y_test,
            predictions=predictions,
            node_ids=series.node_ids,
            first_target_step=split.first_test_target,
            histories=_histories(layout),
            missing=np.isnan(series.values),
            times=series.time,
            target_steps=np.asarray(split.test)[keep] + split.lags,
        ),
        items,
        baselines[best_baseline(metrics)][0],
    )
    return metrics


def _training_means(layout: Layout) -> np.ndarray:
    """Each node's training mean ``(N,)``: the scaler ``prepare`` fit on training steps."""
    return np.asarray(read_json(layout.prepared / "scaler.json", "prepare")["mean"], np.float64)


def _gaps_protocol(
    params: Params, layout: Layout, series, y_test: np.ndarray, unscored: int
) -> dict[str, Any]:
    """What the metrics made of the gaps (``protocol.missing``), under a policy that keeps
    them (nothing under ``refuse``, where there are none); and ``protocol.sentinel``, a
    reading the dataset declares missing and how many there were (Los-loop's zeros)."""
    meta = read_json(layout.data_dir / "meta.json", "ingest")
    sentinel = {"sentinel": meta["sentinel"]} if "sentinel" in meta else {}
    if not reads_gaps(params):
        return sentinel
    per_window = int(np.prod(y_test.shape[1:]))
    return {
        **sentinel,
        "missing": {
            "policy": params.data.missing,
            "missing_share": round(float(np.isnan(series.values).mean()), 6),
            "test_windows": int(len(y_test) + unscored),
            "test_windows_without_target": unscored,
            "observed_test_targets": int(np.isfinite(y_test).sum()),
            "test_targets": int((len(y_test) + unscored) * per_window),
        },
    }


def champion_items(params: Params, layout: Layout, champion: Any) -> np.ndarray:
    """Per-window squared errors of a registered pyfunc model on this test split, asked
    through its predict contract (the way a client would)."""
    from tokfrag.registry import windows_to_frame
    from tokfrag.train.metrics import item_losses

    series, split = _load_inputs(params, layout)
    x_test, y_test, t_test, _ = _test_windows(series, split)
    times = t_test.astype("datetime64[ns]") if series.time_unit == "ns" else t_test
    frame = champion.predict(windows_to_frame(x_test, series.node_ids, times=times))
    position = {node: i for i, node in enumerate(series.node_ids)}
    forecasts = np.full_like(y_test, np.nan)
    rows = frame["window"].to_numpy(dtype=int), frame["node"].map(position).to_numpy(dtype=int)
    forecasts[rows] = frame[[f"h{k + 1}" for k in range(split.horizon)]].to_numpy()
    if np.isnan(forecasts).any():
        raise ValueError("its forecasts do not cover every test window and node")
    return item_losses(y_test, forecasts)


def candidates(params: Params, layout: Layout, metrics: dict[str, Any]) -> list[Any]:
    from tokfrag.registry import Candidate

    series, split = _load_inputs(params, layout)
    if metrics["split_fingerprint"] != split.fingerprint():
        raise StageError(f"{layout.metrics} is from another split; rerun `tokfrag evaluate`")
    x_test, _, t_test, _ = _test_windows(series, split)
    # The input example: the latest test window with the fewest missing readings (all of
    # them, without gaps): a lag column left empty in every row would not infer as a number.
    gaps = np.isnan(x_test).reshape(len(x_test), -1).sum(axis=1)  # (S,)
    example = len(x_test) - 1 - int(np.argmin(gaps[::-1]))
    out = []
    for family in (*FAMILIES, BASELINE):  # the best baseline is a candidate like the families
        run_id, entry = evaluated_model(layout, metrics, family)
        out.append(
            Candidate(
                family=family,
                run_id=run_id,
                model_dir=layout.model_dir(family),
                metrics=registered_metrics(entry),
                node_ids=series.node_ids,
                lags=split.lags,
                horizon=split.horizon,
                data_sha256=series.sha256,
                example_windows=np.ascontiguousarray(x_test[example : example + 1]),
                example_times=t_test[example : example + 1],
                time_unit=series.time_unit,
                gaps=reads_gaps(params),
            )
        )
    return out
