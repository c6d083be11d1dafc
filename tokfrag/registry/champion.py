"""Reading the champion back: which version holds the alias, and loading it safely.

:func:`current_champion` tells an empty registry (None) from an outage (raised), so a caller
deciding on promotion cannot mistake one for the other. :func:`load_champion` loads only
files whose sha256 matches the digest recorded at registration (:class:`ArtifactsChanged`
otherwise), since loading runs the model's code from the artifact store.
"""

from __future__ import annotations

import atexit
import shutil
import sys
import tempfile
from pathlib import Path

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.pyfunc import PyFuncModel

from tokfrag.registry.aliases import CHAMPION
from tokfrag.registry.contracts import Contract
from tokfrag.registry.pyfunc import TokfragModel
from tokfrag.registry.tracking import Store
from tokfrag.registry.versions import ARTIFACTS_TAG, artifacts_digest, download_version
from tokfrag.stores import redact_url


class ArtifactsChanged(RuntimeError):
    """A registered version's files no longer match the digest recorded when it was
    registered; it is not loaded."""


def current_version(store: Store) -> tuple[str, int] | None:
    """``(family, version)`` of the current champion, or None when there is none."""
    found = current_champion(store)
    return None if found is None else (found[0], found[1])


def current_champion(store: Store) -> tuple[str, int, dict[str, str]] | None:
    """``(family, version, tags)`` of the current champion, or None when there is none
    (load its model with :func:`load_champion`).

    None means the registry answered and has no champion: the model is not registered or
    has no ``champion`` alias. Any other failure (a locked database, a tracking server's 5xx,
    a broken version) is raised, so a caller deciding on promotion cannot mistake an outage
    for an empty registry.
    """
    client = store.client()
    try:
        model = client.get_registered_model(store.model_name)
    except MlflowException as err:
        if err.error_code == "RESOURCE_DOES_NOT_EXIST":
            return None
        raise
    version = model.aliases.get(CHAMPION)
    if version is None:
        return None
    mv = client.get_model_version(store.model_name, str(version))
    return mv.tags.get("family", "?"), int(mv.version), dict(mv.tags)


def champion_contract(model: PyFuncModel) -> Contract:
    """The contract a loaded champion serves (what it expects and returns)."""
    wrapper = model.unwrap_python_model()
    if not isinstance(wrapper, TokfragModel):
        raise ValueError(f"the model is not a tokfrag model ({type(wrapper).__name__})")
    return wrapper.contract


def load_champion(store: Store, dataset: str) -> PyFuncModel:
    """Load the ``champion`` version of the dataset's model as a pyfunc."""
    store.check_dataset(dataset)
    client = store.client()
    try:
        mv = client.get_model_version_by_alias(store.model_name, CHAMPION)
    except MlflowException as err:
        raise LookupError(
            f"no {CHAMPION!r} version of {store.model_name!r} in "
            f"{redact_url(store.tracking_uri)}; run the register stage first"
        ) from err
    # Loading runs the model's code: load only files whose digest matches the one recorded
    # at registration, from a local copy made first (so what is checked is what is loaded).
    local = Path(tempfile.mkdtemp(prefix="tokfrag-champion-"))
    atexit.register(shutil.rmtree, local, ignore_errors=True)
    folder = download_version(store, int(mv.version), local)
    expected = mv.tags.get(ARTIFACTS_TAG)
    found = artifacts_digest(folder)
    if expected != found:
        raise ArtifactsChanged(
            f"version {mv.version} of {store.model_name}: its files' sha256 is {found[:16]}..., "
            + (
                f"but {expected[:16]}... was recorded at registration: the artifacts changed "
                "since (tampering or corruption); restore them, or register a new champion"
                if expected
                else f"and it has no {ARTIFACTS_TAG} tag (registered by an older tokfrag or "
                "by hand); re-register it with tokfrag"
            )
        )
    # Loading puts the model's copy of tokfrag (its code_paths) first on sys.path. In this
    # process tokfrag is already imported and stays the one in use; but processes spawned
    # later inherit sys.path and would import the registered copy instead of the
    # installed code, so the path is put back as it was.
    path = list(sys.path)
    try:
        return mlflow.pyfunc.load_model(str(folder))
    finally:
        sys.path[:] = path
