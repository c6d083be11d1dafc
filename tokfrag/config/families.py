"""The model-family sections: ``token`` (:mod:`.token_family`: its tokenizers and encoder),
``fragment`` (:mod:`.fragment_family`: its graph and its networks) and ``baselines``.

Each family's sections sit in a module of their own, which imports that family's torch-free
config dataclasses only (only the family registry imports two families). A section that
mirrors a config dataclass takes its keys, types and defaults from it
(:func:`~tokfrag.config.mirror.mirror`).
"""

from __future__ import annotations

from pydantic import Field

from tokfrag.config.base import _Section
from tokfrag.config.fragment_family import (
    DocGraphConfig,
    FragmentConfig,
    FragmentModelConfig,
    GraphConfig,
    STGCNSizes,
    WaveNetSizes,
)
from tokfrag.config.token_family import (
    PatchConfig,
    QuantizerConfig,
    TextTokenConfig,
    TokenConfig,
    TokenModelConfig,
)

__all__ = [
    "BaselinesConfig",
    "DocGraphConfig",
    "FragmentConfig",
    "FragmentModelConfig",
    "GraphConfig",
    "PatchConfig",
    "QuantizerConfig",
    "STGCNSizes",
    "TextTokenConfig",
    "TokenConfig",
    "TokenModelConfig",
    "WaveNetSizes",
]


class BaselinesConfig(_Section):
    ridge_alpha: float = Field(1.0, ge=0.0)
