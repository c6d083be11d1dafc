"""A linear skip from the lags (and covariates) to the forecast, warm-started by ridge.

Series networks add it to their own output, so a network only has to learn what a linear
autoregression cannot: on 82 training windows a graph network or a Transformer trained from
a random start is easily worse than a ridge regression, and the skip makes the linear
filter its starting point instead of something to rediscover (the linear part of
LSTNet's "highway" and of DLinear, Zeng et al. 2023, https://arxiv.org/abs/2205.13504).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn


class LinearSkip(nn.Module):
    r"""One linear map per horizon step, shared by every node:

    .. math::
        \hat y_{n} = W \, [x_{n,1..L} \,\|\, c_{1..H}] + b

    Args:
        lags: ``L`` input steps.
        horizon: ``H`` output steps.
        covariates: ``F`` covariates per target step (0: none).

    Shapes:
        - **x** ``(B, N, L)`` standardised inputs; **c** ``(B, H, F)`` or ``None``
        - **output** ``(B, N, H)``
    """

    def __init__(self, lags: int, horizon: int, covariates: int = 0) -> None:
        super().__init__()
        self.covariates = covariates
        self.linear = nn.Linear(lags + horizon * covariates, horizon)

    def reset_parameters(self) -> None:
        self.linear.reset_parameters()

    def _inputs(self, x: Tensor, c: Tensor | None) -> Tensor:
        if not self.covariates:
            return x  # (B, N, L)
        if c is None:
            raise ValueError("this model reads covariates: pass c of shape (B, H, F)")
        flat = c.flatten(1)[:, None].expand(-1, x.shape[1], -1)  # (B, N, H*F)
        return torch.cat([x, flat.to(x.dtype)], dim=-1)  # (B, N, L + H*F)

    def forward(self, x: Tensor, c: Tensor | None = None) -> Tensor:
        # Always fp32, also under bf16 autocast: the ridge start is exact only there, and
        # this small map costs nothing.
        with torch.autocast(device_type=x.device.type, enabled=False):
            return self.linear(self._inputs(x.float(), None if c is None else c.float()))

    @torch.no_grad()
    def fit_ridge(
        self,
        x: Tensor,
        y: Tensor,
        c: Tensor | None = None,
        alpha: float = 1.0,
        w: Tensor | None = None,
    ) -> None:
        """Set the weights to the ridge solution on training windows (closed form, the
        intercept not penalised): the skip then starts where an AR ridge model ends.

        With ``w`` (the targets' 0/1 observed mask), each horizon step is fitted on the
        (window, node) rows whose target at that step is observed; ``x`` is read as given
        (gaps already filled). A step with no observed target starts at zero.

        Shapes: **x** ``(S, N, L)``, **y** ``(S, N, H)``, **c** ``(S, H, F)`` or ``None``,
        **w** ``(S, N, H)`` or ``None``.
        """
        from tokfrag.models.ridge import ridge_solve

        inputs = self._inputs(x, c).reshape(-1, self.linear.in_features).double().numpy()
        targets = y.reshape(-1, self.linear.out_features).double().numpy()  # (S*N, H)
        if w is None:
            coef, intercept = ridge_solve(inputs, targets, alpha)  # (in, H), (H,)
        else:
            coef, intercept = _ridge_per_step(inputs, targets, w, alpha)
        self.linear.weight.copy_(torch.from_numpy(coef.T))  # (H, in)
        self.linear.bias.copy_(torch.from_numpy(intercept))


def _ridge_per_step(
    inputs: np.ndarray, targets: np.ndarray, w: Tensor, alpha: float
) -> tuple[np.ndarray, np.ndarray]:
    """One ridge fit per horizon step on the rows whose target there is observed.

    Shapes: **inputs** ``(M, D)``, **targets** ``(M, H)``, **w** ``M * H`` entries ->
    coefficients ``(D, H)``, intercept ``(H,)``.
    """
    from tokfrag.models.ridge import ridge_solve

    seen = w.reshape(targets.shape).cpu().numpy() > 0  # (M, H)
    coef = np.zeros((inputs.shape[1], targets.shape[1]))
    intercept = np.zeros(targets.shape[1])
    for h in range(targets.shape[1]):
        rows = seen[:, h]
        if rows.any():
            step_coef, step_intercept = ridge_solve(inputs[rows], targets[rows, h : h + 1], alpha)
            coef[:, h], intercept[h] = step_coef[:, 0], step_intercept[0]
    return coef, intercept
