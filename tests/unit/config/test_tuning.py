"""``tune.spaces``: a searched key must be one that changes the training."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tokfrag.config import ParamsError, parse_params

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("model", "path", "instead"),
    [
        ("gconvgru", "train.lr", "fragment.lr"),
        ("text", "train.text.lr", "fragment.text.lr"),
        ("text", "train.text.epochs", "fragment.text.epochs"),
    ],
)
def test_a_searched_key_the_family_overrides_is_refused(model, path, instead):
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    high = 20 if path.endswith("epochs") else 0.01
    kind = "int" if path.endswith("epochs") else "float"
    raw["tune"]["spaces"]["fragment"][model] = {path: {"type": kind, "low": 1, "high": high}}
    if kind == "float":
        raw["tune"]["spaces"]["fragment"][model][path]["low"] = 0.001
    with pytest.raises(ParamsError, match=f"search '{instead}' instead"):
        parse_params(raw)
