"""The dataset registry and file resolution.

A dataset file is found, in order:

1. in a local mirror folder, ``$TOKFRAG_DATA_MIRROR/<dataset>/<file>`` (read-only, never written);
2. in the download cache, ``$TOKFRAG_CACHE`` (default ``~/.cache/tokfrag``);
3. at its upstream URL, downloaded into the cache through a temporary file and an atomic rename,
   so an interrupted download never leaves a partial file under the final name. A file with no
   stable upstream URL (SMS Spam's csv) must be put in the mirror; resolving it otherwise raises
   a :class:`DataError` that says so. A download that sends nothing for
   :data:`DOWNLOAD_TIMEOUT_S` seconds, takes longer than :data:`DOWNLOAD_DEADLINE_S` in all, or
   is larger than :data:`DOWNLOAD_MAX_BYTES` is stopped with a :class:`DataError` and nothing
   is kept (environment variables :data:`DOWNLOAD_TIMEOUT_ENV`, :data:`DOWNLOAD_DEADLINE_ENV`
   and :data:`DOWNLOAD_MAX_BYTES_ENV` change the limits).

Every read checks the sha256. A mismatch in the mirror is an error that names the file; a
mismatch in the cache (a corrupted or truncated earlier download) is fetched again.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

MIRROR_ENV = "TOKFRAG_DATA_MIRROR"
CACHE_ENV = "TOKFRAG_CACHE"
DOWNLOAD_TIMEOUT_ENV = "TOKFRAG_DOWNLOAD_TIMEOUT"
DOWNLOAD_DEADLINE_ENV = "TOKFRAG_DOWNLOAD_DEADLINE"
DOWNLOAD_MAX_BYTES_ENV = "TOKFRAG_DOWNLOAD_MAX_BYTES"
DOWNLOAD_TIMEOUT_S = 60.0  # seconds without a byte (connecting, or between reads)
DOWNLOAD_DEADLINE_S = 1800.0  # seconds for the whole download (a server that drips)
DOWNLOAD_MAX_BYTES = 1 << 30  # the registry's largest file is a few MB
_CHUNK = 1 << 16

_PGT = "https://raw.githubusercontent.com/benedekrozemberczki/pytorch_geometric_temporal/master/dataset"
_CHICKENPOX_SHA = "724b48cfb274b2ecbb855bdb99b970b5ef9dd3671694fa477435dc1e08293735"
_PEDALME_SHA = "8c42b893441901fb805c4f0f937543d5bb9297884ac3dec7622a3e9f7c35a79b"
# TextGCN (Yao et al., AAAI 2019) keeps one document per line in data/corpus/<name>.txt and the
# "index<TAB>train|test<TAB>label" lines in data/<name>.txt. Pinned to the commit the mirror's
# files come from, so the URL cannot drift from the sha256.
_TEXTGCN = (
    "https://raw.githubusercontent.com/yao8839836/text_gcn/"
    "5fa0c35dbe09453a8f724c3f3eb8b6f172deb18c/data"
)
_MR_SHA = "2ce386f81c1ebd45fd2c0d2a41e8702e78f2dbeeb88fc8f3cff680211f303689"
_MR_META_SHA = "184c1b3b7f9695174fcf949738a661ba9d798b0e500721d0644daab4d095e134"
_TREC_SHA = "506ce3c4b87b4abe8852ac1aac9421c9a2fca2f7bdbe28ba51a98dd0b98108c5"
_TREC_META_SHA = "b2c15e0e951e6cf9b6954e05575410e15c452837376af9a6e57a28e4627d9b5b"
# T-GCN (Zhao et al. 2019) kept Los-loop as data/los_speed.csv + data/los_adj.csv; later
# commits moved the folder (to T-GCN/T-GCN-PyTorch/data/), so the URLs are pinned to the
# commit StellarGraph's METR_LA loader downloads (8427128f, data/ holding both files). That
# these bytes match the mirror's sha256 has not been checked against the live URL (no network
# where this entry was written); a mismatch fails loudly in resolve_file.
_TGCN = (
    "https://raw.githubusercontent.com/lehaifeng/T-GCN/"
    "8427128f04157e6fd0b239a8734a468d923cd0c9/data"
)
_LOS_SPEED_SHA = "7b732d86ae32b2930595becba28aff39dacbfb2197e250fc0332e1744ce2cbf4"
_LOS_ADJ_SHA = "7a6eb41e10677992b5af50f5ab187c6c05c5c3a92cb973950cfddbf857361e76"
_SMS_SHA = "440e6ea9fa825578abfdd7b7932ef8393d72ef86c0c33f64676705ce40b1dfc2"
_SMS_HOME = "https://archive.ics.uci.edu/dataset/228/sms+spam+collection"


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
    """One dataset: its files with their sha256, where upstream keeps them, how to parse them.

    The loader is ``<module>.<loader>``, called with the resolved files in ``files`` order and
    ``loader_kwargs`` (see :meth:`loader_function` and :meth:`parse`). A file missing from
    ``urls`` has no stable upstream address: it is read from the mirror (or cache) only.
    ``label_names`` is the declared class set of a text dataset, in a fixed (sorted) order.
    """

    name: str
    kind: str  # "series" (node time series on a graph) or "text"
    files: dict[str, str]  # file name -> sha256
    urls: dict[str, str]  # file name -> upstream URL (may lack a file: mirror only)
    loader: str  # name of the function in ``module``
    description: str = ""
    license: str = ""
    published: tuple[Published, ...] = ()
    module: str = "tokfrag.data.loaders"  # text datasets: "tokfrag.data.text_loaders"
    loader_kwargs: dict[str, Any] = field(default_factory=dict)
    label_names: tuple[str, ...] = ()  # text: the declared classes, sorted
    source: str = ""  # where a person gets a file that has no URL
    # series with step numbers for time: when step 0 was (ISO date) and the step
    # (a pandas offset such as "7D" or "5min"), so calendar covariates can be computed
    clock: dict[str, str] = field(default_factory=dict)

    def loader_function(self) -> Callable[..., Any]:
        """The parser named by ``module`` and ``loader``."""
        if not self.module.startswith("tokfrag.data."):
            raise DataError(
                f"{self.name}: loader module {self.module!r} is outside tokfrag.data; "
                "loaders live in tokfrag.data.loaders or tokfrag.data.text_loaders"
            )
        module = importlib.import_module(self.module)
        try:
            return getattr(module, self.loader)
        except AttributeError:
            raise DataError(
                f"{self.name}: {self.module} has no loader {self.loader!r}; fix the registry entry"
            ) from None

    def parse(self, paths: dict[str, Path]) -> Any:
        """Run the loader on resolved files (``file name -> path``), in ``files`` order."""
        return self.loader_function()(*(paths[f] for f in self.files), **self.loader_kwargs)


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
            # Weekly reports from the week of 3 January 2005 (Rozemberczki et al. 2021); the
            # series is differenced once, so its step 0 is the second week.
            clock={"start": "2005-01-10", "step": "7D"},
            published=(
                Published(
                    "DCRNN (published)",
                    "test_mse",
                    0.7418,
                    "PyTorch Geometric Temporal documentation: DCRNN, 32 filters, K=1, "
                    "200 epochs, Adam 0.01; lags 4, train_ratio 0.2",
                    {"by": "snapshots", "lags": 4, "horizon": 1, "train_ratio": 0.2},
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
        DatasetSpec(
            name="los_loop",
            kind="series",
            files={"los_speed.csv": _LOS_SPEED_SHA, "los_adj.csv": _LOS_ADJ_SHA},
            urls={
                "los_speed.csv": f"{_TGCN}/los_speed.csv",
                "los_adj.csv": f"{_TGCN}/los_adj.csv",
            },
            loader="load_los_loop",
            description=(
                "Los-loop (T-GCN): traffic speed (mph) of 207 METR-LA loop detectors on Los "
                "Angeles highways, 1-7 March 2012, 2016 five-minute steps (no timestamps: t is "
                "the step number); symmetric Gaussian-kernel road-distance graph, 2833 "
                "non-zeros including 207 self loops. T-GCN protocol: 12 input steps, 3/6/9/12 "
                "steps ahead, 80/20 chronological split."
            ),
            license=(
                "No license stated for the data (METR-LA, Jagadish et al. 2014, redistributed "
                "in the T-GCN repository for research use)"
            ),
            clock={"start": "2012-03-01T00:00", "step": "5min"},
        ),
        DatasetSpec(
            name="mr",
            kind="text",
            files={"mr.txt": _MR_SHA, "mr.meta.txt": _MR_META_SHA},
            urls={"mr.txt": f"{_TEXTGCN}/corpus/mr.txt", "mr.meta.txt": f"{_TEXTGCN}/mr.txt"},
            module="tokfrag.data.text_loaders",
            loader="load_textgcn",
            # Windows-1252, not UTF-8: 0x97 is an em dash, 0x85 an ellipsis (TextGCN itself
            # decodes latin-1, which turns those into control characters).
            loader_kwargs={"encoding": "cp1252"},
            label_names=("0", "1"),
            description=(
                "Movie-review sentence polarity v1.0 (Pang & Lee 2005), 10,662 sentences, "
                "label 1 = positive, 0 = negative; TextGCN split 7,108 train / 3,554 test."
            ),
            license="Research use (Cornell sentence polarity dataset v1.0)",
            published=(
                Published(
                    "TextGCN (published)",
                    "test_accuracy",
                    0.7674,
                    "Yao et al. 2019, Graph Convolutional Networks for Text Classification, "
                    "mean of 10 runs on the TextGCN split",
                    {},
                ),
                Published(
                    "TextING (published)",
                    "test_accuracy",
                    0.7982,
                    "Zhang et al. 2020, Every Document Owns Its Structure (window 3, GloVe-300)",
                    {},
                ),
                Published(
                    "BERT-base (published)",
                    "test_accuracy",
                    0.857,
                    "Lin et al. 2021, BertGCN (BERT-base fine-tuned, TextGCN split)",
                    {},
                ),
            ),
        ),
        DatasetSpec(
            name="trec",
            kind="text",
            files={"TREC.txt": _TREC_SHA, "TREC.meta.txt": _TREC_META_SHA},
            urls={
                "TREC.txt": f"{_TEXTGCN}/corpus/TREC.txt",
                "TREC.meta.txt": f"{_TEXTGCN}/TREC.txt",
            },
            module="tokfrag.data.text_loaders",
            loader="load_textgcn",
            # The first word of every line is the fine-grained TREC label ("manner How did
            # ..."), which determines the coarse class: the loader strips it.
            loader_kwargs={"encoding": "utf-8", "strip_first_word": True},
            label_names=("ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"),
            description=(
                "TREC question classification (Li & Roth 2002), 5,952 questions, 6 coarse "
                "classes; TextGCN split 5,452 train / 500 test. The leading fine-grained label "
                "word of each line is stripped by the loader."
            ),
            license="Public research data (Li & Roth, UIUC)",
        ),
        DatasetSpec(
            name="sms_spam",
            kind="text",
            files={"spam.csv": _SMS_SHA},
            urls={},  # the Kaggle csv (latin-1, v1/v2) has no stable raw URL
            source=(
                f"the Kaggle 'SMS Spam Collection Dataset' spam.csv (a re-export of {_SMS_HOME})"
            ),
            module="tokfrag.data.text_loaders",
            loader="load_sms_spam",
            loader_kwargs={"test_fraction": 0.2, "seed": 0},
            label_names=("ham", "spam"),
            description=(
                "SMS Spam Collection (Almeida & Hidalgo 2011), 5,572 messages, ham/spam; no "
                "fixed split: a seeded stratified 80/20 split (seed 0)."
            ),
            license="CC BY 4.0 (UCI Machine Learning Repository)",
        ),
    ]
}


def combined_sha256(files: dict[str, str]) -> str:
    """One checksum for a dataset: its only file's sha256, or a sha256 over the sorted
    ``name:sha256;`` pairs when it has several (the formula ``stages.ingest`` uses)."""
    if len(files) == 1:
        return next(iter(files.values()))
    return hashlib.sha256(
        "".join(f"{k}:{v};" for k, v in sorted(files.items())).encode()
    ).hexdigest()


def published_figures(name: str, split: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The published figures for dataset ``name`` as plain dicts (for metrics and reports);
    with ``split``, only those measured on the same protocol (lags, horizon, ratio). None
    for a dataset outside the registry (your own data, ``data.source``)."""
    if name not in DATASETS:
        return []
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


