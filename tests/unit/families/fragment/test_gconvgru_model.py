"""Fragment family: GConvGRU cell, shapes, persistence, node relabelling and batching."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors import safe_open
from torch_geometric.nn import ChebConv

from tokfrag.data.loaders import load_pgt_json
from tokfrag.families import load_forecaster
from tokfrag.families.fragment.gconvgru_model import FragmentForecaster, FragmentNetConfig
from tokfrag.families.fragment.gconvgru_net import FragmentNet, GConvGRUCell, NormedChebConv
from tokfrag.families.fragment.graph import graph_tensors
from tokfrag.models.saving import CONFIG_FILE, WEIGHTS_FILE
from tokfrag.models.scaler import NodeScaler
from tokfrag.models.windows import slice_windows


@pytest.fixture(scope="module")
def chickenpox(chickenpox_file):
    values, edges = load_pgt_json(chickenpox_file)
    names = list(values.columns[1:])
    position = {name: i for i, name in enumerate(names)}
    edge_index = np.stack(
        [edges["source"].map(position).to_numpy(), edges["target"].map(position).to_numpy()]
    )
    return values[names].to_numpy(np.float64), edge_index, edges["weight"].to_numpy()


def _build(chickenpox, horizon: int, seed: int = 0, **sizes) -> FragmentForecaster:
    values, edge_index, edge_weight = chickenpox
    torch.manual_seed(seed)
    scaler = NodeScaler.fit(values[:107])
    sizes = {"hidden_channels": 8, "K": 2, **sizes}
    return FragmentForecaster.build(scaler, edge_index, edge_weight, 4, horizon, **sizes)


def test_gconvgru_cell_shapes_on_a_4_node_graph():
    torch.manual_seed(0)
    edge_index = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])
    edge_weight = torch.tensor([1.0, 1.0, 0.5, 0.5, 2.0, 2.0])
    cell = GConvGRUCell(3, 8, K=2)
    unweighted = cell.normalize(edge_index, None, 4, torch.float32)
    weighted = cell.normalize(edge_index, edge_weight, 4, torch.float32)
    x, h = torch.randn(4, 3), torch.zeros(4, 8)
    out = cell(x, *unweighted, h)
    assert out.shape == (4, 8)
    out_w = cell(x, *weighted, out)
    assert out_w.shape == (4, 8) and torch.isfinite(out_w).all()
    assert not torch.allclose(out, out_w)
    out_w.sum().backward()
    assert cell.gates.lins[0].weight.grad is not None
    # Equal inputs give equal outputs; reset_parameters changes them.
    assert torch.equal(cell(x, *unweighted, h), out.detach())
    cell.reset_parameters()
    assert not torch.allclose(cell(x, *unweighted, h), out)


@pytest.mark.parametrize("K", [1, 2, 3])
def test_normed_chebconv_gives_chebconvs_numbers(K: int) -> None:
    """The Laplacian computed once gives exactly what ChebConv computes on every call."""
    torch.manual_seed(0)
    edge_index = torch.randint(0, 30, (2, 120))
    edge_weight = torch.rand(120)
    plain = ChebConv(5, 7, K=K)
    normed = NormedChebConv(5, 7, K=K)
    normed.load_state_dict(plain.state_dict())  # the same parameters, by the same names
    x = torch.randn(30, 5)
    graph = normed.normalize(edge_index, edge_weight, 30, x.dtype)
    assert torch.equal(normed(x, *graph), plain(x, edge_index, edge_weight))


def test_gconvgru_cell_mixes_neighbours_only():
    torch.manual_seed(0)
    # Nodes 0-1 joined, nodes 2-3 joined, no edge between the pairs.
    edge_index = torch.tensor([[0, 1, 2, 3], [1, 0, 3, 2]])
    cell = GConvGRUCell(1, 4, K=2)
    graph = cell.normalize(edge_index, None, 4, torch.float32)
    x, h = torch.randn(4, 1), torch.zeros(4, 4)
    base = cell(x, *graph, h)
    x2 = x.clone()
    x2[0] += 1.0
    moved = cell(x2, *graph, h)
    assert not torch.allclose(moved[1], base[1])  # the neighbour sees the change
    torch.testing.assert_close(moved[2:], base[2:])  # the other component does not


@pytest.mark.parametrize("horizon", [1, 3])
def test_forecast_shapes(chickenpox, horizon):
    values = chickenpox[0]
    model = _build(chickenpox, horizon)
    x, y = slice_windows(values, 4, horizon, np.arange(12))
    data = model.tensors(x, y)
    assert data["x"].shape == (12, 20, 4) and data["y"].shape == (12, 20, horizon)
    np.testing.assert_allclose(data["x"].numpy(), model.scaler.transform(x), rtol=1e-6)
    assert model.net(data["x"]).shape == (12, 20, horizon)
    out = model.forecast(x)
    assert out.shape == (12, 20, horizon) and out.dtype == np.float64 and np.isfinite(out).all()
    assert torch.isfinite(model.net.loss(data))


@pytest.mark.parametrize("horizon", [1, 3])
def test_save_load_gives_identical_forecasts(chickenpox, tmp_path, horizon):
    model = _build(chickenpox, horizon)
    x, _ = slice_windows(chickenpox[0], 4, horizon, np.arange(100, 130))
    before = model.forecast(x)
    folder = model.save(tmp_path / "fragment")
    assert sorted(p.name for p in folder.iterdir()) == sorted([CONFIG_FILE, WEIGHTS_FILE])
    config = json.loads((folder / CONFIG_FILE).read_text())
    assert config["kind"] == "fragment_gconvgru" and config["net"]["horizon"] == horizon
    with safe_open(str(folder / WEIGHTS_FILE), framework="pt") as weights:
        assert {"edge_index", "edge_weight"} <= set(weights.keys())  # the graph travels too
    loaded = load_forecaster(folder)
    assert isinstance(loaded, FragmentForecaster)
    np.testing.assert_array_equal(loaded.scaler.mean, model.scaler.mean)
    np.testing.assert_allclose(loaded.forecast(x), before, rtol=0, atol=1e-6)


def test_relabelling_nodes_permutes_outputs(chickenpox):
    values, edge_index, edge_weight = chickenpox
    torch.manual_seed(0)
    config = FragmentNetConfig(num_nodes=20, lags=4, horizon=2, hidden_channels=8, K=3)
    net = FragmentNet(config, *graph_tensors(edge_index, edge_weight)).eval()

    rng = np.random.default_rng(0)
    perm = rng.permutation(20)  # new node j is old node perm[j]
    new_label = np.argsort(perm)  # old node i is new node new_label[i]
    edge_order = rng.permutation(edge_index.shape[1])  # edge order must not matter either
    relabelled = new_label[edge_index][:, edge_order]
    net2 = FragmentNet(config, *graph_tensors(relabelled, edge_weight[edge_order])).eval()
    net2.cell.load_state_dict(net.cell.state_dict())
    net2.head.load_state_dict(net.head.state_dict())
    net2.skip.load_state_dict(net.skip.state_dict())

    x = torch.tensor(slice_windows(values, 4, 2, np.arange(40))[0], dtype=torch.float32)
    with torch.no_grad():
        out, out2 = net(x), net2(x[:, perm])
    torch.testing.assert_close(out2, out[:, perm], rtol=1e-5, atol=1e-5)
    assert not torch.allclose(out2, out)  # the permutation is not a no-op


def test_the_graph_matters(chickenpox):
    values, edge_index, edge_weight = chickenpox
    torch.manual_seed(0)
    config = FragmentNetConfig(num_nodes=20, lags=4, hidden_channels=8, K=2)
    net = FragmentNet(config, *graph_tensors(edge_index, edge_weight)).eval()
    empty = FragmentNet(config, torch.zeros(2, 0, dtype=torch.long), torch.zeros(0)).eval()
    empty.cell.load_state_dict(net.cell.state_dict())
    empty.head.load_state_dict(net.head.state_dict())
    empty.skip.load_state_dict(net.skip.state_dict())
    x = torch.tensor(slice_windows(values, 4, 1, np.arange(10))[0], dtype=torch.float32)
    with torch.no_grad():
        assert not torch.allclose(net(x), empty(x), atol=1e-4)


def test_one_window_at_a_time_equals_a_batch(chickenpox):
    model = _build(chickenpox, 3)
    x, _ = slice_windows(chickenpox[0], 4, 3, np.arange(200, 216))
    batch = model.forecast(x)
    single = np.concatenate([model.forecast(x[i : i + 1]) for i in range(len(x))])
    np.testing.assert_allclose(single, batch, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(model.forecast(x, batch_size=5), batch, rtol=1e-5, atol=1e-5)


def test_wrong_node_count_rejected(chickenpox):
    model = _build(chickenpox, 1)
    with pytest.raises(ValueError, match="20 nodes"):
        model.forecast(np.zeros((2, 19, 4)))


def test_zero_windows_give_an_empty_forecast(chickenpox):
    model = _build(chickenpox, 2)
    assert model.forecast(np.zeros((0, 20, 4))).shape == (0, 20, 2)


def test_a_model_saved_before_the_skip_still_loads(chickenpox, tmp_path):
    """Configs written by earlier releases lack ``skip``, ``covariates`` and ``observed``:
    they load as what they were (no skip, no calendar, no observed channel) and forecast as
    before."""
    model = _build(chickenpox, 1, skip=False)
    x, _ = slice_windows(chickenpox[0], 4, 1, np.arange(100, 110))
    folder = model.save(tmp_path / "old")
    config = json.loads((folder / CONFIG_FILE).read_text())
    for key in ("skip", "covariates", "observed"):
        del config["net"][key]
    del config["calendar"]
    (folder / CONFIG_FILE).write_text(json.dumps(config))
    loaded = load_forecaster(folder)
    assert loaded.net.skip is None and loaded.calendar is None
    assert loaded.net.config.observed is False
    np.testing.assert_allclose(loaded.forecast(x), model.forecast(x), atol=1e-6)


def _calendar():
    from tokfrag.models.calendar import CalendarSpec

    return CalendarSpec.choose("steps", 7 * 86_400.0, 107, harmonics=2, start=1.1e9)


def test_warm_start_begins_at_the_ridge_forecast(chickenpox):
    """After the warm start the network forecasts exactly what a ridge regression on the
    same standardised lags and calendar covariates does (scikit-learn's, as the referee)."""
    from sklearn.linear_model import Ridge

    values = chickenpox[0]
    model = _build(chickenpox, 2, calendar=_calendar())
    snapshots = np.arange(80)
    x, y = slice_windows(values, 4, 2, snapshots)
    times = snapshots + 3
    data = model.tensors(x, y, times=times)
    model.warm_start(data)
    c = data["c"][:, 4:].flatten(1).numpy()  # (S, H*F): the target steps' covariates
    features = np.concatenate([data["x"].numpy(), np.repeat(c[:, None], 20, axis=1)], axis=2)
    referee = Ridge(alpha=1.0).fit(
        features.reshape(-1, features.shape[2]), data["y"].reshape(-1, 2)
    )
    expected = referee.predict(features.reshape(-1, features.shape[2])).reshape(80, 20, 2)
    with torch.no_grad():
        out = model.net(data["x"], data["c"]).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)


