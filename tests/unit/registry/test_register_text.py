"""Text classifiers through the same registration path, against a real SQLite MLflow registry."""

from __future__ import annotations

import os

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DVC_NO_ANALYTICS", "1")

import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from dataclasses import dataclass, replace  # noqa: E402
from pathlib import Path  # noqa: E402

import mlflow  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402

from tokfrag.config import RegistryConfig  # noqa: E402
from tokfrag.families.baselines.text import (  # noqa: E402
    MajorityClassifier,
    TfidfLogRegClassifier,
    TfidfLogRegConfig,
)
from tokfrag.registry import (  # noqa: E402
    CandidateError,
    RegistrationResult,
    Store,
    TextCandidate,
    describe_registry,
    load_champion,
    open_store,
    register_candidates,
    training_run,
)

DATASET = "toytext"
LABELS = ("neg", "pos", "question")
# A tiny three-class corpus; word choice makes the classes separable for TF-IDF + LR.
CORPUS = {
    "neg": [
        "a dull and tedious film with a boring plot",
        "boring acting and a dull script",
        "the worst movie of the year , tedious",
        "awful pacing , boring and far too long",
        "a tedious mess with awful dialogue",
        "dull characters in a boring story",
    ],
    "pos": [
        "a wonderful and moving film with a great cast",
        "great acting and a wonderful script",
        "the best movie of the year , moving",
        "brilliant pacing , great and never too long",
        "a moving triumph with brilliant dialogue",
        "wonderful characters in a great story",
    ],
    "question": [
        "what is the capital of france ?",
        "who wrote the script of this movie ?",
        "how long is the film ?",
        "when was the cast announced ?",
        "what year did the story take place ?",
        "who is the director ?",
    ],
}
REQUEST = [
    "what a wonderful , moving story",
    "boring , dull and tedious",
    "who directed the film ?",
    "great cast but awful script",
]


@dataclass(frozen=True)
class TextModels:
    majority: MajorityClassifier
    majority_dir: Path
    tfidf: TfidfLogRegClassifier
    tfidf_dir: Path
    texts: list[str]
    data_sha256: str = "ab" * 32


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> TextModels:
    root = tmp_path_factory.mktemp("classifiers")
    texts = [t for name in LABELS for t in CORPUS[name]]
    labels = [name for name in LABELS for _ in CORPUS[name]]
    majority = MajorityClassifier(LABELS).fit(texts, labels)
    tfidf = TfidfLogRegClassifier(LABELS, TfidfLogRegConfig(min_df=1)).fit(texts, labels)
    return TextModels(
        majority, majority.save(root / "majority"), tfidf, tfidf.save(root / "tfidf"), texts
    )


