"""One training loop for both families, and the metrics they are judged by."""

from tokfrag.train.loop import (
    Examples,
    LoopConfig,
    TensorExamples,
    TrainingDiverged,
    TrainResult,
    as_examples,
    batch_order,
    fit,
    pick_device,
    seed_everything,
)
from tokfrag.train.metrics import classification_metrics, forecast_metrics

__all__ = [
    "Examples",
    "TensorExamples",
    "LoopConfig",
    "TrainResult",
    "TrainingDiverged",
    "batch_order",
    "as_examples",
    "fit",
    "classification_metrics",
    "forecast_metrics",
    "pick_device",
    "seed_everything",
]
