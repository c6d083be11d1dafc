"""Pyfunc packaging, registration and aliases against a real SQLite MLflow registry."""

from __future__ import annotations

import os

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DVC_NO_ANALYTICS", "1")

import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

import mlflow  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402

from tokfrag.config import RegistryConfig  # noqa: E402
from tokfrag.registry import (  # noqa: E402
    Candidate,
    RegistrationResult,
    Store,
    describe_registry,
    load_champion,
    open_store,
    register_candidates,
    windows_to_frame,
)

DATASET = "toy"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("project")


@pytest.fixture(scope="module")
def store(project: Path) -> Store:
    return open_store(RegistryConfig(), project, DATASET)


@pytest.fixture(scope="module")
def candidates(store, trained, make_candidate) -> list[Candidate]:
    # The ridge ("token") scores better than last-value ("fragment"): it must be champion.
    return [
        make_candidate(store, "token", trained.ridge_dir, 0.25),
        make_candidate(store, "fragment", trained.last_dir, 0.75),
    ]


@pytest.fixture(scope="module")
def registered(store, candidates) -> RegistrationResult:
    return register_candidates(store, DATASET, candidates)


def _client(store: Store) -> MlflowClient:
    return MlflowClient(tracking_uri=store.tracking_uri, registry_uri=store.tracking_uri)


def test_champion_is_the_lower_mse_version_and_challenger_the_other(store, registered) -> None:
    client = _client(store)
    champion = client.get_model_version_by_alias(store.model_name, "champion")
    challenger = client.get_model_version_by_alias(store.model_name, "challenger")

    assert registered.champion == "token"
    assert registered.challenger == "fragment"
    assert int(champion.version) == registered.versions["token"] == registered.champion_version
    assert int(challenger.version) == registered.versions["fragment"]
    assert registered.uri == "models:/tokfrag-toy@champion"
    assert json.loads(json.dumps(registered.to_dict()))["versions"] == registered.versions


def test_versions_are_tagged_and_logged_into_the_training_runs(
    store, candidates, registered
) -> None:
    client = _client(store)
    for candidate in candidates:
        version = client.get_model_version(store.model_name, registered.versions[candidate.family])
        tags = version.tags
        assert tags["family"] == candidate.family
        assert float(tags["metric.test_mse"]) == candidate.metrics["test_mse"]
        assert float(tags["metric.test_mae"]) == candidate.metrics["test_mae"]
        assert tags["data_sha256"] == candidate.data_sha256
        assert (tags["lags"], tags["horizon"]) == ("4", "1")
        assert tags["git_commit"]  # a sha inside a git repository, "unknown" outside
        assert version.run_id == candidate.run_id
        # Logging the model resumed the training run; it must still read as finished.
        assert client.get_run(candidate.run_id).info.status == "FINISHED"


def test_champion_predicts_what_the_forecaster_forecasts(store, trained, registered) -> None:
    windows = trained.windows[5:9]  # (4, N, L)
    request = windows_to_frame(windows, trained.node_ids, window_ids=[30, 31, 32, 33])
    request = request.sample(frac=1.0, random_state=0)  # any row order is allowed

    model = mlflow.pyfunc.load_model(registered.uri)
    out = model.predict(request)

    assert list(out.columns) == ["window", "node", "h1"]
    assert out["window"].tolist() == np.repeat([30, 31, 32, 33], 5).tolist()
    assert out["node"].tolist() == list(trained.node_ids) * 4
    expected = trained.ridge.forecast(windows)  # (4, N, 1)
    np.testing.assert_allclose(out["h1"].to_numpy().reshape(4, 5, 1), expected, rtol=1e-12)
    # The same model through the module's own loader.
    np.testing.assert_allclose(load_champion(store, DATASET).predict(request)["h1"], out["h1"])


def test_a_champion_whose_files_changed_is_not_loaded(store, registered) -> None:
    from urllib.parse import urlparse

    from tokfrag.models.saving import CONFIG_FILE
    from tokfrag.registry import ArtifactsChanged
    from tokfrag.registry.versions import ARTIFACTS_TAG, artifacts_digest

    client = _client(store)
    version = str(registered.champion_version)
    recorded = client.get_model_version(store.model_name, version).tags[ARTIFACTS_TAG]
    where = client.get_model_version_download_uri(store.model_name, version)
    folder = Path(urlparse(where).path if where.startswith("file:") else where)
    assert artifacts_digest(folder) == recorded  # what was registered is what is stored
    # The forecaster's own files (the ridge keeps its coefficients in its config).
    weights = next(p for p in folder.rglob("*") if p.name == CONFIG_FILE)
    original = weights.read_bytes()
    try:
        weights.write_bytes(original[:-2] + bytes([original[-2] ^ 1]) + original[-1:])
        with pytest.raises(ArtifactsChanged, match="changed since"):
            load_champion(store, DATASET)
    finally:
        weights.write_bytes(original)
    load_champion(store, DATASET)  # restored: it loads again


