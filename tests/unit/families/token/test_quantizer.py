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
