"""The series `prepare` stage fits what it builds from data on training steps only."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from tokfrag import stages
from tokfrag.config import load_params
from tokfrag.data.canonical import load_series
from tokfrag.data.splits import chronological_split
from tokfrag.families.fragment.graph import correlation_graph
from tokfrag.models.scaler import NodeScaler


@pytest.fixture
def prepared(project: Path) -> tuple[Path, object]:
    raw = yaml.safe_load(project.read_text())
    raw["fragment"]["graph"] = {"source": "correlation", "k": 3}
    project.write_text(yaml.safe_dump(raw))
    params = load_params(project)
    root = project.parent
    stages.ingest(params, root)
    stages.validate(params, root)
    stages.prepare(params, root)
    return root, params


def test_scaler_and_correlation_graph_use_training_steps_only(prepared) -> None:
    root, params = prepared
    series = load_series(root / "data/chickenpox")
    s = params.split
    split = chronological_split(series.num_steps, s.lags, s.horizon, s.train_ratio, s.val_fraction)
    train_values = series.values[: split.train_steps_end]
    assert split.train_steps_end <= split.first_test_target  # no test target in there

    out = root / "outputs/chickenpox/prepared"
    scaler = NodeScaler.from_dict(json.loads((out / "scaler.json").read_text()))
    np.testing.assert_allclose(scaler.mean, train_values.mean(axis=0))
    graph = json.loads((out / "graph.json").read_text())
    assert graph["source"].startswith("correlation top-3")
    edge_index, edge_weight = correlation_graph(train_values, 3)
    np.testing.assert_array_equal(np.asarray(graph["edge_index"]), edge_index)
    np.testing.assert_allclose(np.asarray(graph["edge_weight"]), edge_weight)
    # ...and not the graph the whole series would give.
    whole_index, _ = correlation_graph(series.values, 3)
    assert not np.array_equal(whole_index, edge_index)


@pytest.mark.parametrize("variant", ["stgcn", "wavenet"])
def test_fragment_variants_train_through_the_stage(prepared, variant: str) -> None:
    root, params = prepared
    fragment = params.fragment.model_copy(update={"variant": variant})
    params = params.model_copy(update={"fragment": fragment})
    record = stages.tune(params, root, "fragment")  # the variant's own search space
    assert record["model"] == variant and set(record["best"]["params"]) == set(
        params.space("fragment", variant)
    )
    summary = stages.train(params, root, "fragment")
    assert summary["kind"] == f"fragment_{variant}"
    assert summary["epochs_run"] == record["best"]["best_epoch"] >= 1


@pytest.mark.parametrize(
    ("family", "variant", "reads_calendar"),
    [
        ("token", "inverted", True),
        ("token", "quantized", False),
        ("token", "patch", False),
        ("fragment", "gconvgru", True),
        ("fragment", "stgcn", False),
        ("fragment", "wavenet", False),
    ],
)
def test_every_series_variant_builds_its_folds_with_the_calendar_prepare_chose(
    prepared, family: str, variant: str, reads_calendar: bool
) -> None:
    """Chickenpox's clock gives a year cycle; the variants that read calendar covariates get
    them for every window of every fold, and the others build and forecast without them."""
    from tokfrag.kinds.series import fit_parts
    from tokfrag.kinds.series_data import load_inputs as _load_inputs
    from tokfrag.kinds.series_data import read_calendar
    from tokfrag.kinds.series_data import windows as _windows
    from tokfrag.layout import Layout

    root, params = prepared
    section = getattr(params, family).model_copy(update={"variant": variant})
    params = params.model_copy(update={family: section})
    layout = Layout.of(params, root)
    calendar = read_calendar(layout)
    assert calendar is not None and calendar.cycles == ("year",)
    parts = fit_parts(params, layout, family, final=False)
    assert len(parts.folds) == params.tune.cv.folds
    for build in parts.folds:
        model, train, val = build(params)
        assert ("c" in train) == reads_calendar == ("c" in val)
    series, split = _load_inputs(params, layout)
    x, _, t = _windows(series, split, "test")
    out = model.forecast(x[:5], times=t[:5])
    assert out.shape == (5, 20, 1) and np.isfinite(out).all()


def test_split_by_steps_keeps_every_test_window_off_training_steps(project: Path) -> None:
    """``split.by: steps`` (T-GCN): prepare fixes the cut at int(train_ratio * T) time steps,
    the scaler sees exactly those steps, and the evaluation names the protocol."""
    raw = yaml.safe_load(project.read_text())
    raw["split"].update({"by": "steps", "train_ratio": 0.5, "horizon": 3})
    project.write_text(yaml.safe_dump(raw))
    params = load_params(project)
    root = project.parent
    for stage in (stages.ingest, stages.validate, stages.prepare):
        stage(params, root)
    series = load_series(root / "data/chickenpox")
    cut = int(0.5 * series.num_steps)
    written = json.loads((root / "outputs/chickenpox/prepared/split.json").read_text())
    assert written["train_steps_end"] == cut
    assert written["test"][0] == cut  # the first test window starts on the first test step
    assert written["first_test_target"] == cut + params.split.lags
    scaler = json.loads((root / "outputs/chickenpox/prepared/scaler.json").read_text())
    np.testing.assert_allclose(NodeScaler.from_dict(scaler).mean, series.values[:cut].mean(axis=0))
    by_snapshots = chronological_split(series.num_steps, params.split.lags, 3, 0.5, 0.2)
    assert written["fingerprint"] != by_snapshots.fingerprint()
