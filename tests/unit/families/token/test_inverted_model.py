"""Token family (inverted tokens): each node's window is one token, attention across nodes;
shapes, persistence through save_pretrained, cross-node mixing, the ridge warm start and a
few training steps on real Chickenpox windows."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from transformers import AutoModel

from tokfrag.data.loaders import load_pgt_json
from tokfrag.families import load_forecaster
from tokfrag.families.token.inverted_model import InvertedForecaster
from tokfrag.families.token.inverted_net import InvertedTokenNet
from tokfrag.models.calendar import CalendarSpec
from tokfrag.models.saving import CONFIG_FILE, HF_DIR
from tokfrag.models.scaler import NodeScaler
from tokfrag.models.windows import slice_windows
from tokfrag.train import LoopConfig, fit

SIZES = {"hidden_size": 16, "num_layers": 1, "num_heads": 2, "intermediate_size": 32}
CALENDAR = CalendarSpec.choose("steps", 7 * 86_400.0, 107, harmonics=2, start=1.1e9)


@pytest.fixture(scope="module")
def values(chickenpox_file) -> np.ndarray:
    frame, _ = load_pgt_json(chickenpox_file)
    return frame.drop(columns="t").to_numpy(np.float64)


def _build(
    values, horizon: int, calendar=None, seed: int = 0, observed: bool = False
) -> InvertedForecaster:
    torch.manual_seed(seed)
    return InvertedForecaster.build(
        NodeScaler.fit(values[:107]), 4, horizon, calendar=calendar, observed=observed, **SIZES
    )


@pytest.mark.parametrize("calendar", [None, CALENDAR])
def test_shapes_and_gradients(values, calendar):
    model = _build(values, 3, calendar)
    x, y = slice_windows(values, 4, 3, np.arange(12))
    data = model.tensors(x, y, times=np.arange(12) + 3)
    assert data["x"].shape == (12, 20, 4) and data["y"].shape == (12, 20, 3)
    if calendar is None:
        assert "c" not in data
    else:
        assert data["c"].shape == (12, 7, calendar.num_features)
    assert model.net.config.max_position_embeddings == 20 + (calendar is not None)
    loss = model.net.loss(data)
    loss.backward()
    assert model.net.embed.weight.grad is not None and torch.isfinite(loss)
    out = model.forecast(x, times=np.arange(12) + 3)
    assert out.shape == (12, 20, 3) and np.isfinite(out).all()


def test_attention_mixes_the_nodes(values):
    """Unlike the channel-independent variants, one node's window moves the others'
    forecasts: the tokens attend to each other."""
    model = _build(values, 1)
    with torch.no_grad():  # the warm start zeroes the head; give it weights to see through
        model.net.head.weight.normal_()
    x, _ = slice_windows(values, 4, 1, np.arange(200, 210))
    changed = x.copy()
    changed[:, 7] += 3.0
    before, after = model.forecast(x), model.forecast(changed)
    others = [n for n in range(20) if n != 7]
    assert not np.allclose(before[:, others], after[:, others], atol=1e-6)


def test_save_load_round_trip(values, tmp_path):
    model = _build(values, 2, CALENDAR)
    x, _ = slice_windows(values, 4, 2, np.arange(100, 130))
    times = np.arange(100, 130) + 3
    before = model.forecast(x, times=times)
    folder = model.save(tmp_path / "inverted")
    config = json.loads((folder / CONFIG_FILE).read_text())
    assert config["kind"] == "token_inverted" and config["calendar"] == CALENDAR.to_dict()
    assert isinstance(AutoModel.from_pretrained(folder / HF_DIR), InvertedTokenNet)
    loaded = load_forecaster(folder)
    assert isinstance(loaded, InvertedForecaster) and loaded.calendar == CALENDAR
    np.testing.assert_array_equal(loaded.forecast(x, times=times), before)


def test_warm_start_gives_the_ridge_forecast_and_training_improves_on_it(values):
    from sklearn.linear_model import Ridge

    model = _build(values, 1)
    fit_x, fit_y = slice_windows(values, 4, 1, np.arange(82))
    val_x, val_y = slice_windows(values, 4, 1, np.arange(82, 103))
    train, val = model.tensors(fit_x, fit_y), model.tensors(val_x, val_y)
    model.warm_start(train)
    referee = Ridge(alpha=1.0).fit(train["x"].reshape(-1, 4), train["y"].reshape(-1, 1))
    expected = referee.predict(val["x"].reshape(-1, 4)).reshape(21, 20, 1)
    model.net.eval()
    with torch.no_grad():
        np.testing.assert_allclose(model.net(val["x"]).numpy(), expected, rtol=1e-4, atol=1e-4)
        start = float(model.net.loss(train))
    fit(model.net, train, None, LoopConfig(epochs=20, lr=3e-3, device="cpu"))
    with torch.no_grad():
        assert float(model.net.loss(train)) < start  # the Transformer adds to the linear fit


def test_times_are_checked(values):
    model = _build(values, 1, CALENDAR)
    x, _ = slice_windows(values, 4, 1, np.arange(5))
    with pytest.raises(ValueError, match="time of each window"):
        model.forecast(x)
    with pytest.raises(ValueError, match="one time per window"):
        model.forecast(x, times=np.arange(4))


def test_an_observed_node_token_embeds_its_window_and_its_flags(values, tmp_path):
    model = _build(values, 2, CALENDAR, observed=True)
    assert model.net.embed.in_features == 2 * 4 and _build(values, 2).net.embed.in_features == 4
    gappy = values.copy()
    gappy[np.random.default_rng(0).random(values.shape) < 0.3] = np.nan
    x, y = slice_windows(gappy, 4, 2, np.arange(100, 120))
    times = np.arange(100, 120) + 3
    data = model.tensors(x, y, times=times)
    model.warm_start(data)  # the ridge on observed targets: finite, no NaN from the gaps
    assert torch.isfinite(model.net.skip.linear.weight).all()
    before = model.forecast(x, times=times)
    assert before.shape == (20, 20, 2) and np.isfinite(before).all()
    folder = model.save(tmp_path / "observed")
    assert json.loads((folder / HF_DIR / CONFIG_FILE).read_text())["observed"] is True
    np.testing.assert_array_equal(load_forecaster(folder).forecast(x, times=times), before)


def test_a_network_saved_before_observed_loads_without_it(values, tmp_path):
    model = _build(values, 1)
    x, _ = slice_windows(values, 4, 1, np.arange(100, 110))
    folder = model.save(tmp_path / "old")
    hf_config = json.loads((folder / HF_DIR / CONFIG_FILE).read_text())
    del hf_config["observed"]
    (folder / HF_DIR / CONFIG_FILE).write_text(json.dumps(hf_config))
    loaded = load_forecaster(folder)
    assert loaded.net.config.observed is False
    np.testing.assert_array_equal(loaded.forecast(x), model.forecast(x))
