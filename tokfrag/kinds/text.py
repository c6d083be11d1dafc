"""The text kind (classification): labelled documents with a fixed train/test split.

What the stages ask of a kind (:class:`~tokfrag.kinds.base.Kind`), for text: the gate, the
canonical documents, the stratified, seeded validation part of the training documents, the
classifiers' examples (tokenizers and vocabularies fit on training documents only), the
evaluation (:class:`TextEvaluation`: the baselines, accuracy and macro-F1) and the
registered classifier's contract.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tokfrag.atomic import staged_dir, write_json
from tokfrag.config import Params
from tokfrag.families import FAMILIES
from tokfrag.kinds.base import FitParts, Scoring, check_prepared, fitted
from tokfrag.layout import Layout, StageError


@dataclass(frozen=True)
class TextSplit:
    """Document positions of each split: the dataset's test documents, and its training
    documents cut into fit and a stratified, seeded validation part."""

    fit: np.ndarray
    val: np.ndarray
    test: np.ndarray

    @property
    def train(self) -> np.ndarray:
        return np.sort(np.concatenate([self.fit, self.val]))

    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        for part in (self.fit, self.val, self.test):
            digest.update(np.ascontiguousarray(part, dtype=np.int64).tobytes() + b"|")
        return digest.hexdigest()[:16]


def text_split(data, val_fraction: float, seed: int) -> TextSplit:
    from sklearn.model_selection import train_test_split

    train_idx = np.flatnonzero(~data.is_test)
    fit_idx, val_idx = train_test_split(
        train_idx, test_size=val_fraction, random_state=seed, stratify=data.labels[train_idx]
    )
    return TextSplit(np.sort(fit_idx), np.sort(val_idx), np.flatnonzero(data.is_test))


def _load_inputs(params: Params, layout: Layout):
    from tokfrag.data.text_canonical import load_text

    data = load_text(layout.data_dir)
    split = text_split(data, params.split.val_fraction, params.split.seed)
    check_prepared(layout, split.fingerprint(), data.sha256)
    return data, split


def _part(data, idx: np.ndarray) -> tuple[list[str], np.ndarray]:
    return [data.texts[i] for i in idx], data.labels[idx]


def ingest(params: Params, layout: Layout, spec: Any, parsed: Any) -> Path:
    from tokfrag.data.text_canonical import write_text_canonical
    from tokfrag.data.text_loaders import text_meta

    return write_text_canonical(parsed, text_meta(spec, parsed), layout.data_dir)


def canonical_gate(params: Params, layout: Layout) -> tuple[Callable[[Path], Any], str]:
    from tokfrag.data.text_canonical import read_text_canonical
    from tokfrag.data.validation import validate_text

    documents, meta = read_text_canonical(layout.data_dir)

    def gate(docs: Path):
        names = meta["label_names"]
        return validate_text(
            documents, dataset=params.data.dataset, label_names=names, docs_dir=docs
        )

    return gate, meta["sha256"]


def check(params: Params, spec: Any, parsed: Any):
    """The gate on parsed documents that were never ingested (`tokfrag validate PATH`)."""
    from tokfrag.data.text_loaders import text_meta
    from tokfrag.data.validation import validate_text

    label_names = text_meta(spec, parsed)["label_names"]
    return validate_text(parsed, dataset=params.data.dataset, label_names=label_names)


def prepare(params: Params, layout: Layout) -> Path:
    """Fix the validation part of the training documents (stratified, seeded)."""
    from tokfrag.data.text_canonical import load_text

    data = load_text(layout.data_dir)
    split = text_split(data, params.split.val_fraction, params.split.seed)
    counts = {
        name: np.bincount(data.labels[idx], minlength=data.num_classes).tolist()
        for name, idx in (("fit", split.fit), ("val", split.val), ("test", split.test))
    }
    with staged_dir(layout.prepared) as staging:
        write_json(
            staging / "split.json",
            {
                "fit": split.fit.tolist(),
                "val": split.val.tolist(),
                "test": split.test.tolist(),
                "class_counts": counts,
                "label_names": list(data.label_names),
                "fingerprint": split.fingerprint(),
                "data_sha256": data.sha256,
            },
        )
    return layout.prepared


def build_classifier(family: str, params: Params, texts: list[str], label_names: tuple[str, ...]):
    """A fresh, untrained classifier of ``family``; tokenizers and vocabularies are fit on
    ``texts`` (training documents only: the fit part, or all of them in a final fit)."""
    _require_pretrained(params, family)
    from tokfrag.families import get_family
    from tokfrag.models.family import TextSetting

    try:
        entry = get_family(family)
    except ValueError as err:
        raise StageError(str(err)) from None
    return entry.build(getattr(params, family), TextSetting(list(texts), tuple(label_names)))


def _require_pretrained(params: Params, family: str) -> None:
    """Stop with the fix when the family's text model wants the local pretrained encoder and
    its package is not installed."""
    from tokfrag.models.pretrained import (
        PRETRAINED_EXTRA,
        PRETRAINED_PACKAGE,
        pretrained_available,
    )

    section = getattr(params, family).text
    if section.pretrained and not pretrained_available():
        raise StageError(
            f"{family}.text.pretrained is true (the default), but the pretrained encoder's "
            f"package {PRETRAINED_PACKAGE} is not installed; install it with "
            f"{PRETRAINED_EXTRA} (`make install` does), or set {family}.text.pretrained: "
            "false in params.yaml"
        )


def model_name(params: Params, family: str) -> str:
    """Each family has one text model; its search space is ``tune.spaces.<family>.text``."""
    return "text"


def fit_parts(params: Params, layout: Layout, family: str, final: bool) -> FitParts:
    """Documents of the fit part and the validation part (``final``: all training
    documents, no validation part), and a builder of fresh classifiers for any params."""
    data, split = _load_inputs(params, layout)
    texts, labels = _part(data, split.train if final else split.fit)
    val = None if final else _part(data, split.val)

    def build(p: Params) -> tuple[Any, Any, Any]:
        model = build_classifier(family, p, texts, data.label_names)
        return model, model.examples(texts, labels), None if val is None else model.examples(*val)

    tags = {"data_sha256": data.sha256, "split_fingerprint": split.fingerprint()}
    # Text keeps its stratified hold-out: one fold, the fit / validation split itself.
    folds = () if final else (build,)
    return FitParts("text", build, tags, folds=folds, folds_fingerprint=split.fingerprint())


def scoring(test_texts: list[str], test_labels: np.ndarray, names: tuple[str, ...]) -> Scoring:
    """Text models are scored on test documents: metrics from the class probabilities, and
    each document's 0/1 correctness as its item score (their mean is the accuracy)."""
    from tokfrag.train import classification_metrics

    return Scoring(
        predict=lambda model, texts: model.predict_proba(texts),
        metrics=lambda proba: classification_metrics(test_labels, proba, names),
        items=lambda proba: (proba.argmax(axis=1) == test_labels).astype(float),
        take=lambda texts, part: texts[part],
        n_items=len(test_texts),
    )


