"""The one record type of ``bench/results/*.json``, and the result files that hold records.

A result file holds ``created``, ``command``, ``machine``, ``params`` and ``records`` (plus
optional top-level keys such as ``quick`` or ``timings_seconds``). Each record is one
measured figure: a :class:`Record`. Every suite writes records through :func:`write_result`
and the report reads them back through :func:`load_results`, so writer and reader share the
same fields.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FIELDS = ("dataset", "protocol", "model", "family", "metric", "value", "std", "n_seeds", "seconds")


@dataclass(frozen=True)
class Record:
    """One measured (or published) figure.

    ``std``, ``n_seeds`` and ``seconds`` are ``None`` where they do not apply (a published
    figure, a deterministic baseline's seconds); ``extra`` holds the suite's own keys
    (``note``, ``horizon``, ``variant``, ``source``, ...), written beside the fixed ones.
    """

    dataset: str
    protocol: str
    model: str
    family: str
    metric: str
    value: float | None
    std: float | None = None
    n_seeds: int | None = None
    seconds: float | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        """A fixed field or an ``extra`` key by name, ``default`` when absent or ``None``."""
        value = getattr(self, key) if key in FIELDS else self.extra.get(key)
        return default if value is None else value

    def to_json(self) -> dict[str, Any]:
        return {**{name: getattr(self, name) for name in FIELDS}, **self.extra}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Record:
        missing = [name for name in FIELDS[:6] if name not in data]
        if missing:
            raise ValueError(f"a benchmark record lacks {missing}: {dict(data)}")
        extra = {k: v for k, v in data.items() if k not in FIELDS}
        return cls(**{k: data.get(k) for k in FIELDS}, extra=extra)


def record(
    dataset: str,
    protocol: str,
    model: str,
    family: str,
    metric: str,
    value: float | None,
    std: float | None = None,
    n_seeds: int | None = None,
    seconds: float | None = None,
    **extra: Any,
) -> Record:
    """A :class:`Record`, with the suite's own keys as keyword arguments."""
    return Record(dataset, protocol, model, family, metric, value, std, n_seeds, seconds, extra)


def seed_record(
    dataset: str,
    protocol: str,
    model: str,
    family: str,
    metric: str,
    values: Iterable[float],
    seconds: Iterable[float],
    **extra: Any,
) -> Record:
    """Mean and sample std over seeds (std 0.0 for a single seed), mean seconds."""
    values, seconds = list(values), list(seconds)
    return record(
        dataset,
        protocol,
        model,
        family,
        metric,
        statistics.fmean(values),
        statistics.stdev(values) if len(values) > 1 else 0.0,
        len(values),
        statistics.fmean(seconds),
        **extra,
    )


# -- result files ------------------------------------------------------------------------------


@dataclass
class ResultFile:
    """One ``bench/results/*.json``: its name, top-level keys and records."""

    name: str
    data: dict[str, Any]
    superseded_by: str | None = None

    @property
    def quick(self) -> bool:
        return bool(self.data.get("quick"))

    @property
    def records(self) -> list[Record]:
        return [Record.from_json(r) for r in self.data.get("records", [])]


def write_result(
    out: Path,
    records: Sequence[Record],
    params: Any,
    command: str,
    machine: Mapping[str, object],
    **extra: Any,
) -> Path:
    """Write a result file; ``extra`` adds top-level keys (``quick``, ``timings_seconds``)."""
    result = {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": command,
        "machine": dict(machine),
        "params": params.model_dump() if hasattr(params, "model_dump") else params,
        **extra,
        "records": [r.to_json() for r in records],
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    return out


def read_records(path: Path) -> list[Record]:
    """The records of one result file, ``[]`` when it does not exist yet."""
    return ResultFile(path.name, json.loads(path.read_text())).records if path.exists() else []


def load_results(results_dir: Path) -> list[ResultFile]:
    """Every result file, sorted by name; a ``x-quick.json`` beside ``x.json`` is superseded."""
    files = [
        ResultFile(p.name, json.loads(p.read_text())) for p in sorted(results_dir.glob("*.json"))
    ]
    names = {f.name for f in files}
    for f in files:
        full = f.name.removesuffix("-quick.json") + ".json"
        if f.name.endswith("-quick.json") and full in names:
            f.superseded_by = full
    return files
