"""Forecast metrics, overall and per horizon step (scikit-learn implementations).

Targets may have gaps (``data.missing: mask``): a NaN target was not observed. The forecast
metrics are masked as METR-LA/PEMS-BAY papers (DCRNN's ``masked_mae``/``masked_mse``) compute
them: over the observed targets only, so a gap neither counts as an error nor dilutes the
mean. Without NaN they are the plain metrics.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np


def masked_mape(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean absolute percentage error over the targets that are observed (not NaN) and not
    zero (a zero target has no percentage error); ``nan`` when no target qualifies.
    scikit-learn's implementation, on the unmasked entries."""
    from sklearn.metrics import mean_absolute_percentage_error

    mask = (y_true != 0) & ~np.isnan(y_true)
    if not mask.any():
        return float("nan")
    return float(mean_absolute_percentage_error(y_true[mask], y_pred[mask]))


def _observed_cells(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Check targets against forecasts and return the observed mask (``y_true``'s shape).

    Raises when the shapes differ, when a target is +/-inf (a gap is NaN), or when a forecast
    is not finite where its target is observed (it would poison every metric).
    """
    if y_true.shape != y_pred.shape:
        raise ValueError(f"targets {y_true.shape} and forecasts {y_pred.shape} differ in shape")
    if np.isinf(y_true).any():
        raise ValueError(
            f"targets contain {int(np.isinf(y_true).sum())} infinite values; "
            "mark a target that was not observed with NaN"
        )
    observed: np.ndarray = ~np.isnan(y_true)
    bad = int((observed & ~np.isfinite(y_pred)).sum())
    if bad:
        raise ValueError(
            f"{bad} forecasts are NaN or infinite where the target is observed; "
            "a model must forecast a finite value for every observed target"
        )
    return observed


def _masked_metric(
    metric: Callable[..., float], y_true: np.ndarray, y_pred: np.ndarray, observed: np.ndarray
) -> float:
    """``metric`` pooled over the observed cells of ``(M, K)`` (or ``(M,)``) arrays; ``nan``
    when nothing is observed. With every cell observed the arrays go to ``metric`` whole,
    so the value is exactly the unmasked one."""
    if not observed.any():
        return float("nan")
    if observed.all():
        return float(metric(y_true, y_pred))
    return float(metric(y_true[observed], y_pred[observed]))


def forecast_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, prefix: str = "test_"
) -> dict[str, float]:
    """``(S, N, H)`` targets and forecasts -> MSE, MAE, RMSE and MAPE overall and per
    horizon step, over the observed targets only.

    Keys: ``{prefix}mse``, ``{prefix}mae``, ``{prefix}rmse``, ``{prefix}mape`` over every
    step, and, when ``H > 1``, ``{prefix}mse_h{k}`` (and mae, rmse, mape) for step
    ``k = 1 .. H`` alone.

    Masked as METR-LA/DCRNN report it: a NaN target (a gap) is left out, and each metric is
    the mean over the observed ``(window, node, step)`` cells it covers; a metric with no
    observed cell (overall, or for one step) is ``nan``. ``y_pred`` must be finite wherever
    ``y_true`` is observed (``ValueError`` otherwise); it may be anything at a gap.

    RMSE is the square root of the pooled (masked) MSE, over windows and nodes, as T-GCN and
    DCRNN report it, not a mean of per-node or per-window RMSEs, nor of the per-step RMSEs.
    Without gaps the overall RMSE is therefore ``sqrt(mean_k mse_h{k})``. MAPE also skips
    zero targets (see :func:`masked_mape`) and is a fraction, not a percentage.
    """
    # Imported here: scikit-learn costs about a second to import, and only evaluate needs it.
    from sklearn.metrics import mean_absolute_error, mean_squared_error

    observed = _observed_cells(y_true, y_pred)
    horizon = y_true.shape[-1]
    flat_true, flat_pred = y_true.reshape(-1, horizon), y_pred.reshape(-1, horizon)
    flat_seen = observed.reshape(-1, horizon)
    metrics = _metric_group(
        flat_true, flat_pred, flat_seen, prefix, "", mean_squared_error, mean_absolute_error
    )
    for h in range(horizon if horizon > 1 else 0):
        metrics |= _metric_group(
            flat_true[:, h],
            flat_pred[:, h],
            flat_seen[:, h],
            prefix,
            f"_h{h + 1}",
            mean_squared_error,
            mean_absolute_error,
        )
    return metrics


def _metric_group(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    observed: np.ndarray,
    prefix: str,
    suffix: str,
    mse_fn: Callable[..., float],
    mae_fn: Callable[..., float],
) -> dict[str, float]:
    """MSE, MAE, RMSE (``sqrt`` of the MSE) and MAPE of ``(M, K)`` or ``(M,)`` arrays over
    their observed cells, keyed ``{prefix}{name}{suffix}``."""
    mse = _masked_metric(mse_fn, y_true, y_pred, observed)
    return {
        f"{prefix}mse{suffix}": mse,
        f"{prefix}mae{suffix}": _masked_metric(mae_fn, y_true, y_pred, observed),
        f"{prefix}rmse{suffix}": math.sqrt(mse),
        f"{prefix}mape{suffix}": masked_mape(y_true, y_pred),
    }


def item_losses(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """``(S, N, H)`` -> ``(S,)``: each test window's squared error, averaged over its observed
    ``(node, step)`` targets (the items the families are paired on); ``nan`` for a window with
    no observed target (see :func:`observed_windows` to drop those). Without gaps their mean
    is the MSE."""
    observed = _observed_cells(y_true, y_pred).reshape(_per_window(y_true))
    squared = ((y_true - y_pred) ** 2).reshape(_per_window(y_true))
    totals = np.where(observed, squared, 0.0).sum(axis=1)
    counts = observed.sum(axis=1)
    losses = np.full(len(y_true), np.nan)
    np.divide(totals, counts, out=losses, where=counts > 0)
    return losses


def observed_windows(y_true: np.ndarray) -> np.ndarray:
    """``(S, ...)`` targets -> ``(S,)`` bool: the windows with at least one observed (not
    NaN) target, the ones :func:`item_losses` gives a finite loss."""
    y_true = np.asarray(y_true, dtype=np.float64)
    if y_true.ndim < 1:
        raise ValueError(f"expected targets of shape (S, N, H), got a scalar {y_true!r}")
    windows: np.ndarray = (~np.isnan(y_true)).reshape(_per_window(y_true)).any(axis=1)
    return windows


def _per_window(y_true: np.ndarray) -> tuple[int, int]:
    """``(S, ...)`` -> ``(S, prod(...))``, the shape that flattens each window (also for
    ``S = 0``, where ``reshape(S, -1)`` cannot infer the size)."""
    return len(y_true), int(np.prod(y_true.shape[1:]))


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
