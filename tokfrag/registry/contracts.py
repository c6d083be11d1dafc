"""The served models' table contracts, one per kind of data, and their ``contract.json``.

A served model is called by people and programs that think in rows, not in tensors, so the
pyfunc wrapper speaks a table. Which table depends on the contract's ``kind``:

* ``"series"`` (:class:`ForecastContract`, forecasting):

  - input: columns ``window`` (int; several windows may be sent at once), ``node`` (str)
    and ``lag_L, ..., lag_1`` (float; ``lag_1`` is the most recent step). Every window
    holds each node of :attr:`ForecastContract.node_ids` exactly once, in any row order.
    A column ``time`` gives the time of each window's ``lag_1`` step (the same on all its
    rows): a step number, or a date when the contract's ``time_unit`` is ``"ns"``. Models
    with calendar covariates need it; the others ignore it.
  - output: columns ``window``, ``node``, ``h1, ..., hH``, one row per (window, node), rows
    sorted by window and then in ``node_ids`` order.

* ``"text"`` (:class:`ClassifyContract`, classification):

  - input: a column ``text`` of non-empty strings, one document per row (other columns are
    ignored).
  - output: columns ``label`` (the most probable class name) and ``proba_<name>`` (float),
    one per class in :attr:`ClassifyContract.label_names` order; one row per input row, in
    input order, on a fresh ``0..B-1`` index.

Both contracts are saved beside the model as ``contract.json`` with a ``kind`` field, and
:func:`read_contract` gives back the right class. Each contract also says how its models are
ranked (:attr:`primary_metric`, :attr:`higher_is_better`) and what two candidates must share
to be comparable (:meth:`task_key`).

The conversions between tables and arrays live in :mod:`tokfrag.registry.series_frames` and
:mod:`tokfrag.registry.text_frames`. None of these modules imports MLflow, so they are
testable and reusable on their own; :mod:`tokfrag.registry.pyfunc` wires them into MLflow.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from tokfrag.registry.series_frames import lag_columns, windows_to_frame
from tokfrag.registry.text_frames import LABEL_COL, PROBA_PREFIX, texts_to_frame

CONTRACT_FILE = "contract.json"
SERIES = "series"
TEXT = "text"


class _SavedContract:
    """What both contracts share: their ``contract.json`` form (with a ``kind`` field)."""

    kind: ClassVar[str]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)  # type: ignore[call-overload]  # (subclasses are dataclasses)
        # Tuples (node_ids, label_names) as lists: the JSON form.
        return {
            "kind": self.kind,
            **{k: list(v) if isinstance(v, tuple) else v for k, v in data.items()},
        }

    def write(self, folder: Path) -> Path:
        path = Path(folder) / CONTRACT_FILE
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        return path


@dataclass(frozen=True)
class ForecastContract(_SavedContract):
    """What a served forecaster expects and returns; saved beside it as ``contract.json``."""

    node_ids: tuple[str, ...]
    lags: int
    horizon: int
    dataset: str
    family: str
    time_unit: str = "steps"  # the `time` column: "steps" (step numbers) or "ns" (dates)
    # data.missing: mask or interpolate: an empty (NaN) lag value is a missing reading, which
    # the model reads as such; otherwise every lag value must be a finite number.
    gaps: bool = False

    kind: ClassVar[str] = SERIES
    primary_metric: ClassVar[str] = "test_mse"  # champion: the lowest
    higher_is_better: ClassVar[bool] = False

    def __post_init__(self) -> None:
        # JSON gives lists and callers may pass numpy ints: normalise so equality and
        # hashing behave, then check the few things that would make every request fail.
        object.__setattr__(self, "node_ids", tuple(str(n) for n in self.node_ids))
        object.__setattr__(self, "lags", int(self.lags))
        object.__setattr__(self, "horizon", int(self.horizon))
        if not self.node_ids:
            raise ValueError("contract: node_ids is empty; a forecaster needs at least one node")
        if dupes := _duplicates(self.node_ids):
            raise ValueError(f"contract: node_ids has duplicates {dupes}; node ids must be unique")
        if self.lags < 1 or self.horizon < 1:
            raise ValueError(
                f"contract: lags ({self.lags}) and horizon ({self.horizon}) must be >= 1"
            )

    @property
    def lag_columns(self) -> list[str]:
        """Input value columns, oldest first: ``lag_L, ..., lag_1``."""
        return lag_columns(self.lags)

    @property
    def horizon_columns(self) -> list[str]:
        """Output columns ``h1, ..., hH`` (``h1`` is the next step)."""
        return [f"h{h}" for h in range(1, self.horizon + 1)]

    def task_key(self) -> dict[str, Any]:
        """What two candidates must share to be compared: the same windows of the same nodes."""
        return {"lags": self.lags, "horizon": self.horizon, "node_ids": self.node_ids}

    def tags(self) -> dict[str, str]:
        """Registry version tags describing the task (besides family, metrics, data, commit)."""
        return {"lags": str(self.lags), "horizon": str(self.horizon)}

    def example_frame(self, example: Any) -> pd.DataFrame:
        """The input table for a real example: windows ``(1, N, L)`` (any ``S >= 1`` works),
        or ``(windows, times)`` with each window's time (then the table has ``time``)."""
        times = None
        if isinstance(example, tuple):
            example, times = example
        shape = np.shape(example)
        if len(shape) != 3 or shape[0] < 1 or shape[1:] != (len(self.node_ids), self.lags):
            raise ValueError(
                f"example windows have shape {shape}, expected (1, {len(self.node_ids)}, "
                f"{self.lags})"
            )
        if times is not None and self.time_unit == "ns":
            times = np.asarray(times).astype("datetime64[ns]")
        return windows_to_frame(np.asarray(example), self.node_ids, times=times)

    @classmethod
    def read(cls, path: Path) -> ForecastContract:
        """Read ``contract.json`` (``path`` may be the file or its folder)."""
        data = _read(path, cls.kind)
        return cls(
            node_ids=tuple(data["node_ids"]),
            lags=data["lags"],
            horizon=data["horizon"],
            dataset=data["dataset"],
            family=data["family"],
            time_unit=data.get("time_unit", "steps"),
            gaps=bool(data.get("gaps", False)),
        )


