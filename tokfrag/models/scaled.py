"""What the series forecasters that read node-standardised windows share: the per-node
scaler on the way in and out, the calendar covariates, and batched forecasting.

Both the fragment family's graph networks and the token family's inverted Transformer read
the whole window ``(N, L)`` standardised per node (a :class:`NodeScaler` fit on training
steps only) and forecast in standardised units; this base turns data-unit windows (and their
times) into the tensors a network trains on, and the network's output back into data
units. A subclass sets ``scaler``, ``net`` (whose ``config`` has ``num_nodes``, ``lags`` or
``context_length``, ``horizon`` and, for a network that reads gaps, ``observed``) and
``calendar``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from tokfrag.models.forecaster import check_windows, window_covariates
from tokfrag.models.masking import has_missing, refuse_missing, split_missing


class NodeScaledForecaster:
    """Tensors in, forecasts out, for networks over node-standardised windows."""

    scaler: Any  # tokfrag.models.scaler.NodeScaler
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

    @property
    def observed(self) -> bool:
        """Whether the network reads the 0/1 observed channel (and so accepts gaps)."""
        return bool(getattr(self.net.config, "observed", False))

    def tensors(
        self,
        windows: np.ndarray,
        targets: np.ndarray | None = None,
        times: np.ndarray | None = None,
    ) -> dict[str, Tensor]:
        """``x`` ``(S, N, L)`` and (with targets) ``y`` ``(S, N, H)`` standardised per node,
        and with a calendar ``c`` ``(S, L + H, F)`` from ``times`` (each window's last
        input step).

        Gaps (NaN): a network built with the observed channel reads windows with gaps,
        filled with the node's training mean (0 standardised), and gets ``m`` ``(S, N, L)``,
        1.0 where a value was read and 0.0 where it was filled; one built without it refuses
        them. Targets with gaps give ``y`` with 0 there and ``w`` ``(S, N, H)``, the
        observed targets, which the loss counts alone.
        """
        windows = check_windows(windows, self.lags, self.num_nodes, allow_missing=True)
        if not self.observed:
            refuse_missing(windows)
        x, m = split_missing(self.scaler.transform(windows))  # (S, N, L) each
        out = {"x": torch.from_numpy(x).float()}  # (S, N, L)
        if self.observed:
            out["m"] = torch.from_numpy(m).float()  # (S, N, L)
        if targets is not None:
            y = self.scaler.transform(np.asarray(targets, dtype=np.float64))  # (S, N, H)
            if has_missing(y):
                y, w = split_missing(y)
                out["w"] = torch.from_numpy(w).float()  # (S, N, H)
            out["y"] = torch.from_numpy(y).float()  # (S, N, H)
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
        x, c, m = data["x"], data.get("c"), data.get("m")
        if len(x) == 0:
            return np.zeros((0, self.num_nodes, self.horizon))
        device = next(self.net.parameters()).device
        self.net.eval()
        parts = []
        for i in range(0, len(x), batch_size):
            extra = {
                key: value[i : i + batch_size].to(device)
                for key, value in (("c", c), ("m", m))
                if value is not None
            }
            parts.append(self.net(x[i : i + batch_size].to(device), **extra).float().cpu())
        return self.scaler.inverse(torch.cat(parts).double().numpy())  # (S, N, H)
