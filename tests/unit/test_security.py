"""Security properties (issue 8): tokfrag's own artifacts load without unpickling, servers
bind 127.0.0.1 by default, and dataset names and output paths stay inside the project.

Unpickling is caught by a tripwire, not mocked away: while armed, ``pickle``'s, ``torch``'s,
``cloudpickle``'s and ``joblib``'s loaders raise, and an audit hook records every
``pickle.find_class`` (which any unpickling of a class or function goes through, C
unpickler included). Each model kind is built small, saved by its own ``save`` and loaded
back by :func:`tokfrag.families.load_forecaster` under the tripwire; the MLflow
pyfunc that the registry logs is loaded by ``mlflow.pyfunc.load_model`` the same way.
"""

from __future__ import annotations

import inspect
import json
import os
import pickle
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from tokfrag.config import ParamsError, load_params
from tokfrag.stages import FAMILIES, Layout, StageError

REPO = Path(__file__).resolve().parents[2]

# --------------------------------------------------------------------------------------------
# The tripwire
# --------------------------------------------------------------------------------------------

_ARMED: list[list[str]] = []  # the event list of the armed tripwire, if any


def _audit(event: str, args: tuple) -> None:
    if _ARMED and event == "pickle.find_class":
        _ARMED[-1].append(f"pickle.find_class{args}")


sys.addaudithook(_audit)  # audit hooks cannot be removed; this one only records while armed


class Unpickled(AssertionError):
    """Something tried to unpickle while the tripwire was armed."""


def _refuse(name: str) -> Callable[..., Any]:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        _ARMED[-1].append(name) if _ARMED else None
        raise Unpickled(f"{name} called while loading a tokfrag artifact")

    return refuse


class _RefusingUnpickler(pickle.Unpickler):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _refuse("pickle.Unpickler")()


