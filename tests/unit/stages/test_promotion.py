"""The promotion gate: a worse model never takes the champion's alias, and every version
carries what made it (params hash, study, validation, costs)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from mlflow.tracking import MlflowClient
from tokfrag_testing.aliases import expected_aliases
from tokfrag_testing.stages import cripple_families, until_evaluate

from tokfrag import stages
from tokfrag.config import load_params

PARAMETERLESS = {"zero", "last_value", "historical_average"}  # baselines that learn nothing


def _run(project: Path) -> dict:
    until_evaluate(project)
    return stages.register(load_params(project), project.parent)


def test_a_worse_model_leaves_the_champion_untouched(project: Path) -> None:
    root = project.parent
    first = _run(project)
    assert first["promoted"] and first["gate"]["reason"] == "no champion yet"
    metrics = json.loads((root / "outputs/chickenpox/metrics.json").read_text())
    # The verdict's champion: a family, or (these shrunk params train little) the best
    # baseline when neither family beats it.
    assert (first["champion"], first["challenger"]) == expected_aliases(metrics)
    champion_version = first["champion_version"]
    # Registering the same models again (a retry, a rerun) adds no version.
    again = stages.register(load_params(project), root)
    assert again["versions"] == first["versions"]
    assert again["champion_version"] == champion_version

    client = MlflowClient(tracking_uri=f"sqlite:///{root}/mlruns.db")
    for family, version in first["versions"].items():
        tags = client.get_model_version("tokfrag-chickenpox", str(version)).tags
        assert tags["family"] == family and len(tags["params_hash"]) == 16
        study = tags["study_name"]
        assert study == "untuned" if family == "baseline" else study.startswith("tokfrag-")
        assert tags["validation"].startswith("passed")
        assert float(tags["cost.n_params"]) > 0 or tags.get("model_kind") in PARAMETERLESS
        assert float(tags["cost.latency_ms_p50"]) > 0
        assert tags["missing_policy"] == "refuse"  # how gaps were handled: a complete dataset
        said = tags["verdict"]
        assert said.startswith("verdict's champion: ") == (version == champion_version)

    # Retrain with a crippled recipe: one epoch at a tiny learning rate, untuned, without
    # the ridge-started skips (which alone would forecast as well as a linear model), and
    # ridges so penalised that they forecast the mean.
    raw = cripple_families(yaml.safe_load(project.read_text()))
    raw["baselines"]["ridge_alpha"] = 1e12
    project.write_text(yaml.safe_dump(raw, sort_keys=False))
    worse = _run(project)

    assert not worse["promoted"]
    assert worse["champion_version"] == champion_version  # the alias did not move
    assert "does not significantly beat the champion" in worse["gate"]["reason"]
    assert worse["gate"]["difference"]["low"] > 0  # the newcomer's MSE is higher
    new_version = worse["versions"][worse["challenger"]]
    assert worse["challenger_version"] == new_version > champion_version
    aliases = client.get_registered_model("tokfrag-chickenpox").aliases
    assert int(aliases["champion"]) == champion_version
    assert int(aliases["challenger"]) == new_version

    # Another split: the champion's contract still fits (the same nodes, lags and horizon),
    # so it is scored on the new test split and the gate applies as usual (it may have
    # trained on some of these weeks, which only makes it harder to replace).
    raw["split"]["train_ratio"] = 0.3
    project.write_text(yaml.safe_dump(raw, sort_keys=False))
    resplit = _run(project)
    assert not resplit["promoted"] and "another split" in resplit["gate"]["reason"]
    assert resplit["gate"]["difference"]["low"] > 0
    assert int(client.get_registered_model("tokfrag-chickenpox").aliases["champion"]) == (
        champion_version
    )

    # Other lags: the champion cannot read these windows, so no comparison is possible; the
    # new winner replaces it and its version says why.
    raw["split"]["lags"] = 6
    project.write_text(yaml.safe_dump(raw, sort_keys=False))
    moved = _run(project)
    assert moved["promoted"] and moved["gate"]["ungated"]
    assert "lags 4" in moved["gate"]["reason"] and "lags 6" in moved["gate"]["reason"]
    new_champion = moved["versions"][moved["champion"]]
    aliases = client.get_registered_model("tokfrag-chickenpox").aliases
    assert int(aliases["champion"]) == new_champion
    tags = client.get_model_version("tokfrag-chickenpox", str(new_champion)).tags
    assert tags["promotion"] == moved["gate"]["reason"]


def test_a_champion_that_cannot_read_gaps_is_not_compared_on_data_with_gaps() -> None:
    from tokfrag.registry.contracts import ForecastContract
    from tokfrag.stages.champion import _describe, _fits

    def contract(gaps: bool) -> ForecastContract:
        return ForecastContract(("a", "b"), 4, 1, "d", "fragment", gaps=gaps)

    assert _fits(contract(False), contract(False)) and _fits(contract(True), contract(True))
    assert _fits(contract(True), contract(False))  # a gap reader answers gapless requests
    assert not _fits(contract(False), contract(True))
    assert "no gaps (data.missing refuse)" in _describe(contract(False))
    assert "read as gaps" in _describe(contract(True))