def evaluation(params: Params, layout: Layout) -> TextEvaluation:
    """The test documents, ready to score."""
    data, split = _load_inputs(params, layout)
    return TextEvaluation(params, data, split, _part(data, split.train), _part(data, split.test))


@dataclass(frozen=True)
class TextEvaluation:
    """The test documents and the training documents (for the baselines); see
    :class:`~tokfrag.kinds.base.Evaluation`."""

    params: Params
    data: Any
    split: TextSplit
    train: tuple[list[str], np.ndarray]  # texts, labels
    test: tuple[list[str], np.ndarray]

    @property
    def fingerprint(self) -> str:
        return self.split.fingerprint()

    @property
    def data_sha256(self) -> str:
        return self.data.sha256

    @property
    def scoring(self) -> Scoring:
        return scoring(*self.test, self.data.label_names)

    @property
    def inputs(self) -> list[str]:
        return self.test[0]

    def baselines(self) -> dict[str, tuple[Any, float]]:
        from tokfrag.families.baselines.text import MajorityClassifier, TfidfLogRegClassifier

        (train_texts, train_labels), names = self.train, self.data.label_names
        return {
            "majority": fitted(lambda: MajorityClassifier(names).fit(train_texts, train_labels)),
            "tfidf_logreg": fitted(
                lambda: TfidfLogRegClassifier(names).fit(train_texts, train_labels)
            ),
        }

    def baseline_params(self, names: list[str]) -> dict[str, dict[str, Any]]:
        return {name: {"kind": name} for name in names}

    def header(self) -> dict[str, Any]:
        return {
            "task": "classification",
            "primary_metric": "test_accuracy",
            "higher_is_better": True,
            "columns": [["test_accuracy", "test accuracy"], ["test_macro_f1", "test macro-F1"]],
            "protocol": {
                "name": "fixed train/test split",
                "label_names": list(self.data.label_names),
                "val_fraction": self.params.split.val_fraction,
                "train_documents": int(len(self.split.train)),
                "test_documents": int(len(self.split.test)),
            },
        }

    def published(self) -> Any:
        from tokfrag.data.registry import published_figures

        return published_figures(self.params.data.dataset)

    def verdict_args(self, items: dict[str, Any]) -> dict[str, Any]:
        return {"registered_correct": {f: items[f"{f}@registered"] > 0.5 for f in FAMILIES}}

    def report_args(self, outputs: dict[str, Any]) -> dict[str, Any]:
        return {"y_test": self.test[1], "probabilities": outputs}


def champion_items(params: Params, layout: Layout, champion: Any) -> np.ndarray:
    """Per-document 0/1 correctness of a registered pyfunc model on this test split, asked
    through its predict contract (the way a client would)."""
    from tokfrag.registry.text_frames import texts_to_frame

    data, split = _load_inputs(params, layout)
    test_texts, test_labels = _part(data, split.test)
    frame = champion.predict(texts_to_frame(test_texts))
    truth = np.asarray(data.label_names, dtype=object)[test_labels]
    return (frame["label"].to_numpy(dtype=object) == truth).astype(float)


def candidate_maker(params: Params, layout: Layout, metrics: dict[str, Any]) -> Callable[..., Any]:
    """A registered classifier's contract (its classes) and its input example (three test
    documents), for :class:`~tokfrag.registry.TextCandidate`."""
    from tokfrag.registry.candidates import TextCandidate

    data, split = _load_inputs(params, layout)
    if metrics["split_fingerprint"] != split.fingerprint():
        raise StageError(f"{layout.metrics} is from another split; rerun `tokfrag evaluate`")
    test_texts, _ = _part(data, split.test[:3])
    return functools.partial(
        TextCandidate,
        label_names=data.label_names,
        data_sha256=data.sha256,
        example_texts=test_texts,
    )
