"""The promotion gate: a worse model never takes the champion's alias, and every version
carries what made it (params hash, study, validation, costs)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from mlflow.tracking import MlflowClient

from tokfrag import stages
from tokfrag.config import load_params


def _run(params, root: Path) -> dict:
    for stage in (stages.ingest, stages.validate, stages.prepare):
        stage(params, root)
    for family in stages.FAMILIES:
        stages.tune(params, root, family)
        stages.train(params, root, family)
    stages.evaluate(params, root)
    return stages.register(params, root)


def test_a_worse_model_leaves_the_champion_untouched(project: Path) -> None:
    root = project.parent
    first = _run(load_params(project), root)
    assert first["promoted"] and first["gate"]["reason"] == "no champion yet"
    metrics = json.loads((root / "outputs/chickenpox/metrics.json").read_text())
    assert first["champion"] == metrics["verdict"]["chosen"]
    champion_version = first["champion_version"]
    # Registering the same models again (a retry, a rerun) adds no version.
    again = stages.register(load_params(project), root)
    assert again["versions"] == first["versions"]
    assert again["champion_version"] == champion_version

    client = MlflowClient(tracking_uri=f"sqlite:///{root}/mlruns.db")
    version = client.get_model_version_by_alias("tokfrag-chickenpox", "champion")
    tags = version.tags
    assert len(tags["params_hash"]) == 16 and tags["study_name"].startswith("tokfrag-chickenpox-")
    assert tags["validation"].startswith("passed") and float(tags["cost.n_params"]) > 0
    assert float(tags["cost.latency_ms_p50"]) > 0

    # Retrain with a crippled recipe: one epoch at a tiny learning rate, untuned, without
    # the ridge-started skips (which alone would forecast as well as a linear model).
    raw = yaml.safe_load(project.read_text())
    raw["train"].update({"epochs": 1, "lr": 1e-6, "repeats": 1})
    raw["token"].update({"lr": 1e-6, "skip": False})
    raw["fragment"]["lr"] = 1e-6
    raw["fragment"]["model"]["skip"] = False
    raw["tune"]["n_trials"] = 0
    project.write_text(yaml.safe_dump(raw, sort_keys=False))
    worse = _run(load_params(project), root)

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
    resplit = _run(load_params(project), root)
    assert not resplit["promoted"] and "another split" in resplit["gate"]["reason"]
    assert resplit["gate"]["difference"]["low"] > 0
    assert int(client.get_registered_model("tokfrag-chickenpox").aliases["champion"]) == (
        champion_version
    )

    # Other lags: the champion cannot read these windows, so no comparison is possible; the
    # new winner replaces it and its version says why.
    raw["split"]["lags"] = 6
    project.write_text(yaml.safe_dump(raw, sort_keys=False))
    moved = _run(load_params(project), root)
    assert moved["promoted"] and moved["gate"]["ungated"]
    assert "lags 4" in moved["gate"]["reason"] and "lags 6" in moved["gate"]["reason"]
    new_champion = moved["versions"][moved["champion"]]
    aliases = client.get_registered_model("tokfrag-chickenpox").aliases
    assert int(aliases["champion"]) == new_champion
    tags = client.get_model_version("tokfrag-chickenpox", str(new_champion)).tags
    assert tags["promotion"] == moved["gate"]["reason"]
