"""Forecast metrics, overall and per horizon step (scikit-learn implementations)."""

from __future__ import annotations

import math

import numpy as np
from sklearn.metrics import mean_absolute_error, mean_squared_error


def forecast_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, prefix: str = "test_"
) -> dict[str, float]:
    """``(S, N, H)`` targets and forecasts -> MSE, MAE and RMSE overall and per horizon step.

    Keys: ``{prefix}mse``, ``{prefix}mae``, ``{prefix}rmse`` over every step, and, when
    ``H > 1``, ``{prefix}mse_h{k}``, ``{prefix}mae_h{k}``, ``{prefix}rmse_h{k}`` for step
    ``k = 1 .. H`` alone. RMSE is the square root of the pooled MSE (over windows and nodes),
    as T-GCN and DCRNN report it, not a mean of per-node or per-window RMSEs; the overall RMSE
    is therefore ``sqrt(mean_k mse_h{k})``, not the mean of the per-step RMSEs.
    """
    if y_true.shape != y_pred.shape:
        raise ValueError(f"targets {y_true.shape} and forecasts {y_pred.shape} differ in shape")
    horizon = y_true.shape[-1]
    flat_true, flat_pred = y_true.reshape(-1, horizon), y_pred.reshape(-1, horizon)
    mse = float(mean_squared_error(flat_true, flat_pred))
    metrics = {
        f"{prefix}mse": mse,
        f"{prefix}mae": float(mean_absolute_error(flat_true, flat_pred)),
        f"{prefix}rmse": math.sqrt(mse),
    }
    if horizon > 1:
        for h in range(horizon):
            mse_h = float(mean_squared_error(flat_true[:, h], flat_pred[:, h]))
            metrics[f"{prefix}mse_h{h + 1}"] = mse_h
            metrics[f"{prefix}mae_h{h + 1}"] = float(
                mean_absolute_error(flat_true[:, h], flat_pred[:, h])
            )
            metrics[f"{prefix}rmse_h{h + 1}"] = math.sqrt(mse_h)
    return metrics


def classification_metrics(
    y_true: np.ndarray, proba: np.ndarray, label_names: tuple[str, ...], prefix: str = "test_"
) -> dict[str, object]:
    """``(B,)`` labels and ``(B, C)`` probabilities -> accuracy, macro-F1 (scalars) and the
    ``C x C`` confusion matrix (rows: true class, columns: predicted class)."""
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

    if proba.shape != (len(y_true), len(label_names)):
        expected = (len(y_true), len(label_names))
        raise ValueError(f"expected probabilities of shape {expected}, got {proba.shape}")
    y_pred = proba.argmax(axis=1)
    classes = list(range(len(label_names)))
    return {
        f"{prefix}accuracy": float(accuracy_score(y_true, y_pred)),
        f"{prefix}macro_f1": float(
            f1_score(y_true, y_pred, labels=classes, average="macro", zero_division=0)
        ),
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=classes).tolist(),
    }