@dataclass(frozen=True)
class ClassifyContract(_SavedContract):
    """What a served text classifier expects and returns; saved beside it as ``contract.json``.

    ``label_names`` are the class names in the classifier's probability-column order.
    """

    label_names: tuple[str, ...]
    dataset: str
    family: str

    kind: ClassVar[str] = TEXT
    primary_metric: ClassVar[str] = "test_accuracy"  # champion: the highest
    higher_is_better: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if isinstance(self.label_names, str):
            raise ValueError("contract: label_names must be a sequence of class names")
        object.__setattr__(self, "label_names", tuple(str(n) for n in self.label_names))
        if not self.label_names:
            raise ValueError("contract: label_names is empty; a classifier needs its classes")
        if any(not name for name in self.label_names):
            raise ValueError(f"contract: label_names {list(self.label_names)} has an empty name")
        if dupes := _duplicates(self.label_names):
            raise ValueError(f"contract: label_names has duplicates {dupes}; names must be unique")

    @property
    def proba_columns(self) -> list[str]:
        """Output probability columns ``proba_<name>``, in ``label_names`` order."""
        return [f"{PROBA_PREFIX}{name}" for name in self.label_names]

    @property
    def output_columns(self) -> list[str]:
        return [LABEL_COL, *self.proba_columns]

    def task_key(self) -> dict[str, Any]:
        """What two candidates must share to be compared: the same classes in the same order."""
        return {"label_names": self.label_names}

    def tags(self) -> dict[str, str]:
        """Registry version tags describing the task (besides family, metrics, data, commit)."""
        return {"label_names": json.dumps(list(self.label_names))}

    def example_frame(self, example: Any) -> pd.DataFrame:
        """The input table for a real example: a non-empty list of documents."""
        return texts_to_frame(example)

    @classmethod
    def read(cls, path: Path) -> ClassifyContract:
        """Read ``contract.json`` (``path`` may be the file or its folder)."""
        data = _read(path, cls.kind)
        return cls(
            label_names=tuple(data["label_names"]),
            dataset=data["dataset"],
            family=data["family"],
        )


Contract = ForecastContract | ClassifyContract
CONTRACTS: dict[str, type[ForecastContract] | type[ClassifyContract]] = {
    SERIES: ForecastContract,
    TEXT: ClassifyContract,
}


def read_contract(path: Path) -> Contract:
    """Read any ``contract.json`` (file or folder) as the class its ``kind`` names."""
    kind = _load(path).get("kind", SERIES)  # contracts written before kinds were series
    if kind not in CONTRACTS:
        raise ValueError(f"{path}: unknown contract kind {kind!r}; known: {sorted(CONTRACTS)}")
    return CONTRACTS[kind].read(path)


def _duplicates(names: tuple[str, ...]) -> list[str]:
    return sorted({n for n in names if names.count(n) > 1})


def _contract_path(path: Path) -> Path:
    path = Path(path)
    return path / CONTRACT_FILE if path.is_dir() else path


def _load(path: Path) -> dict[str, Any]:
    return json.loads(_contract_path(path).read_text(encoding="utf-8"))


def _read(path: Path, kind: str) -> dict[str, Any]:
    data = _load(path)
    found = data.get("kind", SERIES)
    if found != kind:
        raise ValueError(
            f"{_contract_path(path)} is a {found!r} contract, not {kind!r}; use read_contract"
        )
    return data
