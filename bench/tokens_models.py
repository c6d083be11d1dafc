"""Parts 3 and 4 of bench/tokens.py: the token model trained and scored through the real
stages (train, then evaluate) in a scratch project.

3. Chickenpox test MSE/MAE of the channel-independent series token variants
   (``token.variant`` quantized and patch) over seeds, with the published figures.
4. ``--quick`` only: one short MR epoch of the text token model from scratch, as a smoke
   check, with the evaluation's deterministic baselines and the published figures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from common import model_label, override, published_records, timed
from records import Record, record, seed_record
from seeds import protocol_name

VARIANTS = ("quantized", "patch")
# The MR smoke check: the text token model from scratch; the fragment family (which evaluate
# also scores) gets the smallest budget that lets evaluate run.
MR_SCRATCH = {"token.text.pretrained": False}
MR_FRAGMENT = {"fragment.text.epochs": 1}


def fit_token(params: Any, root: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Train the token family on ``params`` in ``root``, then evaluate: the token model's
    evaluation entry with ``train_seconds``, ``epochs_run`` and ``best_epoch`` added, and
    the whole evaluation."""
    from tokfrag import stages

    info, train_seconds = timed(lambda: stages.train(params, root, "token"))
    metrics = stages.evaluate(params, root)
    entry = {
        **metrics["models"]["token"],
        "train_seconds": train_seconds,
        "epochs_run": info["epochs_run"],
        "best_epoch": info["best_epoch"],
    }
    return entry, metrics


def token_record(
    dataset: str, protocol: str, model: str, metric: str, entries: list[dict], **extra: Any
) -> Record:
    """``metric`` of the token model over the seeds' ``entries`` (from :func:`fit_token`),
    with training plus prediction seconds."""
    return seed_record(
        dataset,
        protocol,
        model,
        "token",
        metric,
        [e[metric] for e in entries],
        [e["train_seconds"] + e["predict_seconds"] for e in entries],
        **extra,
    )


def chickenpox_variants(base: Any, root: Path, seeds: int) -> list[Record]:
    """Test MSE/MAE of the token model with each of ``VARIANTS``, over ``seeds`` seeds (the
    default variant, inverted, is measured by ``bench/seeds.py``), then the published figures.

    The evaluate stage scores both families, so the fragment model is trained once per seed
    (its rows are in chickenpox.json, not repeated here)."""
    from tokfrag import stages

    runs: dict[str, list[dict]] = {variant: [] for variant in VARIANTS}
    protocol = ""
    for seed in range(seeds):
        stages.train(override(base, {"train.seed": seed}), root, "fragment")
        for variant in VARIANTS:
            entry, metrics = fit_token(
                override(base, {"train.seed": seed, "token.variant": variant}), root
            )
            protocol = protocol or protocol_name(metrics["protocol"])
            runs[variant].append(entry)
            print(
                f"  seed {seed} token ({variant}): test MSE {entry['test_mse']:.4f}, "
                f"{entry['epochs_run']} epochs, {entry['train_seconds']:.1f} s",
                flush=True,
            )
    q, p = base.token.tokenizer, base.token.patch
    tokenizer = {
        "quantized": f"n_bins {q.n_bins} over [{q.low:g}, {q.high:g}]",
        "patch": f"patch_len {p.patch_len}, stride {p.stride}",
    }
    records = [
        token_record(
            "chickenpox",
            protocol,
            model_label(override(base, {"token.variant": variant}), "token"),
            metric,
            entries,
            variant=variant,
            tokenizer=tokenizer[variant],
            epochs_run=[e["epochs_run"] for e in entries],
        )
        for variant, entries in runs.items()
        for metric in ("test_mse", "test_mae")
    ]
    return records + published_records("chickenpox", protocol, base.split.model_dump())


def mr_smoke(base: Any, root: Path) -> list[Record]:
    """Test accuracy and macro-F1 of the text token model from scratch (seed 0, ``base``'s
    budget), the deterministic baselines of the same evaluation, and the published figures.
    The fragment model that evaluation also scored had only ``MR_FRAGMENT``'s budget: its
    figure is not a benchmark and is left out."""
    from tokfrag import stages

    frag_info, frag_seconds = timed(
        lambda: stages.train(override(base, MR_FRAGMENT), root, "fragment")
    )
    print(
        f"  fragment (for evaluate): {frag_info['epochs_run']} epochs, {frag_seconds:.0f} s",
        flush=True,
    )
    params = override(base, {"train.seed": 0, **MR_SCRATCH})
    name = model_label(params, "token")
    entry, metrics = fit_token(params, root)
    print(
        f"  seed 0 {name}: test accuracy {entry['test_accuracy']:.4f}, "
        f"{entry['epochs_run']} epochs (best {entry['best_epoch']}), "
        f"{entry['train_seconds']:.0f} s",
        flush=True,
    )
    loop = params.train.loop_settings("text", params.family_loop("token", "text"))
    protocol = protocol_name(metrics["protocol"])
    records = [
        token_record(
            "mr",
            protocol,
            name,
            metric,
            [entry],
            epochs=loop["epochs"],
            patience=loop["patience"],
            lr=loop["lr"],
            batch_size=loop["batch_size"],
            epochs_run=[entry["epochs_run"]],
            best_epoch=[entry["best_epoch"]],
            n_params=entry["n_params"],
        )
        for metric in ("test_accuracy", "test_macro_f1")
    ]
    for model in ("tfidf_logreg", "majority"):
        baseline = metrics["models"][model]
        for metric in ("test_accuracy", "test_macro_f1"):
            records.append(
                record(
                    "mr",
                    protocol,
                    model,
                    baseline["family"],
                    metric,
                    baseline[metric],
                    0.0,
                    1,
                    baseline["predict_seconds"],
                )
            )
    return records + published_records("mr", protocol)
