"""A family is a plug-in: one package plus one registry entry, and the pipeline takes it.

The test writes a tiny family that tokfrag has never seen (``echo``: a per-node linear map
from the lags to the horizon, trained by the shared loop) as an installed package: a module
and a ``*.dist-info`` folder whose ``entry_points.txt`` names it in the ``tokfrag.families``
group. A fresh Python process with that folder on its path then runs the real stages on
Chickenpox: ingest, validate, prepare, then tune and train every family, then evaluate. No
file of tokfrag is edited, and nothing is mocked.

What must hold: the registry lists the plug-in after tokfrag's own families; its params
section is validated like the others (an unknown key is refused by name); all three
families get the same tuning budget and the same split and folds; the plug-in's model is
trained, saved as safetensors + JSON, loaded back and scored on the test split beside the
others, and the verdict ranks all three.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

PLUGIN = '''
"""echo: a test-only family (not part of tokfrag)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field
from torch import Tensor, nn

from tokfrag.models.family import Family, SeriesSetting
from tokfrag.models.saving import load_weights, read_config, save_module
from tokfrag.models.masking import masked_mse
from tokfrag.models.scaled import NodeScaledForecaster
from tokfrag.models.scaler import NodeScaler


class EchoSection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    variant: str = "linear"
    lr: float | None = Field(None, gt=0.0)


@dataclass(frozen=True)
class EchoConfig:
    num_nodes: int
    lags: int
    horizon: int
    observed: bool = False


class EchoNet(nn.Module):
    def __init__(self, config: EchoConfig) -> None:
        super().__init__()
        self.config = config
        self.linear = nn.Linear(config.lags, config.horizon)

    def forward(self, x: Tensor, c: Tensor | None = None, m: Tensor | None = None) -> Tensor:
        return self.linear(x)  # (B, N, L) -> (B, N, H)

    def loss(self, batch: dict[str, Tensor]) -> Tensor:
        return masked_mse(self(batch["x"]), batch["y"], batch.get("w"))


class EchoForecaster(NodeScaledForecaster):
    kind: ClassVar[str] = "echo_linear"
    family: ClassVar[str] = "echo"

    def __init__(self, scaler: NodeScaler, net: EchoNet) -> None:
        self.scaler, self.net, self.calendar = scaler, net, None

    @property
    def lags(self) -> int:
        return self.net.config.lags

    def save(self, path: str | Path) -> Path:
        net, scaler = asdict(self.net.config), self.scaler.to_dict()
        return save_module(path, {"kind": self.kind, "net": net, "scaler": scaler}, self.net)

    @classmethod
    def load(cls, path: str | Path) -> EchoForecaster:
        config = read_config(path)
        net = EchoNet(EchoConfig(**config["net"]))
        net.load_state_dict(load_weights(path))
        return cls(NodeScaler.from_dict(config["scaler"]), net)


def _linear(section: Any, setting: SeriesSetting) -> EchoForecaster:
    nodes = len(setting.scaler.mean)
    return EchoForecaster(setting.scaler, EchoNet(EchoConfig(nodes, setting.lags, setting.horizon)))


FAMILY = Family(
    name="echo",
    summary="a per-node linear map from lags to horizon (test-only plug-in)",
    series={"linear": _linear},
    saved=lambda: (EchoForecaster,),
    section=EchoSection,
)
'''

RUN = """
import json, sys
from pathlib import Path

from tokfrag import stages
from tokfrag.config import load_params
from tokfrag.families import FAMILIES, load_forecaster

params = load_params(sys.argv[1])
root = Path(sys.argv[1]).parent
stages.ingest(params, root)
stages.validate(params, root)
stages.prepare(params, root)
tuning = {family: stages.tune(params, root, family) for family in FAMILIES}
for family in FAMILIES:
    stages.train(params, root, family)
metrics = stages.evaluate(params, root)
model = load_forecaster(root / "outputs" / params.data.dataset / "models" / "echo")
print(json.dumps({
    "families": FAMILIES,
    "section": params.echo.model_dump(),
    "tuning": tuning,
    "metrics": metrics,
    "loaded": type(model).__name__,
}, default=str))
"""


def _install_plugin(where: Path) -> Path:
    """The ``echo`` family as an installed distribution: a module plus its dist-info."""
    where.mkdir()
    (where / "tokfrag_echo.py").write_text(PLUGIN)
    info = where / "tokfrag_echo-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tokfrag-echo\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[tokfrag.families]\necho = tokfrag_echo:FAMILY\n")
    return where


def _python(plugin: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(plugin), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.run(
        [sys.executable, *args], env=env, capture_output=True, text=True, timeout=900
    )


@pytest.fixture
def plugin(tmp_path: Path) -> Path:
    return _install_plugin(tmp_path / "site")


def test_a_plugin_family_is_refused_an_unknown_key_like_any_section(
    plugin: Path, project: Path
) -> None:
    raw = yaml.safe_load(project.read_text())
    raw["echo"] = {"variant": "linear", "widht": 3}
    project.write_text(yaml.safe_dump(raw, sort_keys=False))
    code = "import sys; from tokfrag.config import load_params; load_params(sys.argv[1])"
    done = _python(plugin, "-c", code, str(project))
    assert done.returncode != 0
    assert "echo" in done.stderr and "widht" in done.stderr, done.stderr[-2000:]


def test_a_plugin_family_runs_through_tune_train_and_evaluate(plugin: Path, project: Path) -> None:
    raw = yaml.safe_load(project.read_text())
    raw["echo"] = {"variant": "linear", "lr": 0.01}
    raw["tune"]["spaces"]["echo"] = {
        "linear": {"train.weight_decay": {"type": "float", "low": 0.0, "high": 0.01}}
    }
    project.write_text(yaml.safe_dump(raw, sort_keys=False))
    done = _python(plugin, "-c", textwrap.dedent(RUN), str(project))
    assert done.returncode == 0, done.stderr[-4000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])

    assert out["families"] == ["token", "fragment", "echo"]
    assert out["section"] == {"variant": "linear", "lr": 0.01}
    # One budget and one split for every family, the plug-in included.
    tuning = out["tuning"]
    for key in ("configured", "cv"):
        assert tuning["echo"][key] == tuning["token"][key] == tuning["fragment"][key], key
    assert tuning["echo"]["tuned"] and tuning["echo"]["model"] == "linear"
    assert {t["split_fingerprint"] for t in tuning.values()} == {
        out["metrics"]["split_fingerprint"]
    }
    # Trained, saved, loaded back and scored beside the others on the same test split.
    assert out["loaded"] == "EchoForecaster"
    models = out["metrics"]["models"]
    echo = models["echo"]
    assert echo["family"] == "echo" and echo["kind"] == "echo_linear"
    assert echo["n_params"] == 4 + 1  # Linear(lags 4 -> horizon 1)
    assert math.isfinite(echo["test_mse"]) and echo["test_mse"] > 0.0
    assert len(echo["per_seed"]) == raw["train"]["repeats"]  # the same final fits as the others
    assert {models[f]["n_seeds"] for f in out["families"]} == {raw["train"]["repeats"]}
    assert out["metrics"]["verdict"]["champion"] in models  # a family, or the best baseline