@pytest.fixture
def no_unpickling(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Arm the tripwire for the test; fails the test if anything unpickled."""
    import _pickle

    import cloudpickle
    import joblib  # imported before arming: it subclasses the unpicklers at import
    import torch
    import torch.serialization

    for module, names in (
        (pickle, ("load", "loads", "_load", "_loads")),
        (_pickle, ("load", "loads")),
        (cloudpickle, ("load", "loads")),
        (torch, ("load",)),
        (torch.serialization, ("load",)),
    ):
        for name in names:
            if hasattr(module, name):
                monkeypatch.setattr(module, name, _refuse(f"{module.__name__}.{name}"))
    monkeypatch.setattr(pickle, "Unpickler", _RefusingUnpickler)
    monkeypatch.setattr(joblib, "load", _refuse("joblib.load"))
    events: list[str] = []
    _ARMED.append(events)
    try:
        yield events
    finally:
        _ARMED.remove(events)
    assert not events, f"unpickling while loading: {events}"


def test_the_tripwire_catches_unpickling(tmp_path: Path, no_unpickling: list[str]) -> None:
    """The tripwire itself works (so a pass below means something)."""
    import torch

    with pytest.raises(Unpickled):
        pickle.loads(b"\x80\x04K\x01.")
    with pytest.raises(Unpickled):
        torch.load(tmp_path / "x.pt")
    with pytest.raises(Unpickled):
        pickle.Unpickler(open(os.devnull, "rb"))  # noqa: SIM115
    assert len(no_unpickling) == 3
    no_unpickling.clear()


# --------------------------------------------------------------------------------------------
# Every model kind: saved by its own save(), loaded without unpickling
# --------------------------------------------------------------------------------------------

NODES, LAGS, HORIZON = 5, 12, 2
SIZES = {"hidden_size": 16, "num_layers": 1, "num_heads": 2, "intermediate_size": 32}
ALLOWED_SUFFIXES = {".safetensors", ".json", ".txt"}
PICKLE_SUFFIXES = {".pkl", ".pickle", ".pt", ".pth", ".bin", ".joblib", ".npy", ".npz", ".ckpt"}
TEXTS = [
    "a gripping , beautifully acted film",
    "dull and lifeless from start to finish",
    "what a wonderful , moving story",
    "the plot is a mess and the acting is worse",
    "a warm and funny film",
    "boring , boring , boring",
] * 4
LABELS = ("negative", "positive")
TEXT_LABELS = np.array([1, 0, 1, 0, 1, 0] * 4)


def _series() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    values = rng.normal(size=(60, NODES)).cumsum(axis=0)  # (T, N)
    ring = np.arange(NODES)
    edge_index = np.stack([ring, np.roll(ring, 1)]).astype(np.int64)  # (2, E)
    windows = np.stack([values[t : t + LAGS].T for t in range(40)])  # (S, N, L)
    targets = np.stack([values[t + LAGS : t + LAGS + HORIZON].T for t in range(40)])
    return values, edge_index, windows, targets


def _graph_model(kind: str) -> Any:
    from tokfrag.config import FragmentModelConfig, STGCNSizes, WaveNetSizes
    from tokfrag.families.fragment.gconvgru_model import FragmentForecaster
    from tokfrag.families.fragment.stgcn_model import STGCNForecaster
    from tokfrag.families.fragment.wavenet_model import WaveNetForecaster
    from tokfrag.models.scaler import NodeScaler

    cls, sizes = {
        "gconvgru": (FragmentForecaster, FragmentModelConfig(hidden_channels=8)),
        "stgcn": (STGCNForecaster, STGCNSizes(hidden_channels=8, spatial_channels=4)),
        "wavenet": (WaveNetForecaster, WaveNetSizes(residual_channels=8, dilation_channels=8)),
    }[kind]
    values, edge_index, _, _ = _series()
    weights = np.ones(edge_index.shape[1])
    scaler = NodeScaler.fit(values[:40])
    return cls.build(scaler, edge_index, weights, LAGS, HORIZON, **sizes.model_dump())


def _build(kind: str) -> Any:
    """A fresh model of ``kind`` (as its stage builds it, sizes shrunk)."""
    import torch

    torch.manual_seed(0)
    _, _, windows, targets = _series()
    if kind == "token_bert":
        from tokfrag.families.token import MeanScaleQuantizer
        from tokfrag.families.token.quantized_model import TokenForecaster

        return TokenForecaster.build(MeanScaleQuantizer(16, -3.0, 3.0), LAGS, HORIZON, **SIZES)
    if kind == "token_patch":
        from tokfrag.families.token.patch import PatchTokenizer
        from tokfrag.families.token.patch_model import PatchForecaster

        return PatchForecaster.build(PatchTokenizer(4, 4), LAGS, HORIZON, **SIZES)
    if kind == "token_inverted":
        from tokfrag.families.token.inverted_model import InvertedForecaster
        from tokfrag.models.scaler import NodeScaler

        values = _series()[0]
        return InvertedForecaster.build(NodeScaler.fit(values[:40]), LAGS, HORIZON, **SIZES)
    if kind.startswith("fragment_") and kind != "fragment_docgraph":
        return _graph_model(kind.removeprefix("fragment_"))
    if kind == "token_text":
        from tokfrag.families.token.text_model import TextTokenClassifier

        return TextTokenClassifier.build(TEXTS, LABELS, vocab_size=200, max_length=24, **SIZES)
    if kind == "token_text_pretrained":
        from tokfrag.models.pretrained import pretrained_available

        if not pretrained_available():
            pytest.skip("the local all-MiniLM-L6-v2 package is not installed")
        from tokfrag.families.token.text_model import TextTokenClassifier

        return TextTokenClassifier.build(TEXTS, LABELS, pretrained=True, max_length=24)
    if kind == "fragment_docgraph":
        from tokfrag.families.fragment.docgraph_model import DocGraphClassifier

        return DocGraphClassifier.build(
            TEXTS, LABELS, min_count=1, embedding_dim=8, hidden_channels=8, num_layers=1
        )
    from tokfrag.families.baselines import series as baselines
    from tokfrag.families.baselines import text as text_baselines

    if kind == "ridge_ar":
        return baselines.RidgeARForecaster(LAGS, HORIZON).fit(windows, targets)
    if kind in ("zero", "last_value", "historical_average"):
        cls = {
            "zero": baselines.ZeroForecaster,
            "last_value": baselines.LastValueForecaster,
            "historical_average": baselines.HistoricalAverageForecaster,
        }[kind]
        return cls(LAGS, HORIZON)
    if kind == "majority":
        return text_baselines.MajorityClassifier(LABELS).fit(TEXTS, TEXT_LABELS)
    if kind == "tfidf_logreg":
        return text_baselines.TfidfLogRegClassifier(
            LABELS, text_baselines.TfidfLogRegConfig(min_df=1)
        ).fit(TEXTS, TEXT_LABELS)
    raise AssertionError(f"no builder for {kind}")


KINDS = [
    "token_bert",
    "token_patch",
    "token_inverted",
    "fragment_gconvgru",
    "fragment_stgcn",
    "fragment_wavenet",
    "zero",
    "last_value",
    "ridge_ar",
    "historical_average",
    "token_text",
    "token_text_pretrained",
    "fragment_docgraph",
    "majority",
    "tfidf_logreg",
]


def test_every_registered_kind_is_covered() -> None:
    """A new model kind must join KINDS (and so this file's checks)."""
    from tokfrag.families import saved_kinds

    known = set(saved_kinds())
    covered = {k.removesuffix("_pretrained") for k in KINDS}
    assert known <= covered, f"kinds without a security check: {sorted(known - covered)}"


def _answer(model: Any) -> np.ndarray:
    if hasattr(model, "predict_proba"):
        return np.asarray(model.predict_proba(TEXTS[:6]))
    return np.asarray(model.forecast(_series()[2][:3]))


@pytest.mark.parametrize("kind", KINDS)
def test_saved_model_loads_without_unpickling(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    from tokfrag.families import load_forecaster

    model = _build(kind)
    folder = model.save(tmp_path / kind)
    expected = _answer(model)

    files = [p for p in Path(folder).rglob("*") if p.is_file()]
    assert files
    suffixes = {p.suffix for p in files}
    assert not suffixes & PICKLE_SUFFIXES, sorted(str(p) for p in files)
    assert suffixes <= ALLOWED_SUFFIXES, sorted(str(p.relative_to(folder)) for p in files)
    for path in files:
        if path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))  # really JSON, not a renamed pickle
        if path.suffix == ".safetensors":
            from safetensors import safe_open

            with safe_open(str(path), framework="np") as weights:
                assert list(weights.keys()) is not None

    request.getfixturevalue("no_unpickling")  # armed from here to the end of the test
    loaded = load_forecaster(folder)
    assert type(loaded) is type(model)
    np.testing.assert_allclose(_answer(loaded), expected, rtol=1e-6, atol=1e-7)


# --------------------------------------------------------------------------------------------
# The MLflow pyfunc: models from code, nothing cloudpickled
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["token_bert", "tfidf_logreg"])
def test_registered_pyfunc_is_models_from_code_and_loads_without_unpickling(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """``log_model`` logs ``python_model`` as a code path: MLflow writes no
    ``python_model.pkl`` and ``mlflow.pyfunc.load_model`` executes the entry file instead of
    unpickling the wrapper (cloudpickle would be MLflow's other path)."""
    import mlflow

    from tokfrag.registry.contracts import ClassifyContract, ForecastContract
    from tokfrag.registry.pyfunc import log_model

    model = _build(kind)
    folder = model.save(tmp_path / "model")
    if kind == "tfidf_logreg":
        contract: Any = ClassifyContract(label_names=LABELS, dataset="sec", family="baseline")
        example: Any = TEXTS[:3]
    else:
        nodes = tuple(f"n{i}" for i in range(NODES))
        contract = ForecastContract(
            node_ids=nodes, lags=LAGS, horizon=HORIZON, dataset="sec", family="token"
        )
        example = _series()[2][:1]
    uri = f"sqlite:///{tmp_path / 'mlruns.db'}"
    mlflow.set_tracking_uri(uri)
    experiment = mlflow.create_experiment("sec", artifact_location=(tmp_path / "art").as_uri())
    with mlflow.start_run(experiment_id=experiment):
        info = log_model(folder, contract, example)
    local = Path(mlflow.artifacts.download_artifacts(info.model_uri, dst_path=str(tmp_path / "dl")))

    pyfunc = yaml.safe_load((local / "MLmodel").read_text())["flavors"]["python_function"]
    assert "model_code_path" in pyfunc, pyfunc
    assert "python_model" not in pyfunc, pyfunc  # the cloudpickled wrapper's key
    logged = [
        p for p in local.rglob("*") if p.is_file() and "code" not in p.relative_to(local).parts
    ]
    assert not {p.suffix for p in logged} & PICKLE_SUFFIXES, sorted(map(str, logged))
    assert not any(p.name.startswith("python_model") for p in logged)

    frame = contract.example_frame(example)
    request.getfixturevalue("no_unpickling")
    served = mlflow.pyfunc.load_model(str(local))
    assert len(served.predict(frame)) == len(frame)


def test_a_cloudpickled_pyfunc_would_trip_the_wire(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    """The control for the test above: had ``log_model`` passed the wrapper *instance*,
    MLflow would cloudpickle it, and loading would unpickle (caught here)."""
    import mlflow

    from tokfrag.registry.contracts import ClassifyContract
    from tokfrag.registry.pyfunc import TokfragModel

    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "true")
    folder = _build("majority").save(tmp_path / "model")
    contract = ClassifyContract(label_names=LABELS, dataset="sec", family="baseline")
    wrapper = TokfragModel.from_folder(folder, contract)
    mlflow.pyfunc.save_model(str(tmp_path / "pickled"), python_model=wrapper)
    assert (tmp_path / "pickled" / "python_model.pkl").is_file()

    events = request.getfixturevalue("no_unpickling")
    with pytest.raises(Exception) as info:  # noqa: PT011  (MLflow may wrap the error)
        mlflow.pyfunc.load_model(str(tmp_path / "pickled"))
    assert "cloudpickle.load" in str(info.value) or events
    events.clear()  # expected here: the wire did its job


# --------------------------------------------------------------------------------------------
# Servers bind the loopback interface by default
# --------------------------------------------------------------------------------------------

LOOPBACK = "127.0.0.1"


def test_tokfrag_ui_binds_loopback_by_default() -> None:
    from typer.testing import CliRunner

    from tokfrag.cli import app, ui

    host = inspect.signature(ui).parameters["host"].default
    assert host == LOOPBACK
    shown = CliRunner().invoke(app, ["ui", "--help"], env={"COLUMNS": "200"}).output
    assert re.search(r"--host\s+\S+\s.*\[default: 127\.0\.0\.1\]", shown), shown


def test_tokfrag_ui_warns_when_bound_beyond_loopback(tmp_path) -> None:
    import subprocess

    from tokfrag.servers import exposure_warning

    assert exposure_warning(LOOPBACK) is None and exposure_warning("::1") is None
    # The warning comes before anything else: here the params file is missing, so the
    # command stops right after it (no server is started).
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tokfrag.cli",
            "ui",
            "--host",
            "0.0.0.0",
            "--params",
            str(tmp_path / "missing.yaml"),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert done.returncode != 0
    said = " ".join(done.stderr.split())
    assert "warning:" in said and "neither has authentication" in said
    quiet = subprocess.run(
        [sys.executable, "-m", "tokfrag.cli", "ui", "--params", str(tmp_path / "missing.yaml")],
        capture_output=True,
        text=True,
    )
    assert quiet.returncode != 0 and "warning:" not in quiet.stderr


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql+psycopg2://u:secret@db:5432/optuna",
            "postgresql+psycopg2://u:***@db:5432/optuna",
        ),
        ("https://alice:s3cr%40t@mlflow.example:443/", "https://alice:***@mlflow.example:443/"),
        ("mysql://u@db/x?password=secret&ssl=1", "mysql://u@db/x?password=***&ssl=1"),
        ("sqlite:////tmp/p/mlruns.db", "sqlite:////tmp/p/mlruns.db"),
        ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
        ("mlruns.db", "mlruns.db"),
    ],
)
def test_store_urls_are_redacted(url: str, shown: str) -> None:
    from tokfrag.stores import redact_url

    assert redact_url(url) == shown


