"""Gaps (``data.missing: mask``): the masked loss, filling with an observed channel, the
ridge warm start on observed targets, and the contract every series net with ``observed``
keeps (finite forecasts on gappy windows, the flags read, unobserved targets ignored,
save/load, refusal without the channel), plus a short masked training run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

from tokfrag.families import load_forecaster
from tokfrag.families.fragment.gconvgru_model import FragmentForecaster
from tokfrag.families.fragment.stgcn_model import STGCNForecaster
from tokfrag.families.fragment.wavenet_model import WaveNetForecaster
from tokfrag.families.token import PatchTokenizer
from tokfrag.families.token.inverted_model import InvertedForecaster
from tokfrag.families.token.patch_model import PatchForecaster
from tokfrag.models.masking import masked_mse, observed_channel, split_missing
from tokfrag.models.scaler import NodeScaler
from tokfrag.models.skip import LinearSkip
from tokfrag.models.windows import slice_windows
from tokfrag.train import LoopConfig, fit

NODES, LAGS, HORIZON = 5, 6, 2
BERT = {"hidden_size": 16, "num_layers": 1, "num_heads": 2, "intermediate_size": 32}


def _series(steps: int = 240, gaps: float = 0.3, seed: int = 0) -> np.ndarray:
    """``(T, N)`` noisy sines, phase-shifted along a ring, with a share ``gaps`` of NaN."""
    rng = np.random.default_rng(seed)
    t = np.arange(steps)[:, None]
    values = 3.0 * np.sin(2 * np.pi * t / 12 + np.arange(NODES)) + 10 + np.arange(NODES)
    values = values + 0.2 * rng.standard_normal(values.shape)
    values[rng.random(values.shape) < gaps] = np.nan
    return values


_SOURCE = np.arange(NODES)
_TARGET = (_SOURCE + 1) % NODES
RING = np.stack([np.r_[_SOURCE, _TARGET], np.r_[_TARGET, _SOURCE]])  # (2, 2N), both ways
WEIGHTS = np.ones(RING.shape[1])


def _scaler(values: np.ndarray) -> NodeScaler:
    return NodeScaler(mean=np.nanmean(values, axis=0), std=np.nanstd(values, axis=0))


def _fragment(scaler: NodeScaler, observed: bool) -> Any:
    return FragmentForecaster.build(
        scaler, RING, WEIGHTS, LAGS, HORIZON, observed=observed, hidden_channels=8
    )


def _stgcn(scaler: NodeScaler, observed: bool) -> Any:
    return STGCNForecaster.build(
        scaler,
        RING,
        WEIGHTS,
        LAGS,
        HORIZON,
        observed=observed,
        hidden_channels=8,
        spatial_channels=4,
    )


def _wavenet(scaler: NodeScaler, observed: bool) -> Any:
    sizes = {"residual_channels": 8, "dilation_channels": 8, "skip_channels": 8}
    return WaveNetForecaster.build(
        scaler, RING, WEIGHTS, LAGS, HORIZON, observed=observed, end_channels=8, **sizes
    )


def _inverted(scaler: NodeScaler, observed: bool) -> Any:
    return InvertedForecaster.build(scaler, LAGS, HORIZON, observed=observed, **BERT)


def _patch(scaler: NodeScaler, observed: bool) -> Any:
    return PatchForecaster.build(PatchTokenizer(2, 1), LAGS, HORIZON, observed=observed, **BERT)


BUILDERS: dict[str, Callable[[NodeScaler, bool], Any]] = {
    "gconvgru": _fragment,
    "stgcn": _stgcn,
    "wavenet": _wavenet,
    "inverted": _inverted,
    "patch": _patch,
}


def _build(name: str, observed: bool = True, seed: int = 0) -> tuple[Any, np.ndarray]:
    values = _series()
    torch.manual_seed(seed)
    return BUILDERS[name](_scaler(values[:150]), observed), values


def _net_output(model: Any, data: dict[str, torch.Tensor], m: torch.Tensor) -> torch.Tensor:
    """The network's raw output on ``data`` with the observed channel ``m``."""
    if isinstance(model, PatchForecaster):
        return model.net(
            data["patches"].flatten(0, 1),
            data["loc"].flatten(),
            data["scale"].flatten(),
            m.flatten(0, 1),
        )
    return model.net(data["x"], m=m)


# -- the masked loss and the fill ------------------------------------------------------


def test_masked_mse_is_the_mean_over_observed_targets_only():
    pred = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    y = torch.tensor([[1.5, 0.0, 3.0], [0.0, 7.0, 2.0]])
    w = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    expected = (0.5**2 + 0.0**2 + 2.0**2 + 4.0**2) / 4
    torch.testing.assert_close(masked_mse(pred, y, w), torch.tensor(expected))
    # Whatever the unobserved targets hold (NaN included), the loss is the same.
    other = y.clone()
    other[w == 0] = torch.tensor([1e6, float("nan")])
    torch.testing.assert_close(masked_mse(pred, other, w), torch.tensor(expected))
    # Without a mask it is the plain mean squared error.
    torch.testing.assert_close(masked_mse(pred, y), torch.nn.functional.mse_loss(pred, y))
    with pytest.raises(ValueError, match="mask w of shape"):
        masked_mse(pred, y, w[:, :2])


