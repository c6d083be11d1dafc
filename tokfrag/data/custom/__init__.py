"""Your own data: files described by ``data.source`` in params.yaml, read with pandas.

The modules: :mod:`~tokfrag.data.custom.spec` (the registry entry, :func:`custom_spec`),
:mod:`~tokfrag.data.custom.formats` (reading a file), :mod:`~tokfrag.data.custom.cells`
(numbers and times), :mod:`~tokfrag.data.custom.series` (:func:`load_series`) and
:mod:`~tokfrag.data.custom.text` (:func:`load_text`).

:func:`custom_spec` turns the mapping into a :class:`~tokfrag.data.specs.DatasetSpec` whose
files are yours (with the sha256 of their bytes now) and whose loader is :func:`load_series` or
:func:`load_text` (found here by name), so `ingest` treats your data exactly as a built-in
dataset: the same canonical tables, the same meta (files and sha256, so a change in your data
is visible downstream), the same validation gate and everything after it.

The loaders return what the built-in loaders return (see :mod:`tokfrag.data.loaders` and
:mod:`tokfrag.data.text_loaders`):

series  ``(values, edges)``: ``values`` has ``t`` (int64, or datetime64 when the time column
        holds dates) then one float64 column per node, rows sorted by time; ``edges`` has
        ``source``, ``target`` (node names, str) and ``weight`` (float64; 1.0 without a weight
        column). No edge list gives an empty edge table: `prepare` then builds the graph from
        the correlations of the training steps, as for any dataset without a graph.
text    ``documents`` with ``doc_id`` (the row's 0-based position in your file), ``text``,
        ``label`` and ``split`` (str). Without a split column, a stratified (by label)
        ``test_fraction`` of the rows is the test split
        (``sklearn.model_selection.train_test_split(random_state=seed)``, as SMS Spam's loader
        does), so the same file and seed always give the same split. Test documents identical
        to a training document are dropped, as for the built-in datasets.

Like the built-in loaders, these keep what they read (an edge to an unknown node, a repeated
time, a blank document) for the validation gate to report; they raise :class:`DataError`,
naming the file, the column or row and the fix, only for what they cannot read at all, and
for gaps in series that ``data.missing`` refuses (:mod:`tokfrag.data.missing`: one summary
for the whole file).

Before a file is read, :func:`~tokfrag.data.custom.spec.source_paths` refuses one too large for
memory and :func:`~tokfrag.data.custom.formats.read_table` one that is not text (a workbook or
archive named ``.csv``) or a CSV with ``;`` or tabs between columns (see
:mod:`tokfrag.data.limits`). Dates with UTC offsets are converted to UTC, so a daylight-saving
change is no gap in the steps.
"""

from tokfrag.data.custom.series import load_series
from tokfrag.data.custom.spec import custom_spec, parse_file
from tokfrag.data.custom.text import load_text

__all__ = ["custom_spec", "load_series", "load_text", "parse_file"]
