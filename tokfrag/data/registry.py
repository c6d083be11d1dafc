"""The dataset registry: the built-in datasets (:data:`DATASETS`), found by name.

Each entry is a :class:`~tokfrag.data.specs.DatasetSpec` (defined, with :class:`DataError`, in
:mod:`tokfrag.data.specs`); its files are found and verified by
:func:`~tokfrag.data.resolution.resolve_file` (mirror, then cache, then download; see
:mod:`tokfrag.data.resolution`). Both modules' names are re-exported here, so
``from tokfrag.data.registry import DataError, resolve_file`` keeps working. Standard library
only: importing it is cheap.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from tokfrag.data.resolution import (
    CACHE_ENV,
    DOWNLOAD_DEADLINE_ENV,
    DOWNLOAD_MAX_BYTES_ENV,
    DOWNLOAD_TIMEOUT_ENV,
    MIRROR_ENV,
    resolve_file,
    sha256_file,
)
from tokfrag.data.specs import DataError, DatasetSpec, Published, combined_sha256

__all__ = [
    "CACHE_ENV",
    "DATASETS",
    "DOWNLOAD_DEADLINE_ENV",
    "DOWNLOAD_MAX_BYTES_ENV",
    "DOWNLOAD_TIMEOUT_ENV",
    "MIRROR_ENV",
    "DataError",
    "DatasetSpec",
    "combined_sha256",
    "get_spec",
    "published_figures",
    "resolve_file",
    "sha256_file",
]

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
