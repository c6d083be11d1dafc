"""Forecast metrics, overall and per horizon step (scikit-learn implementations)."""

from __future__ import annotations

import math

import numpy as np


def masked_mape(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean absolute percentage error over the targets that are not zero (a zero target has
    no percentage error); ``nan`` when every target is zero. scikit-learn's implementation,
    on the unmasked entries."""
    from sklearn.metrics import mean_absolute_percentage_error

    mask = y_true != 0
    if not mask.any():
        return float("nan")
    return float(mean_absolute_percentage_error(y_true[mask], y_pred[mask]))


def forecast_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, prefix: str = "test_"
) -> dict[str, float]:
    """``(S, N, H)`` targets and forecasts -> MSE, MAE, RMSE and MAPE overall and per
    horizon step.

    Keys: ``{prefix}mse``, ``{prefix}mae``, ``{prefix}rmse``, ``{prefix}mape`` over every
    step, and, when ``H > 1``, ``{prefix}mse_h{k}`` (and mae, rmse, mape) for step
    ``k = 1 .. H`` alone.
    RMSE is the square root of the pooled MSE (over windows and nodes), as T-GCN and DCRNN
    report it, not a mean of per-node or per-window RMSEs; the overall RMSE is therefore
    ``sqrt(mean_k mse_h{k})``, not the mean of the per-step RMSEs. MAPE skips zero targets
    (see :func:`masked_mape`) and is a fraction, not a percentage.
    """
    # Imported here: scikit-learn costs about a second to import, and only evaluate needs it.
    from sklearn.metrics import mean_absolute_error, mean_squared_error

    if y_true.shape != y_pred.shape:
        raise ValueError(f"targets {y_true.shape} and forecasts {y_pred.shape} differ in shape")
    horizon = y_true.shape[-1]
    flat_true, flat_pred = y_true.reshape(-1, horizon), y_pred.reshape(-1, horizon)
    mse = float(mean_squared_error(flat_true, flat_pred))
    metrics = {
        f"{prefix}mse": mse,
        f"{prefix}mae": float(mean_absolute_error(flat_true, flat_pred)),
        f"{prefix}rmse": math.sqrt(mse),
        f"{prefix}mape": masked_mape(flat_true, flat_pred),
    }
    for h in range(horizon if horizon > 1 else 0):
        mse_h = float(mean_squared_error(flat_true[:, h], flat_pred[:, h]))
        metrics[f"{prefix}mse_h{h + 1}"] = mse_h
        metrics[f"{prefix}mae_h{h + 1}"] = float(
            mean_absolute_error(flat_true[:, h], flat_pred[:, h])
        )
        metrics[f"{prefix}rmse_h{h + 1}"] = math.sqrt(mse_h)
        metrics[f"{prefix}mape_h{h + 1}"] = masked_mape(flat_true[:, h], flat_pred[:, h])
    return metrics


def item_losses(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """``(S, N, H)`` -> ``(S,)``: each test window's squared error, averaged over nodes and
    steps (their mean is the MSE); the items the families are paired on."""
    return ((y_true - y_pred) ** 2).reshape(len(y_true), -1).mean(axis=1)


def classification_metrics(
    y_true: np.ndarray, proba: np.ndarray, label_names: tuple[str, ...], prefix: str = "test_"
) -> dict[str, object]:
    """``(B,)`` labels and ``(B, C)`` probabilities -> accuracy, macro-F1 (scalars), the
    per-class precision/recall/F1/support report and the ``C x C`` confusion matrix (rows:
    true class, columns: predicted class), all from scikit-learn."""
    from sklearn.metrics import (
        accuracy_score,
        classification_report,
        confusion_matrix,
        f1_score,
    )

    if proba.shape != (len(y_true), len(label_names)):
        expected = (len(y_true), len(label_names))
        raise ValueError(f"expected probabilities of shape {expected}, got {proba.shape}")
    y_pred = proba.argmax(axis=1)
    classes = list(range(len(label_names)))
    report = classification_report(
        y_true,
        y_pred,
        labels=classes,
        target_names=list(label_names),
        output_dict=True,
        zero_division=0,
    )
    per_class_f1 = {
        f"{prefix}f1_{_metric_safe(name)}": float(report[name]["f1-score"]) for name in label_names
    }
    return {
        f"{prefix}accuracy": float(accuracy_score(y_true, y_pred)),
        f"{prefix}macro_f1": float(
            f1_score(y_true, y_pred, labels=classes, average="macro", zero_division=0)
        ),
        **per_class_f1,  # e.g. the spam class's F1 on SMS Spam
        "per_class": {name: report[name] for name in label_names},
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=classes).tolist(),
    }


def _metric_safe(name: str) -> str:
    """A class name as MLflow accepts it in a metric key (letters, digits, ``_-. /``)."""
    return "".join(c if c.isalnum() or c in "_-. /" else "_" for c in str(name))
