"""Comparison tables, plots and the HTML report."""

from tokfrag.report.page import write_report
from tokfrag.report.table import comparison_rows, verdict

__all__ = ["comparison_rows", "verdict", "write_report"]
