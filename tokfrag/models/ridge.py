"""Ridge regression in closed form, shared by the ridge baselines and the skips that are
warm-started from them."""

from __future__ import annotations

import numpy as np


def ridge_solve(x: np.ndarray, y: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Ridge regression in closed form with an unpenalised intercept.

    Shapes: **x** ``(M, D)``, **y** ``(M, H)`` -> coefficients ``(D, H)``, intercept ``(H,)``.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    x_mean, y_mean = x.mean(axis=0), y.mean(axis=0)
    xc, yc = x - x_mean, y - y_mean
    coef = np.linalg.solve(xc.T @ xc + alpha * np.eye(x.shape[1]), xc.T @ yc)
    return coef, y_mean - x_mean @ coef
