"""MeanScaleQuantizer: round trips, special tokens, scaling, clipping, persistence."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tokfrag.families.token import MeanScaleQuantizer
from tokfrag.families.token.quantizer import EOS_ID, NUM_SPECIAL, PAD_ID

CONFIGS = [(16, -3.0, 3.0), (256, -10.0, 10.0), (2, -1.0, 1.0), (7, -0.5, 4.0)]


def _half_width(q: MeanScaleQuantizer) -> float:
    return (q.high - q.low) / (q.n_bins - 1) / 2


@pytest.mark.parametrize("n_bins, low, high", CONFIGS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_round_trip_within_half_a_bin(n_bins, low, high, seed):
    rng = np.random.default_rng(seed)
    q = MeanScaleQuantizer(n_bins, low, high)
    magnitude = 10.0 ** rng.uniform(-2, 3, size=(200, 1))  # windows of very different sizes
    x = (rng.normal(size=(200, 12)) + rng.uniform(-1, 1, size=(200, 1))) * magnitude
    encoded = q.encode(x)
    with_eos = q.decode_ids(encoded.input_ids, encoded.scale)
    assert with_eos.shape == (200, 13)
    assert np.isnan(with_eos[:, -1]).all()  # EOS decodes to NaN
    decoded = q.decode(encoded)  # the inverse of encode: (B, L), EOS dropped
    assert decoded.shape == (200, 12)
    np.testing.assert_array_equal(decoded, with_eos[:, :-1])
    scale = encoded.scale[:, None]
    inside = (x >= low * scale) & (x <= high * scale)
    assert inside.mean() > 0.3
    error = np.abs(decoded - x)[inside]
    assert (error <= _half_width(q) * np.broadcast_to(scale, x.shape)[inside] * (1 + 1e-9)).all()


@pytest.mark.parametrize("n_bins, low, high", CONFIGS)
def test_exact_at_bin_centres(n_bins, low, high):
    q = MeanScaleQuantizer(n_bins, low, high)
    length = math.ceil(max(abs(low), abs(high))) + 2
    rows = []
    for c in q.centers:
        # [c, r, 0, ...] with |c| + |r| = length has mean |x| = 1, so c / scale = c.
        rows.append([c, length - abs(c)] + [0.0] * (length - 2))
    for s in (1.0, 0.37, 250.0):
        x = np.asarray(rows) * s
        encoded = q.encode(x)
        np.testing.assert_allclose(encoded.scale, s, rtol=1e-12)
        np.testing.assert_array_equal(encoded.input_ids[:, 0], np.arange(n_bins) + NUM_SPECIAL)
        decoded = q.decode(encoded)
        np.testing.assert_allclose(decoded[:, 0], q.centers * s, rtol=1e-12, atol=1e-12)


def test_bins_of_centres_and_decode_labels_are_inverse():
    q = MeanScaleQuantizer(16, -3.0, 3.0)
    scale = np.array([0.5, 2.0, 7.0])
    values = q.centers[None, :] * scale[:, None]  # (3, 16)
    labels = q.encode_target(values, scale)
    np.testing.assert_array_equal(labels, np.tile(np.arange(16), (3, 1)))
    np.testing.assert_allclose(q.decode_labels(labels, scale), values)


def test_special_tokens_eos_last_and_pad_for_nan():
    q = MeanScaleQuantizer(16, -3.0, 3.0)
    x = np.array([[1.0, np.nan, -2.0, 3.0], [0.5, 0.5, 0.5, np.nan]])
    encoded = q.encode(x)
    assert encoded.input_ids.shape == encoded.attention_mask.shape == (2, 5)
    assert encoded.input_ids.dtype == np.int64 and encoded.attention_mask.dtype == np.int64
    np.testing.assert_array_equal(encoded.input_ids[:, -1], [EOS_ID, EOS_ID])
    np.testing.assert_array_equal(encoded.attention_mask, [[1, 0, 1, 1, 1], [1, 1, 1, 0, 1]])
    assert encoded.input_ids[0, 1] == PAD_ID and encoded.input_ids[1, 3] == PAD_ID
    observed = encoded.input_ids[:, :-1][encoded.attention_mask[:, :-1] == 1]
    assert len(observed) == 6
    assert (observed >= NUM_SPECIAL).all() and (observed < q.vocab_size).all()
    # NaN is ignored by the scale: mean |x| over the observed values only.
    np.testing.assert_allclose(encoded.scale, [2.0, 0.5])
    decoded = q.decode(encoded)
    assert decoded.shape == x.shape
    np.testing.assert_array_equal(np.isnan(decoded), np.isnan(x))
    assert np.isnan(q.decode_ids(encoded.input_ids, encoded.scale)[:, -1]).all()


def test_scale_is_mean_absolute_value_and_one_for_zero_windows():
    q = MeanScaleQuantizer(16, -3.0, 3.0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 8)) * 3
    x[2] = 0.0
    encoded = q.encode(x)
    expected = np.abs(x).mean(axis=1)
    expected[2] = 1.0
    np.testing.assert_allclose(encoded.scale, expected)
    decoded = q.decode(encoded)
    assert (np.abs(decoded[2]) <= _half_width(q)).all()
    assert q.vocab_size == 18


def test_out_of_range_values_clip_to_edge_bins():
    q = MeanScaleQuantizer(16, -3.0, 3.0)
    # [±8, 0, ...] over 8 steps has scale 1, so the scaled value ±8 lies outside [-3, 3].
    x = np.zeros((2, 8))
    x[0, 0], x[1, 0] = 8.0, -8.0
    encoded = q.encode(x)
    assert encoded.input_ids[0, 0] == NUM_SPECIAL + 15
    assert encoded.input_ids[1, 0] == NUM_SPECIAL
    decoded = q.decode(encoded)
    np.testing.assert_allclose(decoded[:, 0], [3.0, -3.0])
    labels = q.encode_target(np.array([[1e6, -1e6, 0.1]]), np.array([1.0]))
    np.testing.assert_array_equal(labels, [[15, 0, 8]])


def test_encode_is_vectorised_over_a_large_batch():
    q = MeanScaleQuantizer(16, -3.0, 3.0)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(10_000, 12))
    encoded = q.encode(x)
    assert encoded.input_ids.shape == (10_000, 13)
    assert encoded.scale.shape == (10_000,)
    # Reference: nearest centre of each scaled value, computed independently.
    scaled = x / np.abs(x).mean(axis=1, keepdims=True)
    nearest = np.abs(scaled[..., None] - q.centers).argmin(axis=-1)
    np.testing.assert_array_equal(encoded.input_ids[:, :-1], nearest + NUM_SPECIAL)
    np.testing.assert_array_equal(q.encode(x[1234:1235]).input_ids, encoded.input_ids[1234:1235])


def test_expected_value_is_probability_weighted_centre_times_scale():
    q = MeanScaleQuantizer(4, -1.5, 1.5)  # centres -1.5, -0.5, 0.5, 1.5
    probs = np.array([[[1.0, 0.0, 0.0, 0.0]], [[0.0, 0.5, 0.5, 0.0]], [[0.25, 0, 0, 0.75]]])
    out = q.expected_value(probs, np.array([2.0, 3.0, 1.0]))
    np.testing.assert_allclose(out, [[-3.0], [0.0], [0.75]])


@pytest.mark.parametrize("n_bins, low, high", CONFIGS)
def test_save_load_gives_an_equal_quantizer(tmp_path, n_bins, low, high):
    q = MeanScaleQuantizer(n_bins, low, high)
    path = q.save(tmp_path / "quantizer.json")
    loaded = MeanScaleQuantizer.load(path)
    assert loaded == q
    assert q.to_dict()["kind"] == "mean_scale_quantizer"
    assert MeanScaleQuantizer.from_dict(q.to_dict()) == q


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_bins": 1}, "n_bins"),
        ({"n_bins": 0}, "n_bins"),
        ({"low": 3.0, "high": 3.0}, "low"),
        ({"low": 3.0, "high": -3.0}, "low"),
        ({"low": float("nan")}, "low"),
    ],
)
def test_invalid_configs_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MeanScaleQuantizer(**kwargs)


def test_encode_rejects_non_2d_input():
    q = MeanScaleQuantizer()
    with pytest.raises(ValueError, match=r"\(B, L\)"):
        q.encode(np.zeros(5))
    with pytest.raises(ValueError, match=r"\(B, L\)"):
        q.encode(np.zeros((2, 3, 4)))


# --- encode is exactly a searchsorted over the boundaries -----------------------------------

T5_BINS = (4093, -15.0, 15.0)  # Chronos-T5's bins


def _reference(q: MeanScaleQuantizer, x: np.ndarray) -> tuple[np.ndarray, ...]:
    """The plain definition of encode: float64 throughout, mean |x| over the observed values
    (1 where not finite and positive), ``np.searchsorted`` over the boundaries (a tie goes to
    the lower bin), PAD where NaN, EOS last."""
    x = np.asarray(x, dtype=np.float64)
    observed = ~np.isnan(x)
    with np.errstate(over="ignore"):  # a sum of huge values may overflow: scale 1
        total = np.where(observed, np.abs(x), 0.0).sum(axis=-1)
    scale = total / np.maximum(observed.sum(axis=-1), 1)
    scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
    centres = np.linspace(q.low, q.high, q.n_bins)
    boundaries = (centres[1:] + centres[:-1]) / 2
    ids = np.searchsorted(boundaries, np.where(observed, x, 0.0) / scale[:, None])
    ids = np.where(observed, ids + NUM_SPECIAL, PAD_ID)
    eos = np.full((len(x), 1), EOS_ID)
    input_ids = np.concatenate([ids, eos], axis=1).astype(np.int64)
    mask = np.concatenate([observed, np.ones((len(x), 1), dtype=bool)], axis=1).astype(np.int64)
    return input_ids, mask, scale


def _assert_encodes_as_reference(q: MeanScaleQuantizer, x: np.ndarray) -> None:
    encoded = q.encode(x)
    ids, mask, scale = _reference(q, x)
    assert encoded.input_ids.dtype == encoded.attention_mask.dtype == np.int64
    assert encoded.scale.dtype == np.float64
    np.testing.assert_array_equal(encoded.input_ids, ids)
    np.testing.assert_array_equal(encoded.attention_mask, mask)
    np.testing.assert_array_equal(encoded.scale, scale)  # bit for bit: no tolerance


def _walks(rng: np.random.Generator, b: int, length: int, nan_share: float) -> np.ndarray:
    x = rng.standard_normal((b, length)).cumsum(axis=1) + rng.normal(0, 5, (b, 1))
    x *= 10.0 ** rng.uniform(-4, 4, (b, 1))
    x[rng.random(x.shape) < nan_share] = np.nan
    return x


@pytest.mark.parametrize("n_bins, low, high", [*CONFIGS, T5_BINS])
@pytest.mark.parametrize("length", [1, 2, 4, 7, 8, 9, 33, 64, 130, 248, 256])
def test_encode_equals_searchsorted_on_random_windows(n_bins, low, high, length):
    q = MeanScaleQuantizer(n_bins, low, high)
    rng = np.random.default_rng(length)
    for nan_share in (0.0, 0.05, 0.6):
        x = _walks(rng, 300, length, nan_share)
        _assert_encodes_as_reference(q, x)
        _assert_encodes_as_reference(q, x.astype(np.float32))  # read as is, converted exactly
        _assert_encodes_as_reference(q, np.round(x))  # integers: many equal magnitudes


@pytest.mark.parametrize("length", [4, 64])
def test_encode_equals_searchsorted_across_blocks_and_layouts(length):
    # Enough windows for several blocks (and a short last one); non-contiguous inputs.
    q = MeanScaleQuantizer(16, -3.0, 3.0)
    x = _walks(np.random.default_rng(7), 40_000, length, 0.01)
    _assert_encodes_as_reference(q, x)
    _assert_encodes_as_reference(q, x[::-3, ::-1])
    _assert_encodes_as_reference(q, np.asfortranarray(x[:5000]))
    _assert_encodes_as_reference(q, x.astype(np.float32)[:, ::2])


@pytest.mark.parametrize("n_bins, low, high", [*CONFIGS, T5_BINS])
def test_values_exactly_on_and_next_to_boundaries(n_bins, low, high):
    q = MeanScaleQuantizer(n_bins, low, high)
    b = q.boundaries
    values = np.concatenate(
        [b, np.nextafter(b, np.inf), np.nextafter(b, -np.inf), q.centers, [0.0, -0.0]]
    )
    # [v, length - |v|, 0, ...] has mean |x| = 1 where the sum is exactly `length`: then the
    # scaled value is v itself, on (or one ulp beside) a boundary.
    length = int(np.ceil(np.abs(values).max())) + 2
    x = np.zeros((len(values), length))
    x[:, 0], x[:, 1] = values, length - np.abs(values)
    exact = _reference(q, x)[2] == 1.0
    assert exact.mean() > 0.5
    assert np.isin(x[exact, 0], b).sum() >= len(b) // 2
    ids = q.encode(x[exact]).input_ids[:, 0]
    np.testing.assert_array_equal(ids, np.searchsorted(b, x[exact, 0]) + NUM_SPECIAL)
    for s in (1.0, 0.37, 3.0, 1e-3, 1e6):
        _assert_encodes_as_reference(q, x * s)


def test_zero_nan_and_infinite_windows():
    q = MeanScaleQuantizer(16, -3.0, 3.0)
    x = np.array(
        [
            [0.0, 0.0, 0.0, 0.0],  # all zero: scale 1, every value in the bin of 0
            [np.nan] * 4,  # all missing: PAD everywhere, scale 1
            [np.nan, 0.0, np.nan, 0.0],
            [np.inf, 1.0, -1.0, 0.0],  # infinite mean: scale 1, inf in the top bin
            [-np.inf, np.inf, np.nan, 2.0],
            [1e308, 1e308, -1e308, 1.0],  # the sum overflows: scale 1
            [5e-324, 0.0, -5e-324, 0.0],  # subnormal
        ]
    )
    for dtype in (np.float64, np.float32):
        with np.errstate(over="ignore"):
            xd = x.astype(dtype)
        _assert_encodes_as_reference(q, xd)
    encoded = q.encode(x)
    zero_bin = np.searchsorted(q.boundaries, 0.0) + NUM_SPECIAL
    np.testing.assert_array_equal(encoded.input_ids[0], [zero_bin] * 4 + [EOS_ID])
    np.testing.assert_array_equal(encoded.input_ids[1], [PAD_ID] * 4 + [EOS_ID])
    np.testing.assert_array_equal(encoded.attention_mask[1], [0, 0, 0, 0, 1])
    np.testing.assert_array_equal(encoded.scale[[0, 1, 3, 5]], 1.0)
    assert encoded.input_ids[3, 0] == NUM_SPECIAL + 15 and encoded.input_ids[4, 0] == NUM_SPECIAL


@pytest.mark.parametrize("shape", [(0, 4), (0, 64), (3, 0), (1, 1), (1, 70_000)])
def test_empty_and_extreme_shapes(shape):
    q = MeanScaleQuantizer()
    x = np.random.default_rng(0).normal(size=shape)
    _assert_encodes_as_reference(q, x)
    assert q.encode(x).input_ids.shape == (shape[0], shape[1] + 1)


def test_integer_and_list_inputs_are_read_as_float64():
    q = MeanScaleQuantizer()
    x = np.arange(-12, 12).reshape(4, 6)
    _assert_encodes_as_reference(q, x)
    np.testing.assert_array_equal(q.encode(x.tolist()).input_ids, q.encode(x).input_ids)


def test_layouts_too_wide_for_the_arithmetic_estimate_still_encode_exactly():
    # Bins far from zero relative to their width: encode falls back to np.searchsorted.
    from tokfrag.families.token.quantizer import _bins

    q = MeanScaleQuantizer(16, 1e7, 1e7 + 1.5)
    assert not _bins(q.n_bins, q.low, q.high).arithmetic
    assert _bins(*T5_BINS).arithmetic
    x = 1e7 + np.random.default_rng(0).uniform(-1, 3, (50, 6))
    x[0, 0] = np.nan
    _assert_encodes_as_reference(q, x)


def test_outputs_are_fresh_arrays_and_tables_are_not_shared():
    q = MeanScaleQuantizer()
    x = np.random.default_rng(0).normal(size=(20, 5))
    first, second = q.encode(x), q.encode(x)
    assert not np.shares_memory(first.input_ids, second.input_ids)
    assert not np.shares_memory(first.attention_mask, second.attention_mask)
    first.input_ids[:] = -1
    np.testing.assert_array_equal(second.input_ids, q.encode(x).input_ids)
    centres = q.centers
    centres[:] = 0.0  # a caller's copy: encode and decode are unaffected
    q.boundaries[:] = 0.0
    _assert_encodes_as_reference(q, x)
    np.testing.assert_array_equal(q.centers, np.linspace(q.low, q.high, q.n_bins))


def test_encode_from_several_threads_at_once():
    from concurrent.futures import ThreadPoolExecutor

    q = MeanScaleQuantizer(16, -3.0, 3.0)
    rng = np.random.default_rng(3)
    batches = [_walks(rng, 2000, length, 0.02) for length in (4, 64, 4, 9, 64, 4, 33, 64)]
    expected = [_reference(q, x)[0] for x in batches]
    with ThreadPoolExecutor(4) as pool:
        for _ in range(3):
            got = list(pool.map(lambda x: q.encode(x).input_ids, batches))
            for ids, want in zip(got, expected, strict=True):
                np.testing.assert_array_equal(ids, want)
