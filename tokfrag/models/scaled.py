"""What the series forecasters that read node-standardised windows share: the per-node
scaler on the way in and out, the calendar covariates, and batched forecasting.

Both the fragment family's graph networks and the token family's inverted Transformer read
the whole window ``(N, L)`` standardised per node (a :class:`NodeScaler` fit on training
steps only) and forecast in standardised units; this base turns data-unit windows (and their
times) into the tensors a network trains on, and the network's output back into data
units. A subclass sets ``scaler``, ``net`` (whose ``config`` has ``num_nodes``, ``lags`` or
``context_length``, and ``horizon``) and ``calendar``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from tokfrag.models.forecaster import check_windows, window_covariates


class NodeScaledForecaster:
    """Tensors in, forecasts out, for networks over node-standardised windows."""

    scaler: Any  # tokfrag.fragments.NodeScaler
    net: Any  # nn.Module with .config
    calendar: Any  # CalendarSpec | None

    @property
    def lags(self) -> int:
        raise NotImplementedError

    @property
    def horizon(self) -> int:
        return int(self.net.config.horizon)

    @property
    def num_nodes(self) -> int:
        return int(self.net.config.num_nodes)

    def tensors(
        self,
        windows: np.ndarray,
        targets: np.ndarray | None = None,
        times: np.ndarray | None = None,
    ) -> dict[str, Tensor]:
        """``x`` ``(S, N, L)`` and (with targets) ``y`` ``(S, N, H)`` standardised per node,
        and with a calendar ``c`` ``(S, L + H, F)`` from ``times`` (each window's last
        input step)."""
        windows = check_windows(windows, self.lags, self.num_nodes)
        out = {"x": torch.from_numpy(self.scaler.transform(windows)).float()}  # (S, N, L)
        if targets is not None:
            out["y"] = torch.from_numpy(self.scaler.transform(targets)).float()  # (S, N, H)
        c = window_covariates(self.calendar, times, len(windows), self.lags, self.horizon)
        if c is not None:
            out["c"] = torch.from_numpy(c).float()  # (S, L+H, F)
        return out

    def warm_start(self, examples: dict[str, Tensor]) -> None:
        """Let the network start from a closed-form fit on the training examples, if it can
        (see :meth:`tokfrag.models.skip.LinearSkip.fit_ridge`)."""
        if hasattr(self.net, "warm_start"):
            self.net.warm_start(examples)

    @torch.no_grad()
    def forecast(
        self, windows: np.ndarray, times: np.ndarray | None = None, batch_size: int = 512
    ) -> np.ndarray:
        """Windows ``(S, N, L)`` in data units (and their times, for a model with a
        calendar) -> forecasts ``(S, N, H)`` in data units, in batches, on the net's device."""
        data = self.tensors(windows, times=times)
        x, c = data["x"], data.get("c")
        if len(x) == 0:
            return np.zeros((0, self.num_nodes, self.horizon))
        device = next(self.net.parameters()).device
        self.net.eval()
        parts = []
        for i in range(0, len(x), batch_size):
            args = [x[i : i + batch_size].to(device)]
            if c is not None:
                args.append(c[i : i + batch_size].to(device))
            parts.append(self.net(*args).float().cpu())
        return self.scaler.inverse(torch.cat(parts).double().numpy())  # (S, N, H)
