"""The dataset registry and file resolution.

A dataset file is found, in order:

1. in a local mirror folder, ``$TOKFRAG_DATA_MIRROR/<dataset>/<file>`` (read-only, never written);
2. in the download cache, ``$TOKFRAG_CACHE`` (default ``~/.cache/tokfrag``);
3. at its upstream URL, downloaded into the cache through a temporary file and an atomic rename,
   so an interrupted download never leaves a partial file under the final name.

Every read checks the sha256. A mismatch in the mirror is an error that names the file; a
mismatch in the cache (a corrupted or truncated earlier download) is fetched again.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

MIRROR_ENV = "TOKFRAG_DATA_MIRROR"
CACHE_ENV = "TOKFRAG_CACHE"

_PGT = "https://raw.githubusercontent.com/benedekrozemberczki/pytorch_geometric_temporal/master/dataset"
_CHICKENPOX_SHA = "724b48cfb274b2ecbb855bdb99b970b5ef9dd3671694fa477435dc1e08293735"
_PEDALME_SHA = "8c42b893441901fb805c4f0f937543d5bb9297884ac3dec7622a3e9f7c35a79b"


class DataError(RuntimeError):
    """A dataset could not be found, fetched, verified or parsed."""


@dataclass(frozen=True)
class Published:
    """A figure someone else published on this dataset's standard protocol."""

    model: str
    metric: str
    value: float
    source: str
    protocol: dict[str, float]  # the split settings the figure was measured on


@dataclass(frozen=True)
class DatasetSpec:
    """One dataset: its files with their sha256, where upstream keeps them, how to parse them."""

    name: str
    kind: str  # "series" (node time series on a graph) or "text"
    files: dict[str, str]  # file name -> sha256
    urls: dict[str, str]  # file name -> upstream URL
    loader: str  # name of the function in tokfrag.data.loaders
    description: str = ""
    license: str = ""
    published: tuple[Published, ...] = ()


DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in [
        DatasetSpec(
            name="chickenpox",
            kind="series",
            files={"chickenpox.json": _CHICKENPOX_SHA},
            urls={"chickenpox.json": f"{_PGT}/chickenpox.json"},
            loader="load_pgt_json",
            description="Weekly chickenpox cases in 20 Hungarian counties, 521 weeks, adjacency.",
            license="MIT (PyTorch Geometric Temporal)",
            published=(
                Published(
                    "DCRNN (published)",
                    "test_mse",
                    0.7418,
                    "PyTorch Geometric Temporal documentation: DCRNN, 32 filters, K=1, "
                    "200 epochs, Adam 0.01; lags 4, train_ratio 0.2",
                    {"lags": 4, "horizon": 1, "train_ratio": 0.2},
                ),
            ),
        ),
        DatasetSpec(
            name="pedalme_london",
            kind="series",
            files={"pedalme_london.json": _PEDALME_SHA},
            urls={"pedalme_london.json": f"{_PGT}/pedalme_london.json"},
            loader="load_pgt_json",
            description="Weekly Pedal Me deliveries, 15 London zones, 35 weeks, weighted graph.",
            license="MIT (PyTorch Geometric Temporal)",
        ),
    ]
}


def published_figures(name: str, split: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The published figures for dataset ``name`` as plain dicts (for metrics and reports);
    with ``split``, only those measured on the same protocol (lags, horizon, ratio)."""
    return [
        asdict(p)
        for p in get_spec(name).published
        if split is None or all(split.get(k) == v for k, v in p.protocol.items())
    ]


def get_spec(name: str) -> DatasetSpec:
    try:
        return DATASETS[name]
    except KeyError:
        known = ", ".join(sorted(DATASETS))
        raise DataError(
            f"unknown dataset {name!r}; known datasets: {known}. Set data.dataset in params.yaml."
        ) from None


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "tokfrag")


def _download(url: str, dest: Path, opener: Callable[[str], object] | None = None) -> None:
    """Stream ``url`` into ``dest`` through a temporary file in the same folder, then rename."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, (opener or urllib.request.urlopen)(url) as response:
            for chunk in iter(lambda: response.read(1 << 20), b""):
                out.write(chunk)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def resolve_file(spec: DatasetSpec, file_name: str, *, allow_download: bool = True) -> Path:
    """Return a verified local path to one file of ``spec`` (mirror, then cache, then upstream)."""
    expected = spec.files[file_name]
    mirror = os.environ.get(MIRROR_ENV)
    if mirror:
        candidate = Path(mirror) / spec.name / file_name
        if candidate.is_file():
            actual = sha256_file(candidate)
            if actual != expected:
                raise DataError(
                    f"{candidate}: sha256 {actual} does not match the registry's {expected}. "
                    f"The mirror copy is corrupted or a different version; replace it with the "
                    f"upstream file ({spec.urls[file_name]}) or unset {MIRROR_ENV}."
                )
            return candidate

    cached = cache_dir() / spec.name / file_name
    if cached.is_file() and sha256_file(cached) == expected:
        return cached
    if not allow_download:
        raise DataError(
            f"{spec.name}/{file_name}: not in the mirror ({MIRROR_ENV}={mirror or 'unset'}) "
            f"nor in the cache ({cached}), and downloading is off."
        )
    try:
        _download(spec.urls[file_name], cached)
    except OSError as err:
        raise DataError(
            f"{spec.name}/{file_name}: not in the mirror ({MIRROR_ENV}={mirror or 'unset'}) and "
            f"the download from {spec.urls[file_name]} failed ({err}). Point {MIRROR_ENV} at a "
            f"folder holding {spec.name}/{file_name}."
        ) from None
    actual = sha256_file(cached)
    if actual != expected:
        cached.unlink(missing_ok=True)
        raise DataError(
            f"{spec.urls[file_name]}: downloaded file has sha256 {actual}, expected {expected}; "
            "the upstream file changed or the transfer was corrupted. Nothing was kept."
        )
    return cached
