"""PatchTokenizer: patch geometry, padding, normalisation, exact inverse, persistence."""

from __future__ import annotations

import numpy as np
import pytest

from tokfrag.families.token import PatchedWindows, PatchTokenizer, Tokenizer


def test_patchtst_padding_repeats_the_last_value_stride_times():
    tok = PatchTokenizer(patch_len=2, stride=1)
    x = np.array([[1.0, 2.0, 3.0, 4.0]])
    encoded = tok.encode(x)
    assert isinstance(encoded, PatchedWindows) and encoded.length == 4
    assert tok.num_patches(4) == 4 and tok.padded_length(4) == 5
    z = (x[0] - 2.5) / np.std(x[0])
    expected = [[z[0], z[1]], [z[1], z[2]], [z[2], z[3]], [z[3], z[3]]]
    np.testing.assert_allclose(encoded.patches[0], expected, rtol=1e-12)
    np.testing.assert_allclose(encoded.loc, [2.5])
    np.testing.assert_allclose(encoded.scale, [np.std(x[0])])


@pytest.mark.parametrize(
    "patch_len, stride, padding, length, patches",
    [
        # PatchTST: P = (L + stride - patch_len) // stride + 1
        (2, 1, "patchtst", 4, 4),
        (2, 2, "patchtst", 4, 3),
        (4, 4, "patchtst", 4, 2),
        (16, 8, "patchtst", 336, 42),  # the paper's PatchTST/42 setting
        (3, 2, "patchtst", 4, 2),
        (5, 1, "patchtst", 2, 1),  # shorter than a patch: one padded patch
        # minimal: P = ceil((L - patch_len) / stride) + 1
        (2, 1, "minimal", 4, 3),
        (2, 2, "minimal", 4, 2),
        (3, 2, "minimal", 4, 2),
        (4, 4, "minimal", 4, 1),
        (5, 3, "minimal", 2, 1),
    ],
)
def test_num_patches_and_shapes(patch_len, stride, padding, length, patches):
    tok = PatchTokenizer(patch_len, stride, padding)
    assert tok.num_patches(length) == patches
    assert tok.padded_length(length) >= length
    assert tok.padded_length(length) - length <= max(stride, patch_len - length)
    x = np.random.default_rng(0).normal(size=(7, length))
    encoded = tok.encode(x)
    assert encoded.patches.shape == (7, patches, patch_len)
    assert encoded.patches.dtype == encoded.loc.dtype == encoded.scale.dtype == np.float64
    assert encoded.loc.shape == encoded.scale.shape == (7,)
    np.testing.assert_allclose(tok.decode(encoded), x, rtol=1e-12, atol=1e-12)


def test_minimal_padding_adds_nothing_when_patches_tile_the_window():
    tok = PatchTokenizer(patch_len=2, stride=2, padding="minimal")
    x = np.arange(8.0).reshape(2, 4)
    encoded = tok.encode(x)
    z = (x - x.mean(1, keepdims=True)) / x.std(1, keepdims=True)
    np.testing.assert_allclose(encoded.patches, z.reshape(2, 2, 2))


