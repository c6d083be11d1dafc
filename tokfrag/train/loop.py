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
    best_val_loss: float
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


def _length(data: dict[str, Tensor]) -> int:
    lengths = {len(v) for v in data.values()}
    if len(lengths) != 1:
        raise ValueError(f"all tensors in a split need the same first dimension, got {lengths}")
    return lengths.pop()


def _batches(
    data: dict[str, Tensor],
    batch_size: int,
    device: torch.device,
    generator: torch.Generator | None,
):
    n = _length(data)
    order = torch.randperm(n, generator=generator) if generator is not None else torch.arange(n)
    for start in range(0, n, batch_size):
        idx = order[start : start + batch_size]
        yield {k: v[idx].to(device, non_blocking=True) for k, v in data.items()}


def _mean_loss(
    model: nn.Module, data: dict[str, Tensor], batch_size: int, device: torch.device
) -> float:
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad(), _autocast(device):
        for batch in _batches(data, batch_size, device, None):
            size = _length(batch)
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
    train: dict[str, Tensor],
    val: dict[str, Tensor],
    config: LoopConfig,
    callbacks: Sequence[EpochCallback] = (),
) -> TrainResult:
    """Train ``model`` (which must define ``loss(batch)``) with AdamW and early stopping.

    The weights of the epoch with the lowest validation loss are restored before returning,
    and the model is left on the chosen device in eval mode.
    """
    if not hasattr(model, "loss"):
        raise TypeError(f"{type(model).__name__} must define loss(batch) to be trained")
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
        for batch in _batches(train, config.batch_size, device, generator):
            optimizer.zero_grad(set_to_none=True)
            with _autocast(device):
                loss = model.loss(batch)  # type: ignore[operator]
            loss.backward()
            optimizer.step()
            size = _length(batch)
            running += float(loss.detach()) * size
            seen += size
        val_loss = _mean_loss(model, val, config.batch_size, device)
        record = {"train_loss": running / max(seen, 1), "val_loss": val_loss}
        history.append({"epoch": epoch, **record})
        for callback in callbacks:
            callback(epoch, record)
        if val_loss < best_loss:
            best_loss, best_epoch = val_loss, epoch
            best_state = copy.deepcopy(model.state_dict())
        elif epoch - best_epoch >= config.patience:
            break

    model.load_state_dict(best_state)
    model.eval()
    return TrainResult(
        best_epoch=best_epoch,
        best_val_loss=best_loss,
        epochs_run=epoch,
        seconds=time.perf_counter() - started,
        device=str(device),
        history=history,
    )
