"""STGCN: gated temporal convs, ST-conv blocks, shapes, persistence, relabelling, batching."""

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
from tokfrag.families.fragment.stgcn_model import STGCNConfig, STGCNForecaster
from tokfrag.families.fragment.stgcn_net import STGCN, STConvBlock, TemporalGatedConv
from tokfrag.models.saving import CONFIG_FILE, WEIGHTS_FILE
from tokfrag.models.scaler import NodeScaler
from tokfrag.models.windows import slice_windows
from tokfrag.train import LoopConfig, fit

SMALL = {"hidden_channels": 8, "spatial_channels": 4, "K": 2}


@pytest.fixture(scope="module")
def series(chickenpox_file):
    return to_series(*load_pgt_json(chickenpox_file), {"name": "chickenpox", "sha256": "-"})


def _build(series, lags: int, horizon: int, seed: int = 0, **sizes) -> STGCNForecaster:
    torch.manual_seed(seed)
    scaler = NodeScaler.fit(series.values[:107])
    return STGCNForecaster.build(
        scaler, series.edge_index, series.edge_weight, lags, horizon, **{**SMALL, **sizes}
    )


def test_temporal_gated_conv_is_causal_and_keeps_the_length():
    torch.manual_seed(0)
    conv = TemporalGatedConv(2, 3, kernel_size=3)
    x = torch.randn(5, 2, 4, 6)  # (B, C, N, T)
    out = conv(x)
    assert out.shape == (5, 3, 4, 6)
    later = x.clone()
    later[..., 4:] += 1.0  # change steps 4 and 5 only
    moved = conv(later)
    torch.testing.assert_close(moved[..., :4], out[..., :4])  # the past does not see it
    assert not torch.allclose(moved[..., 4:], out[..., 4:])
    assert isinstance(TemporalGatedConv(3, 3, 2).res, torch.nn.Identity)


def test_st_conv_block_shapes_and_neighbours_only_on_a_4_node_graph():
    torch.manual_seed(0)
    # Nodes 0-1 joined, nodes 2-3 joined, no edge between the pairs.
    edge_index = torch.tensor([[0, 1, 2, 3], [1, 0, 3, 2]])
    block = STConvBlock(1, 4, 6, kernel_size=2, K=2).eval()
    x = torch.randn(3, 1, 4, 5)
    out = block(x, edge_index, None)
    assert out.shape == (3, 6, 4, 5) and torch.isfinite(out).all()
    x2 = x.clone()
    x2[:, :, 0] += 1.0
    moved = block(x2, edge_index, None)
    assert not torch.allclose(moved[:, :, 1], out[:, :, 1])  # the neighbour sees the change
    torch.testing.assert_close(moved[:, :, 2:], out[:, :, 2:])  # the other pair does not
    out.sum().backward()
    assert block.graph_conv.lins[0].weight.grad is not None
    before = block(x, edge_index, None)
    block.reset_parameters()
    assert not torch.allclose(block(x, edge_index, None), before)


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


@pytest.mark.parametrize("horizon", [1, 3])
def test_save_load_gives_identical_forecasts(series, tmp_path, horizon):
    model = _build(series, 4, horizon, num_blocks=1, dropout=0.2)
    x, _ = slice_windows(series.values, 4, horizon, np.arange(100, 130))
    before = model.forecast(x)
    folder = model.save(tmp_path / "stgcn")
    assert sorted(p.name for p in folder.iterdir()) == sorted([CONFIG_FILE, WEIGHTS_FILE])
    config = json.loads((folder / CONFIG_FILE).read_text())
    assert config["kind"] == "fragment_stgcn" and config["net"]["num_blocks"] == 1
    with safe_open(str(folder / WEIGHTS_FILE), framework="pt") as weights:
        assert {"edge_index", "edge_weight"} <= set(weights.keys())  # the graph travels too
    loaded = load_forecaster(folder)
    assert isinstance(loaded, STGCNForecaster) and loaded.net.config == model.net.config
    np.testing.assert_allclose(loaded.forecast(x), before, rtol=0, atol=1e-6)


def test_relabelling_nodes_permutes_outputs(series):
    torch.manual_seed(0)
    config = STGCNConfig(num_nodes=20, lags=4, horizon=2, **{**SMALL, "K": 3})
    net = STGCN(config, *graph_tensors(series.edge_index, series.edge_weight)).eval()

    rng = np.random.default_rng(0)
    perm = rng.permutation(20)  # new node j is old node perm[j]
    new_label = np.argsort(perm)  # old node i is new node new_label[i]
    edge_order = rng.permutation(series.edge_index.shape[1])  # edge order must not matter
    relabelled = new_label[series.edge_index][:, edge_order]
    net2 = STGCN(config, *graph_tensors(relabelled, series.edge_weight[edge_order])).eval()
    net2.load_state_dict(net.state_dict() | dict(net2.named_buffers()))

    x = torch.tensor(slice_windows(series.values, 4, 2, np.arange(40))[0], dtype=torch.float32)
    with torch.no_grad():
        out, out2 = net(x), net2(x[:, perm])
    torch.testing.assert_close(out2, out[:, perm], rtol=1e-5, atol=1e-5)
    assert not torch.allclose(out2, out)  # the permutation is not a no-op


def test_the_graph_matters(series):
    torch.manual_seed(0)
    config = STGCNConfig(num_nodes=20, lags=4, **SMALL)
    net = STGCN(config, *graph_tensors(series.edge_index, series.edge_weight)).eval()
    empty = STGCN(config, torch.zeros(2, 0, dtype=torch.long), torch.zeros(0)).eval()
    empty.load_state_dict(net.state_dict() | dict(empty.named_buffers()))
    x = torch.tensor(slice_windows(series.values, 4, 1, np.arange(10))[0], dtype=torch.float32)
    with torch.no_grad():
        assert not torch.allclose(net(x), empty(x), atol=1e-4)


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
    [
        ({"kernel_size": 0}, "kernel_size"),
        ({"num_blocks": 0}, "num_blocks"),
        ({"dropout": 1.0}, "dropout"),
    ],
)
def test_config_rejects_impossible_sizes(change, match):
    with pytest.raises(ValueError, match=match):
        STGCNConfig(num_nodes=4, lags=4, **change)


def test_wrong_node_count_and_empty_batches(series):
    model = _build(series, 4, 2)
    with pytest.raises(ValueError, match="20 nodes"):
        model.forecast(np.zeros((2, 19, 4)))
    assert model.forecast(np.zeros((0, 20, 4))).shape == (0, 20, 2)


def test_observed_adds_the_flag_as_a_second_input_channel(series, tmp_path):
    plain, model = _build(series, 4, 1), _build(series, 4, 1, observed=True)
    assert plain.net.blocks[0].temporal1.conv.in_channels == 1
    assert model.net.blocks[0].temporal1.conv.in_channels == 2  # value, observed flag
    values = series.values.copy()
    values[np.random.default_rng(0).random(values.shape) < 0.3] = np.nan
    x, _ = slice_windows(values, 4, 1, np.arange(10))
    assert np.isfinite(model.forecast(x)).all()
    folder = model.save(tmp_path / "observed")
    assert json.loads((folder / CONFIG_FILE).read_text())["net"]["observed"] is True
    # A config saved before the field existed loads without the channel.
    folder = plain.save(tmp_path / "old")
    config = json.loads((folder / CONFIG_FILE).read_text())
    del config["net"]["observed"]
    (folder / CONFIG_FILE).write_text(json.dumps(config))
    assert load_forecaster(folder).net.config.observed is False