def test_loading_the_champion_leaves_sys_path_alone(store, registered) -> None:
    # MLflow puts the model's code copy first on sys.path; processes spawned afterwards (the
    # flow's family workers) would import that stale copy of tokfrag instead of this one.
    before = list(sys.path)
    load_champion(store, DATASET)
    assert sys.path == before


def test_champion_loads_and_predicts_in_a_fresh_process(
    store, trained, registered, project
) -> None:
    windows = trained.windows[:2]
    request_path = project / "request.parquet"  # parquet keeps every bit of the floats
    windows_to_frame(windows, trained.node_ids).to_parquet(request_path)
    script = (
        "import json, sys, mlflow, pandas as pd\n"
        "model = mlflow.pyfunc.load_model(sys.argv[1])\n"
        "import tokfrag\n"
        "out = model.predict(pd.read_parquet(sys.argv[2]))\n"
        "print(json.dumps({'h1': out['h1'].tolist(), 'tokfrag': tokfrag.__file__}))\n"
    )
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": store.tracking_uri,
        "MLFLOW_REGISTRY_URI": store.tracking_uri,
    }
    result = subprocess.run(
        [sys.executable, "-c", script, registered.uri, str(request_path)],
        capture_output=True,
        text=True,
        cwd=project,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    answer = json.loads(result.stdout.strip().splitlines()[-1])

    expected = trained.ridge.forecast(windows).reshape(-1)
    np.testing.assert_allclose(answer["h1"], expected, rtol=1e-12)
    # tokfrag came from the model's own code/ folder, not the installed package.
    assert f"{os.sep}code{os.sep}tokfrag{os.sep}" in answer["tokfrag"]


def test_served_model_rejects_a_window_with_a_missing_node(trained, registered) -> None:
    request = windows_to_frame(trained.windows[:2], trained.node_ids, window_ids=[7, 8])
    incomplete = request[~((request["window"] == 8) & (request["node"] == "node3"))]

    model = mlflow.pyfunc.load_model(registered.uri)
    with pytest.raises(ValueError, match=r"window 8: missing node\(s\) \['node3'\]"):
        model.predict(incomplete)


def test_describe_registry_lists_versions_with_aliases_and_metrics(store, registered) -> None:
    rows = describe_registry(store, DATASET)

    by_family = {row["family"]: row for row in rows}
    assert [row["version"] for row in rows] == sorted(registered.versions.values())
    assert by_family["token"]["aliases"] == ["champion"]
    assert by_family["fragment"]["aliases"] == ["challenger"]
    assert by_family["fragment"]["metrics"] == {"test_mse": 0.75, "test_mae": 0.375}
    assert json.loads(json.dumps(rows)) == rows


def test_missing_model_dir_fails_before_any_registry_write(
    project, trained, make_candidate
) -> None:
    store = open_store(RegistryConfig(), project, "broken")
    good = make_candidate(store, "token", trained.ridge_dir, 0.1)
    bad = make_candidate(store, "fragment", project / "no-such-model", 0.2)

    with pytest.raises(ValueError, match=r"'fragment': .*no-such-model.*config\.json missing"):
        register_candidates(store, "broken", [good, bad])

    client = _client(store)
    assert client.search_registered_models(filter_string="name = 'tokfrag-broken'") == []
    assert client.search_model_versions("name = 'tokfrag-broken'") == []
    # Not even the valid candidate's model was logged into its run.
    assert client.search_logged_models(experiment_ids=[store.experiment_id]) == []


def test_new_round_moves_aliases_and_a_bad_round_leaves_them(
    project, trained, make_candidate
) -> None:
    store = open_store(RegistryConfig(), project, "rounds")
    first = register_candidates(
        store,
        "rounds",
        [
            make_candidate(store, "token", trained.ridge_dir, 0.3),
            make_candidate(store, "fragment", trained.last_dir, 0.6),
        ],
    )
    second = register_candidates(
        store,
        "rounds",
        [
            make_candidate(store, "token", trained.ridge_dir, 0.5),
            make_candidate(store, "fragment", trained.last_dir, 0.4),
        ],
    )
    assert second.champion == "fragment"
    assert second.versions == {"token": 3, "fragment": 4}
    assert first.versions == {"token": 1, "fragment": 2}

    bad_metrics = make_candidate(store, "token", trained.ridge_dir, 0.1)
    bad_metrics = replace(bad_metrics, metrics={"test_mse": float("nan")})
    with pytest.raises(ValueError, match=r"'token': metric 'test_mse' is nan"):
        register_candidates(
            store, "rounds", [bad_metrics, make_candidate(store, "fragment", trained.last_dir, 1)]
        )

    client = _client(store)
    assert client.get_registered_model("tokfrag-rounds").aliases == {
        "champion": 4,
        "challenger": 3,
    }
    assert len(client.search_model_versions("name = 'tokfrag-rounds'")) == 4

    # A lone candidate is champion by default; a stale challenger would claim a comparison.
    alone = register_candidates(
        store, "rounds", [make_candidate(store, "token", trained.ridge_dir, 0.2)]
    )
    assert (alone.champion_version, alone.challenger) == (5, None)
    assert client.get_registered_model("tokfrag-rounds").aliases == {"champion": 5}
