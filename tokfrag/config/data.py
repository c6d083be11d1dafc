"""The data sections: which dataset (``data``, with ``data.source`` for your own files and
the policy for gaps in them), how it is windowed and split (``split``), and the calendar
covariates read from its clock (``calendar``)."""

from __future__ import annotations

import math
from pathlib import PurePath
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from tokfrag.config.base import _inside_project, _Section, check_dataset_name

_SUFFIX_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl"}


class SourceConfig(_Section):
    """Your own data, read from a file by a column mapping (no code change).

    ``kind: series``: a wide table (``time`` column, one column per node) or a long one
    (``time``, ``node``, ``value`` columns) in CSV or Parquet; ``edges`` an optional edge list
    (``edge_source``, ``edge_target``, optional ``edge_weight``, else weight 1.0). Without
    ``edges`` the graph is built from training-step correlations (as ``fragment.graph.source:
    correlation`` does). ``kind: text``: CSV, JSONL or Parquet with ``text`` and ``label``
    columns and an optional ``split`` column (train/test); without it, a stratified
    ``test_fraction`` of the rows, seeded by ``seed``, is the test split. Relative paths are
    under the project folder (the folder of params.yaml).
    """

    kind: Literal["series", "text"]
    path: str
    format: Literal["csv", "parquet", "jsonl"] | None = None  # None: from the path's suffix
    layout: Literal["wide", "long"] | None = None  # series only; None means wide
    time: str | None = None  # series: the time column (integers or dates)
    node: str | None = None  # series, long layout: the node column
    value: str | None = None  # series, long layout: the value column
    edges: str | None = None  # series: an edge-list CSV or Parquet (optional)
    edge_source: str = "source"
    edge_target: str = "target"
    edge_weight: str | None = None  # None: every edge weighs 1.0
    text: str | None = None  # text: the document column
    label: str | None = None  # text: the class column
    split: str | None = None  # text: train/test column (optional)
    test_fraction: float = Field(0.2, gt=0.0, lt=1.0)  # text without a split column
    seed: int = 0  # text without a split column: seeds the stratified test split

    @field_validator("path", "edges")
    @classmethod
    def _relative_inside(cls, value: str | None, info: ValidationInfo) -> str | None:
        return _inside_project(str(info.field_name), value)

    @model_validator(mode="after")
    def _complete_mapping(self) -> SourceConfig:
        fmt = self.file_format
        if fmt is None:
            raise ValueError(
                f"format is not set and the suffix of {self.path!r} does not say it; "
                "set format: csv, parquet or jsonl"
            )
        if self.kind == "series":
            layout = self.layout or "wide"
            if fmt == "jsonl":
                raise ValueError("series data must be csv or parquet (jsonl is for text)")
            needed = ["time"] + (["node", "value"] if layout == "long" else [])
            stray = ["text", "label", "split"] + (["node", "value"] if layout == "wide" else [])
        else:
            needed = ["text", "label"]
            stray = ["layout", "time", "node", "value", "edges", "edge_weight"]
        missing = [k for k in needed if getattr(self, k) is None]
        if missing:
            where = f"kind {self.kind}" + (
                f", layout {self.layout or 'wide'}" if self.kind == "series" else ""
            )
            raise ValueError(
                f"the column name(s) {', '.join(missing)} are needed for {where}; "
                f"add {', '.join(f'{k}: <column>' for k in missing)}"
            )
        extra = [k for k in stray if getattr(self, k) is not None]
        if extra:
            raise ValueError(
                f"{', '.join(extra)} do(es) not apply to kind {self.kind}"
                + (f" with layout {self.layout or 'wide'}" if self.kind == "series" else "")
                + "; remove them"
            )
        return self

    @property
    def file_format(self) -> str | None:
        """The declared format, or the one the path's suffix names."""
        return self.format or _SUFFIX_FORMATS.get(PurePath(self.path).suffix.lower())


