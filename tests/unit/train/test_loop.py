"""The shared training loop on a tiny real problem: learning, early stopping, determinism."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from tokfrag.config import parse_params
from tokfrag.data.loaders import load_pgt_json
from tokfrag.data.splits import chronological_split
from tokfrag.families.fragment.gconvgru_model import FragmentForecaster
from tokfrag.families.token import MeanScaleQuantizer
from tokfrag.families.token.quantized_model import TokenForecaster
from tokfrag.models.scaler import NodeScaler
from tokfrag.models.windows import slice_windows
from tokfrag.train import LoopConfig, TrainingDiverged, batch_order, fit, pick_device
from tokfrag.train.loop import lr_factor


@pytest.fixture(scope="module")
def problem(chickenpox_file, shrunk_params):
    """Real Chickenpox on the PGT split, with the project's params shrunk for tests."""
    params = parse_params(shrunk_params)
    values, edges = load_pgt_json(chickenpox_file)
    names = list(values.columns[1:])
    position = {name: i for i, name in enumerate(names)}
    edge_index = np.stack(
        [edges["source"].map(position).to_numpy(), edges["target"].map(position).to_numpy()]
    )
    series = values[names].to_numpy(np.float64)
    s = params.split
    split = chronological_split(len(series), s.lags, s.horizon, s.train_ratio, s.val_fraction)
    return {
        "params": params,
        "series": series,
        "edge_index": edge_index,
        "edge_weight": edges["weight"].to_numpy(),
        "split": split,
    }


def _fragment(problem, seed: int = 0) -> FragmentForecaster:
    params, split = problem["params"], problem["split"]
    torch.manual_seed(seed)
    return FragmentForecaster.build(
        NodeScaler.fit(problem["series"][: split.train_steps_end]),
        problem["edge_index"],
        problem["edge_weight"],
        split.lags,
        split.horizon,
        **params.fragment.model.model_dump(),
    )


def _data(problem, forecaster):
    split, series = problem["split"], problem["series"]
    train = forecaster.tensors(*slice_windows(series, split.lags, split.horizon, split.fit))
    val = forecaster.tensors(*slice_windows(series, split.lags, split.horizon, split.val))
    return train, val


def _loop(problem, **overrides) -> LoopConfig:
    settings = problem["params"].train.loop_settings("series")
    return LoopConfig(**{**settings, "device": "cpu", **overrides})


def test_fit_lowers_validation_loss(problem):
    model = _fragment(problem)
    train, val = _data(problem, model)
    seen: list[tuple[int, dict[str, float]]] = []
    result = fit(
        model.net,
        train,
        val,
        _loop(problem, epochs=20, patience=20, lr=0.01),
        callbacks=[lambda epoch, record: seen.append((epoch, record))],
    )
    first = result.history[0]["val_loss"]
    assert result.best_val_loss < 0.9 * first
    assert result.epochs_run == len(result.history) == len(seen) <= 20
    assert [epoch for epoch, _ in seen] == list(range(1, result.epochs_run + 1))
    assert set(seen[0][1]) == {"train_loss", "val_loss", "lr"}
    assert result.history[0] == {"epoch": 1, **seen[0][1]}
    assert result.device == "cpu" and not model.net.training


def test_early_stopping_restores_best_weights(problem):
    model = _fragment(problem)
    train, val = _data(problem, model)
    config = _loop(problem, epochs=30, patience=2, lr=0.05, batch_size=16)
    result = fit(model.net, train, val, config)
    losses = [record["val_loss"] for record in result.history]
    assert result.epochs_run < config.epochs
    assert result.best_val_loss == min(losses)
    assert result.best_epoch == int(np.argmin(losses)) + 1
    assert result.epochs_run == result.best_epoch + config.patience
    # The returned model is the best epoch's, not the last one's.
    model.net.eval()
    with torch.no_grad():
        restored = float(model.net.loss(val))
    assert restored == pytest.approx(result.best_val_loss, rel=1e-5)
    assert restored != pytest.approx(losses[-1], rel=1e-4)


