"""Round-trip properties (hypothesis) that every series tokenizer must keep.

- ``MeanScaleQuantizer``: ``decode(encode(x))`` is within half a bin width times the window's
  scale wherever ``x / scale`` lies inside ``[low, high]`` (the edge centre outside), exact at
  bin centres; NaN becomes PAD, is masked, and decodes to NaN.
- ``PatchTokenizer``: ``decode(encode(x)) == x`` to 1e-9 of the window's magnitude for any
  finite window (constant ones included) and any ``patch_len``/``stride <= patch_len``;
  overlapping patches agree on every step they share.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tokfrag.families.token import MeanScaleQuantizer, PatchTokenizer, Tokenizer
from tokfrag.families.token.quantizer import EOS_ID, NUM_SPECIAL, PAD_ID

PROPERTIES = settings(max_examples=50, deadline=None)


@st.composite
def windows(draw, max_batch: int = 6, max_length: int = 24, with_nan: bool = False):
    """``(B, L)`` float64 windows of very different magnitudes, some constant, maybe NaN."""
    b = draw(st.integers(1, max_batch))
    length = draw(st.integers(1, max_length))
    values = st.floats(-1e3, 1e3, allow_nan=False, allow_subnormal=False)
    x = draw(arrays(np.float64, (b, length), elements=values))
    magnitude = 10.0 ** draw(arrays(np.float64, (b, 1), elements=st.floats(-6, 6)))
    x = x * magnitude
    constant = draw(arrays(np.bool_, (b,)))
    x[constant] = x[constant, :1]  # some windows repeat one value
    if with_nan:
        x[draw(arrays(np.bool_, (b, length)))] = np.nan
    return x


@st.composite
def quantizers(draw) -> MeanScaleQuantizer:
    low = draw(st.floats(-20.0, 0.0, exclude_max=True))
    width = draw(st.floats(0.1, 40.0))
    return MeanScaleQuantizer(draw(st.integers(2, 300)), low, low + width)


@st.composite
def patch_tokenizers(draw) -> PatchTokenizer:
    patch_len = draw(st.integers(1, 10))
    stride = draw(st.integers(1, patch_len))
    return PatchTokenizer(patch_len, stride, draw(st.sampled_from(["patchtst", "minimal"])))


def test_both_series_tokenizers_satisfy_the_one_contract():
    for tokenizer in (MeanScaleQuantizer(), PatchTokenizer()):
        assert isinstance(tokenizer, Tokenizer)
        assert tokenizer.fit(np.zeros((2, 4))) is tokenizer


# --- MeanScaleQuantizer ------------------------------------------------------------------


@PROPERTIES
@given(q=quantizers(), x=windows(with_nan=True))
def test_quantizer_round_trip_within_half_a_bin(q, x):
    encoded = q.encode(x)
    b, length = x.shape
    assert encoded.input_ids.shape == encoded.attention_mask.shape == (b, length + 1)
    assert encoded.input_ids.dtype == encoded.attention_mask.dtype == np.int64
    assert encoded.scale.shape == (b,) and (encoded.scale > 0).all()
    decoded = q.decode(encoded)
    assert decoded.shape == x.shape and decoded.dtype == np.float64

    scale = np.broadcast_to(encoded.scale[:, None], x.shape)
    observed = ~np.isnan(x)
    scaled = np.where(observed, x, 0.0) / scale
    half = (q.high - q.low) / (q.n_bins - 1) / 2
    inside = observed & (scaled >= q.low) & (scaled <= q.high)
    error = np.abs(decoded - x)
    assert (error[inside] <= half * scale[inside] * (1 + 1e-9)).all()
    # Outside the range, values clip to the edge bins' centres.
    above, below = observed & (scaled > q.high), observed & (scaled < q.low)
    np.testing.assert_allclose(decoded[above], q.high * scale[above], rtol=1e-12)
    np.testing.assert_allclose(decoded[below], q.low * scale[below], rtol=1e-12)


@PROPERTIES
@given(q=quantizers(), x=windows(with_nan=True))
def test_quantizer_nan_is_pad_masked_and_decodes_to_nan(q, x):
    encoded = q.encode(x)
    ids, mask = encoded.input_ids, encoded.attention_mask
    missing = np.isnan(x)
    np.testing.assert_array_equal(ids[:, -1], EOS_ID)
    np.testing.assert_array_equal(mask[:, -1], 1)
    np.testing.assert_array_equal(ids[:, :-1] == PAD_ID, missing)
    np.testing.assert_array_equal(mask[:, :-1], (~missing).astype(np.int64))
    values = ids[:, :-1][~missing]
    assert ((values >= NUM_SPECIAL) & (values < q.vocab_size)).all()
    np.testing.assert_array_equal(np.isnan(q.decode(encoded)), missing)


@PROPERTIES
@given(
    q=quantizers(),
    data=st.data(),
    scale=st.floats(1e-6, 1e6),
)
def test_quantizer_is_exact_at_bin_centres(q, data, scale):
    length = data.draw(st.integers(2, 16))
    bins = data.draw(arrays(np.int64, (3, length - 1), elements=st.integers(0, q.n_bins - 1)))
    centres = q.centers[bins]  # (3, L-1)
    # Under a given scale, centre * scale maps to its own bin and back.
    labels = q.encode_target(centres * scale, np.full(3, scale))
    np.testing.assert_array_equal(labels, bins)
    np.testing.assert_allclose(q.decode_labels(labels, np.full(3, scale)), centres * scale)
    # Through encode: [c_1 .. c_k, r, 0, ...] with |c_1| + .. + |c_k| + r = n has mean |x| = 1,
    # so each c_i is a bin centre in scaled units; then the whole window is scaled.
    k = length - 1
    n = int(np.ceil(np.abs(centres).sum(axis=1).max())) + k + 1
    rest = n - np.abs(centres).sum(axis=1, keepdims=True)  # (3, 1), positive
    x = np.concatenate([centres, rest, np.zeros((3, n - k - 1))], axis=1) * scale  # (3, n)
    encoded = q.encode(x)
    np.testing.assert_allclose(encoded.scale, scale, rtol=1e-12)
    np.testing.assert_array_equal(encoded.input_ids[:, :k], bins + NUM_SPECIAL)
    np.testing.assert_allclose(q.decode(encoded)[:, :k], x[:, :k], rtol=1e-12, atol=0)


# --- PatchTokenizer ----------------------------------------------------------------------


@PROPERTIES
@given(tok=patch_tokenizers(), x=windows(max_length=40))
def test_patch_round_trip_is_exact(tok, x):
    encoded = tok.encode(x)
    b, length = x.shape
    assert encoded.patches.shape == (b, tok.num_patches(length), tok.patch_len)
    assert encoded.loc.shape == encoded.scale.shape == (b,) and encoded.length == length
    assert np.isfinite(encoded.patches).all() and (encoded.scale > 0).all()
    assert encoded.patches.flags.writeable and encoded.patches.flags.c_contiguous
    decoded = tok.decode(encoded)
    assert decoded.shape == x.shape and decoded.dtype == np.float64
    magnitude = np.abs(x).max(axis=1, keepdims=True)
    assert (np.abs(decoded - x) <= 1e-9 * magnitude).all()


@PROPERTIES
@given(tok=patch_tokenizers(), x=windows(max_length=40))
def test_overlapping_patches_agree_and_padding_repeats_the_last_value(tok, x):
    encoded = tok.encode(x)
    b, length = x.shape
    padded = np.full((b, tok.padded_length(length)), np.nan)
    for p in range(encoded.patches.shape[1]):
        span = slice(p * tok.stride, p * tok.stride + tok.patch_len)
        seen = ~np.isnan(padded[:, span])
        np.testing.assert_array_equal(padded[:, span][seen], encoded.patches[:, p][seen])
        padded[:, span] = encoded.patches[:, p]
    assert not np.isnan(padded).any()  # every padded step lies in some patch
    tail = padded[:, length:]
    np.testing.assert_array_equal(tail, np.broadcast_to(padded[:, length - 1 : length], tail.shape))


@PROPERTIES
@given(tok=patch_tokenizers(), x=windows(max_length=30, with_nan=True))
def test_patch_nan_is_ignored_by_the_statistics_and_restored(tok, x):
    encoded = tok.encode(x)
    assert np.isfinite(encoded.loc).all() and np.isfinite(encoded.scale).all()
    decoded = tok.decode(encoded)
    missing = np.isnan(x)
    np.testing.assert_array_equal(np.isnan(decoded), missing)
    magnitude = np.broadcast_to(np.nanmax(np.abs(np.where(missing, 0, x)), 1)[:, None], x.shape)
    assert (np.abs(decoded - x)[~missing] <= 1e-9 * magnitude[~missing]).all()
