"""The fragment family's entry: series as spatio-temporal windows over the sensor graph
(GConvGRU, STGCN, Graph WaveNet) and text as per-document word graphs (TextING-style).

Builders import their model lazily, so naming the family costs no torch import.
"""

from __future__ import annotations

from typing import Any

from tokfrag.models.family import Family, SeriesSetting, TextSetting


def _on_graph(cls: Any, sizes: Any, setting: SeriesSetting) -> Any:
    return cls.build(
        setting.scaler,
        setting.edge_index,
        setting.edge_weight,
        setting.lags,
        setting.horizon,
        calendar=setting.calendar,
        observed=setting.observed,
        **sizes.model_dump(),
    )


def _gconvgru(section: Any, setting: SeriesSetting) -> Any:
    from tokfrag.families.fragment.gconvgru_model import FragmentForecaster

    return _on_graph(FragmentForecaster, section.model, setting)


def _stgcn(section: Any, setting: SeriesSetting) -> Any:
    from tokfrag.families.fragment.stgcn_model import STGCNForecaster

    return _on_graph(STGCNForecaster, section.stgcn, setting)


def _wavenet(section: Any, setting: SeriesSetting) -> Any:
    from tokfrag.families.fragment.wavenet_model import WaveNetForecaster

    return _on_graph(WaveNetForecaster, section.wavenet, setting)


def _text(section: Any, setting: TextSetting) -> Any:
    from tokfrag.families.fragment.docgraph_model import DocGraphClassifier

    sizes = section.text.model_dump(exclude={"lr", "epochs"})
    return DocGraphClassifier.build(setting.texts, setting.label_names, **sizes)


def _saved() -> tuple[Any, ...]:
    from tokfrag.families.fragment.docgraph_model import DocGraphClassifier
    from tokfrag.families.fragment.gconvgru_model import FragmentForecaster
    from tokfrag.families.fragment.stgcn_model import STGCNForecaster
    from tokfrag.families.fragment.wavenet_model import WaveNetForecaster

    return (FragmentForecaster, STGCNForecaster, WaveNetForecaster, DocGraphClassifier)


FAMILY = Family(
    name="fragment",
    summary="windows that keep time and the graph, encoded by graph neural networks",
    series={
        "gconvgru": _gconvgru,
        "stgcn": _stgcn,
        "wavenet": _wavenet,
    },
    text={"text": _text},
    saved=_saved,
)
