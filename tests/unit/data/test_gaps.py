"""Gap.fillable: the one rule for which gaps data.missing: interpolate fills (the policy
applies it, the validation gate checks that no gap left meets it)."""

from __future__ import annotations

import numpy as np
import pytest

from tokfrag.data.gaps import Gap, find_gaps


@pytest.mark.parametrize(
    ("gap", "train_steps", "fillable"),
    [
        (Gap(0, 2, 4), None, True),  # interior, 2 steps, no split known
        (Gap(0, 2, 4), 10, True),  # right-hand reading (row 4) is a training row
        (Gap(0, 2, 4), 4, False),  # right-hand reading is the first row after training
        (Gap(0, 0, 2), None, False),  # at the start: a reading on one side only
        (Gap(0, 8, 10), None, False),  # at the end
        (Gap(0, 2, 6), None, False),  # 4 steps, longer than max_gap 3
    ],
)
def test_fillable(gap: Gap, train_steps: int | None, fillable: bool) -> None:
    assert gap.fillable(10, 3, train_steps) is fillable


def test_find_gaps_goes_node_by_node() -> None:
    missing = np.zeros((6, 2), dtype=bool)
    missing[1:3, 1] = missing[4, 1] = missing[0, 0] = True
    assert find_gaps(missing) == [Gap(0, 0, 1), Gap(1, 1, 3), Gap(1, 4, 5)]