MISSING_POLICIES = ("refuse", "mask", "interpolate")
GAPLESS_TOKEN_VARIANTS = ("quantized",)  # series token models that cannot read a gap
MISSING_DEFAULTS: dict[str, Any] = {
    "missing": "refuse",
    "max_gap": None,
    "max_missing_per_node": 1.0,
    "missing_value": None,
}


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class DataConfig(_Section):
    """Which dataset to run on (`ingest`, `validate`): a built-in one by name, or your own
    files described by ``source`` (then ``dataset`` only names data/<dataset>, outputs/...).

    Gaps in your own series (``source`` of kind series; see :mod:`tokfrag.data.missing`):
    ``missing_value`` is a reading that means "no reading" (METR-LA and PEMS write 0);
    nodes missing more than ``max_missing_per_node`` of their steps are dropped, with their
    edges; then ``missing`` says what becomes of the remaining gaps: ``refuse`` (the default:
    one message summing them up), ``mask`` (the gaps stay; inputs are filled and flagged,
    losses and metrics count observed targets only) or ``interpolate`` (linear in time within
    a node, for interior gaps of at most ``max_gap`` steps; any other gap is masked).
    """

    dataset: str = "chickenpox"
    source: SourceConfig | None = None  # null: a built-in dataset (tokfrag.data.registry)
    missing: str = "refuse"
    max_gap: int | None = None  # steps; interpolate only
    max_missing_per_node: float = 1.0  # a share of a node's steps; 1.0 keeps every node
    missing_value: float | None = None  # a sentinel reading that marks a gap (e.g. 0)

    @field_validator("dataset")
    @classmethod
    def _safe_name(cls, value: str) -> str:
        return check_dataset_name(value)

    @field_validator("missing", mode="before")
    @classmethod
    def _known_policy(cls, value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError(
                f"must be one policy name ({', '.join(MISSING_POLICIES)}), got {value!r}"
            )
        if value not in MISSING_POLICIES:
            raise ValueError(
                f"unknown policy {value!r}; use one of {', '.join(MISSING_POLICIES)}: refuse "
                "stops at any gap, mask keeps the gaps and trains on the observed readings, "
                "interpolate fills gaps of up to data.max_gap steps and masks the rest"
            )
        return str(value)

    @field_validator("max_gap", mode="before")
    @classmethod
    def _whole_steps(cls, value: Any) -> int | None:
        if value is None:
            return None
        if not _number(value) or not math.isfinite(value) or value != int(value) or value < 1:
            raise ValueError(
                "must be a whole number of time steps, at least 1: the longest gap that "
                "data.missing: interpolate fills"
            )
        return int(value)

    @field_validator("max_missing_per_node", mode="before")
    @classmethod
    def _share(cls, value: Any) -> float:
        if not _number(value) or not 0.0 <= value <= 1.0:
            raise ValueError(
                "must be a share between 0 and 1: nodes missing more than that share of "
                "their time steps are dropped (1.0 keeps every node)"
            )
        return float(value)

    @field_validator("missing_value", mode="before")
    @classmethod
    def _sentinel(cls, value: Any) -> float | None:
        if value is None:
            return None
        if not _number(value) or not math.isfinite(value):
            raise ValueError(
                "must be a finite number (a reading that means no reading, e.g. 0 as in "
                "METR-LA and PEMS) or null"
            )
        return float(value)

    @model_validator(mode="after")
    def _policy_applies(self) -> DataConfig:
        policy = {key: getattr(self, key) for key in MISSING_DEFAULTS}
        changed = [f"data.{k}" for k, v in policy.items() if v != MISSING_DEFAULTS[k]]
        if changed and (self.source is None or self.source.kind != "series"):
            what = "a built-in dataset" if self.source is None else "text (no time steps)"
            raise ValueError(
                f"{', '.join(changed)} apply to your own series (data.source with kind: "
                f"series), not to {what}; remove them"
            )
        if self.missing == "interpolate" and self.max_gap is None:
            raise ValueError(
                "data.missing: interpolate needs data.max_gap: the longest gap, in time steps, "
                "to fill (e.g. 3)"
            )
        if self.missing != "interpolate" and self.max_gap is not None:
            raise ValueError(
                f"data.max_gap applies to data.missing: interpolate only (data.missing is "
                f"{self.missing}); remove it, or set data.missing: interpolate"
            )
        return self

    def missing_policy(self) -> dict[str, Any]:
        """What to do with gaps in your series: ``data.missing``, ``data.max_gap``,
        ``data.max_missing_per_node`` and ``data.missing_value`` (the keys of
        :data:`MISSING_DEFAULTS`), for :func:`tokfrag.data.custom.custom_spec`."""
        return {key: getattr(self, key) for key in MISSING_DEFAULTS}

    @model_validator(mode="after")
    def _own_name(self) -> DataConfig:
        from tokfrag.data.registry import DATASETS  # stdlib-only module: cheap

        if self.source is not None and self.dataset in DATASETS:
            # data/<name> and the registered models would mix your data with the built-in.
            raise ValueError(
                f"data.dataset {self.dataset!r} is a built-in dataset, but data.source reads "
                f"your own file; give your data another name (e.g. my_{self.dataset})"
            )
        return self

    @property
    def kind(self) -> str:
        """``series`` or ``text``: from ``source`` for your data, else from the registry."""
        if self.source is not None:
            return self.source.kind
        from tokfrag.data.registry import get_spec

        return get_spec(self.dataset).kind


class SplitConfig(_Section):
    """Series: windowing and the chronological split (PyTorch Geometric Temporal protocol).
    Text: the dataset's own train/test split; ``val_fraction`` of the training documents
    (stratified, seeded by ``seed``) is held out for early stopping."""

    lags: int = Field(4, ge=1)
    horizon: int = Field(1, ge=1)
    # snapshots: train_ratio of the windows (PGT); steps: train_ratio of the time steps, windows
    # cut inside each part (T-GCN). See tokfrag.data.splits.
    by: Literal["snapshots", "steps"] = "snapshots"
    train_ratio: float = Field(0.2, gt=0.0, lt=1.0)
    val_fraction: float = Field(0.2, gt=0.0, lt=1.0)
    seed: int = 0


class CalendarConfig(_Section):
    """Calendar covariates for series: sin/cos of where each step falls in the day, the
    week and the year (``harmonics`` pairs per cycle), for every cycle that is at least 4
    steps long and that the training steps cover once. The token family's inverted model
    and the fragment family's GConvGRU read them (``tokfrag/models/calendar.py``; the
    other variants ignore them), and a ridge baseline with the same covariates is scored
    beside them. They need a clock: dates in the time column, a
    built-in dataset's known start and step, or ``start`` and ``step`` set here for your own
    step-numbered data. ``prepare`` records what it chose in ``prepared/calendar.json``."""

    enabled: bool = True
    harmonics: int = Field(2, ge=1, le=6)
    start: str | None = None  # ISO date of step 0 (step-numbered data of your own)
    step: str | None = None  # a pandas offset: "5min", "1h", "1D", "7D"

    @field_validator("start")
    @classmethod
    def _iso_date(cls, value: str | None) -> str | None:
        if value is not None:
            import pandas as pd

            try:
                pd.Timestamp(value)
            except (ValueError, TypeError):
                raise ValueError(
                    f"{value!r} is not a date; use ISO form, e.g. 2024-01-31"
                ) from None
        return value

    @field_validator("step")
    @classmethod
    def _offset(cls, value: str | None) -> str | None:
        if value is not None:
            import pandas as pd

            try:
                seconds = pd.Timedelta(value).total_seconds()
            except (ValueError, TypeError):
                raise ValueError(
                    f"{value!r} is not a duration; use e.g. 5min, 1h, 1D or 7D"
                ) from None
            if seconds <= 0:
                raise ValueError(f"step {value!r} must be a positive duration")
        return value