def _candidate(
    store: Store, family: str, model_dir: Path, accuracy: float, models: TextModels
) -> TextCandidate:
    with training_run(store, f"{family}-final", params={"family": family}, tags={}) as run:
        run.log_metrics({"test_accuracy": accuracy})
    return TextCandidate(
        family=family,
        run_id=run.run_id,
        model_dir=model_dir,
        metrics={"test_accuracy": accuracy, "test_macro_f1": accuracy / 2},
        label_names=LABELS,
        data_sha256=models.data_sha256,
        example_texts=models.texts[:3],
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("textproject")


@pytest.fixture(scope="module")
def store(project: Path) -> Store:
    return open_store(RegistryConfig(), project, DATASET)


@pytest.fixture(scope="module")
def candidates(store, models) -> list[TextCandidate]:
    # The weaker model is listed first: a "lowest wins" ranking would crown it.
    return [
        _candidate(store, "fragment", models.majority_dir, 0.40, models),
        _candidate(store, "token", models.tfidf_dir, 0.85, models),
    ]


@pytest.fixture(scope="module")
def registered(store, candidates) -> RegistrationResult:
    return register_candidates(store, DATASET, candidates)


def _client(store: Store) -> MlflowClient:
    return MlflowClient(tracking_uri=store.tracking_uri, registry_uri=store.tracking_uri)


def test_champion_is_the_higher_accuracy_version(store, registered) -> None:
    client = _client(store)
    champion = client.get_model_version_by_alias(store.model_name, "champion")
    challenger = client.get_model_version_by_alias(store.model_name, "challenger")

    assert (registered.champion, registered.challenger) == ("token", "fragment")
    assert int(champion.version) == registered.versions["token"] == registered.champion_version
    assert int(challenger.version) == registered.versions["fragment"]
    assert (registered.kind, registered.ranked_by, registered.higher_is_better) == (
        "text",
        "test_accuracy",
        True,
    )
    assert registered.uri == f"models:/tokfrag-{DATASET}@champion"


def test_text_versions_are_tagged_with_labels_metrics_data_and_commit(
    store, candidates, registered
) -> None:
    client = _client(store)
    for candidate in candidates:
        version = client.get_model_version(store.model_name, registered.versions[candidate.family])
        tags = version.tags
        assert tags["family"] == candidate.family
        assert tags["kind"] == "text"
        assert json.loads(tags["label_names"]) == list(LABELS)
        assert float(tags["metric.test_accuracy"]) == candidate.metrics["test_accuracy"]
        assert float(tags["metric.test_macro_f1"]) == candidate.metrics["test_macro_f1"]
        assert tags["data_sha256"] == candidate.data_sha256
        assert tags["git_commit"]
        assert "lags" not in tags
        assert version.run_id == candidate.run_id
        assert client.get_run(candidate.run_id).info.status == "FINISHED"


def test_champion_answers_labels_and_the_classifiers_own_probabilities(
    store, models, registered
) -> None:
    model = mlflow.pyfunc.load_model(registered.uri)
    out = model.predict(pd.DataFrame({"text": REQUEST}))

    assert list(out.columns) == ["label", "proba_neg", "proba_pos", "proba_question"]
    expected = models.tfidf.predict_proba(REQUEST)  # (B, C)
    np.testing.assert_allclose(out.iloc[:, 1:].to_numpy(), expected, rtol=1e-12)
    assert out["label"].tolist() == [LABELS[i] for i in expected.argmax(axis=1)]
    assert out["label"].tolist()[:3] == ["pos", "neg", "question"]  # rows in input order
    # The signature and input example come from real documents.
    signature = model.metadata.get_input_schema().to_dict()
    assert signature == [{"type": "string", "name": "text", "required": True}]
    # The same model through the module's own loader.
    pd.testing.assert_frame_equal(
        load_champion(store, DATASET).predict(pd.DataFrame({"text": REQUEST})), out
    )


def test_champion_loads_and_predicts_in_a_fresh_process(store, models, registered, project) -> None:
    request_path = project / "texts.json"
    request_path.write_text(json.dumps(REQUEST))
    script = (
        "import json, sys, mlflow, pandas as pd\n"
        "model = mlflow.pyfunc.load_model(sys.argv[1])\n"
        "import tokfrag\n"
        "texts = json.loads(open(sys.argv[2]).read())\n"
        "out = model.predict(pd.DataFrame({'text': texts}))\n"
        "print(json.dumps({'columns': list(out.columns), 'label': out['label'].tolist(),\n"
        "                  'proba': out.iloc[:, 1:].to_numpy().tolist(),\n"
        "                  'tokfrag': tokfrag.__file__}))\n"
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

    expected = models.tfidf.predict_proba(REQUEST)
    assert answer["columns"] == ["label", "proba_neg", "proba_pos", "proba_question"]
    np.testing.assert_allclose(answer["proba"], expected, rtol=1e-12)
    assert answer["label"] == [LABELS[i] for i in expected.argmax(axis=1)]
    assert f"{os.sep}code{os.sep}tokfrag{os.sep}" in answer["tokfrag"]


@pytest.mark.parametrize(
    ("request_frame", "error", "message"),
    [
        (pd.DataFrame({"text": ["fine", None]}), ValueError, r"row 1: text is null; send one"),
        (pd.DataFrame({"text": ["fine", 3]}), ValueError, r"row 1: text is int 3, not a string"),
        (pd.DataFrame({"text": ["fine", " "]}), ValueError, r"row 1: text is empty"),
        # Caught by MLflow's signature check before the wrapper runs.
        (pd.DataFrame({"document": ["fine"]}), MlflowException, r"missing inputs \['text'\]"),
    ],
    ids=["null", "not-a-string", "blank", "missing-column"],
)
def test_served_text_model_rejects_bad_requests_clearly(
    registered, request_frame, error, message
) -> None:
    model = mlflow.pyfunc.load_model(registered.uri)
    with pytest.raises(error, match=message):
        model.predict(request_frame)


def test_text_requirements_name_tokenizers_and_the_baselines_scikit_learn(registered) -> None:
    path = mlflow.artifacts.download_artifacts(f"{registered.uri}/requirements.txt")
    requirements = Path(path).read_text().split()
    names = {r.split("==")[0] for r in requirements}
    assert {"torch", "tokenizers", "scikit-learn", "pandas"} <= names
    assert all("==" in r for r in requirements if not r.startswith("-"))


def test_describe_registry_shows_kind_and_label_names(store, registered) -> None:
    rows = describe_registry(store, DATASET)
    by_family = {row["family"]: row for row in rows}
    assert by_family["token"]["aliases"] == ["champion"]
    assert by_family["token"]["kind"] == "text"
    assert by_family["token"]["label_names"] == list(LABELS)
    assert by_family["fragment"]["metrics"] == {"test_accuracy": 0.4, "test_macro_f1": 0.2}
    assert by_family["token"]["lags"] is None
    assert json.loads(json.dumps(rows)) == rows


def test_bad_text_candidates_fail_before_any_write(
    project, models, trained, make_candidate
) -> None:
    store = open_store(RegistryConfig(), project, "badtext")
    good = _candidate(store, "token", models.tfidf_dir, 0.8, models)
    other = _candidate(store, "fragment", models.majority_dir, 0.5, models)
    cases = {
        # The ranking metric for text is accuracy; an MSE does not rank classifiers.
        r"'fragment': metrics lack 'test_accuracy'": [
            good,
            replace(other, metrics={"test_mse": 0.1}),
        ],
        r"label_names \['neg', 'pos', 'question'\] but its contract says \['neg', 'question'": [
            good,
            replace(other, label_names=("neg", "question", "pos")),
        ],
        r"'fragment' and 'token' differ in data_sha256": [
            good,
            replace(other, data_sha256="cd" * 32),
        ],
        r"'fragment': bad example: .*one string": [good, replace(other, example_texts="hi")],
        r"candidates mix kinds": [good, make_candidate(store, "fragment", trained.ridge_dir, 0.1)],
    }
    for message, candidates in cases.items():
        with pytest.raises(CandidateError, match=message):
            register_candidates(store, "badtext", candidates)

    client = _client(store)
    assert client.search_model_versions("name = 'tokfrag-badtext'") == []
    assert client.search_logged_models(experiment_ids=[store.experiment_id]) == []
