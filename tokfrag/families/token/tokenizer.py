"""The one tokenizer contract that series and text tokenizers share.

A tokenizer turns data into the units a Transformer embeds and back:

============================  ===========================  ==================================
tokenizer                     data ``D``                   encoded ``E``
============================  ===========================  ==================================
``MeanScaleQuantizer``        ``(B, L)`` float windows     :class:`QuantizedWindows` (ids)
``PatchTokenizer``            ``(B, L)`` float windows     :class:`PatchedWindows` (patches)
text tokenizer                ``B`` documents (``str``)    token ids per document
============================  ===========================  ==================================

Every implementation is vectorised over the batch (no Python loop over windows), learns only
from the training split (``fit``; series tokenizers normalise each window by itself and learn
nothing), and saves itself as plain text (JSON), never a pickle.

Round trips are part of the contract: ``decode(encode(x))`` gives ``x`` back exactly for patch
tokens, within half a bin width times the window's scale for quantised tokens, and the
normalised text for text tokens. ``tests/unit/families/token/test_tokenizer_properties.py`` checks
these properties with hypothesis for every tokenizer.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any, ClassVar, Protocol, Self, TypeVar, runtime_checkable

D = TypeVar("D")  # what goes in: windows (B, L), or a batch of documents
E = TypeVar("E")  # what comes out: ids / patches, with what decoding needs


@runtime_checkable
class Tokenizer(Protocol[D, E]):
    """Turns a batch of data into tokens and back.

    Type parameters:
        D: the data, e.g. ``np.ndarray`` of shape ``(B, L)`` (float64, NaN where missing) for
            series, or a sequence of ``B`` strings for text.
        E: the encoded batch, carrying everything :meth:`decode` needs (ids, masks, the
            per-window scale, ...): e.g. :class:`~tokfrag.families.token.QuantizedWindows` or
            :class:`~tokfrag.families.token.PatchedWindows`.
    """

    def fit(self, data: D) -> Self:
        """Learn what needs learning from *training* data only and return the tokenizer.

        Series tokenizers scale each window by its own statistics and learn nothing: they
        return ``self`` unchanged. A text tokenizer learns its vocabulary here.
        """
        ...

    def encode(self, data: D) -> E:
        """Tokenise a batch ``data`` (``B`` windows or documents) in one vectorised call."""
        ...

    def decode(self, encoded: E) -> D:
        """Map an encoded batch back to data of the input's shape (``(B, L)`` for series)."""
        ...

    def save(self, path: str | Path) -> Path:
        """Write the tokenizer as plain text (a JSON file, or a folder for text tokenizers)
        and return the path written."""
        ...

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """Rebuild a tokenizer saved with :meth:`save`; ``load(save(p))`` encodes identically."""
        ...


class JsonConfigTokenizer:
    """Save and load for a tokenizer that is only its configuration: a frozen dataclass
    written as one JSON file (``kind`` plus its fields), never a pickle. The series
    tokenizers learn nothing from data, so this is all they need to round-trip."""

    kind: ClassVar[str]

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, **asdict(self)}  # type: ignore[call-overload]  # a dataclass

    def save(self, path: str | Path) -> Path:
        """Write the configuration as a JSON file at ``path``."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        return Path(path)

    @classmethod
    def from_dict(cls, config: dict[str, object]) -> Self:
        fields: dict[str, Any] = {k: v for k, v in config.items() if k != "kind"}
        return cls(**fields)

    @classmethod
    def load(cls, path: str | Path) -> Self:
        return cls.from_dict(json.loads(Path(path).read_text()))
