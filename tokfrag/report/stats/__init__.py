"""Is the difference between two models real? Paired significance checks on the same test items.

- :mod:`.bootstrap`: :func:`paired_bootstrap`, a confidence :class:`Interval` for the mean
  per-item loss difference ``mean(loss_a - loss_b)`` (BCa, falling back to percentile), by
  resampling items in pairs; with ``block_length >= 2``, by the stationary block bootstrap of
  the difference series.
- :mod:`.block_length`: :func:`block_length_for`, the automatic mean block length for that
  block bootstrap (Politis-White 2004, as corrected by Patton-Politis-White 2009).
- :mod:`.paired_tests`: :func:`diebold_mariano`, the Diebold-Mariano test of equal predictive
  accuracy on the loss differential series, with the Harvey-Leybourne-Newbold (1997)
  small-sample correction; :func:`mcnemar`, McNemar's test on paired right/wrong outcomes
  (exact binomial when there are fewer than 25 discordant pairs, continuity-corrected
  chi-square otherwise). Both give a :class:`TestResult`.
- :mod:`.checks`: the validation of paired inputs they share.

Dependent items: by default the bootstrap resamples items independently (iid), which suits
text items but not consecutive, overlapping forecast windows of one series, whose losses are
autocorrelated (an iid interval is then too narrow). For those, pass
``block_length=block_length_for(loss_a, loss_b, horizon)`` to :func:`paired_bootstrap`: it
resamples the paired difference series in blocks (stationary bootstrap), which keeps the
dependence within blocks, and its ``Interval.method`` names the block length used. The
Diebold-Mariano test accounts for the same dependence through autocovariances up to lag
``horizon - 1``.
"""

from tokfrag.report.stats.block_length import block_length_for
from tokfrag.report.stats.bootstrap import Interval, paired_bootstrap
from tokfrag.report.stats.paired_tests import TestResult, diebold_mariano, mcnemar

__all__ = [
    "Interval",
    "TestResult",
    "block_length_for",
    "diebold_mariano",
    "mcnemar",
    "paired_bootstrap",
]
