"""The stages for text (classification): labelled documents with a fixed train/test split."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tokfrag.atomic import staged_dir, write_json
from tokfrag.config import Params
from tokfrag.stages.common import (
    BASELINE,
    FAMILIES,
    FitParts,
    Layout,
    Scoring,
    StageError,
    best_baseline,
    check_prepared,
    evaluated_model,
    fitted,
    judge,
    load_trained,
    log_evaluation,
    registered_metrics,
    require_gate,
    run_gate,
    score_models,
    tuning_summary,
    write_evaluation,
)
from tokfrag.stages.common import histories as _histories


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


def validate(params: Params, layout: Layout):
    from tokfrag.data.text_canonical import read_text_canonical
    from tokfrag.data.validation import validate_text

    documents, meta = read_text_canonical(layout.data_dir)

    def gate(docs: Path):
        names = meta["label_names"]
        return validate_text(
            documents, dataset=params.data.dataset, label_names=names, docs_dir=docs
        )

    return run_gate(params, layout, gate, meta["sha256"])


def check(params: Params, spec: Any, parsed: Any):
    """The gate on parsed documents that were never ingested (`tokfrag validate PATH`)."""
    from tokfrag.data.text_loaders import text_meta
    from tokfrag.data.validation import validate_text

    label_names = text_meta(spec, parsed)["label_names"]
    return validate_text(parsed, dataset=params.data.dataset, label_names=label_names)


def prepare(params: Params, layout: Layout) -> Path:
    """Fix the validation part of the training documents (stratified, seeded)."""
    from tokfrag.data.text_canonical import load_text

    require_gate(layout, params)
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
    if family == "token":
        from tokfrag.models.text_token_model import TextTokenClassifier

        t = params.token.text
        return TextTokenClassifier.build(
            texts,
            label_names,
            vocab_size=t.vocab_size,
            max_length=t.max_length,
            pretrained=t.pretrained,
            pooling=t.pooling,
            **params.token.model.model_dump(),
        )
    if family == "fragment":
        from tokfrag.models.docgraph_model import DocGraphClassifier

        sizes = params.fragment.text.model_dump(exclude={"lr", "epochs"})
        return DocGraphClassifier.build(texts, label_names, **sizes)
    raise StageError(f"unknown family {family!r}; expected 'token' or 'fragment'")


def _require_pretrained(params: Params, family: str) -> None:
    """Stop with the fix when the family's text model wants the local pretrained encoder and
    its package is not installed."""
    from tokfrag.models.pretrained import (
        PRETRAINED_EXTRA,
        PRETRAINED_PACKAGE,
        pretrained_available,
    )

    section = params.token.text if family == "token" else params.fragment.text
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


def scoring(test_texts: list[str], test_labels: np.ndarray, names: tuple[str, ...]) -> Any:
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


def evaluate(params: Params, layout: Layout) -> dict[str, Any]:
    from tokfrag.data.registry import published_figures
    from tokfrag.models.text_baselines import MajorityClassifier, TfidfLogRegClassifier
    from tokfrag.report import write_report

    data, split = _load_inputs(params, layout)
    train_texts, train_labels = _part(data, split.train)
    test_texts, test_labels = _part(data, split.test)
    trained = load_trained(layout, split.fingerprint())
    names = data.label_names
    baselines = {
        "majority": fitted(lambda: MajorityClassifier(names).fit(train_texts, train_labels)),
        "tfidf_logreg": fitted(lambda: TfidfLogRegClassifier(names).fit(train_texts, train_labels)),
    }
    models, items, probabilities = score_models(
        layout, trained, baselines, scoring(test_texts, test_labels, names), test_texts
    )
    metrics = {
        "dataset": params.data.dataset,
        "task": "classification",
        "primary_metric": "test_accuracy",
        "higher_is_better": True,
        "columns": [["test_accuracy", "test accuracy"], ["test_macro_f1", "test macro-F1"]],
        "protocol": {
            "name": "fixed train/test split",
            "label_names": list(names),
            "val_fraction": params.split.val_fraction,
            "train_documents": int(len(split.train)),
            "test_documents": int(len(split.test)),
        },
        "split_fingerprint": split.fingerprint(),
        "tuning": tuning_summary(layout, split.fingerprint()),
        "data_sha256": data.sha256,
        "models": models,
        "published": published_figures(params.data.dataset),
    }
    registered = {f: items[f"{f}@registered"] > 0.5 for f in FAMILIES}
    metrics["verdict"] = judge(params, metrics, items, registered_correct=registered)
    log_evaluation(
        params,
        layout,
        metrics,
        trained,
        {name: {"kind": name} for name in baselines},
        {"data_sha256": data.sha256, "split_fingerprint": split.fingerprint()},
    )
    write_evaluation(
        params,
        layout,
        metrics,
        lambda plots_dir: write_report(
            metrics,
            plots_dir,
            y_test=test_labels,
            probabilities=probabilities,
            histories=_histories(layout),
        ),
        items,
        baselines[best_baseline(metrics)][0],
    )
    return metrics


def champion_items(params: Params, layout: Layout, champion: Any) -> np.ndarray:
    """Per-document 0/1 correctness of a registered pyfunc model on this test split, asked
    through its predict contract (the way a client would)."""
    from tokfrag.registry import texts_to_frame

    data, split = _load_inputs(params, layout)
    test_texts, test_labels = _part(data, split.test)
    frame = champion.predict(texts_to_frame(test_texts))
    truth = np.asarray(data.label_names, dtype=object)[test_labels]
    return (frame["label"].to_numpy(dtype=object) == truth).astype(float)


def candidates(params: Params, layout: Layout, metrics: dict[str, Any]) -> list[Any]:
    from tokfrag.registry import TextCandidate

    data, split = _load_inputs(params, layout)
    if metrics["split_fingerprint"] != split.fingerprint():
        raise StageError(f"{layout.metrics} is from another split; rerun `tokfrag evaluate`")
    test_texts, _ = _part(data, split.test[:3])
    out = []
    for family in (*FAMILIES, BASELINE):  # the best baseline is a candidate like the families
        run_id, entry = evaluated_model(layout, metrics, family)
        out.append(
            TextCandidate(
                family=family,
                run_id=run_id,
                model_dir=layout.model_dir(family),
                metrics=registered_metrics(entry),
                label_names=data.label_names,
                data_sha256=data.sha256,
                example_texts=test_texts,
            )
        )
    return out
