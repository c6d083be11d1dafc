"""`params.yaml`: the one source of configuration, validated on load.

Every section is a frozen pydantic model that forbids unknown keys, so a typo such as
``train.epoch`` fails loudly with the section, the key and the keys that are allowed,
instead of silently falling back to a default.

The sections live by meaning in the modules of this package (:mod:`.data`, :mod:`.training`,
:mod:`.families`, :mod:`.tuning`, :mod:`.pipeline`); this module holds the root,
:class:`Params`, and reads the file (:func:`load_params`, :func:`parse_params`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError, ValidationInfo, create_model, model_validator

from tokfrag.config.base import _Section, check_dataset_name
from tokfrag.config.data import (
    GAPLESS_TOKEN_VARIANTS,
    MISSING_DEFAULTS,
    MISSING_POLICIES,
    CalendarConfig,
    DataConfig,
    SourceConfig,
    SplitConfig,
)
from tokfrag.config.errors import ParamsError, describe
from tokfrag.config.families import (
    BaselinesConfig,
    DocGraphConfig,
    FragmentConfig,
    FragmentModelConfig,
    GraphConfig,
    PatchConfig,
    QuantizerConfig,
    STGCNSizes,
    TextTokenConfig,
    TokenConfig,
    TokenModelConfig,
    WaveNetSizes,
)
from tokfrag.config.pipeline import (
    DatasetSchedule,
    PipelineConfig,
    RegistryConfig,
    ScheduleConfig,
    VerdictConfig,
)
from tokfrag.config.training import TextTrainConfig, TrainConfig
from tokfrag.config.tuning import (
    SPACE_MODELS,
    CVConfig,
    PrunerConfig,
    SearchDimension,
    TuneConfig,
)
from tokfrag.families import REGISTRY

__all__ = [
    "GAPLESS_TOKEN_VARIANTS",
    "MISSING_DEFAULTS",
    "MISSING_POLICIES",
    "SPACE_MODELS",
    "BaselinesConfig",
    "CVConfig",
    "CalendarConfig",
    "DataConfig",
    "DatasetSchedule",
    "DocGraphConfig",
    "FragmentConfig",
    "FragmentModelConfig",
    "GraphConfig",
    "Params",
    "ParamsError",
    "PatchConfig",
    "PipelineConfig",
    "PrunerConfig",
    "QuantizerConfig",
    "RegistryConfig",
    "STGCNSizes",
    "ScheduleConfig",
    "SearchDimension",
    "SourceConfig",
    "SplitConfig",
    "TextTokenConfig",
    "TextTrainConfig",
    "TokenConfig",
    "TokenModelConfig",
    "TrainConfig",
    "TuneConfig",
    "VerdictConfig",
    "WaveNetSizes",
    "check_dataset_name",
    "load_params",
    "parse_params",
]


class Params(_Section):
    data: DataConfig = DataConfig()
    split: SplitConfig = SplitConfig()
    train: TrainConfig = TrainConfig()
    token: TokenConfig = TokenConfig()
    fragment: FragmentConfig = FragmentConfig()
    calendar: CalendarConfig = CalendarConfig()
    baselines: BaselinesConfig = BaselinesConfig()
    tune: TuneConfig = TuneConfig()
    verdict: VerdictConfig = VerdictConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    pipeline: PipelineConfig = PipelineConfig()
    registry: RegistryConfig = RegistryConfig()

    @model_validator(mode="after")
    def _models_read_gaps(self) -> Params:
        # The quantized tokenizer has no token for "no reading": it cannot be given a gap.
        if self.data.missing != "refuse" and self.token.variant in GAPLESS_TOKEN_VARIANTS:
            raise ValueError(
                f"data.missing: {self.data.missing} keeps gaps in the series, and "
                f"token.variant {self.token.variant} cannot read them; use token.variant "
                "inverted or patch (they read a filled window plus an observed channel)"
            )
        return self

    @model_validator(mode="after")
    def _spaces_point_at_parameters(self, info: ValidationInfo) -> Params:
        # Every searched path must name a real parameter, and each extreme value must be one
        # the schema accepts, so a bad space fails on load rather than in trial 7.
        if info.context and info.context.get("overrides"):
            return self  # an override of already-checked params: the spaces did not change
        for family, models in self.tune.spaces.items():
            for model, space in models.items():
                for path in space:
                    self._not_shadowed(family, model, path)
                for path, dimension in space.items():
                    for value in dimension.values():
                        try:
                            self.with_overrides({path: value})
                        except ParamsError as err:
                            detail = str(err).split("\n", 1)[-1].strip()
                            raise ValueError(
                                f"tune.spaces.{family}.{model}.{path}: {detail}"
                            ) from None
        return self

    def _not_shadowed(self, family: str, model: str, path: str) -> None:
        """A searched ``train`` key that the family sets for itself would change nothing: the
        trials would spend the budget on a dimension that does not train."""
        kind = "text" if model == "text" else "series"
        own = {k: v for k, v in self.family_loop(family, kind).items() if v is not None}
        prefix = "train.text." if kind == "text" else "train."
        key = path.removeprefix(prefix)
        if path.startswith(prefix) and key in own:
            where = f"{family}.text.{key}" if kind == "text" else f"{family}.{key}"
            raise ValueError(
                f"tune.spaces.{family}.{model}: {path!r} changes nothing, because {where} "
                f"is set and comes first; search {where!r} instead"
            )

    def with_overrides(self, overrides: dict[str, Any]) -> Params:
        """These params with dotted keys replaced (``{"train.lr": 3e-3}``), re-validated, so
        a misspelt key or an out-of-range value fails loudly instead of being ignored."""
        raw = self.model_dump()
        for dotted, value in overrides.items():
            *path, key = dotted.split(".")
            node = raw
            for part in path:
                if not isinstance(node.get(part), dict):
                    raise ParamsError(f"{dotted}: no such parameter in params.yaml")
                node = node[part]
            if key not in node or isinstance(node[key], dict):
                raise ParamsError(f"{dotted}: no such parameter in params.yaml")
            node[key] = value
        return parse_params(raw, source=f"overrides {overrides}", _context={"overrides": True})

    def family_loop(self, family: str, kind: str) -> dict[str, Any]:
        """What a family sets for itself in the shared recipe on this kind of data: its
        learning rate (``<family>.lr`` for series, ``<family>.text.lr`` for text) and, for
        text, its epochs (``<family>.text.epochs``: a fine-tuned encoder wants 2, a
        document-graph network 10). ``None`` values inherit ``train`` / ``train.text``."""
        section = getattr(self, family, None)
        if section is None:
            return {}
        if kind == "text":
            return {"lr": section.text.lr, "epochs": section.text.epochs}
        return {"lr": section.lr}

    def value_at(self, dotted: str) -> Any:
        """The current value of a dotted parameter path (``train.lr``)."""
        node: Any = self
        for part in dotted.split("."):
            node = getattr(node, part)
        return node

    def space(self, family: str, model: str) -> dict[str, SearchDimension]:
        """The search space configured for one family's model (empty when none is)."""
        return dict(self.tune.spaces.get(family, {}).get(model, {}))


