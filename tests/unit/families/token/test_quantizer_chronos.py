"""MeanScaleQuantizer gives Chronos' token ids: chronos-forecasting's ``MeanScaleUniformBins``
built with tokfrag's bins and special ids, tokenising the same ``x / scale`` (both given
tokfrag's scale, and tokfrag's float64 boundaries, since Chronos keeps them in float32),
agrees on every id except for values exactly on a boundary, where the conventions differ:
tokfrag (``np.searchsorted``) takes the lower bin, Chronos (``bucketize(right=True)``) the
upper one. Chronos numbers value bins from ``NUM_SPECIAL + 1``: its ids are shifted down by one.
"""

from __future__ import annotations

import numpy as np
import pytest

from tokfrag.families.token import MeanScaleQuantizer
from tokfrag.families.token.quantizer import EOS_ID, NUM_SPECIAL, PAD_ID

pytest.importorskip("chronos", reason="pip install -e '.[dev]' (chronos-forecasting)")
torch = pytest.importorskip("torch")


def _chronos(q: MeanScaleQuantizer, length: int, float64_boundaries: bool):
    from chronos import ChronosConfig

    config = ChronosConfig(
        tokenizer_class="MeanScaleUniformBins",
        tokenizer_kwargs={"low_limit": q.low, "high_limit": q.high},
        context_length=length,
        prediction_length=1,
        n_tokens=q.n_bins + NUM_SPECIAL + 1,  # Chronos leaves id NUM_SPECIAL unused
        n_special_tokens=NUM_SPECIAL,
        pad_token_id=PAD_ID,
        eos_token_id=EOS_ID,
        use_eos_token=True,
        model_type="seq2seq",
        num_samples=1,
        temperature=1.0,
        top_k=50,
        top_p=1.0,
    )
    tokenizer = config.create_tokenizer()
    np.testing.assert_allclose(tokenizer.centers.numpy(), q.centers, rtol=1e-6, atol=1e-6)
    if float64_boundaries:
        tokenizer.boundaries = torch.from_numpy(np.concatenate([[-1e20], q.boundaries, [1e20]]))
    return tokenizer


def _chronos_ids(tokenizer, x: np.ndarray, scale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ids, mask, _ = tokenizer._input_transform(torch.from_numpy(x), scale=torch.from_numpy(scale))
    theirs = ids.numpy().astype(np.int64)
    return np.where(theirs >= NUM_SPECIAL, theirs - 1, theirs), mask.numpy()


def _windows(q: MeanScaleQuantizer, length: int) -> np.ndarray:
    """float32 random walks with NaN, all-zero and all-NaN windows, and windows whose scale
    is 1 and whose first value is a boundary that float32 holds exactly (a tie)."""
    rng = np.random.default_rng(length)
    x = rng.standard_normal((2000, length)).cumsum(axis=1) + rng.normal(0, 5, (2000, 1))
    x[rng.random(x.shape) < 0.02] = np.nan
    x[:20] = 0.0
    x[20:40] = np.nan
    exact = q.boundaries[q.boundaries.astype(np.float32) == q.boundaries]
    exact = exact[np.abs(exact) < length]
    ties = np.zeros((len(exact), length))  # [b, length - |b|, 0, ...]: mean |x| is 1
    ties[:, 0] = exact
    if length > 1:
        ties[:, 1] = length - np.abs(exact)
    return np.concatenate([x, ties]).astype(np.float32)


@pytest.mark.parametrize("n_bins, low, high", [(16, -3.0, 3.0), (4093, -15.0, 15.0), (7, -0.5, 4)])
@pytest.mark.parametrize("length", [4, 64])
def test_same_ids_as_chronos_given_the_same_scale_and_boundaries(n_bins, low, high, length):
    q = MeanScaleQuantizer(n_bins, low, high)
    x = _windows(q, length)
    ours = q.encode(x)
    theirs, mask = _chronos_ids(_chronos(q, length, float64_boundaries=True), x, ours.scale)
    values = ours.input_ids[:, :-1]
    np.testing.assert_array_equal(mask.astype(np.int64), ours.attention_mask[:, :-1])
    scaled = x.astype(np.float64) / ours.scale[:, None]
    tie = np.isin(scaled, q.boundaries)
    if (n_bins, low, high) == (16, -3.0, 3.0):
        assert tie.sum() >= 2  # -2 and 2.2e-16 are boundaries in float32 too
    np.testing.assert_array_equal(theirs[~tie], values[~tie])
    # On a boundary Chronos takes the bin above, tokfrag the one below.
    np.testing.assert_array_equal(theirs[tie], values[tie] + 1)


def test_chronos_own_scale_and_float32_bins_differ_only_next_to_boundaries():
    q = MeanScaleQuantizer(16, -3.0, 3.0)
    x = _windows(q, 64)
    ours = q.encode(x)
    ids, mask, scale = _chronos(q, 64, float64_boundaries=False).context_input_transform(
        torch.from_numpy(x)
    )
    np.testing.assert_allclose(scale.numpy(), ours.scale, rtol=1e-6)
    theirs = ids.numpy().astype(np.int64)
    theirs = np.where(theirs >= NUM_SPECIAL, theirs - 1, theirs)
    np.testing.assert_array_equal(mask.numpy().astype(np.int64), ours.attention_mask)
    differ = theirs != ours.input_ids
    assert np.abs(theirs - ours.input_ids).max() <= 1
    scaled = x.astype(np.float64) / ours.scale[:, None]
    gap = np.abs(scaled[..., None] - q.boundaries).min(axis=-1)  # (B, L)
    assert (gap[differ[:, :-1]] <= 1e-5).all()
