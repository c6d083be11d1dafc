"""The one training loop: seeded, early stopping on a validation tail, CUDA when present.

It knows nothing about tracking: progress and logging come in as ``callbacks``, each called
as ``callback(epoch, {"train_loss": ..., "val_loss": ...})`` after every epoch.
"""

from __future__ import annotations

import copy
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import torch
from torch import Tensor, nn

EpochCallback = Callable[[int, dict[str, float]], None]


@dataclass(frozen=True)
class LoopConfig:
    epochs: int = 100
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 0.0
    patience: int = 10
    seed: int = 0
    device: str = "auto"


@dataclass
class TrainResult:
    best_epoch: int
    best_val_loss: float | None  # None when fitted without a validation part
    epochs_run: int
    seconds: float
    device: str
    history: list[dict[str, float]] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "best_epoch": self.best_epoch,
            "best_val_loss": self.best_val_loss,
            "epochs_run": self.epochs_run,
            "seconds": self.seconds,
            "device": self.device,
            "history": self.history,
        }


def pick_device(requested: str = "auto") -> torch.device:
    if requested == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("train.device is 'cuda' but no CUDA device is visible; use 'auto'")
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(requested)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class Examples(Protocol):
    """A training set the loop can cut into batches: ``len`` examples, and ``take(idx)``
    returning one batch (a dict of tensors, or of objects with ``.to(device)`` such as a PyG
    ``Batch``) for a 1-D ``idx`` of example positions."""

    def __len__(self) -> int: ...

    def take(self, idx: Tensor) -> dict[str, Any]: ...


class TensorExamples:
    """Examples stored as tensors sharing their first dimension (windows, token sequences)."""

    def __init__(self, tensors: dict[str, Tensor]) -> None:
        lengths = {len(v) for v in tensors.values()}
        if len(lengths) != 1:
            raise ValueError(f"all tensors need the same first dimension, got {lengths}")
        self.tensors = tensors
        self._n = lengths.pop()

    def __len__(self) -> int:
        return self._n

    def take(self, idx: Tensor) -> dict[str, Any]:
        return {k: v[idx] for k, v in self.tensors.items()}


def as_examples(data: Examples | dict[str, Tensor]) -> Examples:
    return TensorExamples(data) if isinstance(data, dict) else data


def _to(batch: dict[str, Any], device: torch.device) -> dict[str, Any]:
    return {k: v.to(device, non_blocking=True) if hasattr(v, "to") else v for k, v in batch.items()}


def _batches(
    data: Examples, batch_size: int, device: torch.device, generator: torch.Generator | None
):
    """Yield ``(batch, size)`` pairs, shuffled when a generator is given."""
    n = len(data)
    order = torch.randperm(n, generator=generator) if generator is not None else torch.arange(n)
    for start in range(0, n, batch_size):
        idx = order[start : start + batch_size]
        yield _to(data.take(idx), device), len(idx)


def _mean_loss(model: nn.Module, data: Examples, batch_size: int, device: torch.device) -> float:
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad(), _autocast(device):
        for batch, size in _batches(data, batch_size, device, None):
            total += float(model.loss(batch)) * size  # type: ignore[operator]
            count += size
    return total / max(count, 1)


def _autocast(device: torch.device):
    # bf16 autocast on CUDA (fast matmuls, no loss scaling needed); a no-op on CPU.
    return torch.autocast(
        device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"
    )


def fit(
    model: nn.Module,
    train: Examples | dict[str, Tensor],
    val: Examples | dict[str, Tensor] | None,
    config: LoopConfig,
    callbacks: Sequence[EpochCallback] = (),
) -> TrainResult:
    """Train ``model`` (which must define ``loss(batch)``) with AdamW and early stopping.

    ``train`` and ``val`` are :class:`Examples`, or dicts of tensors sharing their first
    dimension (wrapped in :class:`TensorExamples`).

    The weights of the epoch with the lowest validation loss are restored before returning,
    and the model is left on the chosen device in eval mode. With ``val=None`` (a final fit
    on train + validation, for the epoch count tuning found) it trains exactly
    ``config.epochs`` epochs and keeps the last weights.
    """
    if not hasattr(model, "loss"):
        raise TypeError(f"{type(model).__name__} must define loss(batch) to be trained")
    train = as_examples(train)
    val = as_examples(val) if val is not None else None
    seed_everything(config.seed)
    device = pick_device(config.device)
    model.to(device)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    generator = torch.Generator().manual_seed(config.seed)

    best_loss, best_epoch, best_state = float("inf"), 0, copy.deepcopy(model.state_dict())
    history: list[dict[str, float]] = []
    started = time.perf_counter()
    epoch = 0
    for epoch in range(1, config.epochs + 1):
        model.train()
        running, seen = 0.0, 0
        for batch, size in _batches(train, config.batch_size, device, generator):
            optimizer.zero_grad(set_to_none=True)
            with _autocast(device):
                loss = model.loss(batch)  # type: ignore[operator]
            loss.backward()
            optimizer.step()
            running += float(loss.detach()) * size
            seen += size
        record = {"train_loss": running / max(seen, 1)}
        if val is None:
            history.append({"epoch": epoch, **record})
            for callback in callbacks:
                callback(epoch, record)
            continue
        val_loss = _mean_loss(model, val, config.batch_size, device)
        record["val_loss"] = val_loss
        history.append({"epoch": epoch, **record})
        for callback in callbacks:
            callback(epoch, record)
        if val_loss < best_loss:
            best_loss, best_epoch = val_loss, epoch
            best_state = copy.deepcopy(model.state_dict())
        elif epoch - best_epoch >= config.patience:
            break

    if val is None:
        best_epoch, best_val = epoch, None
    else:
        model.load_state_dict(best_state)
        best_val = best_loss
    model.eval()
    return TrainResult(
        best_epoch=best_epoch,
        best_val_loss=best_val,
        epochs_run=epoch,
        seconds=time.perf_counter() - started,
        device=str(device),
        history=history,
    )
