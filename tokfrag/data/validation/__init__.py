"""The validation gate for series and text data (Great Expectations 1.x).

``validate_series(values, edges, ...)`` runs one expectation suite per canonical table (see
:mod:`tokfrag.data.canonical`) in a fresh in-memory GX context and turns GX's results into a
:class:`ValidationReport` whose failures name the table, the column, the offending rows and the fix.

What is checked:

``values``  column ``t`` exists, has no nulls, is of an integer or datetime type, is strictly
            increasing and unique; every node column (every column but ``t``) has no nulls/NaN,
            is of a float or integer type and holds finite values only; there is at least one
            node column and no column name appears twice (column count = 1 + distinct nodes).
``edges``   columns ``source``, ``target`` and ``weight`` exist; ``source`` and ``target`` are
            non-null node names (columns of ``values``); ``weight`` is numeric, non-null, finite.
``split``   the series is long enough for a fit, a validation and a test snapshot with the
            requested lags, horizon and ratios (:func:`tokfrag.data.splits.chronological_split`),
            expressed as a minimum row count of ``values``.

With ``missing`` (the ``missing`` record of ``meta.json``, see :mod:`tokfrag.data.missing`) and
its ``policy`` ``mask`` or ``interpolate``, gaps may stay in the node columns as NaN: each node's
not-null expectation takes ``mostly=0.0`` (it cannot fail; the data docs show the node's missing
percentage), and the gaps are checked on small derived tables instead, one suite each:

``mask``      one row per node: ``nan_cells`` (counted in ``values``) equals ``recorded`` (from
              ``masked_cells_per_node``, 0 when absent): the mask is the one ingest wrote.
``gaps``      (interpolate) one row per run of NaN in a node: ``node``, ``start``, ``stop``
              (rows ``start .. stop - 1``), ``steps``, ``interior`` (a reading on both sides),
              ``reads_test`` (its right-hand reading is not a training row) and ``fillable``
              (interior, at most ``max_gap`` steps, within the training rows); no gap left may
              be fillable.
``observed``  one row per node: ``train_observed`` (readings in the training steps, rows
              ``[0, train_steps_end)``) at least 1, and the sum of ``test_observed`` (readings
              in rows ``[first_test_target, end)``) at least 1. Skipped, like ``gaps``, when
              the split does not fit (that failure is reported already).

Under ``refuse`` (or ``missing=None``) none of this runs and any NaN fails as before.

``validate_text(documents, ...)`` is the text suite (see :mod:`tokfrag.data.text_canonical`), in
three batches:

``documents``    columns ``doc_id``, ``text``, ``label`` and ``split`` exist; ``doc_id`` is
                 non-null and unique; ``text`` is non-null and matches a regex for one
                 non-whitespace character (empty and blank documents fail); ``label`` is
                 non-null and in the declared ``label_names``; ``split`` is non-null and in
                 {train, test}.
``train``        the training rows: their distinct labels contain every declared class (a class
                 with no training document cannot be learned, only guessed).
``cross_split``  one row per distinct training text plus one per distinct test text, and
                 ``text`` unique over that frame: a text that repeats there is in both splits (a
                 leak of test documents into training). Repeats inside one split are not leaks
                 and collapse before the check.

The gate is table-driven: each suite is a declared tuple of blocks, each expectation beside the
function that words its failure (:mod:`~tokfrag.data.validation.suite` says how).

Modules: :mod:`~tokfrag.data.validation.series` (``values``, ``edges``, ``split`` and
:func:`validate_series`), :mod:`~tokfrag.data.validation.missing_suites` (``mask``, ``gaps``,
``observed``), :mod:`~tokfrag.data.validation.text` (the text suites and :func:`validate_text`),
:mod:`~tokfrag.data.validation.suite` (blocks, expectations, wording),
:mod:`~tokfrag.data.validation.engine` (the GX context, checkpoints and data docs; GX is imported
lazily, only there) and :mod:`~tokfrag.data.validation.report` (:class:`ValidationReport`,
:class:`Failure`, :class:`ValidationFailed`).
"""

from tokfrag.data.validation.report import Failure, ValidationFailed, ValidationReport
from tokfrag.data.validation.series import validate_series
from tokfrag.data.validation.suite import (
    CROSS_SPLIT,
    DOCUMENTS,
    EDGES,
    GAPS,
    MASK,
    OBSERVED,
    SPLIT,
    TRAIN,
    VALUES,
)
from tokfrag.data.validation.text import validate_text

__all__ = [
    "CROSS_SPLIT",
    "DOCUMENTS",
    "EDGES",
    "GAPS",
    "MASK",
    "OBSERVED",
    "SPLIT",
    "TRAIN",
    "VALUES",
    "Failure",
    "ValidationFailed",
    "ValidationReport",
    "validate_series",
    "validate_text",
]