def test_normalisation_is_per_window_and_patches_are_standardised():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(50, 12)) * rng.uniform(0.1, 100, size=(50, 1)) + rng.normal(size=(50, 1))
    tok = PatchTokenizer(patch_len=3, stride=3, padding="minimal")
    encoded = tok.encode(x)
    np.testing.assert_allclose(encoded.loc, x.mean(axis=1))
    np.testing.assert_allclose(encoded.scale, x.std(axis=1))
    z = encoded.patches.reshape(50, 12)
    np.testing.assert_allclose(z.mean(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(z.std(axis=1), 1.0, rtol=1e-12)
    # Each window on its own: encoding one row alone gives that row of the batch.
    alone = tok.encode(x[17:18])
    np.testing.assert_array_equal(alone.patches[0], encoded.patches[17])


def test_constant_windows_are_centred_not_divided_by_zero():
    tok = PatchTokenizer(patch_len=2, stride=1)
    x = np.array([[3.0, 3.0, 3.0, 3.0], [0.0, 0.0, 0.0, 0.0], [-7.5, -7.5, -7.5, -7.5]])
    encoded = tok.encode(x)
    assert np.isfinite(encoded.patches).all()
    np.testing.assert_array_equal(encoded.patches, 0.0)
    np.testing.assert_array_equal(encoded.scale, tok.min_scale)
    np.testing.assert_array_equal(tok.decode(encoded), x)


def test_nan_is_ignored_by_the_statistics_and_comes_back_as_nan():
    tok = PatchTokenizer(patch_len=2, stride=1)
    x = np.array([[1.0, np.nan, 3.0, 5.0], [np.nan] * 4, [2.0, 4.0, 6.0, np.nan]])
    with np.errstate(all="raise"):  # no warnings about empty slices or invalid values
        encoded = tok.encode(x)
    np.testing.assert_allclose(encoded.loc, [3.0, 0.0, 4.0])
    np.testing.assert_allclose(encoded.scale, [np.std([1.0, 3.0, 5.0]), 1.0, np.std([2, 4, 6])])
    decoded = tok.decode(encoded)
    np.testing.assert_array_equal(np.isnan(decoded), np.isnan(x))
    np.testing.assert_allclose(decoded[~np.isnan(x)], x[~np.isnan(x)], rtol=1e-12)


def test_decode_rejects_patches_of_the_wrong_shape():
    tok = PatchTokenizer(patch_len=2, stride=1)
    encoded = tok.encode(np.zeros((2, 4)))
    bad = PatchedWindows(encoded.patches[:, :3], encoded.loc, encoded.scale, encoded.length)
    with pytest.raises(ValueError, match=r"\(B, 4, 2\)"):
        tok.decode(bad)


def test_encode_is_vectorised_over_a_large_batch():
    tok = PatchTokenizer(patch_len=4, stride=2)
    x = np.random.default_rng(2).normal(size=(20_000, 24))
    encoded = tok.encode(x)
    assert encoded.patches.shape == (20_000, tok.num_patches(24), 4)
    assert encoded.patches.flags.c_contiguous and encoded.patches.flags.writeable
    np.testing.assert_allclose(tok.decode(encoded), x, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("config", [(2, 1, "patchtst"), (4, 2, "minimal"), (3, 3, "patchtst")])
def test_save_load_gives_an_equal_tokenizer_and_identical_patches(tmp_path, config):
    tok = PatchTokenizer(*config)
    path = tok.save(tmp_path / "patch.json")
    loaded = PatchTokenizer.load(path)
    assert loaded == tok and loaded.to_dict()["kind"] == "patch_tokenizer"
    assert PatchTokenizer.from_dict(tok.to_dict()) == tok
    x = np.random.default_rng(3).normal(size=(9, 10))
    np.testing.assert_array_equal(loaded.encode(x).patches, tok.encode(x).patches)


def test_fit_learns_nothing_and_satisfies_the_tokenizer_contract():
    tok = PatchTokenizer()
    assert tok.fit(np.ones((3, 4))) is tok
    assert isinstance(tok, Tokenizer)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"patch_len": 0}, "patch_len"),
        ({"patch_len": 2, "stride": 3}, "stride"),
        ({"stride": 0}, "stride"),
        ({"padding": "start"}, "padding"),
        ({"min_scale": 0.0}, "min_scale"),
    ],
)
def test_invalid_configs_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PatchTokenizer(**kwargs)


def test_encode_rejects_non_2d_input():
    with pytest.raises(ValueError, match=r"\(B, L\)"):
        PatchTokenizer().encode(np.zeros(5))
    with pytest.raises(ValueError, match="at least one step"):
        PatchTokenizer().num_patches(0)