def _download_limits() -> tuple[float, float, int]:
    """(seconds without a byte, seconds in all, bytes): the defaults, or the environment's."""
    from tokfrag.data.limits import env_number

    return (
        env_number(DOWNLOAD_TIMEOUT_ENV, DOWNLOAD_TIMEOUT_S),
        env_number(DOWNLOAD_DEADLINE_ENV, DOWNLOAD_DEADLINE_S),
        int(env_number(DOWNLOAD_MAX_BYTES_ENV, DOWNLOAD_MAX_BYTES)),
    )


def _download(url: str, dest: Path, opener: Callable[..., Any] | None = None) -> None:
    """Stream ``url`` into ``dest`` through a temporary file in the same folder, then rename.

    Stops with a :class:`DataError`, keeping nothing, when the server sends nothing for the
    timeout, the whole transfer outlasts the deadline, or the file is larger than the size
    limit (by its Content-Length, before a byte of the body is read, or as it arrives)."""
    timeout, deadline, max_bytes = _download_limits()
    fix = (
        f"nothing was kept. Put the file in the mirror ({MIRROR_ENV}/<dataset>/{dest.name}), "
        "or retry"
    )
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    started = time.monotonic()
    try:
        with (
            os.fdopen(fd, "wb") as out,
            (opener or urllib.request.urlopen)(url, timeout=timeout) as response,
        ):
            declared = (getattr(response, "headers", None) or {}).get("Content-Length")
            if declared and declared.strip().isdigit() and int(declared) > max_bytes:
                raise DataError(
                    f"{url}: the server announces {int(declared):,} bytes, more than the "
                    f"download limit of {max_bytes:,} ({DOWNLOAD_MAX_BYTES_ENV}); {fix}"
                )
            read = getattr(response, "read1", None) or response.read
            received = 0
            for chunk in iter(lambda: read(_CHUNK), b""):
                received += len(chunk)
                if received > max_bytes:
                    raise DataError(
                        f"{url}: more than the download limit of {max_bytes:,} bytes "
                        f"({DOWNLOAD_MAX_BYTES_ENV}) arrived; {fix}"
                    )
                if time.monotonic() - started > deadline:
                    raise DataError(
                        f"{url}: the download took more than {deadline:g} s "
                        f"({DOWNLOAD_DEADLINE_ENV}; {received:,} bytes arrived); {fix}"
                    )
                out.write(chunk)
        os.replace(tmp, dest)
    except (TimeoutError, urllib.error.URLError) as err:
        tmp.unlink(missing_ok=True)
        reason = getattr(err, "reason", err)
        if isinstance(err, TimeoutError) or isinstance(reason, TimeoutError):
            raise DataError(
                f"{url}: the server sent nothing for {timeout:g} s ({DOWNLOAD_TIMEOUT_ENV}); {fix}"
            ) from None
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def resolve_file(spec: DatasetSpec, file_name: str, *, allow_download: bool = True) -> Path:
    """Return a verified local path to one file of ``spec`` (mirror, then cache, then upstream)."""
    if file_name not in spec.files:
        raise DataError(
            f"{spec.name} has no file {file_name!r}; its files are {sorted(spec.files)}"
        )
    expected = spec.files[file_name]
    url = spec.urls.get(file_name)
    origin = url or spec.source or "its upstream source"
    mirror = os.environ.get(MIRROR_ENV)
    if mirror:
        candidate = Path(mirror) / spec.name / file_name
        if candidate.is_file():
            actual = sha256_file(candidate)
            if actual != expected:
                raise DataError(
                    f"{candidate}: sha256 {actual} does not match the registry's {expected}. "
                    f"The mirror copy is corrupted or a different version; replace it with the "
                    f"upstream file ({origin}) or unset {MIRROR_ENV}."
                )
            return candidate

    cached = cache_dir() / spec.name / file_name
    if cached.is_file() and sha256_file(cached) == expected:
        return cached
    if url is None:
        raise DataError(
            f"{spec.name}/{file_name}: not in the mirror ({MIRROR_ENV}={mirror or 'unset'}) nor "
            f"in the cache ({cached}), and it has no stable download URL. Get it from {origin} "
            f"and put it at $TOKFRAG_DATA_MIRROR/{spec.name}/{file_name} (sha256 {expected})."
        )
    if not allow_download:
        raise DataError(
            f"{spec.name}/{file_name}: not in the mirror ({MIRROR_ENV}={mirror or 'unset'}) "
            f"nor in the cache ({cached}), and downloading is off."
        )
    try:
        _download(url, cached)
    except DataError as err:
        raise DataError(f"{spec.name}/{file_name}: {err}") from None
    except OSError as err:
        raise DataError(
            f"{spec.name}/{file_name}: not in the mirror ({MIRROR_ENV}={mirror or 'unset'}) and "
            f"the download from {url} failed ({err}). Point {MIRROR_ENV} at a "
            f"folder holding {spec.name}/{file_name}."
        ) from None
    actual = sha256_file(cached)
    if actual != expected:
        cached.unlink(missing_ok=True)
        raise DataError(
            f"{url}: downloaded file has sha256 {actual}, expected {expected}; "
            "the upstream file changed or the transfer was corrupted. Nothing was kept."
        )
    return cached