def test_mlflow_gets_its_store_url_from_the_environment_not_its_arguments() -> None:
    """Every user of a machine can read a process's arguments (`ps`); a database URL may
    hold a password. (`tokfrag summary` printing it redacted: see
    tests/e2e/test_gate_fails_closed.py.)"""
    source = (REPO / "tokfrag" / "servers.py").read_text()
    mlflow_command = source[source.index('"mlflow": [') :].split("]", 1)[0]
    assert "tracking_uri" not in mlflow_command and "--backend-store-uri" not in mlflow_command
    assert 'env["MLFLOW_BACKEND_STORE_URI"]' in source


def test_server_commands_pass_the_host_to_both_servers() -> None:
    from tokfrag.servers import prefect_server_command, prefect_ui_env

    command = prefect_server_command(LOOPBACK, 4321)
    assert command[command.index("--host") + 1] == LOOPBACK
    assert prefect_ui_env(LOOPBACK, 4321)["PREFECT_SERVER_API_HOST"] == LOOPBACK
    source = (REPO / "tokfrag" / "servers.py").read_text()
    mlflow_command = source[source.index('"mlflow": [') :]
    assert '"--host", host' in mlflow_command.split("]", 1)[0]


def test_no_server_in_the_code_or_makefile_binds_all_interfaces() -> None:
    """No literal wildcard bind anywhere tokfrag starts a server; every ``--host`` in the
    Makefile is the loopback."""
    for folder in ("tokfrag", "flows", "tasks"):
        for path in (REPO / folder).rglob("*.py"):
            for number, line in enumerate(path.read_text().splitlines(), 1):
                code = line.split("#", 1)[0]
                if re.search(r"""["'](0\.0\.0\.0|::)["']""", code):
                    # servers.py names the wildcards only to print a reachable URL for them.
                    assert path.name == "servers.py" and "in (" in code, f"{path}:{number}"
    makefile = (REPO / "Makefile").read_text()
    hosts = re.findall(r"--host\s+(\S+)", makefile)
    assert hosts and set(hosts) == {LOOPBACK}, hosts


