"""What the validation gate returns: :class:`Failure`, :class:`ValidationReport`, and the
:class:`ValidationFailed` error that stops a pipeline on a failed report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tokfrag.data.specs import DataError


@dataclass(frozen=True)
class Failure:
    """One failed expectation."""

    expectation: str  # GX expectation type, e.g. "expect_column_values_to_not_be_null"
    table: str  # "values" | "edges" | "split"; text: "documents" | "train" | "cross_split"
    column: str | None
    detail: str  # a sentence naming the column / rows and the fix

    def to_dict(self) -> dict[str, Any]:
        return {
            "expectation": self.expectation,
            "table": self.table,
            "column": self.column,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class ValidationReport:
    """The outcome of :func:`validate_series` or :func:`validate_text`.

    ``gx_results`` keeps GX's own JSON results (one per table suite) for callers that want to
    archive them; it is left out of equality and of ``to_dict()`` unless asked for.
    """

    dataset: str
    success: bool
    failures: tuple[Failure, ...]
    checked: int  # number of expectations evaluated
    seconds: float = field(default=0.0, compare=False)
    gx_results: tuple[dict[str, Any], ...] = field(default=(), repr=False, compare=False)

    def to_dict(self, *, include_gx: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "dataset": self.dataset,
            "success": self.success,
            "checked": self.checked,
            "failed": len(self.failures),
            "seconds": round(self.seconds, 3),
            "failures": [f.to_dict() for f in self.failures],
        }
        if include_gx:
            out["gx_results"] = list(self.gx_results)
        return out

    def summary(self) -> str:
        if self.success:
            return f"{self.dataset}: data validation passed ({self.checked} expectations)."
        lines = [
            f"{self.dataset}: data validation failed: {len(self.failures)} of {self.checked} "
            "expectations failed"
        ]
        for f in self.failures:
            where = f"{f.table}.{f.column}" if f.column is not None else f.table
            lines.append(f"  - [{where}] {f.expectation}: {f.detail}")
        return "\n".join(lines)

    def outcomes(self) -> list[dict[str, Any]]:
        """Every GX expectation run, in order: ``table``, ``expectation``, ``column`` (or
        None) and ``success``; for a report that lists what passed as well as what failed."""
        out = []
        for result in self.gx_results:
            for item in result.get("results", []):
                config = item.get("expectation_config", {})
                kwargs = config.get("kwargs", {})
                out.append(
                    {
                        "table": (config.get("meta") or {}).get("table", result.get("suite_name")),
                        "expectation": config.get("type"),
                        "column": kwargs.get("column", kwargs.get("column_list")),
                        "success": bool(item.get("success")),
                    }
                )
        return out

    def raise_if_failed(self) -> ValidationReport:
        """Return ``self`` when validation passed, else raise :class:`ValidationFailed`."""
        if not self.success:
            raise ValidationFailed(self)
        return self


class ValidationFailed(DataError):
    """The data did not pass the validation gate; ``.report`` holds every failure.

    A :class:`~tokfrag.data.registry.DataError` (hence a ``RuntimeError``), so callers that
    already turn data errors into clean messages handle this one too.
    """

    def __init__(self, report: ValidationReport, note: str = "") -> None:
        self.report = report
        self.note = note  # a last line: what was (not) written, where the data docs are
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(part for part in (self.report.summary(), self.note) if part)

    def __reduce__(self) -> tuple[Any, ...]:  # survives pickling (process task runners)
        return (type(self), (self.report, self.note))
