"""Token family (patches): shapes, save_pretrained persistence, channel independence, and a
few training steps on real Chickenpox windows lowering the loss."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors import safe_open
from transformers import AutoModel

from tokfrag.data.canonical import to_series
from tokfrag.data.loaders import load_pgt_json
from tokfrag.data.splits import chronological_split
from tokfrag.families import load_forecaster
from tokfrag.families.token import PatchTokenizer
from tokfrag.families.token.patch_model import PatchForecaster
from tokfrag.families.token.patch_net import PatchTokenConfig, PatchTokenNet
from tokfrag.families.token.quantized_net import bert_sizes
from tokfrag.models.forecaster import Forecaster
from tokfrag.models.saving import CONFIG_FILE, HF_DIR, WEIGHTS_FILE
from tokfrag.models.windows import slice_windows
from tokfrag.train import LoopConfig, fit

SIZES = {"hidden_size": 16, "num_layers": 1, "num_heads": 2, "intermediate_size": 32}


@pytest.fixture(scope="module")
def values(chickenpox_file) -> np.ndarray:
    frame, _ = load_pgt_json(chickenpox_file)
    return frame.drop(columns="t").to_numpy(np.float64)


def _build(horizon: int, seed: int = 0, **options) -> PatchForecaster:
    torch.manual_seed(seed)
    return PatchForecaster.build(PatchTokenizer(2, 1), 4, horizon, **options, **SIZES)


@pytest.mark.parametrize("stats_token", [True, False])
def test_patch_net_shapes_and_gradients(stats_token):
    torch.manual_seed(0)
    config = PatchTokenConfig(
        context_length=4,
        patch_len=2,
        num_patches=4,
        horizon=3,
        stats_token=stats_token,
        **bert_sizes(**SIZES),
    )
    net = PatchTokenNet(config)
    assert config.max_position_embeddings == 4 + stats_token and config.vocab_size == 1
    patches = torch.randn(5, 4, 2)
    loc, scale = torch.randn(5), torch.rand(5) + 0.1
    assert net(patches, loc, scale).shape == (5, 3)
    batch = {
        "patches": patches.view(1, 5, 4, 2),
        "loc": loc.view(1, 5),
        "scale": scale.view(1, 5),
        "y": torch.randn(1, 5, 3),
    }
    loss = net.loss(batch)
    assert loss.dim() == 0 and torch.isfinite(loss)
    loss.backward()
    assert net.patch_embed.weight.grad is not None and net.head.weight.grad is not None
    if stats_token:
        assert net.stats_embed.weight.grad is not None
        with pytest.raises(ValueError, match="loc and scale"):
            net(patches)


def test_loss_in_data_units_is_the_denormalised_error():
    model = _build(1, loss_units="data")
    scale = torch.tensor([[0.5, 4.0]])
    batch = {
        "patches": torch.randn(1, 2, 4, 2),
        "loc": torch.tensor([[1.0, -3.0]]),
        "scale": scale,
        "y": torch.randn(1, 2, 1),
    }
    model.net.eval()
    pred = model.net(batch["patches"][0], batch["loc"][0], scale[0])  # (2, 1)
    expected = (((pred - batch["y"][0]) * scale[0][:, None]) ** 2).mean()
    torch.testing.assert_close(model.net.loss(batch), expected)


def test_config_rejects_bad_options_and_mismatched_tokenizers():
    with pytest.raises(ValueError, match="loss_units"):
        PatchTokenConfig(loss_units="raw")
    with pytest.raises(ValueError, match="multiple of num_heads"):
        PatchTokenConfig(hidden_size=10, num_attention_heads=4)
    net = _build(1).net
    with pytest.raises(ValueError, match="patches"):
        PatchForecaster(PatchTokenizer(2, 2), net)  # 3 patches, the network reads 4


@pytest.mark.parametrize("horizon", [1, 3])
def test_tensors_and_forecast_shapes(values, horizon):
    model = _build(horizon)
    assert isinstance(model, Forecaster) and (model.kind, model.family) == ("token_patch", "token")
    x, y = slice_windows(values, 4, horizon, np.arange(10))
    data = model.tensors(x, y)
    assert data["patches"].shape == (10, 20, 4, 2) and data["patches"].dtype == torch.float32
    assert data["loc"].shape == data["scale"].shape == (10, 20)
    assert data["y"].shape == (10, 20, horizon)
    # Targets are normalised by their own window's statistics.
    loc, scale = data["loc"].double().numpy(), data["scale"].double().numpy()
    expected = (y - loc[..., None]) / scale[..., None]
    np.testing.assert_allclose(data["y"].numpy(), expected, rtol=1e-5, atol=1e-5)
    out = model.forecast(x)
    assert out.shape == (10, 20, horizon) and np.isfinite(out).all()


@pytest.mark.parametrize("horizon", [1, 3])
def test_save_load_gives_identical_patches_and_forecasts(values, tmp_path, horizon):
    model = _build(horizon)
    x, y = slice_windows(values, 4, horizon, np.arange(100, 130))
    before = model.forecast(x)
    folder = model.save(tmp_path / "patch")
    assert sorted(p.name for p in folder.iterdir()) == sorted([CONFIG_FILE, HF_DIR])
    assert sorted(p.name for p in (folder / HF_DIR).iterdir()) == [CONFIG_FILE, WEIGHTS_FILE]
    config = json.loads((folder / CONFIG_FILE).read_text())
    assert config["kind"] == "token_patch" and config["tokenizer"]["patch_len"] == 2
    hf_config = json.loads((folder / HF_DIR / CONFIG_FILE).read_text())
    assert hf_config["model_type"] == "tokfrag_patch_token" and hf_config["horizon"] == horizon
    with safe_open(str(folder / HF_DIR / WEIGHTS_FILE), framework="pt") as weights:
        assert {"patch_embed.weight", "stats_embed.weight", "head.weight"} <= set(weights.keys())
    loaded = load_forecaster(folder)
    assert isinstance(loaded, PatchForecaster) and not loaded.net.training
    assert loaded.tokenizer == model.tokenizer and (loaded.lags, loaded.horizon) == (4, horizon)
    a, b = model.tensors(x, y), loaded.tensors(x, y)
    for key in a:
        assert torch.equal(a[key], b[key]), key
    np.testing.assert_array_equal(loaded.forecast(x), before)


def test_hf_folder_round_trips_with_from_pretrained_and_auto_model(tmp_path):
    model = _build(2, stats_token=False, loss_units="normalised")
    model.net.eval()
    model.net.save_pretrained(tmp_path / "hf")
    patches = torch.randn(6, 4, 2)
    with torch.no_grad():
        expected = model.net(patches)
        for cls in (PatchTokenNet, AutoModel):
            net = cls.from_pretrained(tmp_path / "hf").eval()
            assert type(net) is PatchTokenNet and net.config.loss_units == "normalised"
            assert torch.equal(net(patches), expected)


def test_batches_nodes_and_scale_are_handled_window_by_window(values):
    model = _build(3)
    x, _ = slice_windows(values, 4, 3, np.arange(200, 216))
    batch = model.forecast(x)
    single = np.concatenate([model.forecast(x[i : i + 1]) for i in range(len(x))])
    np.testing.assert_allclose(single, batch, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(model.forecast(x, batch_size=7), batch, rtol=1e-5, atol=1e-5)
    changed = x.copy()
    changed[:, 7] = changed[:, 7] * 5 + 1  # another history for node 7 only
    others = np.delete(np.arange(20), 7)
    np.testing.assert_allclose(model.forecast(changed)[:, others], batch[:, others], 1e-5, 1e-6)
    assert not np.allclose(model.forecast(changed)[:, 7], batch[:, 7])
    assert model.forecast(np.zeros((0, 20, 4))).shape == (0, 20, 3)
    assert model.forecast(np.ones((2, 19, 4))).shape == (2, 19, 3)


def test_without_stats_a_shifted_window_shifts_the_forecast(values):
    # Plain instance normalisation: the forecast is equivariant to shifting and scaling.
    model = _build(1, stats_token=False)
    x, _ = slice_windows(values, 4, 1, np.arange(300, 310))
    np.testing.assert_allclose(model.forecast(2.0 * x + 3.0), 2.0 * model.forecast(x) + 3.0, 1e-5)


def test_a_few_epochs_on_chickenpox_lower_the_loss(chickenpox_file):
    frame, edges = load_pgt_json(chickenpox_file)
    series = to_series(frame, edges, {"name": "chickenpox", "sha256": "-"})
    split = chronological_split(series.num_steps, 4, 1, 0.2, 0.2)
    model = _build(1)
    train = model.tensors(*slice_windows(series.values, 4, 1, split.fit))
    val = model.tensors(*slice_windows(series.values, 4, 1, split.val))
    with torch.no_grad():
        before = float(model.net.eval().loss(val))
    result = fit(model.net, train, val, LoopConfig(epochs=4, lr=3e-3, patience=4, device="cpu"))
    assert result.epochs_run == 4
    assert result.best_val_loss < before
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    out = model.forecast(slice_windows(series.values, 4, 1, split.test)[0])
    assert out.shape == (414, 20, 1) and np.isfinite(out).all()


def _gappy(values: np.ndarray, share: float = 0.3, seed: int = 0) -> np.ndarray:
    gappy = values.copy()
    gappy[np.random.default_rng(seed).random(values.shape) < share] = np.nan
    return gappy


def test_observed_patches_are_filled_with_the_window_mean_and_carry_their_flags(values):
    model = _build(2, observed=True)
    assert model.net.patch_embed.in_features == 2 * 2  # values and flags of a patch
    x, y = slice_windows(_gappy(values), 4, 2, np.arange(30))
    data = model.tensors(x, y)
    encoded = model.tokenizer.encode(x.reshape(-1, 4))  # loc, scale over observed values
    gaps = np.isnan(encoded.patches).reshape(data["patches"].shape)
    assert gaps.any()
    np.testing.assert_array_equal(data["m"].numpy(), ~gaps)
    assert (data["patches"][torch.from_numpy(gaps)] == 0).all()  # the observed mean
    np.testing.assert_allclose(data["loc"].numpy().ravel(), encoded.loc, rtol=1e-6)
    np.testing.assert_array_equal(data["w"].numpy(), ~np.isnan(y))
    assert not torch.isnan(data["y"]).any()
    out = model.forecast(x)
    assert out.shape == (30, 20, 2) and np.isfinite(out).all()
    with pytest.raises(ValueError, match="without the observed channel"):
        _build(2).forecast(x)


def test_an_observed_patch_model_round_trips_and_old_configs_load_without_it(values, tmp_path):
    model = _build(1, observed=True)
    x, _ = slice_windows(_gappy(values), 4, 1, np.arange(100, 120))
    folder = model.save(tmp_path / "observed")
    assert json.loads((folder / HF_DIR / CONFIG_FILE).read_text())["observed"] is True
    np.testing.assert_array_equal(load_forecaster(folder).forecast(x), model.forecast(x))
    old = _build(1).save(tmp_path / "old")
    hf_config = json.loads((old / HF_DIR / CONFIG_FILE).read_text())
    del hf_config["observed"]
    (old / HF_DIR / CONFIG_FILE).write_text(json.dumps(hf_config))
    assert load_forecaster(old).net.config.observed is False