def test_dask_local_cluster_is_loopback_without_a_dashboard() -> None:
    pytest.importorskip("prefect_dask")
    from flows.runners import family_runner
    from tokfrag.config import PipelineConfig

    runner = family_runner(PipelineConfig(task_runner="dask", workers=1))
    assert runner.cluster_kwargs["host"] == LOOPBACK
    assert runner.cluster_kwargs["dashboard_address"] is None  # else ':8787' on every interface


def test_deploy_serve_does_not_open_a_runner_webserver() -> None:
    """``tokfrag deploy`` serves with Prefect's ``serve``: its webserver stays off, and
    would bind localhost if turned on."""
    from prefect.settings import get_current_settings

    server = get_current_settings().runner.server
    assert server.enable is False
    assert server.host in ("localhost", LOOPBACK)


# --------------------------------------------------------------------------------------------
# Dataset names and paths stay inside the project
# --------------------------------------------------------------------------------------------


def _load(tmp_path: Path, raw: dict[str, Any]) -> Any:
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return load_params(path)


ESCAPING_NAMES = [
    "..",
    ".",
    "/abs",
    "/etc/passwd",
    "a\\b",
    "~",
    "~root",
    "x\x00y",
    "\x00",
    "../../etc",
    "a/../b",
    "name\n",
    " name",
    "a\u2215b",  # division slash, looks like '/'
    "\uff0e\uff0e",  # fullwidth full stops, look like '..'
    "con:x",
    "$HOME",
    "*",
]