def _with_plugin_sections(params: type[Params]) -> type[Params]:
    """``Params`` plus a section for each plug-in family (an installed package's
    :class:`~tokfrag.models.family.Family` with its own section model)."""
    extra: dict[str, Any] = {
        name: (family.section, family.section())
        for name, family in REGISTRY.items()
        if family.section is not None
    }
    clash = sorted(set(extra) & set(params.model_fields))
    if clash:
        raise ValueError(f"plug-in families {clash} are named like params.yaml sections")
    if not extra:
        return params
    extended: type[Params] = create_model("Params", __base__=params, **extra)
    return extended


Params = _with_plugin_sections(Params)  # type: ignore[misc]  # one class, built at import


def parse_params(
    raw: dict[str, Any] | None, source: str = "params.yaml", _context: dict | None = None
) -> Params:
    """Validate a mapping (as read from YAML) into :class:`Params`."""
    try:
        return Params.model_validate(raw or {}, context=_context)
    except ValidationError as err:
        raise ParamsError(describe(err, source, Params)) from None


def load_params(path: str | Path = "params.yaml") -> Params:
    """Read and validate `params.yaml`; errors name the file, the key and the fix."""
    path = Path(path)
    if not path.is_file():
        raise ParamsError(f"{path}: no such file; run from the project folder or pass --params")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ParamsError(f"{path}: not valid YAML ({err})") from None
    if raw is not None and not isinstance(raw, dict):
        raise ParamsError(f"{path}: expected a mapping of sections, got {type(raw).__name__}")
    return parse_params(raw, source=str(path))
