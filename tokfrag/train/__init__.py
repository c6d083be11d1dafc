"""One training loop for both families, and the metrics they are judged by."""

from tokfrag.train.loop import LoopConfig, TrainResult, fit, pick_device, seed_everything
from tokfrag.train.metrics import forecast_metrics

__all__ = ["LoopConfig", "TrainResult", "fit", "forecast_metrics", "pick_device", "seed_everything"]