def test_masked_mse_gives_no_gradient_to_unobserved_targets_and_is_fp32():
    pred = torch.randn(3, 4, 2, dtype=torch.bfloat16, requires_grad=True)
    y = torch.randn(3, 4, 2)
    y[0, 0, 0] = float("nan")
    w = (torch.rand(3, 4, 2) > 0.4).float()
    w[0, 0, 0] = 0.0
    loss = masked_mse(pred, y, w)
    assert loss.dtype == torch.float32 and torch.isfinite(loss)
    loss.backward()
    assert (pred.grad[w == 0] == 0).all()
    assert (pred.grad[w == 1] != 0).any()


def test_a_batch_without_observed_targets_gives_a_zero_with_a_gradient():
    pred = torch.randn(2, 3, 1, requires_grad=True)
    loss = masked_mse(pred, torch.full((2, 3, 1), float("nan")), torch.zeros(2, 3, 1))
    assert loss.item() == 0.0 and loss.requires_grad
    loss.backward()
    assert torch.equal(pred.grad, torch.zeros_like(pred))


def test_split_missing_fills_with_zero_and_flags_the_observed():
    filled, observed = split_missing(np.array([[1.5, np.nan], [np.nan, -2.0]]))
    np.testing.assert_array_equal(filled, [[1.5, 0.0], [0.0, -2.0]])
    np.testing.assert_array_equal(observed, [[1.0, 0.0], [0.0, 1.0]])
    assert observed.dtype == np.float64


def test_observed_channel_defaults_to_all_observed_and_guards_nets_without_it():
    x = torch.randn(2, 3, 4)
    assert torch.equal(observed_channel(x, None, True), torch.ones_like(x))
    assert observed_channel(x, torch.ones_like(x), False) is None
    with pytest.raises(ValueError, match="without the observed channel"):
        observed_channel(x, torch.zeros_like(x), False)
    with pytest.raises(ValueError, match="observed mask m of shape"):
        observed_channel(x, torch.ones(2, 3), True)


# -- the ridge warm start on observed targets --------------------------------------------


def test_fit_ridge_with_a_mask_fits_each_step_on_its_observed_rows():
    from sklearn.linear_model import Ridge

    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.standard_normal((30, 4, 3))).float()
    y = torch.from_numpy(rng.standard_normal((30, 4, 2))).float()
    c = torch.from_numpy(rng.standard_normal((30, 2, 2))).float()
    w = torch.from_numpy(rng.random((30, 4, 2)) > 0.3).float()
    y_garbage = torch.where(w > 0, y, torch.full_like(y, 1e6))  # unobserved: never read
    skip = LinearSkip(3, 2, covariates=2)
    skip.fit_ridge(x, y_garbage, c, alpha=0.5, w=w)

    flat_c = c.flatten(1)[:, None].expand(-1, 4, -1)
    features = torch.cat([x, flat_c], -1).reshape(-1, 7).double().numpy()
    targets, seen = y.reshape(-1, 2).double().numpy(), w.reshape(-1, 2).numpy() > 0
    for h in range(2):
        referee = Ridge(alpha=0.5).fit(features[seen[:, h]], targets[seen[:, h], h])
        np.testing.assert_allclose(skip.linear.weight[h].detach().numpy(), referee.coef_, atol=1e-5)
        np.testing.assert_allclose(skip.linear.bias[h].item(), referee.intercept_, atol=1e-5)

    # All observed: the same as the single fit without a mask.
    plain, masked = LinearSkip(3, 2, 2), LinearSkip(3, 2, 2)
    plain.fit_ridge(x, y, c)
    masked.fit_ridge(x, y, c, w=torch.ones_like(y))
    torch.testing.assert_close(masked.linear.weight, plain.linear.weight, atol=1e-5, rtol=1e-5)


def test_fit_ridge_leaves_a_step_without_observed_targets_at_zero():
    x, y = torch.randn(10, 3, 4), torch.randn(10, 3, 2)
    w = torch.ones_like(y)
    w[..., 1] = 0
    skip = LinearSkip(4, 2)
    skip.fit_ridge(x, y, w=w)
    assert torch.equal(skip.linear.weight[1], torch.zeros(4)) and skip.linear.bias[1] == 0
    assert skip.linear.weight[0].abs().sum() > 0


# -- the contract of every series net built with ``observed`` ------------------------------


