"""Token family (quantised): shapes, save_pretrained persistence, batching, independence."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors import safe_open
from transformers import AutoModel

from tokfrag.data.loaders import load_pgt_json
from tokfrag.families import load_forecaster
from tokfrag.families.token import MeanScaleQuantizer
from tokfrag.families.token.quantized_model import TokenForecaster
from tokfrag.families.token.quantized_net import QuantTokenConfig, QuantTokenNet, bert_sizes
from tokfrag.models.saving import CONFIG_FILE, HF_DIR, WEIGHTS_FILE
from tokfrag.models.windows import slice_windows

SIZES = {"hidden_size": 16, "num_layers": 1, "num_heads": 2, "intermediate_size": 32}


@pytest.fixture(scope="module")
def values(chickenpox_file) -> np.ndarray:
    frame, _ = load_pgt_json(chickenpox_file)
    return frame.drop(columns="t").to_numpy(np.float64)


def _build(horizon: int, seed: int = 0) -> TokenForecaster:
    torch.manual_seed(seed)
    return TokenForecaster.build(MeanScaleQuantizer(16, -3.0, 3.0), 4, horizon, **SIZES)


def test_token_net_shapes():
    torch.manual_seed(0)
    net = QuantTokenNet(
        QuantTokenConfig(n_bins=16, context_length=4, horizon=3, **bert_sizes(**SIZES))
    )
    assert net.config.vocab_size == 18 and net.config.max_position_embeddings == 5
    ids = torch.randint(2, 18, (5, 5))
    ids[:, -1] = 1
    logits = net(ids, torch.ones_like(ids))
    assert logits.shape == (5, 3, 16)
    batch = {
        "input_ids": ids.view(1, 5, 5),
        "attention_mask": torch.ones(1, 5, 5, dtype=torch.long),
        "labels": torch.randint(0, 16, (1, 5, 3)),
    }
    loss = net.loss(batch)
    assert loss.dim() == 0 and torch.isfinite(loss)
    loss.backward()
    assert net.head.weight.grad is not None


def test_config_rejects_indivisible_heads():
    with pytest.raises(ValueError, match="multiple of num_heads"):
        bert_sizes(hidden_size=10, num_heads=4)
    with pytest.raises(ValueError, match="multiple of num_heads"):
        QuantTokenConfig(n_bins=16, hidden_size=10, num_attention_heads=4)
    with pytest.raises(TypeError, match="num_layer"):
        TokenForecaster.build(MeanScaleQuantizer(), 4, 1, num_layer=2)  # a typo is an error


@pytest.mark.parametrize("horizon", [1, 3])
def test_tensors_and_forecast_shapes(values, horizon):
    model = _build(horizon)
    x, y = slice_windows(values, 4, horizon, np.arange(10))
    data = model.tensors(x, y)
    assert data["input_ids"].shape == data["attention_mask"].shape == (10, 20, 5)
    assert data["scale"].shape == (10, 20) and data["labels"].shape == (10, 20, horizon)
    assert (data["input_ids"][..., -1] == 1).all()
    out = model.forecast(x)
    assert out.shape == (10, 20, horizon) and np.isfinite(out).all()
    # A point forecast lies within the bin centres' range times each window's scale.
    bound = 3.0 * data["scale"].numpy()[..., None] * (1 + 1e-9)
    assert (np.abs(out) <= bound).all()


@pytest.mark.parametrize("horizon", [1, 3])
def test_save_load_gives_identical_ids_and_forecasts(values, tmp_path, horizon):
    model = _build(horizon)
    x, y = slice_windows(values, 4, horizon, np.arange(100, 130))
    before = model.forecast(x)
    folder = model.save(tmp_path / "token")
    # tokfrag's config.json (kind + quantiser) beside the network's save_pretrained folder.
    assert sorted(p.name for p in folder.iterdir()) == sorted([CONFIG_FILE, HF_DIR])
    assert sorted(p.name for p in (folder / HF_DIR).iterdir()) == [CONFIG_FILE, WEIGHTS_FILE]
    config = json.loads((folder / CONFIG_FILE).read_text())  # plain JSON, nothing pickled
    assert config["kind"] == "token_bert" and config["horizon"] == horizon
    hf_config = json.loads((folder / HF_DIR / CONFIG_FILE).read_text())
    assert hf_config["model_type"] == "tokfrag_quant_token" and hf_config["horizon"] == horizon
    with safe_open(str(folder / HF_DIR / WEIGHTS_FILE), framework="pt") as weights:
        assert "head.weight" in set(weights.keys())
    loaded = load_forecaster(folder)
    assert isinstance(loaded, TokenForecaster) and not loaded.net.training
    assert loaded.quantizer == model.quantizer and (loaded.lags, loaded.horizon) == (4, horizon)
    a, b = model.tensors(x, y), loaded.tensors(x, y)
    for key in ("input_ids", "attention_mask", "labels"):
        assert torch.equal(a[key], b[key])
    np.testing.assert_array_equal(loaded.forecast(x), before)
    for name, tensor in model.net.state_dict().items():
        assert torch.equal(loaded.net.state_dict()[name], tensor), name


def test_hf_folder_round_trips_with_from_pretrained_and_auto_model(tmp_path):
    model = _build(2)
    model.net.eval()
    model.net.save_pretrained(tmp_path / "hf")
    ids = torch.randint(2, 18, (6, 5))
    ids[:, -1] = 1
    mask = torch.ones_like(ids)
    with torch.no_grad():
        expected = model.net(ids, mask)
        for cls in (QuantTokenNet, AutoModel):
            net = cls.from_pretrained(tmp_path / "hf").eval()
            assert type(net) is QuantTokenNet and net.config.horizon == 2
            assert torch.equal(net(ids, mask), expected)


def test_one_window_at_a_time_equals_a_batch(values):
    model = _build(3)
    x, _ = slice_windows(values, 4, 3, np.arange(200, 216))
    batch = model.forecast(x)
    single = np.concatenate([model.forecast(x[i : i + 1]) for i in range(len(x))])
    np.testing.assert_allclose(single, batch, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(model.forecast(x, batch_size=7), batch, rtol=1e-5, atol=1e-5)


def test_nodes_are_tokenised_independently(values):
    model = _build(1)
    x, _ = slice_windows(values, 4, 1, np.arange(50, 60))
    changed = x.copy()
    changed[:, 7] = changed[:, 7] * 5 + 1  # another history for node 7 only
    a, b = model.forecast(x), model.forecast(changed)
    others = np.delete(np.arange(20), 7)
    np.testing.assert_allclose(a[:, others], b[:, others], rtol=1e-5, atol=1e-6)
    assert not np.allclose(a[:, 7], b[:, 7])


def test_forecast_scales_with_the_input(values):
    model = _build(1)
    x, _ = slice_windows(values, 4, 1, np.arange(300, 310))
    # Doubling is exact in floating point, so the tokens are identical and only the scale moves.
    np.testing.assert_allclose(model.forecast(2.0 * x), 2.0 * model.forecast(x), rtol=1e-12)


def test_zero_windows_give_an_empty_forecast():
    model = _build(2)
    assert model.forecast(np.zeros((0, 20, 4))).shape == (0, 20, 2)
    # Channel-independent: any number of nodes, each window read on its own.
    assert model.forecast(np.ones((2, 19, 4))).shape == (2, 19, 2)


def test_the_quantized_variant_refuses_gaps_by_name(values):
    with pytest.raises(ValueError, match="quantized token variant does not read gaps"):
        TokenForecaster.build(MeanScaleQuantizer(), 4, 1, observed=True, **SIZES)
    model = _build(1)
    x, _ = slice_windows(values, 4, 1, np.arange(5))
    x = x.copy()  # a view of the series: write the gap into a copy
    x[0, 3, 1] = np.nan
    with pytest.raises(ValueError, match="token.variant inverted or patch"):
        model.forecast(x)
