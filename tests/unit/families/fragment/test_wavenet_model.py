"""Graph WaveNet: transitions, diffusion conv, adaptive adjacency, shapes, persistence,
relabelling, batching and training."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors import safe_open

from tokfrag.data.canonical import to_series
from tokfrag.data.loaders import load_pgt_json
from tokfrag.data.splits import chronological_split
from tokfrag.families import load_forecaster
from tokfrag.families.fragment.graph import graph_tensors
from tokfrag.families.fragment.wavenet_model import WaveNetConfig, WaveNetForecaster
from tokfrag.families.fragment.wavenet_net import (
    DiffusionGraphConv,
    GraphWaveNet,
    random_walk_transitions,
)
from tokfrag.models.saving import CONFIG_FILE, WEIGHTS_FILE
from tokfrag.models.scaler import NodeScaler
from tokfrag.models.windows import slice_windows
from tokfrag.train import LoopConfig, fit

SMALL = {
    "residual_channels": 8,
    "dilation_channels": 8,
    "skip_channels": 16,
    "end_channels": 16,
    "num_blocks": 2,
    "embedding_dim": 4,
    "dropout": 0.0,
}


@pytest.fixture(scope="module")
def series(chickenpox_file):
    return to_series(*load_pgt_json(chickenpox_file), {"name": "chickenpox", "sha256": "-"})


def _build(series, lags: int, horizon: int, seed: int = 0, **sizes) -> WaveNetForecaster:
    torch.manual_seed(seed)
    scaler = NodeScaler.fit(series.values[:107])
    return WaveNetForecaster.build(
        scaler, series.edge_index, series.edge_weight, lags, horizon, **{**SMALL, **sizes}
    )


def _copy_weights(src: GraphWaveNet, dst: GraphWaveNet, perm: np.ndarray | None = None) -> None:
    """``dst`` gets ``src``'s weights but keeps its own graph; with ``perm``, node ``j`` of
    ``dst`` gets the embeddings of node ``perm[j]`` of ``src``."""
    state = src.state_dict()
    state.update({k: v for k, v in dst.state_dict().items() if k.startswith("edge_")})
    if perm is not None:
        for key in ("source_embedding", "target_embedding"):
            state[key] = state[key][torch.from_numpy(perm)]
    dst.load_state_dict(state)


def test_random_walk_transitions_on_a_directed_4_node_graph():
    # 0 -> 1 (1), 0 -> 2 (3), 1 -> 2 (2), 2 -> 0 (1); node 3 isolated.
    edge_index = torch.tensor([[0, 0, 1, 2], [1, 2, 2, 0]])
    edge_weight = torch.tensor([1.0, 3.0, 2.0, 1.0])
    forward, backward = random_walk_transitions(edge_index, edge_weight, 4)
    expected_f = torch.tensor(
        [[0, 0.25, 0.75, 0], [0, 0, 1, 0], [1, 0, 0, 0], [0, 0, 0, 0]], dtype=torch.float32
    )
    expected_b = torch.tensor(  # in-edges: 0 <- 2 (1); 1 <- 0 (1); 2 <- 0 (3), 1 (2)
        [[0, 0, 1, 0], [1, 0, 0, 0], [0.6, 0.4, 0, 0], [0, 0, 0, 0]], dtype=torch.float32
    )
    torch.testing.assert_close(forward, expected_f)
    torch.testing.assert_close(backward, expected_b)


def test_diffusion_conv_mixes_k_hops_only():
    torch.manual_seed(0)
    # A path 0 - 1 - 2 - 3: with K = 1 node 0 reaches node 1 only; with K = 2 also node 2.
    edge_index = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])
    p, _ = random_walk_transitions(edge_index, torch.ones(6), 4)
    x = torch.randn(2, 3, 4, 5)  # (B, C, N, T)
    x2 = x.clone()
    x2[:, :, 0] += 1.0
    for k, reached in ((1, [1]), (2, [1, 2])):
        conv = DiffusionGraphConv(3, 6, num_supports=1, K=k, dropout=0.0)
        out, moved = conv(x, [p]), conv(x2, [p])
        assert out.shape == (2, 6, 4, 5)
        changed = [n for n in range(1, 4) if not torch.allclose(out[:, :, n], moved[:, :, n])]
        assert changed == reached


def test_adaptive_adjacency_is_row_stochastic_and_learned(series):
    torch.manual_seed(0)
    config = WaveNetConfig(num_nodes=20, lags=4, **SMALL)
    net = GraphWaveNet(config, *graph_tensors(series.edge_index, series.edge_weight))
    supports = net.supports()
    assert len(supports) == 3  # forward, backward, adaptive
    adaptive = supports[-1]
    assert adaptive.shape == (20, 20) and (adaptive >= 0).all()
    torch.testing.assert_close(adaptive.sum(dim=1), torch.ones(20))
    x = torch.tensor(slice_windows(series.values, 4, 1, np.arange(8))[0], dtype=torch.float32)
    net(x).sum().backward()
    assert net.source_embedding.grad is not None and net.source_embedding.grad.abs().sum() > 0
    off = GraphWaveNet(
        WaveNetConfig(num_nodes=20, lags=4, **SMALL, adaptive=False),
        *graph_tensors(series.edge_index, series.edge_weight),
    )
    assert len(off.supports()) == 2 and not hasattr(off, "source_embedding")


@pytest.mark.parametrize("lags", [4, 12])
@pytest.mark.parametrize("horizon", [1, 3])
def test_forecast_shapes(series, lags, horizon):
    model = _build(series, lags, horizon)
    x, y = slice_windows(series.values, lags, horizon, np.arange(12))
    data = model.tensors(x, y)
    assert data["x"].shape == (12, 20, lags) and data["y"].shape == (12, 20, horizon)
    assert model.net(data["x"]).shape == (12, 20, horizon)
    out = model.forecast(x)
    assert out.shape == (12, 20, horizon) and out.dtype == np.float64 and np.isfinite(out).all()
    assert torch.isfinite(model.net.loss(data))


def test_receptive_field_pads_short_windows_and_crops_long_ones(series):
    model = _build(series, 12, 1, num_blocks=1)  # dilations 1, 2: receptive field 4
    assert model.net.config.receptive_field == 4
    x, _ = slice_windows(series.values, 12, 1, np.arange(5))
    x2 = x.copy()
    x2[..., :8] = 0.0  # steps older than the receptive field do not matter
    np.testing.assert_allclose(model.forecast(x2), model.forecast(x), rtol=1e-6, atol=1e-6)
    assert WaveNetConfig(num_nodes=2, lags=4).receptive_field == 13  # the paper's 4 x (1, 2)


def test_works_with_no_given_graph(series):
    scaler = NodeScaler.fit(series.values[:107])
    no_graph = (np.zeros((2, 0), dtype=np.int64), np.zeros(0))
    model = WaveNetForecaster.build(scaler, *no_graph, 4, 2, **SMALL)
    assert len(model.net.supports()) == 1  # adaptive only
    x, _ = slice_windows(series.values, 4, 2, np.arange(6))
    assert model.forecast(x).shape == (6, 20, 2)
    plain = WaveNetForecaster.build(scaler, *no_graph, 4, 2, **SMALL, adaptive=False)
    assert plain.net.supports() == [] and plain.forecast(x).shape == (6, 20, 2)


@pytest.mark.parametrize("adaptive", [True, False])
def test_save_load_gives_identical_forecasts(series, tmp_path, adaptive):
    model = _build(series, 4, 3, adaptive=adaptive, dropout=0.3)
    x, y = slice_windows(series.values, 4, 3, np.arange(100, 130))
    fit(model.net, model.tensors(x, y), model.tensors(x, y), LoopConfig(epochs=1, device="cpu"))
    before = model.forecast(x)  # batch-norm running statistics are no longer the defaults
    folder = model.save(tmp_path / "wavenet")
    assert sorted(p.name for p in folder.iterdir()) == sorted([CONFIG_FILE, WEIGHTS_FILE])
    config = json.loads((folder / CONFIG_FILE).read_text())
    assert config["kind"] == "fragment_wavenet" and config["net"]["adaptive"] is adaptive
    with safe_open(str(folder / WEIGHTS_FILE), framework="pt") as weights:
        keys = set(weights.keys())
    assert {"edge_index", "edge_weight"} <= keys  # the graph travels too
    assert ("source_embedding" in keys) is adaptive
    assert "forward_transition" not in keys  # rebuilt from the graph, not saved
    loaded = load_forecaster(folder)
    assert isinstance(loaded, WaveNetForecaster) and loaded.net.config == model.net.config
    np.testing.assert_allclose(loaded.forecast(x), before, rtol=0, atol=1e-6)


@pytest.mark.parametrize("adaptive", [True, False])
def test_relabelling_nodes_permutes_outputs(series, adaptive):
    torch.manual_seed(0)
    config = WaveNetConfig(num_nodes=20, lags=4, horizon=2, **{**SMALL, "adaptive": adaptive})
    net = GraphWaveNet(config, *graph_tensors(series.edge_index, series.edge_weight)).eval()

    rng = np.random.default_rng(0)
    perm = rng.permutation(20)  # new node j is old node perm[j]
    new_label = np.argsort(perm)  # old node i is new node new_label[i]
    edge_order = rng.permutation(series.edge_index.shape[1])  # edge order must not matter
    relabelled = new_label[series.edge_index][:, edge_order]
    net2 = GraphWaveNet(config, *graph_tensors(relabelled, series.edge_weight[edge_order]))
    _copy_weights(net, net2.eval(), perm if adaptive else None)

    x = torch.tensor(slice_windows(series.values, 4, 2, np.arange(40))[0], dtype=torch.float32)
    with torch.no_grad():
        out, out2 = net(x), net2(x[:, perm])
    torch.testing.assert_close(out2, out[:, perm], rtol=1e-5, atol=1e-5)
    assert not torch.allclose(out2, out)  # the permutation is not a no-op


def test_the_graph_matters(series):
    torch.manual_seed(0)
    config = WaveNetConfig(num_nodes=20, lags=4, **SMALL, adaptive=False)
    net = GraphWaveNet(config, *graph_tensors(series.edge_index, series.edge_weight)).eval()
    # Same edges, other weights (Chickenpox's are all 1): only the transitions change.
    weights = np.random.default_rng(0).uniform(0.1, 2.0, series.edge_index.shape[1])
    reweighted = GraphWaveNet(config, *graph_tensors(series.edge_index, weights)).eval()
    _copy_weights(net, reweighted)
    x = torch.tensor(slice_windows(series.values, 4, 1, np.arange(10))[0], dtype=torch.float32)
    with torch.no_grad():
        assert not torch.allclose(net(x), reweighted(x), atol=1e-4)


@pytest.mark.parametrize("lags", [4, 12])
def test_one_window_at_a_time_equals_a_batch(series, lags):
    model = _build(series, lags, 3)
    x, _ = slice_windows(series.values, lags, 3, np.arange(200, 216))
    batch = model.forecast(x)
    single = np.concatenate([model.forecast(x[i : i + 1]) for i in range(len(x))])
    np.testing.assert_allclose(single, batch, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(model.forecast(x, batch_size=5), batch, rtol=1e-5, atol=1e-5)


def test_a_few_epochs_on_chickenpox_lower_the_validation_loss(series):
    split = chronological_split(series.num_steps, 4, 1, 0.2, 0.2)
    model = _build(series, 4, 1)
    train = model.tensors(*slice_windows(series.values, 4, 1, split.fit))
    val = model.tensors(*slice_windows(series.values, 4, 1, split.val))
    with torch.no_grad():
        before = float(model.net.eval().loss(val))
    result = fit(model.net, train, val, LoopConfig(epochs=5, lr=3e-3, patience=5, device="cpu"))
    assert result.best_val_loss < before
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    out = model.forecast(slice_windows(series.values, 4, 1, split.test)[0])
    assert out.shape == (414, 20, 1) and np.isfinite(out).all()


@pytest.mark.parametrize(
    "change, match",
    [({"kernel_size": 1}, "kernel_size"), ({"K": 0}, "K"), ({"dropout": -0.1}, "dropout")],
)
def test_config_rejects_impossible_sizes(change, match):
    with pytest.raises(ValueError, match=match):
        WaveNetConfig(num_nodes=4, lags=4, **change)


def test_wrong_node_count_and_empty_batches(series):
    model = _build(series, 4, 2)
    with pytest.raises(ValueError, match="20 nodes"):
        model.forecast(np.zeros((2, 19, 4)))
    assert model.forecast(np.zeros((0, 20, 4))).shape == (0, 20, 2)


@pytest.mark.parametrize("lags", [4, 12])  # shorter and longer than the receptive field
def test_observed_adds_the_flag_as_a_second_input_channel(series, lags):
    plain = _build(series, lags, 1, num_blocks=1)
    model = _build(series, lags, 1, num_blocks=1, observed=True)
    assert (plain.net.start.in_channels, model.net.start.in_channels) == (1, 2)
    values = series.values.copy()
    values[np.random.default_rng(0).random(values.shape) < 0.3] = np.nan
    x, y = slice_windows(values, lags, 1, np.arange(10))
    data = model.tensors(x, y)
    assert data["m"].shape == (10, 20, lags) and data["w"].shape == (10, 20, 1)
    assert np.isfinite(model.forecast(x)).all() and torch.isfinite(model.net.loss(data))
    with pytest.raises(ValueError, match="without the observed channel"):
        plain.forecast(x)
