"""What a model family hands the pipeline: its name and, per kind of data, its variants, each
with a builder from the family's typed params section to an untrained model.

A family is a package under ``tokfrag/families/`` that exports one :class:`Family`; the
family registry (:mod:`tokfrag.families`) is the only place that lists them. The pipeline
gives a builder what the prepared data fixes (a :class:`SeriesSetting` or a
:class:`TextSetting`) and never needs to know which family it is talking to.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # naming the families (the CLI's --help) imports no numpy
    import numpy as np

    from tokfrag.models.calendar import CalendarSpec
    from tokfrag.models.classifier import TrainableClassifier
    from tokfrag.models.forecaster import Forecaster
    from tokfrag.models.scaler import NodeScaler


@dataclass(frozen=True)
class SeriesSetting:
    """What ``prepare`` fixed for every forecaster of one dataset.

    Attributes:
        lags: input steps per window ``L``.
        horizon: forecast steps per window ``H``.
        scaler: the per-node scaler fit on the training steps.
        edge_index: the graph ``(2, E)`` (given, or correlation top-k on training steps).
        edge_weight: its weights ``(E,)``.
        calendar: the calendar covariates chosen for the data, or ``None``.
        observed: the data keeps gaps, so models read an observed channel.
    """

    lags: int
    horizon: int
    scaler: NodeScaler
    edge_index: np.ndarray
    edge_weight: np.ndarray
    calendar: CalendarSpec | None = None
    observed: bool = False


@dataclass(frozen=True)
class TextSetting:
    """What a text classifier is built from: the training documents (tokenizers and
    vocabularies are fit on these only) and the class names."""

    texts: list[str]
    label_names: tuple[str, ...]


SeriesBuilder = Callable[[Any, SeriesSetting], "Forecaster"]
TextBuilder = Callable[[Any, TextSetting], "TrainableClassifier"]


@dataclass(frozen=True)
class Family:
    """One model family.

    Attributes:
        name: the family's name, which is also its ``params.yaml`` section.
        summary: one line for reports and ``--help``.
        series: variant name -> builder of an untrained forecaster, from the family's params
            section and the :class:`SeriesSetting`. ``params.<name>.variant`` picks one.
        text: variant name -> builder of an untrained classifier that the shared loop can
            train (one variant, ``text``).
        saved: the classes of the family's saved models (each has a ``kind`` and a
            ``load(path)``), imported when called: what a registered model is rebuilt from.
        section: for a family from outside tokfrag (a plug-in), the pydantic model of its
            ``params.yaml`` section, with at least ``variant`` and ``lr`` (``None`` inherits
            ``train.lr``). tokfrag's own families declare theirs in :mod:`tokfrag.config`.
    """

    name: str
    summary: str
    series: Mapping[str, SeriesBuilder] = field(default_factory=dict)
    text: Mapping[str, TextBuilder] = field(default_factory=dict)
    saved: Callable[[], tuple[Any, ...]] = tuple
    section: Any = None

    def variants(self, kind: str) -> tuple[str, ...]:
        """The variant names the family offers for ``kind`` (``series`` or ``text``)."""
        return tuple(self._builders(kind))

    def variant(self, section: Any, kind: str) -> str:
        """The variant ``section`` (the family's params section) picks for ``kind``."""
        return str(section.variant) if kind == "series" else "text"

    def build(self, section: Any, setting: SeriesSetting | TextSetting) -> Any:
        """An untrained model of the variant ``section`` picks, sized for ``setting``."""
        kind = "series" if isinstance(setting, SeriesSetting) else "text"
        builders = self._builders(kind)
        variant = self.variant(section, kind)
        if variant not in builders:
            raise ValueError(
                f"family {self.name!r} has no {kind} variant {variant!r}; "
                f"expected one of {sorted(builders)}"
            )
        return builders[variant](section, setting)

    def _builders(self, kind: str) -> Mapping[str, Any]:
        if kind not in ("series", "text"):
            raise ValueError(f"unknown kind {kind!r}; expected 'series' or 'text'")
        return self.series if kind == "series" else self.text