def test_a_calendar_model_needs_times_and_uses_them(chickenpox, tmp_path):
    model = _build(chickenpox, 1, calendar=_calendar())
    x, _ = slice_windows(chickenpox[0], 4, 1, np.arange(100, 110))
    with pytest.raises(ValueError, match="time of each window"):
        model.forecast(x)
    summer, winter = model.forecast(x, times=np.full(10, 26)), model.forecast(x, times=np.zeros(10))
    assert not np.allclose(summer, winter)  # the covariates reach the forecast
    loaded = load_forecaster(model.save(tmp_path / "calendar"))
    assert loaded.calendar == model.calendar
    np.testing.assert_allclose(loaded.forecast(x, times=np.full(10, 26)), summer, atol=1e-6)


def _with_gaps(values: np.ndarray, share: float = 0.3, seed: int = 0) -> np.ndarray:
    gappy = values.copy()
    gappy[np.random.default_rng(seed).random(values.shape) < share] = np.nan
    return gappy


def test_the_observed_flag_is_one_more_cell_input_beside_value_and_calendar(chickenpox):
    values = chickenpox[0]
    plain = _build(chickenpox, 1, calendar=_calendar())
    model = _build(chickenpox, 1, calendar=_calendar(), observed=True)
    f = model.calendar.num_features
    assert plain.net.cell.gates.lins[0].in_channels == 1 + f + 8
    assert model.net.cell.gates.lins[0].in_channels == 1 + 1 + f + 8  # value, flag, calendar
    assert model.net.skip.linear.in_features == plain.net.skip.linear.in_features  # no flag
    x, y = slice_windows(_with_gaps(values), 4, 1, np.arange(100, 120))
    times = np.arange(100, 120) + 3
    data = model.tensors(x, y, times=times)
    assert set(data) == {"x", "m", "y", "w", "c"}
    out = model.forecast(x, times=times)
    assert out.shape == (20, 20, 1) and np.isfinite(out).all()
    with pytest.raises(ValueError, match="without the observed channel"):
        plain.forecast(x, times=times)


def test_warm_start_with_gaps_fits_the_ridge_on_observed_targets(chickenpox):
    """With gaps, the skip starts at the ridge fit of each horizon step on the windows and
    nodes whose target there is observed, reading the filled lags (scikit-learn's ridge as
    the referee)."""
    from sklearn.linear_model import Ridge

    model = _build(chickenpox, 2, observed=True)
    x, y = slice_windows(_with_gaps(chickenpox[0]), 4, 2, np.arange(80))
    data = model.tensors(x, y)
    model.warm_start(data)
    features = data["x"].reshape(-1, 4).numpy()
    targets, seen = data["y"].reshape(-1, 2).numpy(), data["w"].reshape(-1, 2).numpy() > 0
    expected = np.stack(
        [
            Ridge(alpha=1.0).fit(features[seen[:, h]], targets[seen[:, h], h]).predict(features)
            for h in range(2)
        ],
        axis=-1,
    )  # (S*N, H)
    model.net.eval()
    with torch.no_grad():
        out = model.net(data["x"], m=data["m"]).reshape(-1, 2).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)
