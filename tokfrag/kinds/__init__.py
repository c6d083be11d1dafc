"""The kinds of data a pipeline runs on, and the one place that maps a kind's name to it.

A kind (:class:`~tokfrag.kinds.base.Kind`) holds what differs between series and text:
the gate, ingesting and preparing the data, the models' inputs, the baselines and metrics,
item scores and the contract of a registered model. :data:`KINDS` lists them and
:func:`kind_of` picks the one a project's params name; the stages (:mod:`tokfrag.stages`)
call it, and a kind never imports the stages.
"""

from __future__ import annotations

from tokfrag.config import Params
from tokfrag.kinds import series, text
from tokfrag.kinds.base import Evaluation, FitParts, Kind, Scoring

KINDS: dict[str, Kind] = {"series": series, "text": text}

__all__ = ["KINDS", "Evaluation", "FitParts", "Kind", "Scoring", "kind_of"]


def kind_of(params: Params) -> Kind:
    """The kind of the project's data: from ``data.source`` for your own data, else from
    the dataset registry."""
    return KINDS[params.data.kind]
