"""Great Expectations as the engine: a fresh in-memory context, one checkpoint per table.

:func:`run` runs each batch (a table, its frame and its :class:`~.suite.Block` rows) as a GX
suite and gathers the failures and GX's JSON results. Great Expectations is imported lazily
(importing it takes seconds), only here, and its context is configured with analytics off and
no progress bars; a data docs site only when the caller asks for HTML data docs
(``docs_dir``). The GX 1.24.1 build installed here ships no analytics client at all
(``GX_ANALYTICS_ENABLED`` is not read anywhere); setting ``analytics_enabled=False`` in the
context config is what upstream GX honours, so it is set too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from tokfrag.data.validation.report import Failure
from tokfrag.data.validation.suite import SHOWN, Block, build, failures, fmt

DOCS_SITE = "tokfrag"  # the GX data docs site's name
Batch = tuple[str, pd.DataFrame, Sequence[Block]]  # table, frame, suite


def _context(gx: Any, docs_dir: Path | None = None) -> Any:
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    sites = {}
    if docs_dir is not None:
        # GX's own static site (index + one page per suite and per validation) written
        # straight into ``docs_dir``.
        sites[DOCS_SITE] = {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(docs_dir),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
        analytics_enabled=False,
        data_docs_sites=sites,
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def _run_suite(
    gx: Any, context: Any, table: str, frame: pd.DataFrame, expectations: list, run_name: str
) -> Any:
    """One table's suite as a GX checkpoint (suite + validation definition in the in-memory
    context); with a docs site configured, the checkpoint also renders the data docs."""
    from great_expectations.checkpoint import UpdateDataDocsAction
    from great_expectations.core.run_identifier import RunIdentifier

    batch_definition = (
        context.data_sources.add_pandas(f"{table}_source")
        .add_dataframe_asset(table)
        .add_batch_definition_whole_dataframe("all")
    )
    suite = context.suites.add(
        gx.ExpectationSuite(name=f"tokfrag_{table}", expectations=expectations)
    )
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=table, data=batch_definition, suite=suite)
    )
    docs = [UpdateDataDocsAction(name="data_docs")] if context.get_site_names() else []
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name=f"tokfrag_{table}",
            validation_definitions=[definition],
            actions=docs,
            result_format={"result_format": "SUMMARY", "partial_unexpected_count": SHOWN},
        )
    )
    result = checkpoint.run(
        batch_parameters={"dataframe": frame}, run_id=RunIdentifier(run_name=run_name)
    )
    return next(iter(result.run_results.values()))


def _prune_docs(docs_dir: Path | None) -> None:
    """Drop GX's bundled fonts and pictures (4 MB a site); the pages use only the favicon."""
    if docs_dir is None:
        return
    static = Path(docs_dir) / "static"
    for path in sorted(static.rglob("*"), reverse=True):
        if path.is_file() and path.name != "favicon.ico" and "images" in path.parts:
            path.unlink()
        elif path.is_file() and "fonts" in path.parts:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def _json_safe(obj: Any) -> Any:
    """GX's JSON results quote offending values as they are; NaN and +/-inf become strings so
    that the result is strict JSON."""
    if isinstance(obj, dict):
        return {key: _json_safe(value) for key, value in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_safe(value) for value in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return fmt(obj) if math.isinf(obj) else "nan"
    return obj


def run(
    batches: Sequence[Batch],
    context: Mapping[str, Any],
    *,
    dataset: str,
    docs_dir: Path | None,
) -> tuple[list[Failure], int, tuple[dict[str, Any], ...]]:
    """Run every batch in one GX context: the failures (by table, then suite order), the
    number of expectations evaluated, and GX's JSON results (one per batch)."""
    import great_expectations as gx

    gx_context = _context(gx, docs_dir)
    keyed: list[tuple[tuple[int, int], Failure]] = []
    gx_results: list[dict[str, Any]] = []
    checked = 0
    for table, frame, blocks in batches:
        expectations, messages = build(gx, blocks, frame, context)
        result = _run_suite(gx, gx_context, table, frame, expectations, dataset)
        keyed += failures(result, frame, context, messages)
        gx_results.append(_json_safe(result.to_json_dict()))
        checked += len(expectations)
    _prune_docs(docs_dir)
    keyed.sort(key=lambda pair: pair[0])
    return [f for _, f in keyed], checked, tuple(gx_results)
