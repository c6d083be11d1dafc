"""The token family's entry: series as tokens (quantised bins, patches, or one token per
node's whole window) and text as WordPiece tokens, each fed to a Transformer encoder.

Builders import their model lazily, so naming the family costs no torch import.
"""

from __future__ import annotations

from typing import Any

from tokfrag.models.family import Family, SeriesSetting, TextSetting


def _quantized(section: Any, setting: SeriesSetting) -> Any:
    from tokfrag.families.token.quantized_model import TokenForecaster
    from tokfrag.families.token.quantizer import MeanScaleQuantizer

    q = section.tokenizer
    return TokenForecaster.build(
        MeanScaleQuantizer(q.n_bins, q.low, q.high),
        setting.lags,
        setting.horizon,
        observed=setting.observed,
        **section.model.model_dump(),
    )


def _patch(section: Any, setting: SeriesSetting) -> Any:
    from tokfrag.families.token.patch import PatchTokenizer
    from tokfrag.families.token.patch_model import PatchForecaster

    p = section.patch
    return PatchForecaster.build(
        PatchTokenizer(p.patch_len, p.stride),
        setting.lags,
        setting.horizon,
        observed=setting.observed,
        **section.model.model_dump(),
    )


def _inverted(section: Any, setting: SeriesSetting) -> Any:
    from tokfrag.families.token.inverted_model import InvertedForecaster

    return InvertedForecaster.build(
        setting.scaler,
        setting.lags,
        setting.horizon,
        setting.calendar,
        skip=section.skip,
        observed=setting.observed,
        **section.model.model_dump(),
    )


def _text(section: Any, setting: TextSetting) -> Any:
    from tokfrag.families.token.text_model import TextTokenClassifier

    t = section.text
    return TextTokenClassifier.build(
        setting.texts,
        setting.label_names,
        vocab_size=t.vocab_size,
        max_length=t.max_length,
        pretrained=t.pretrained,
        pooling=t.pooling,
        **section.model.model_dump(),
    )


def _saved() -> tuple[Any, ...]:
    from tokfrag.families.token.inverted_model import InvertedForecaster
    from tokfrag.families.token.patch_model import PatchForecaster
    from tokfrag.families.token.quantized_model import TokenForecaster
    from tokfrag.families.token.text_model import TextTokenClassifier

    return (TokenForecaster, PatchForecaster, InvertedForecaster, TextTokenClassifier)


FAMILY = Family(
    name="token",
    summary="discrete units (bins, patches, WordPiece) embedded and fed to a Transformer",
    series={"quantized": _quantized, "patch": _patch, "inverted": _inverted},
    text={"text": _text},
    saved=_saved,
)
