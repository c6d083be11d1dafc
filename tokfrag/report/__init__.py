"""Comparison tables, plots and the HTML report.

The names below load on first use: every stage prints through :mod:`.console` (whose rows
come from :mod:`.table`), and importing the page with it would load the plots and the
verdict's statistics (SciPy) in processes that never draw or decide anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tokfrag.lazy import lazy_attributes

if TYPE_CHECKING:
    from tokfrag.report.page import write_report
    from tokfrag.report.table import comparison_rows, verdict

_LAZY = {"write_report": "page", "comparison_rows": "table", "verdict": "table"}


__getattr__ = lazy_attributes(__name__, _LAZY)


__all__ = ["comparison_rows", "verdict", "write_report"]