@pytest.mark.parametrize("name", ESCAPING_NAMES)
def test_escaping_dataset_name_is_rejected_naming_the_key(tmp_path: Path, name: str) -> None:
    with pytest.raises(ParamsError) as info:
        _load(tmp_path, {"data": {"dataset": name}})
    assert "data.dataset" in str(info.value)


@pytest.mark.parametrize("name", ["..", "/abs", "a/b", "x\x00y"])
def test_escaping_schedule_dataset_name_is_rejected_naming_the_key(
    tmp_path: Path, name: str
) -> None:
    with pytest.raises(ParamsError) as info:
        _load(tmp_path, {"schedule": {"datasets": {name: {"retrain": "0 2 * * 0"}}}})
    assert "schedule.datasets" in str(info.value)


SOURCE = {"kind": "series", "path": "inputs/r.csv", "time": "t"}


@pytest.mark.parametrize(
    "key, value",
    [
        ("path", ".."),
        ("path", "../inputs/r.csv"),
        ("path", "inputs/../../r.csv"),
        ("path", "./../r.csv"),
        ("path", "inputs/./../../../r.csv"),
        ("edges", "inputs/../../e.csv"),
        ("edges", ".."),
    ],
)
def test_source_path_escaping_the_project_is_rejected_naming_the_key(
    tmp_path: Path, key: str, value: str
) -> None:
    raw = {"data": {"dataset": "mine", "source": {**SOURCE, key: value}}}
    if value == "..":
        raw["data"]["source"]["format"] = "csv"
    with pytest.raises(ParamsError) as info:
        _load(tmp_path, raw)
    message = str(info.value)
    assert f"data.source.{key}" in message and "leaves the project folder" in message


@pytest.mark.parametrize("value", ["inputs/r.csv", "inputs/../r.csv", "./r.csv", "a/b/../r.csv"])
def test_source_path_inside_the_project_is_accepted(tmp_path: Path, value: str) -> None:
    params = _load(tmp_path, {"data": {"dataset": "mine", "source": {**SOURCE, "path": value}}})
    assert params.data.source.path == value