def test_same_seed_gives_identical_history(problem):
    histories = []
    for seed in (0, 0, 1):
        model = _fragment(problem, seed=seed)
        train, val = _data(problem, model)
        result = fit(model.net, train, val, _loop(problem, epochs=3, seed=seed))
        histories.append(result.history)
    assert histories[0] == histories[1]
    assert histories[0] != histories[2]


def test_token_model_trains_with_the_same_loop(problem):
    params, split, series = problem["params"], problem["split"], problem["series"]
    q = params.token.tokenizer
    torch.manual_seed(0)
    model = TokenForecaster.build(
        MeanScaleQuantizer(q.n_bins, q.low, q.high),
        split.lags,
        split.horizon,
        **params.token.model.model_dump(),
    )
    train, val = _data(problem, model)
    result = fit(model.net, train, val, _loop(problem, epochs=3, lr=0.003))
    assert result.epochs_run == 3
    assert result.best_val_loss < result.history[0]["val_loss"]
    out = model.forecast(slice_windows(series, split.lags, split.horizon, split.test)[0])
    assert out.shape == (414, 20, 1) and np.isfinite(out).all()


def test_model_without_loss_is_rejected():
    data = {"x": torch.zeros(4, 2)}
    with pytest.raises(TypeError, match="loss"):
        fit(nn.Linear(2, 1), data, data, LoopConfig(epochs=1, device="cpu"))


def test_ragged_split_is_rejected(problem):
    model = _fragment(problem)
    train, val = _data(problem, model)
    ragged = {"x": train["x"], "y": train["y"][:-1]}
    with pytest.raises(ValueError, match="same first dimension"):
        fit(model.net, ragged, val, _loop(problem, epochs=1))


def test_pick_device():
    assert pick_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert pick_device("auto").type == expected
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="auto"):
            pick_device("cuda")


def test_a_non_finite_loss_stops_training_with_a_clear_error(problem):
    """A loss that turns NaN is an error naming the model, the epoch and the setting to
    change, not a silent return of the initial weights."""
    model = _fragment(problem)
    train, val = _data(problem, model)
    broken = dict(train, y=train["y"].clone())
    broken["y"][5, 3, 0] = float("nan")  # one bad target in the second batch of epoch 1
    config = _loop(problem, epochs=5, label="fragment model fragment_gconvgru")
    with pytest.raises(TrainingDiverged) as caught:
        fit(model.net, broken, val, config)
    message = str(caught.value)
    assert "fragment model fragment_gconvgru" in message and "epoch 1" in message
    assert "fragment.lr" in message and "clip_grad_norm" in message


def test_a_diverging_learning_rate_is_caught_too(problem):
    model = _fragment(problem)
    train, val = _data(problem, model)
    config = _loop(problem, epochs=50, lr=1e12, clip_grad_norm=None, warmup=0.0)
    with pytest.raises(TrainingDiverged, match=r"loss is (nan|inf)"):
        fit(model.net, train, val, config)


@pytest.mark.parametrize("schedule", ["cosine", "linear", "constant"])
def test_warmup_then_decay(schedule):
    total, warm = 100, 10
    factors = [lr_factor(step, total, warm, schedule) for step in range(total)]
    assert factors[:warm] == pytest.approx([(k + 1) / warm for k in range(warm)])
    assert max(factors) == pytest.approx(1.0)
    after = factors[warm:]
    if schedule == "constant":
        assert after == pytest.approx([1.0] * len(after))
    else:
        assert all(a >= b for a, b in zip(after, after[1:], strict=False))
        assert after[-1] < 0.05


