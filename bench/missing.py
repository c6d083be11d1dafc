"""`make bench`: both families and the baselines on a real sensor file with half of its
readings missing, under ``data.missing: mask`` and ``interpolate``, over 3 seeds.

The file is Chickenpox as a user's CSV (``week`` + one column per county, and its edge list)
with about 50% of the cells deleted in runs (:func:`tokfrag_testing.gaps.punch_gaps`: 3% of
the weeks empty everywhere, runs of 1 to 8 weeks per county, one county reporting from week
60 on), made in a scratch project under ``bench/runs/`` (never committed). Each policy runs
the real stages on the project's params.yaml (the same models as ``bench/seeds.py``:
untuned, one final fit per seed, early-stopped on the validation part) and scores every
model by masked MSE, MAE and RMSE: over the observed test targets only.

``python bench/missing.py`` writes ``bench/results/chickenpox_gaps.json``: one dataset per
policy (``chickenpox_gaps_mask``, ``chickenpox_gaps_interpolate``), so BENCHMARKS.md shows
each in its own table. Its test MSE, MAE and RMSE are the masked ones.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from common import REPO, RESULTS, load_base, override, prepare_project, scratch_project
from records import Record
from seeds import finish, run_seeds, seed_records

sys.path.insert(0, str(REPO / "tests"))  # the gap maker the e2e test uses

POLICIES = {"mask": {"data.missing": "mask"}, "interpolate": {"data.missing": "interpolate",
            "data.max_gap": 2}}  # fmt: skip
# Chickenpox's weeks (the built-in dataset's clock): the same calendar covariates, and the
# same ridge_ar_calendar baseline, as the complete data's runs.
CLOCK = {"calendar.start": "2005-01-10", "calendar.step": "7D"}
METRICS = {m: m for m in ("test_mse", "test_mae", "test_rmse")}  # masked: observed targets


def gappy_project(name: str, mirror: Path) -> tuple[Path, dict]:
    """A scratch project whose inputs/ hold the half-missing file and its edge list, and
    the ``data.source`` that reads them."""
    from tokfrag_testing.bad_inputs import SERIES_SOURCE, series_frames
    from tokfrag_testing.gaps import punch_gaps

    root = scratch_project(name)
    readings, edges = series_frames(mirror)
    (root / "inputs").mkdir()
    punch_gaps(readings).to_csv(root / "inputs" / "readings.csv", index=False)
    edges.to_csv(root / "inputs" / "edges.csv", index=False)
    source = {
        **SERIES_SOURCE,
        "path": str(root / "inputs" / "readings.csv"),
        "edges": str(root / "inputs" / "edges.csv"),
    }
    return root, source


def protocol_name(policy: str, metrics: dict) -> str:
    protocol, gaps = metrics["protocol"], metrics["protocol"]["missing"]
    return (
        f"Chickenpox with {gaps['missing_share']:.0%} of readings left missing after "
        f"data.missing: {policy} (the file: about 50% deleted in runs); PGT chronological "
        f"split, lags {protocol['lags']}, horizon {protocol['horizon']}, train_ratio "
        f"{protocol['train_ratio']}; metrics over the {gaps['observed_test_targets']:,} "
        f"observed of {gaps['test_targets']:,} test targets"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--params", type=Path, default=REPO / "params.yaml")
    parser.add_argument("--mirror", type=Path, default=REPO.parent / "shared" / "data")
    args = parser.parse_args()
    records: list[Record] = []
    for policy, keys in POLICIES.items():
        root, source = gappy_project(f"chickenpox_gaps-{policy}", args.mirror)
        base = override(
            load_base(args.params, f"chickenpox_gaps_{policy}"),
            {"data.source": source, **keys, **CLOCK},
        )
        prepare_project(base, root)
        per_seed = run_seeds(base, root, args.seeds, f"chickenpox gaps ({policy})")
        name = protocol_name(policy, per_seed[0]["metrics"])
        records += seed_records(f"chickenpox_gaps_{policy}", name, base, per_seed, METRICS)
    finish(RESULTS / "chickenpox_gaps.json", records, base, "test_mse")
    return 0


if __name__ == "__main__":
    sys.exit(main())