@pytest.mark.parametrize("name", list(BUILDERS))
def test_an_observed_model_forecasts_gappy_windows_and_reads_the_flags(name):
    model, values = _build(name)
    x, y = slice_windows(values, LAGS, HORIZON, np.arange(20))
    assert np.isnan(x).any() and np.isnan(y).any()
    out = model.forecast(x)
    assert out.shape == (20, NODES, HORIZON) and np.isfinite(out).all()

    data = model.tensors(x, y)
    assert {"m", "w"} <= set(data)
    assert not any(torch.isnan(v).any() for v in data.values())
    np.testing.assert_array_equal(data["w"].numpy(), ~np.isnan(y))
    if "x" in data:  # node-standardised: the observed flags are the windows' own
        np.testing.assert_array_equal(data["m"].numpy(), ~np.isnan(x))
        assert (data["x"][data["m"] == 0] == 0).all()  # the node's training mean
    model.net.eval()
    with torch.no_grad():
        flagged = _net_output(model, data, data["m"])
        unflagged = _net_output(model, data, torch.ones_like(data["m"]))
    # Same filled values, other flags: another forecast.
    assert not torch.allclose(flagged, unflagged, atol=1e-6)


@pytest.mark.parametrize("name", list(BUILDERS))
def test_the_loss_ignores_unobserved_targets(name):
    model, values = _build(name)
    data = model.tensors(*slice_windows(values, LAGS, HORIZON, np.arange(16)))
    outputs: list[torch.Tensor] = []
    hook = model.net.register_forward_hook(lambda _m, _i, out: outputs.append(out))
    model.net.eval()
    loss = model.net.loss(data)
    hook.remove()
    pred = outputs[-1]
    pred.retain_grad()
    loss.backward()
    w = data["w"].reshape(pred.shape)
    assert torch.isfinite(loss) and (w == 0).any()
    assert (pred.grad[w == 0] == 0).all()
    assert (pred.grad[w == 1] != 0).any()
    changed = dict(data, y=torch.where(data["w"] > 0, data["y"], data["y"] + 100.0))
    with torch.no_grad():
        torch.testing.assert_close(model.net.loss(changed), loss.detach())


@pytest.mark.parametrize("name", list(BUILDERS))
def test_save_load_of_an_observed_model_forecasts_gappy_windows_alike(name, tmp_path):
    model, values = _build(name)
    x, _ = slice_windows(values, LAGS, HORIZON, np.arange(100, 130))
    before = model.forecast(x)
    loaded = load_forecaster(model.save(tmp_path / name))
    assert loaded.net.config.observed is True
    np.testing.assert_allclose(loaded.forecast(x), before, rtol=0, atol=1e-6)


@pytest.mark.parametrize("name", list(BUILDERS))
def test_a_model_without_the_observed_channel_refuses_gaps(name):
    model, values = _build(name, observed=False)
    x, y = slice_windows(values, LAGS, HORIZON, np.arange(10))
    for call in (lambda: model.forecast(x), lambda: model.tensors(x, y)):
        with pytest.raises(ValueError, match="without the observed channel.*data.missing: mask"):
            call()
    # Complete windows: no flags, no target mask, a forecast as before.
    complete = np.nan_to_num(x, nan=1.0)
    data = model.tensors(complete, np.nan_to_num(y, nan=1.0))
    assert "m" not in data and "w" not in data
    assert np.isfinite(model.forecast(complete)).all()
    with pytest.raises(ValueError, match="infinite"):
        model.forecast(np.where(np.isnan(x), np.inf, x))


@pytest.mark.parametrize("name", list(BUILDERS))
def test_complete_windows_read_as_all_observed(name):
    """On windows without a gap an observed net reads all-ones flags, and targets without a
    gap give no mask (the plain loss)."""
    model, values = _build(name)
    complete = np.nan_to_num(values, nan=11.0)
    x, y = slice_windows(complete, LAGS, HORIZON, np.arange(12))
    data = model.tensors(x, y)
    assert "w" not in data and torch.equal(data["m"], torch.ones_like(data["m"]))
    model.net.eval()
    with torch.no_grad():
        expected = _net_output(model, data, torch.ones_like(data["m"]))
        without = dict(data)
        del without["m"]
        torch.testing.assert_close(model.net.loss(without), model.net.loss(data))
    if "x" in data:
        out = model.forecast(x)
        np.testing.assert_allclose(out, model.scaler.inverse(expected.double().numpy()), 1e-5)


def test_an_observed_fragment_model_trains_on_a_series_with_gaps():
    """A few epochs of the shared loop on a series missing 30% of its readings: the loss
    stays finite, falls, and the forecasts on gappy windows are finite."""
    model, values = _build("gconvgru")
    assert 0.25 < np.isnan(values).mean() < 0.35
    train = model.tensors(*slice_windows(values, LAGS, HORIZON, np.arange(150)))
    model.warm_start(train)
    result = fit(model.net, train, None, LoopConfig(epochs=6, batch_size=16, lr=1e-2, device="cpu"))
    losses = [row["train_loss"] for row in result.history]
    assert np.isfinite(losses).all()
    assert losses[-1] < losses[0]
    out = model.forecast(slice_windows(values, LAGS, HORIZON, np.arange(150, 200))[0])
    assert np.isfinite(out).all()
