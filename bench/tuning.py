"""`make bench`: what tuning costs beyond the training it runs, and how it scales.

1. Bookkeeping share: each family tuned on Chickenpox with the project's own spaces and
   budget shape (``--trials`` trials). Every trial records the seconds spent building and
   fitting its model (``compute_seconds``, without the reporting inside the fit); the rest
   of its wall time is Optuna (suggest, report, prune checks, heartbeats, tell) and MLflow
   (a child run, its params, epochs and state). Target: under 5% of a trial's wall time.
   Measured with params.yaml's pruner interval (reports every 5 epochs) and with a report
   every epoch, for comparison.
2. Throughput: the same study, trials of equal cost (GConvGRU, no early stopping, no
   pruning, only the learning rate and dropout searched), with 1 and then 2 worker
   processes on one SQLite study; trials per minute of wall clock, spawn time included.

Writes bench/results/tuning.json.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from common import (
    REPO,
    RESULTS,
    RUNS,
    command_line,
    load_base,
    model_label,
    prepare_project,
    scratch_project,
    timed,
    write_result,
)
from records import record

PROTOCOL = "Chickenpox, PGT split (lags 4, horizon 1); SQLite study and MLflow store"


def bookkeeping(base, trials: int, interval: int | None = None) -> list[dict]:
    """``interval``: report to the pruner every this many epochs (None: params.yaml's)."""
    from tokfrag import stages

    updates = {"tune.n_trials": trials}
    if interval is not None:
        updates["tune.pruner.interval_epochs"] = interval
    params = base.with_overrides(updates)
    interval = params.tune.pruner.interval_epochs
    name = "tuning-overhead" if interval == base.tune.pruner.interval_epochs else "tuning-every"
    root = prepare_project(params, scratch_project(name))
    print(f" reporting to the pruner every {interval} epoch(s):")
    records = []
    for family in stages.FAMILIES:
        tuned, wall = timed(lambda f=family: stages.tune(params, root, f))
        rows = [t for t in tuned["trials"] if t["compute_seconds"] is not None]
        trial_wall = sum(t["seconds"] for t in rows)
        compute = sum(t["compute_seconds"] for t in rows)
        share = 100.0 * (1.0 - compute / trial_wall)
        worst = max(100.0 * (1.0 - t["compute_seconds"] / t["seconds"]) for t in rows)
        stage_share = 100.0 * (1.0 - compute / wall)
        print(
            f"  {family:<9} {len(rows)} trials: bookkeeping {share:.2f}% of trial wall time "
            f"(worst trial {worst:.2f}%); {stage_share:.1f}% of the whole `tune` stage "
            f"({wall:.1f} s, incl. loading data and opening the stores)"
        )
        common = {
            "model": model_label(base, family),
            "family": family,
            "n_seeds": None,
            "interval_epochs": interval,
        }
        records += [
            record(
                "chickenpox",
                PROTOCOL,
                metric="bookkeeping_pct_of_trial_wall",
                value=share,
                seconds=trial_wall,
                target="< 5",
                worst_trial_pct=worst,
                trials=len(rows),
                pruned=tuned["used"]["pruned"],
                **common,
            ),
            record(
                "chickenpox",
                PROTOCOL,
                metric="non_compute_pct_of_tune_stage",
                value=stage_share,
                seconds=wall,
                note="whole `tokfrag tune` call: data loading, study and run set-up included",
                **common,
            ),
        ]
    return records


def tuned_vs_handset(base, trials: int, seeds: int) -> list[dict]:
    """Test MSE of each family's final fit (train + validation, the folds' mean best epoch
    count; ``seeds`` seeds, mean ± std) for the best trial's point and for trial 0, the
    hand-set configuration: does selecting on the cross-validation folds carry over to the
    test split? The best trial's evaluation is what `make run` ships: its verdict against
    the ridge baselines is recorded too."""
    import importlib

    from tokfrag import stages
    from tokfrag.layout import Layout
    from tokfrag.stages.training import fit_repeats

    params = base.with_overrides({"tune.n_trials": trials, "train.repeats": seeds})
    root = RUNS / "tuning-overhead"  # tuned by bookkeeping() just before
    layout = Layout.of(params, root)
    impl = importlib.import_module("tokfrag.kinds.series")
    records = []
    for label in ("trial 0 (hand-set)", "best trial"):
        for family in stages.FAMILIES:
            record_ = stages.tune(params, root, family)  # resumes: no new trial
            point = record_["best"] if label == "best trial" else record_["trials"][0]
            parts = impl.fit_parts(params, layout, family, final=True)
            fit_repeats(
                params.with_overrides(point["params"]),
                layout,
                family,
                parts,
                epochs=int(point["best_epoch"]),
                final=True,
            )
        metrics = stages.evaluate(params, root)
        for family in stages.FAMILIES:
            entry = metrics["models"][family]
            value, std = entry["test_mse"], entry["test_mse_std"]
            print(f"  {family:<9} final fit of the {label}: test MSE {value:.4f} ± {std:.4f}")
            records.append(
                record(
                    "chickenpox",
                    PROTOCOL,
                    model=model_label(params, family),
                    family=family,
                    metric="test_mse",
                    value=value,
                    std=std,
                    n_seeds=seeds,
                    point=label,
                )
            )
    verdict = metrics["verdict"]
    for key in ("baseline", "strongest_baseline"):
        against = verdict.get(key)
        if not against:
            continue
        d = against["difference"]
        print(
            f"  make run's family winner ({verdict['chosen']}) - {against['name']}: "
            f"{d['estimate']:+.4f} [{d['low']:+.4f}, {d['high']:+.4f}] ({d['method']}); "
            f"champion: {verdict.get('champion', verdict['chosen'])}"
        )
        records.append(
            record(
                "chickenpox",
                PROTOCOL,
                model=model_label(params, verdict["chosen"]),
                family=verdict["chosen"],
                metric=f"test_mse_minus_{against['name']}",
                value=d["estimate"],
                ci_low=d["low"],
                ci_high=d["high"],
                beaten=against["beaten"],
                interval=d["method"],
                champion=verdict.get("champion", verdict["chosen"]),
                point="best trial (make run's family winner)",
                target="< 0, interval excluding zero",
            )
        )
    return records


def throughput(base, trials: int, epochs: int) -> list[dict]:
    from tokfrag import stages

    params = base.with_overrides(
        {
            "fragment.variant": "gconvgru",
            "train.epochs": epochs,
            "train.patience": epochs,  # every trial runs every epoch: equal cost
            "tune.n_trials": trials,
            "tune.pruner.kind": "none",
        }
    )
    raw = params.model_dump()
    raw["tune"]["spaces"]["fragment"]["gconvgru"] = {
        "fragment.lr": {"type": "float", "low": 3e-4, "high": 3e-2, "log": True},
        "fragment.model.dropout": {"type": "float", "low": 0.0, "high": 0.3},
    }
    from tokfrag.config import parse_params

    params = parse_params(raw, source="bench/tuning.py")
    records, rates = [], {}
    for workers in (1, 2):
        root = prepare_project(params, scratch_project(f"tuning-workers-{workers}"))
        tuned, wall = timed(lambda r=root, w=workers: stages.tune(params, r, "fragment", w))
        assert tuned["used"]["trials"] == trials, tuned["used"]
        rates[workers] = trials / wall * 60.0
        print(f"  {workers} worker(s): {trials} trials in {wall:.1f} s = {rates[workers]:.1f}/min")
        records.append(
            record(
                "chickenpox",
                PROTOCOL,
                model="gconvgru",
                family="fragment",
                metric=f"trials_per_minute_{workers}_worker{'s' if workers > 1 else ''}",
                value=rates[workers],
                seconds=wall,
                workers=workers,
                trials=trials,
                epochs_per_trial=epochs,
                note="torch threads: the default with 1 worker; 1 per worker with 2",
            )
        )
    records.append(
        record(
            "chickenpox",
            PROTOCOL,
            model="gconvgru",
            family="fragment",
            metric="speedup_2_workers",
            value=rates[2] / rates[1],
        )
    )
    return records


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=8, help="trials per family")
    parser.add_argument("--seeds", type=int, default=3, help="final fits per point")
    parser.add_argument("--throughput-trials", type=int, default=12)
    parser.add_argument("--epochs", type=int, default=60, help="epochs per throughput trial")
    parser.add_argument("--params", type=Path, default=REPO / "params.yaml")
    parser.add_argument("--out", type=Path, default=RESULTS / "tuning.json")
    args = parser.parse_args()

    base = load_base(args.params, "chickenpox")
    print("bookkeeping (Optuna + MLflow) per trial:")
    records = bookkeeping(base, args.trials)
    records += bookkeeping(base, args.trials, interval=1)
    print("does the tuned point beat the hand-set one on the test split?")
    records += tuned_vs_handset(base, args.trials, args.seeds)
    print("throughput, one study:")
    records += throughput(base, args.throughput_trials, args.epochs)
    write_result(args.out, records, base, command_line("make bench"))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
