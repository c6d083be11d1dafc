"""Token family for series, patch variant: normalised patches -> a BERT-style encoder -> values.

Each node's window is read on its own (channel-independent), standardised by its own mean and
standard deviation and cut into patches by a :class:`.patch.PatchTokenizer`; a linear
map embeds each patch as one token, a small Transformer encoder built from a ``transformers``
config (no download) reads the patch sequence with learned positions, and a linear head on the
flattened hidden states regresses the ``H`` future values in normalised units, which the
window's own mean and scale turn back into data units (PatchTST with instance normalisation).

Two choices depart from plain PatchTST, both switchable in :class:`PatchTokenConfig`, because
on short windows plain instance normalisation loses: the window's level is hidden from the
model (a window at +2 and one at 0 look alike after normalisation, though the first is likelier
to fall back), and a window with a tiny standard deviation turns a small move into a huge
normalised target that dominates a normalised loss. On Chickenpox (PyTorch Geometric Temporal
protocol, lags 4, patch_len 2, stride 1, seed 0) plain PatchTST scored test MSE 1.29, data-unit
loss alone 1.02 (predicting zero: 1.01), a stats token alone 0.76, both 0.71 (AR(4) ridge:
0.70).

- ``stats_token``: one extra token embeds the window's statistics,
  ``(sign(loc) * log1p(|loc|), log(scale))``, as Lag-Llama feeds its scaler's statistics as
  covariates (Rasul et al., 2023, https://arxiv.org/abs/2310.08278); Liu et al. (2022,
  "Non-stationary Transformers", https://arxiv.org/abs/2205.14415) call the loss it repairs
  over-stationarisation.
- ``loss_units="data"``: the squared error is taken after denormalising, in the units the
  forecasts are scored in.

Gaps (``data.missing: mask``, ``observed``): the tokenizer already takes each window's
``loc`` and ``scale`` over its observed values, so a gap is filled with 0 in normalised
units, the window's observed mean; each patch also carries its steps' 0/1 observed flags
(a token reads ``2 * patch_len`` values), and the loss counts observed targets only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor
from transformers import AutoConfig, AutoModel

from tokfrag.families.token.patch import PatchedWindows, PatchTokenizer
from tokfrag.families.token.patch_net import PatchTokenConfig, PatchTokenNet
from tokfrag.families.token.quantized_model import run_batched
from tokfrag.families.token.quantized_net import bert_sizes
from tokfrag.models.forecaster import check_windows
from tokfrag.models.masking import (
    has_missing,
    refuse_missing,
    split_missing,
)
from tokfrag.models.saving import load_hf, read_config, save_hf

AutoConfig.register(PatchTokenConfig.model_type, PatchTokenConfig, exist_ok=True)
AutoModel.register(PatchTokenConfig, PatchTokenNet, exist_ok=True)


class PatchForecaster:
    """Patch tokenizer + :class:`PatchTokenNet`, behind the
    :class:`~tokfrag.models.forecaster.Forecaster` contract: windows ``(S, N, L)`` in data
    units -> forecasts ``(S, N, H)`` in data units."""

    kind: ClassVar[str] = "token_patch"
    family: ClassVar[str] = "token"

    def __init__(self, tokenizer: PatchTokenizer, net: PatchTokenNet) -> None:
        c = net.config
        if (c.patch_len, c.num_patches) != (
            tokenizer.patch_len,
            tokenizer.num_patches(c.context_length),
        ):
            raise ValueError(
                f"the network reads {c.num_patches} patches of {c.patch_len} steps but the "
                f"tokenizer cuts {c.context_length} steps into "
                f"{tokenizer.num_patches(c.context_length)} of {tokenizer.patch_len}"
            )
        self.tokenizer = tokenizer
        self.net = net

    @classmethod
    def build(
        cls,
        tokenizer: PatchTokenizer,
        lags: int,
        horizon: int,
        stats_token: bool = True,
        loss_units: str = "data",
        observed: bool = False,
        **sizes: Any,
    ) -> PatchForecaster:
        """A fresh forecaster; ``stats_token``, ``loss_units`` and ``observed`` (read
        windows with gaps, ``data.missing: mask``) as in :class:`PatchTokenConfig`, ``sizes``
        are :func:`.quantized_model.bert_sizes`' keyword arguments."""
        config = PatchTokenConfig(
            context_length=lags,
            patch_len=tokenizer.patch_len,
            num_patches=tokenizer.num_patches(lags),
            horizon=horizon,
            stats_token=stats_token,
            loss_units=loss_units,
            observed=observed,
            **bert_sizes(**sizes),
        )
        return cls(tokenizer, PatchTokenNet(config))

    @property
    def lags(self) -> int:
        return self.net.config.context_length

    @property
    def horizon(self) -> int:
        return self.net.config.horizon

    @property
    def observed(self) -> bool:
        """Whether the network reads the 0/1 observed flags (and so accepts gaps)."""
        return bool(self.net.config.observed)

    def _encode(self, windows: np.ndarray) -> tuple[PatchedWindows, np.ndarray, np.ndarray]:
        """Validated windows ``(S, N, L)`` -> their encoding over ``S * N`` sequences, its
        patches ``(S*N, P, patch_len)`` with gaps filled (0: the window's observed mean) and
        their observed flags (same shape). Gaps are refused by a network without the flags."""
        windows = check_windows(windows, self.lags, allow_missing=True)
        if not self.observed:
            refuse_missing(windows)
        s, n, _ = windows.shape
        encoded = self.tokenizer.encode(windows.reshape(s * n, self.lags))
        patches, m = split_missing(encoded.patches)  # (S*N, P, patch_len) each
        return encoded, patches, m

    def tensors(
        self,
        windows: np.ndarray,
        targets: np.ndarray | None = None,
        times: np.ndarray | None = None,
    ) -> dict[str, Tensor]:
        """Patch tensors per window: ``patches`` ``(S, N, P, patch_len)`` float32, ``loc`` and
        ``scale`` ``(S, N)`` float32 and, with targets, ``y`` ``(S, N, H)`` float32 targets
        normalised by their window's ``loc`` and ``scale``. Every node's window is normalised
        and patched on its own (channel-independent).

        Gaps (NaN): a network built with ``observed`` reads windows with gaps (``loc`` and
        ``scale`` over the observed values, gaps filled with 0 in normalised units) and gets
        ``m`` ``(S, N, P, patch_len)``, 1.0 observed / 0.0 filled; one built without it
        refuses them. Targets with gaps give ``y`` with 0 there and ``w`` ``(S, N, H)``, the
        observed targets, which the loss counts alone."""
        encoded, patches, m = self._encode(windows)
        s, n = np.shape(windows)[:2]
        shape = (s, n, *patches.shape[1:])
        out = {
            "patches": torch.from_numpy(patches).float().view(shape),
            "loc": torch.from_numpy(encoded.loc).float().view(s, n),
            "scale": torch.from_numpy(encoded.scale).float().view(s, n),
        }
        if self.observed:
            out["m"] = torch.from_numpy(m).float().view(shape)  # (S, N, P, patch_len)
        if targets is not None:
            y = np.asarray(targets, dtype=np.float64).reshape(s * n, self.horizon)
            y = (y - encoded.loc[:, None]) / encoded.scale[:, None]  # (S*N, H)
            if has_missing(y):
                y, w = split_missing(y)
                out["w"] = torch.from_numpy(w).float().view(s, n, self.horizon)
            out["y"] = torch.from_numpy(y).float().view(s, n, self.horizon)
        return out

    @torch.no_grad()
    def forecast(
        self, windows: np.ndarray, times: np.ndarray | None = None, batch_size: int = 4096
    ) -> np.ndarray:
        """Windows ``(S, N, L)`` -> forecasts ``(S, N, H)``; ``times`` is not read (this
        variant has no calendar covariates)."""
        encoded, patches, m = self._encode(windows)
        s, n = np.shape(windows)[:2]
        if s * n == 0:
            return np.zeros((s, n, self.horizon))
        inputs: tuple[Tensor, ...] = (
            torch.from_numpy(patches).float(),  # (S*N, P, patch_len)
            torch.from_numpy(encoded.loc).float(),  # (S*N,)
            torch.from_numpy(encoded.scale).float(),  # (S*N,)
        )
        if self.observed:
            inputs += (torch.from_numpy(m).float(),)  # (S*N, P, patch_len)
        z = run_batched(self.net, inputs, batch_size).double().numpy()  # (S*N, H)
        # (S*N, H), data units
        point: np.ndarray = z * encoded.scale[:, None] + encoded.loc[:, None]
        return point.reshape(s, n, self.horizon)

    def save(self, path: str | Path) -> Path:
        config = {
            "kind": self.kind,
            "lags": self.lags,
            "horizon": self.horizon,
            "tokenizer": self.tokenizer.to_dict(),
        }
        return save_hf(path, config, self.net)

    @classmethod
    def load(cls, path: str | Path) -> PatchForecaster:
        config = read_config(path)
        tokenizer = PatchTokenizer.from_dict(config["tokenizer"])
        return cls(tokenizer, load_hf(path, PatchTokenNet))
