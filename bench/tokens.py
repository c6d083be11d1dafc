"""`make bench`: the token family's rows -> bench/results/tokens.json.

1. Series tokenisation throughput (windows/second): tokfrag's ``MeanScaleQuantizer.encode``
   against chronos-forecasting's ``MeanScaleUniformBins.context_input_transform`` on the same
   arrays in the same run (same bins, EOS appended by both), with the ratio and a check that
   both give the same token ids; and tokfrag's ``PatchTokenizer.encode`` on those arrays.
2. Text tokenisation throughput (documents/second): the WordPiece ``TextTokenizer`` fitted
   on MR's training documents, and the local all-MiniLM-L6-v2 tokenizer, encoding MR's test
   documents.
3. Chickenpox test MSE/MAE of the channel-independent series token variants
   (``token.variant`` quantized and patch; the default, inverted, is measured by
   ``bench/seeds.py``) over several seeds, through the real stages.
4. ``--quick`` only: one short MR epoch of the text token model from scratch, as a smoke
   check. The default text token model (all-MiniLM-L6-v2, fine-tuned) is measured over 3
   seeds by ``bench/seeds.py mr``, beside the baselines and the published figures.

Parts 1 and 2 are in bench/tokens_series.py and bench/tokens_text.py, parts 3 and 4 in
bench/tokens_models.py; this script runs them and writes the result file.

Run: ``python bench/tokens.py`` (a few minutes on 2 CPU cores) or ``--quick`` (a smoke check
in about a minute: 20,000 windows, one seed, 20 Chickenpox epochs, 1 MR epoch at max_length
32; its figures are not comparable, and it writes bench/results/tokens-quick.json).
Needs the bench extra (``pip install -e '.[bench]'``: chronos-forecasting) and the
pretrained extra. Torch runs on ``--threads`` intra-op threads (default 1, recorded in
``machine``); the tokenisation throughputs always use one.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import (
    REPO,
    RESULTS,
    command_line,
    load_base,
    prepare_project,
    scratch_project,
    timed,
    write_result,
)
from records import Record
from tokens_models import VARIANTS, chickenpox_variants, mr_smoke
from tokens_series import series_tokenisation
from tokens_text import text_tokenisation

PERCENT = ("test_accuracy", "test_macro_f1")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a small smoke run (< 2 minutes)")
    parser.add_argument("--params", type=Path, default=REPO / "params.yaml")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--seeds", type=int, default=3, help="Chickenpox token variants")
    parser.add_argument("--max-length", type=int, default=64, help="MR token.text.max_length")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch intra-op threads (default 1: on a shared 2-core machine, 2 threads made "
        "training 4-8x slower whenever other work ran)",
    )
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    try:
        import chronos  # noqa: F401
    except ImportError:
        print("chronos-forecasting is missing: pip install -e '.[bench]'", file=sys.stderr)
        return 2

    quick = args.quick
    out = args.out or RESULTS / ("tokens-quick.json" if quick else "tokens.json")
    seeds = 1 if quick else args.seeds
    repeats = 3 if quick else 7
    timings: dict[str, float] = {}
    records: list[Record] = []
    started_all = time.perf_counter()

    def part(heading: str, key: str, run: Callable[[], list[Record]]) -> None:
        print(heading, flush=True)
        new, timings[key] = timed(run)
        records.extend(new)

    # Both scratch projects first: the tokenisers read the data the stages prepared.
    started = time.perf_counter()
    series_base = load_base(args.params, "chickenpox", {"train.epochs": 20} if quick else {})
    series_root = prepare_project(series_base, scratch_project("tokens-chickenpox"))
    mr_updates: dict[str, Any] = {
        "split.val_fraction": 0.1,
        "token.text.max_length": args.max_length,
    }
    if quick:
        mr_updates |= {"token.text.epochs": 1, "token.text.max_length": 32}
    mr_base = load_base(args.params, "mr", mr_updates)
    mr_root = prepare_project(mr_base, scratch_project("tokens-mr"))
    timings["ingest, validate, prepare (chickenpox, mr)"] = time.perf_counter() - started

    n_windows = 20_000 if quick else 200_000
    part(
        "1. series tokenisation",
        "1. series tokenisation",
        lambda: series_tokenisation(series_base, series_root, n_windows, repeats),
    )
    part(
        "2. text tokenisation",
        "2. text tokenisation",
        lambda: text_tokenisation(mr_base, mr_root, repeats),
    )
    part(
        f"3. Chickenpox, token variants {' and '.join(VARIANTS)}, {seeds} seed(s)",
        "3. chickenpox token variants",
        lambda: chickenpox_variants(series_base, series_root, seeds),
    )
    # The default text token model (all-MiniLM-L6-v2, fine-tuned) is measured over 3 seeds by
    # bench/seeds.py mr; --quick keeps one short epoch from scratch as a smoke check.
    if quick:
        part(
            "4. MR, token model from scratch (smoke check)",
            "4. mr token models",
            lambda: mr_smoke(mr_base, mr_root),
        )
    timings["total"] = time.perf_counter() - started_all

    write_result(
        out,
        records,
        {"chickenpox": series_base.model_dump(), "mr": mr_base.model_dump()},
        command_line("make bench"),
        quick=quick,
        timings_seconds=timings,
    )
    print(f"wrote {out}\n")
    summary(records, timings)
    return 0


def fmt(r: Record) -> str:
    """``r``'s value (a rate, a percentage or a number), its std and its seeds, for the log."""
    if r.metric.endswith("per_second"):
        s = f"{r.value:>12,.0f} /s"
    elif r.metric in PERCENT or r.metric == "token_id_agreement":
        s = f"{100 * r.value:>11.2f} %"
    else:
        s = f"{r.value:>13.4f}"
    if r.std:
        s += f" ± {100 * r.std:.2f}" if r.metric in PERCENT else f" ± {r.std:.4f}"
    if r.n_seeds and r.family != "published":
        s += f"  ({r.n_seeds} seed{'s' if r.n_seeds > 1 else ''})"
    return s


def summary(records: list[Record], timings: dict[str, float]) -> None:
    """Print each record but MAE and macro-F1 (one line each, under its dataset and
    protocol), then the seconds per part."""
    current = None
    for r in records:
        if r.metric in ("test_mae", "test_macro_f1"):
            continue
        if (r.dataset, r.protocol) != current:
            current = (r.dataset, r.protocol)
            print(f"{r.dataset}: {r.protocol}")
        print(f"  {r.model[:58]:<58} {r.metric:<20} {fmt(r)}")
    print("\nseconds per part:")
    for name, seconds in timings.items():
        print(f"  {name:<46} {seconds:7.1f}")


if __name__ == "__main__":
    sys.exit(main())
