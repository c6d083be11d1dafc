"""The quality targets of issue 16, each read from ``bench/results/*.json`` and shown in
BENCHMARKS.md beside what was measured: met, or missed by how much and what was tried.

Every figure is a mean ± std over 3 seeds of the final fit, chosen without the test split
(epochs and settings on validation folds only). ``TRIED`` holds what was tried for a target
that is missed; it is written by hand after a ``make bench`` run, and shown only then.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from records import Record, ResultFile


@dataclass(frozen=True)
class Outcome:
    measured: str  # the figure(s), as shown
    met: bool | None  # None: not measured
    source: str  # the result file(s)


@dataclass(frozen=True)
class Target:
    name: str
    target: str
    check: Callable[[Sequence[ResultFile]], Outcome]
    tried: str = ""


def _records(files: Sequence[ResultFile], name: str) -> list[Record]:
    found = next((f for f in files if f.name == name), None)
    return [] if found is None else list(found.records)


def _find(files: Sequence[ResultFile], name: str, **match: Any) -> Record | None:
    for r in _records(files, name):
        if all(r.get(k) == v for k, v in match.items()):
            return r
    return None


def _pm(r: Record) -> str:
    std = r.get("std")
    seeds = r.get("n_seeds")
    spread = f" ± {std:.4f}" if std else ""
    return f"{r.value:.4f}{spread}" + (
        f" ({seeds} seed{'s' if seeds != 1 else ''})" if seeds else ""
    )


MISSING = Outcome("not measured", None, "")


def _threshold(
    file: str,
    below: float | None = None,
    above: float | None = None,
    at_least: float | None = None,
    **match: Any,
):
    def check(files: Sequence[ResultFile]) -> Outcome:
        r = _find(files, file, **match)
        if r is None or r.get("value") is None:
            return MISSING
        v = r.value
        met = (
            (below is None or v < below)
            and (above is None or v > above)
            and (at_least is None or v >= at_least)
        )
        return Outcome(_pm(r), met, file)

    return check


def _champion_vs(baseline: str):
    def check(files: Sequence[ResultFile]) -> Outcome:
        r = _find(files, "tuning.json", metric=f"test_mse_minus_{baseline}")
        if r is None:
            return MISSING
        low, high = r.extra["ci_low"], r.extra["ci_high"]
        text = f"{r.model}: {r.value:+.4f}, 95% CI [{low:+.4f}, {high:+.4f}]"
        return Outcome(text, high < 0, "tuning.json")

    return check


def _tuned_vs_handset(files: Sequence[ResultFile]) -> Outcome:
    parts, met = [], True
    for family in ("token", "fragment"):
        tuned = _find(files, "tuning.json", family=family, metric="test_mse", point="best trial")
        hand = _find(
            files, "tuning.json", family=family, metric="test_mse", point="trial 0 (hand-set)"
        )
        if tuned is None or hand is None:
            return MISSING
        ok = tuned.value <= hand.value + (hand.get("std") or 0.0)
        met = met and ok
        parts.append(f"{family}: tuned {_pm(tuned)} vs hand-set {_pm(hand)}")
    return Outcome("; ".join(parts), met, "tuning.json")


HORIZONS = (3, 6, 9, 12)


def _los_loop(families: Sequence[str], against: Sequence[str], metrics: Sequence[str]):
    """Every family below every reference at every horizon, on every metric."""

    def check(files: Sequence[ResultFile]) -> Outcome:
        records = _records(files, "los_loop.json")
        if not records:
            return MISSING

        def value(model_prefix: str, metric: str, h: int) -> float | None:
            name = f"test_{metric}_steps_1_to_{h}"
            for r in records:
                if r.metric == name and r.get("horizon") == h:
                    if r.model == model_prefix or r.family == model_prefix:
                        return r.value
            return None

        misses, shown = [], []
        for family in families:
            for metric in metrics:
                row = []
                for h in HORIZONS:
                    mine = value(family, metric, h)
                    refs = [value(b, metric, h) for b in against]
                    if mine is None or any(x is None for x in refs):
                        return MISSING
                    row.append(f"{mine:.2f}")
                    if not all(mine < x for x in refs):  # type: ignore[operator]
                        misses.append(f"{family} {metric.upper()} at {h}")
                shown.append(f"{family} {metric.upper()} {'/'.join(row)}")
        text = "; ".join(shown) + (f" (misses: {', '.join(misses)})" if misses else "")
        return Outcome(text, not misses, "los_loop.json")

    return check


def _tgcn_rmse(files: Sequence[ResultFile]) -> Outcome:
    from published import FIGURES

    records = _records(files, "los_loop.json")
    if not records:
        return MISSING
    shown, misses = [], []
    for h in HORIZONS:
        fig = next(
            f
            for f in FIGURES
            if f.dataset == "los_loop" and f.horizon == h and f.metric == "test_rmse_steps_1_to_h"
        )
        mine = next(
            (
                r.value
                for r in records
                if r.family == "fragment" and r.metric == f"test_rmse_steps_1_to_{h}"
            ),
            None,
        )
        if mine is None:
            return MISSING
        shown.append(f"{mine:.2f} vs {fig.value:.2f}")
        if not mine < fig.value:
            misses.append(str(h))
    text = "at 3/6/9/12: " + ", ".join(shown)
    return Outcome(text, not misses, "los_loop.json (T-GCN's figures UNCONFIRMED)")


# Written after a `make bench` run, for the targets it missed: what was tried (shown only
# while the target is missed). Validation figures are MR's 10% hold-out, one seed.
TRIED: dict[str, str] = {
    "MR, token (fine-tuned all-MiniLM-L6-v2), test accuracy": (
        "the warm-up + linear-decay recipe with the best-validation weights; learning rates "
        "5e-5, 1e-4 and 2e-4 for 2 epochs (validation accuracy 0.855, 0.858, 0.852: 1e-4 "
        "kept); [CLS] pooling against the mean of the token states all-MiniLM-L6-v2 was "
        "trained with (best validation 0.845 against 0.858: mean kept); 3 epochs (validation "
        "fell after the second); max_length covering 99% of training documents (56 tokens). "
        "A 6-layer, 384-wide sentence encoder is far smaller than BERT-base (110M); it is "
        "the one pretrained encoder that installs offline here."
    ),
    "MR, fragment (document graphs), test accuracy": (
        "TextING's gated graph layers and gated mean + max readout on MiniLM's input "
        "embeddings (the mean of each word's WordPiece vectors); trainable or frozen vectors, "
        "hidden 64/96/128, 2 or 3 propagation steps, learning rate 1e-3 to 1e-2, dropout 0.5 "
        "or 0.7, weight decay 0.01 or 0.1, up to 15 epochs: validation accuracy 0.76 to 0.79 "
        "and test about 0.74 to 0.76 for all of them. TextING's 0.798 uses GloVe-840B "
        "vectors, which cannot be installed here; MiniLM's context-free input embeddings are "
        "a weaker start."
    ),
    "TREC, fragment, test accuracy": (
        "the same document-graph settings as MR (chosen on MR's validation part); TREC's "
        "questions are 10 words long, so each graph is a handful of nodes and the word "
        "order that decides the question type is mostly lost."
    ),
    "SMS Spam, token, spam-class F1": (
        "the default fine-tuning recipe (2 epochs, 1e-4); accuracy reaches 0.99 but the spam "
        "class (13% of messages) keeps 5 to 10 errors, which is 0.96 to 0.97 F1. Not tuned "
        "for this dataset."
    ),
    "Los-loop (T-GCN protocol), both families below ridge_ar and last_value, MAE and RMSE "
    "pooled over steps 1..h": (
        "4 epochs for both families (the most `make bench`'s hour allows on 2 cores), the "
        "default models with time-of-day covariates and the ridge-started skip."
    ),
    "Los-loop, fragment RMSE below T-GCN's published figures": (
        "4 epochs of GConvGRU with time-of-day covariates and the ridge-started skip, at "
        "Chickenpox's tuned settings (hidden 16, learning rate 0.004); T-GCN trains for "
        "3000 epochs and reports its best test epoch, and its figures here are recalled, "
        "not checked against the paper."
    ),
}

TARGETS: tuple[Target, ...] = (
    Target(
        "Chickenpox (PGT), fragment test MSE (default params, tuned, then trained)",
        "< 0.675",
        _threshold(
            "tuning.json", below=0.675, family="fragment", metric="test_mse", point="best trial"
        ),
    ),
    Target(
        "Chickenpox, token test MSE (default params, tuned, then trained)",
        "< 0.704 (beats ridge_ar)",
        _threshold(
            "tuning.json", below=0.704, family="token", metric="test_mse", point="best trial"
        ),
    ),
    Target(
        "Chickenpox, `make run`'s champion minus ridge_ar (test MSE)",
        "< 0, 95% interval excluding zero",
        _champion_vs("ridge_ar"),
    ),
    Target(
        "Chickenpox, `make run`'s champion minus ridge_ar_calendar (the same covariates)",
        "(no target: shown for honesty)",
        _champion_vs("ridge_ar_calendar"),
    ),
    Target(
        "Chickenpox, tuned against hand-set, on test",
        "tuned <= hand-set + 1 std, both families",
        _tuned_vs_handset,
    ),
    Target(
        "MR, token (fine-tuned all-MiniLM-L6-v2), test accuracy",
        ">= 0.84 (stretch > 0.857, BERT-base)",
        _threshold("mr.json", at_least=0.84, model="token_pretrained", metric="test_accuracy"),
    ),
    Target(
        "MR, fragment (document graphs), test accuracy",
        "> 0.7982 (TextING)",
        _threshold("mr.json", above=0.7982, model="fragment_docgraph", metric="test_accuracy"),
    ),
    Target(
        "TREC, token, test accuracy",
        "> 0.95",
        _threshold("trec.json", above=0.95, model="token_pretrained", metric="test_accuracy"),
    ),
    Target(
        "TREC, fragment, test accuracy",
        "> 0.880 (TF-IDF + LR)",
        _threshold("trec.json", above=0.880, model="fragment_docgraph", metric="test_accuracy"),
    ),
    Target(
        "SMS Spam, token, test accuracy",
        ">= 0.99",
        _threshold(
            "sms_spam.json", at_least=0.99, model="token_pretrained", metric="test_accuracy"
        ),
    ),
    Target(
        "SMS Spam, token, spam-class F1",
        ">= 0.99",
        _threshold("sms_spam.json", at_least=0.99, model="token_pretrained", metric="test_f1_spam"),
    ),
    Target(
        "Los-loop (T-GCN protocol), both families below ridge_ar and last_value, MAE and RMSE "
        "pooled over steps 1..h",
        "every horizon 3/6/9/12",
        _los_loop(("token", "fragment"), ("ridge_ar", "last_value"), ("mae", "rmse")),
    ),
    Target(
        "Los-loop, fragment RMSE below T-GCN's published figures",
        "every horizon 3/6/9/12",
        _tgcn_rmse,
    ),
)


def section(files: Sequence[ResultFile]) -> list[str]:
    """BENCHMARKS.md's "Targets" table."""
    lines = [
        "## Targets",
        "",
        "Issue 16's quality targets, each beside what `make bench` measured (mean ± std over "
        "3 seeds; epochs and settings chosen on validation folds, never on the test split).",
        "",
        "| target | goal | measured | met | from |",
        "| --- | --- | --- | --- | --- |",
    ]
    notes = []
    for t in TARGETS:
        out = t.check(files)
        met = {True: "yes", False: "**no**", None: "-"}[out.met]
        lines.append(f"| {t.name} | {t.target} | {out.measured} | {met} | {out.source} |")
        tried = TRIED.get(t.name, t.tried)
        if out.met is False and tried:
            notes.append(f"- **{t.name}**: {tried}")
    if notes:
        lines += ["", "Misses, and what was tried:", "", *notes]
    return lines + [""]
