"""Dataset resolution: mirror, then cache, then a (file://) download; sha256 checked each time."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
from pathlib import Path

import pytest

from tokfrag.data.registry import (
    CACHE_ENV,
    DATASETS,
    MIRROR_ENV,
    DataError,
    get_spec,
    resolve_file,
    sha256_file,
)

FILE = "chickenpox.json"


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(path))
    return path


@pytest.fixture
def no_mirror(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "empty_mirror"
    path.mkdir()
    monkeypatch.setenv(MIRROR_ENV, str(path))
    return path


@pytest.fixture
def local_spec(chickenpox_file):
    """The registry's chickenpox spec with its upstream URL pointing at the real file."""
    return dataclasses.replace(get_spec("chickenpox"), urls={FILE: chickenpox_file.as_uri()})


def test_registry_sha_matches_the_real_file(chickenpox_file):
    assert sha256_file(chickenpox_file) == get_spec("chickenpox").files[FILE]
    assert sha256_file(chickenpox_file) == hashlib.sha256(chickenpox_file.read_bytes()).hexdigest()


def test_resolve_from_mirror_returns_the_mirror_path(mirror, cache, monkeypatch):
    monkeypatch.setenv(MIRROR_ENV, str(mirror))
    path = resolve_file(get_spec("chickenpox"), FILE, allow_download=False)
    assert path == mirror / "chickenpox" / FILE
    assert _files(cache) == []  # the mirror is read in place, nothing copied


def test_corrupted_mirror_raises_naming_file_and_expected_sha(
    chickenpox_file, tmp_path, cache, monkeypatch
):
    corrupt = tmp_path / "mirror" / "chickenpox" / FILE
    corrupt.parent.mkdir(parents=True)
    data = bytearray(chickenpox_file.read_bytes())
    data[1000] ^= 0x01
    corrupt.write_bytes(bytes(data))
    monkeypatch.setenv(MIRROR_ENV, str(tmp_path / "mirror"))
    expected = get_spec("chickenpox").files[FILE]
    with pytest.raises(DataError) as info:
        resolve_file(get_spec("chickenpox"), FILE)
    message = str(info.value)
    assert str(corrupt) in message
    assert expected in message
    assert sha256_file(corrupt) in message
    assert _files(cache) == []  # a corrupted mirror is an error, not a reason to download


@pytest.mark.parametrize("mirror_state", ["empty", "unset"])
def test_download_into_cache_atomically(
    local_spec, chickenpox_file, tmp_path, cache, monkeypatch, mirror_state
):
    if mirror_state == "empty":
        (tmp_path / "empty").mkdir()
        monkeypatch.setenv(MIRROR_ENV, str(tmp_path / "empty"))
    else:
        monkeypatch.delenv(MIRROR_ENV, raising=False)
    path = resolve_file(local_spec, FILE)
    assert path == cache / "chickenpox" / FILE
    assert path.read_bytes() == chickenpox_file.read_bytes()
    assert _files(cache) == [path]  # no .part or temporary files left
    assert not list(cache.rglob("*.part"))
    # A second call finds the verified copy in the cache, even with downloading off.
    assert resolve_file(local_spec, FILE, allow_download=False) == path


def test_corrupted_cache_is_fetched_again(local_spec, chickenpox_file, cache, no_mirror):
    cached = cache / "chickenpox" / FILE
    cached.parent.mkdir(parents=True)
    cached.write_bytes(chickenpox_file.read_bytes()[:5000])  # a truncated earlier download
    with pytest.raises(DataError, match="downloading is off"):
        resolve_file(local_spec, FILE, allow_download=False)
    path = resolve_file(local_spec, FILE)
    assert path == cached
    assert sha256_file(path) == local_spec.files[FILE]
    assert _files(cache) == [cached]


def test_download_with_wrong_sha_raises_and_keeps_nothing(
    chickenpox_file, tmp_path, cache, no_mirror
):
    other = tmp_path / "upstream" / FILE
    other.parent.mkdir()
    shutil.copy(chickenpox_file, other)
    with other.open("ab") as handle:
        handle.write(b" ")  # the upstream file changed
    spec = dataclasses.replace(get_spec("chickenpox"), urls={FILE: other.as_uri()})
    with pytest.raises(DataError) as info:
        resolve_file(spec, FILE)
    assert spec.files[FILE] in str(info.value)
    assert sha256_file(other) in str(info.value)
    assert _files(cache) == []


def test_failed_download_raises_naming_the_mirror_variable(tmp_path, cache, no_mirror):
    spec = dataclasses.replace(
        get_spec("chickenpox"), urls={FILE: (tmp_path / "missing.json").as_uri()}
    )
    with pytest.raises(DataError, match=MIRROR_ENV) as info:
        resolve_file(spec, FILE)
    assert "chickenpox/chickenpox.json" in str(info.value)
    assert _files(cache) == []


def test_no_mirror_no_cache_and_no_download_raises(cache, no_mirror):
    with pytest.raises(DataError, match="downloading is off"):
        resolve_file(get_spec("chickenpox"), FILE, allow_download=False)


def test_unknown_dataset_lists_known_names():
    with pytest.raises(DataError, match="'nope'") as info:
        get_spec("nope")
    for name in DATASETS:
        assert name in str(info.value)
    assert {"chickenpox", "pedalme_london"} <= set(DATASETS)
