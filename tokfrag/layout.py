"""Where a project's files live, and the error a stage raises when one it needs is missing.

:class:`Layout` names every input and output of the pipeline relative to the project folder;
:func:`read_json` reads an upstream output or says which command makes it. The stages
(:mod:`tokfrag.stages`) and the kinds of data (:mod:`tokfrag.kinds`) both use them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tokfrag.config import Params


@dataclass(frozen=True)
class Layout:
    """Where every stage's inputs and outputs live, relative to the project folder."""

    root: Path
    dataset: str

    def __post_init__(self) -> None:
        from tokfrag.config import check_dataset_name

        try:
            check_dataset_name(self.dataset)  # every path below stays in its folder
        except ValueError as err:
            raise StageError(str(err)) from None

    @classmethod
    def of(cls, params: Params, root: str | Path) -> Layout:
        return cls(Path(root).resolve(), params.data.dataset)

    @property
    def data_dir(self) -> Path:
        return self.root / "data" / self.dataset

    @property
    def out_dir(self) -> Path:
        return self.root / "outputs" / self.dataset

    @property
    def validation(self) -> Path:
        return self.out_dir / "validation.json"

    @property
    def data_docs(self) -> Path:
        """Great Expectations' HTML data docs of the last gate that passed."""
        return self.out_dir / "data_docs"

    @property
    def prepared(self) -> Path:
        return self.out_dir / "prepared"

    def tuning(self, family: str) -> Path:
        return self.out_dir / "tuning" / f"{family}.json"

    def model_dir(self, family: str) -> Path:
        return self.out_dir / "models" / family

    @property
    def metrics(self) -> Path:
        return self.out_dir / "metrics.json"

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports" / self.dataset

    @property
    def plots(self) -> Path:
        return self.reports_dir / "plots"

    @property
    def report(self) -> Path:
        return self.reports_dir / "report.html"

    @property
    def report_md(self) -> Path:
        return self.reports_dir / "report.md"

    @property
    def items(self) -> Path:
        return self.out_dir / "item_scores.npz"

    @property
    def registry(self) -> Path:
        return self.out_dir / "registry.json"


class StageError(RuntimeError):
    """A stage cannot run: a missing or failed upstream output, named with the fix."""


def read_json(path: Path, produced_by: str) -> Any:
    if not path.is_file():
        raise StageError(f"{path}: missing; run `tokfrag {produced_by}` (or `dvc repro`) first")
    return json.loads(path.read_text())