def test_the_loop_follows_the_schedule_and_a_shorter_fit_keeps_its_curve(problem):
    """The learning rate recorded per epoch rises through the warm-up and decays; a final
    fit stopped early (schedule_epochs > epochs) follows the same curve."""
    model = _fragment(problem)
    train, val = _data(problem, model)
    full = fit(model.net, train, val, _loop(problem, epochs=6, patience=6, warmup=0.2))
    rates = [h["lr"] for h in full.history]
    assert rates[0] < rates[1] and rates[-1] < max(rates)
    model = _fragment(problem)
    short = fit(model.net, train, None, _loop(problem, epochs=3, schedule_epochs=6, warmup=0.2))
    assert [h["lr"] for h in short.history] == pytest.approx(rates[:3])


def test_clipping_caps_the_gradient_norm_of_every_step(problem):
    """Every optimiser step sees a global gradient norm at most ``clip_grad_norm`` (read
    from a hook on the real optimiser steps), while without a cap some step exceeds it."""
    from torch.optim.optimizer import register_optimizer_step_pre_hook

    norms: list[float] = []

    def record(optimizer, args, kwargs):
        grads = [p.grad for g in optimizer.param_groups for p in g["params"] if p.grad is not None]
        norms.append(float(torch.linalg.vector_norm(torch.stack([g.norm() for g in grads]))))

    handle = register_optimizer_step_pre_hook(record)
    try:
        seen = {}
        for clip in (None, 0.05):
            norms.clear()
            model = _fragment(problem)
            train, _ = _data(problem, model)
            fit(model.net, train, None, _loop(problem, epochs=2, clip_grad_norm=clip))
            seen[clip] = list(norms)
    finally:
        handle.remove()
    assert max(seen[None]) > 0.05
    assert seen[0.05] and max(seen[0.05]) <= 0.05 * (1 + 1e-4)


def test_length_buckets_cover_every_example_once_and_group_similar_lengths():
    lengths = torch.randint(3, 60, (1000,), generator=torch.Generator().manual_seed(0))
    order = batch_order(1000, 8, torch.Generator().manual_seed(1), lengths)
    flat = torch.cat(order)
    assert sorted(flat.tolist()) == list(range(1000))
    spread = np.mean([float(lengths[b].max() - lengths[b].min()) for b in order])
    shuffled = batch_order(1000, 8, torch.Generator().manual_seed(1))
    assert spread < 0.25 * np.mean([float(lengths[b].max() - lengths[b].min()) for b in shuffled])
    again = batch_order(1000, 8, torch.Generator().manual_seed(1), lengths)
    assert all(torch.equal(a, b) for a, b in zip(order, again, strict=True))


class _Constant(torch.nn.Module):
    """Forecasts one learnable number everywhere, with the masked loss."""

    def __init__(self) -> None:
        super().__init__()
        self.level = torch.nn.Parameter(torch.zeros(()))

    def loss(self, batch):
        from tokfrag.models.masking import masked_mse

        return masked_mse(self.level.expand_as(batch["y"]), batch["y"], batch.get("w"))


def _gappy_targets(seed: int = 0) -> dict:
    generator = torch.Generator().manual_seed(seed)
    y = torch.randn(40, 3, 2, generator=generator)
    w = (torch.rand(40, 3, 2, generator=generator) < 0.5).float()
    w[:10] = 1.0  # the first windows fully observed, the rest about half: batches differ
    return {"y": y, "w": w}


@pytest.mark.parametrize("batch_size", [1, 7, 40])
def test_the_validation_loss_is_the_masked_mse_of_the_whole_part_at_any_batch_size(batch_size):
    from tokfrag.train.loop import TensorExamples, _mean_loss

    data = _gappy_targets()
    seen = data["w"] > 0
    expected = float((data["y"][seen] ** 2).mean())  # the constant starts at 0
    got = _mean_loss(_Constant(), TensorExamples(data), batch_size, torch.device("cpu"), "m")
    assert got == pytest.approx(expected, rel=1e-6)


def test_a_validation_part_without_an_observed_target_is_an_error():
    data = _gappy_targets()
    val = {"y": data["y"][:5], "w": torch.zeros(5, 3, 2)}
    with pytest.raises(ValueError, match="the validation part has no observed target"):
        fit(_Constant(), data, val, LoopConfig(epochs=1, label="m"))