VALID_NAMES = ["chickenpox", "mr", "a", "A-1_b", "_", "-", "--", "x" * 200, "é", "数据"]


@pytest.mark.parametrize("name", VALID_NAMES)
def test_layout_of_any_valid_name_stays_in_its_folders(tmp_path: Path, name: str) -> None:
    raw: dict[str, Any] = {"data": {"dataset": name}}
    if name not in ("chickenpox", "mr"):
        raw["data"]["source"] = SOURCE
    layout = Layout.of(_load(tmp_path, raw), tmp_path)
    root = tmp_path.resolve()
    paths = {
        "data_dir": (layout.data_dir, root / "data"),
        "out_dir": (layout.out_dir, root / "outputs"),
        "reports_dir": (layout.reports_dir, root / "reports"),
        "validation": (layout.validation, root / "outputs"),
        "prepared": (layout.prepared, root / "outputs"),
        "metrics": (layout.metrics, root / "outputs"),
        "items": (layout.items, root / "outputs"),
        "registry": (layout.registry, root / "outputs"),
        "plots": (layout.plots, root / "reports"),
        "report": (layout.report, root / "reports"),
        "report_md": (layout.report_md, root / "reports"),
        **{f"tuning[{f}]": (layout.tuning(f), root / "outputs") for f in FAMILIES},
        **{f"model_dir[{f}]": (layout.model_dir(f), root / "outputs") for f in FAMILIES},
    }
    for what, (path, folder) in paths.items():
        resolved = Path(os.path.normpath(path))
        assert resolved.is_relative_to(folder / name), f"{what}: {path}"
        assert resolved != folder, what


@pytest.mark.parametrize("name", ["..", "../x", "/etc"])
def test_layout_refuses_an_escaping_name_itself(tmp_path: Path, name: str) -> None:
    with pytest.raises(StageError, match="dataset"):
        Layout(tmp_path, name)


@pytest.mark.parametrize(
    "section, key, value",
    [
        ("registry", "artifact_root", "../elsewhere"),
        ("registry", "tracking_uri", "sqlite:///../elsewhere.db"),
        ("tune", "storage", "sqlite:///../elsewhere.db"),
        ("tune", "storage", "../journal.log"),
    ],
)
def test_relative_store_path_escaping_the_project_is_rejected(
    tmp_path: Path, section: str, key: str, value: str
) -> None:
    with pytest.raises(ParamsError, match=rf"{section}\.{key}"):
        _load(tmp_path, {section: {key: value}})


def test_absolute_store_paths_stay_allowed(tmp_path: Path) -> None:
    """An absolute store (a shared disk, a server URL) is a documented choice, not an escape."""
    params = _load(
        tmp_path,
        {
            "registry": {"tracking_uri": f"sqlite:///{tmp_path}/m.db", "artifact_root": "/srv/a"},
            "tune": {"storage": "postgresql://u@127.0.0.1/optuna"},
        },
    )
    assert params.registry.artifact_root == "/srv/a"


def test_tokenizers_save_as_plain_text(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Every tokenizer in tokfrag/families/token writes JSON (no pickle) and reloads from it without
    unpickling, to the same ids."""
    from tokfrag.families.token import MeanScaleQuantizer
    from tokfrag.families.token.patch import PatchTokenizer
    from tokfrag.families.token.wordpiece import TextTokenizer

    windows = _series()[2]
    tokenizers: list[Any] = [
        MeanScaleQuantizer(16, -3.0, 3.0).fit(windows),
        PatchTokenizer(4, 2).fit(windows),
        TextTokenizer(vocab_size=200, max_length=24, min_frequency=1).fit(TEXTS),
    ]
    names = ["quantizer.json", "patch.json", "text"]  # the text tokenizer writes a folder
    paths = [Path(t.save(tmp_path / n)) for t, n in zip(tokenizers, names, strict=True)]
    files = [f for p in paths for f in ([p] if p.is_file() else p.rglob("*")) if f.is_file()]
    for path in files:
        assert path.suffix in {".json", ".txt"}, path
        if path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))

    request.getfixturevalue("no_unpickling")
    quantizer, patch, text = (type(t).load(p) for t, p in zip(tokenizers, paths, strict=True))
    assert quantizer.to_dict() == tokenizers[0].to_dict()
    assert patch.to_dict() == tokenizers[1].to_dict()
    ids = tokenizers[2].encode(TEXTS[:3]).input_ids
    assert np.array_equal(text.encode(TEXTS[:3]).input_ids, ids)
