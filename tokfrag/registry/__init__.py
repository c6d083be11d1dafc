"""MLflow room: tracking runs, the pyfunc wrapper, registration and aliases.

MLflow is imported only inside this package; the rest of tokfrag talks to it through these
functions (training gets a :class:`RunLogger` as its callback, nothing more). Series
forecasters (:class:`Candidate`, :class:`ForecastContract`) and text classifiers
(:class:`TextCandidate`, :class:`ClassifyContract`) register through the same
:func:`register_candidates`.

Modules: ``contracts`` (the served table contracts), ``series_frames`` / ``text_frames``
(tables <-> arrays per kind), ``pyfunc`` (the MLflow wrapper), ``tracking`` (stores and
runs), ``candidates`` (what registers, checked before any write), ``versions`` (version
tags and digests), ``aliases`` (who is champion and challenger), ``champion`` (reading and
loading it) and ``register`` (the round that ties them together).

The names below load on first use, each from its module: a stage that only tracks runs
(``validate``, ``tune``, ``train``, ``evaluate``) imports :mod:`.tracking` and not the pyfunc
wrapper, the registration round or the champion's loader. tokfrag's own code imports from the
modules themselves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tokfrag.lazy import lazy_attributes

if TYPE_CHECKING:
    from tokfrag.registry.aliases import CHALLENGER, CHAMPION
    from tokfrag.registry.candidates import AnyCandidate, Candidate, CandidateError, TextCandidate
    from tokfrag.registry.champion import (
        ArtifactsChanged,
        champion_contract,
        current_champion,
        load_champion,
    )
    from tokfrag.registry.contracts import (
        ClassifyContract,
        Contract,
        ForecastContract,
        read_contract,
    )
    from tokfrag.registry.pyfunc import (
        ForecasterModel,
        TokfragModel,
        log_forecaster_model,
        log_model,
        serving_requirements,
    )
    from tokfrag.registry.register import RegistrationError, RegistrationResult, register_candidates
    from tokfrag.registry.series_frames import (
        forecasts_to_frame,
        frame_to_windows,
        windows_to_frame,
    )
    from tokfrag.registry.text_frames import frame_to_texts, probabilities_to_frame, texts_to_frame
    from tokfrag.registry.tracking import (
        RunLogger,
        Store,
        TrialRunLogger,
        log_baseline_run,
        log_metrics_to_run,
        open_store,
        training_run,
        trial_runs,
    )
    from tokfrag.registry.versions import describe_registry

_LAZY = {
    "CHALLENGER": "aliases",
    "CHAMPION": "aliases",
    "AnyCandidate": "candidates",
    "Candidate": "candidates",
    "CandidateError": "candidates",
    "TextCandidate": "candidates",
    "ArtifactsChanged": "champion",
    "champion_contract": "champion",
    "current_champion": "champion",
    "load_champion": "champion",
    "ClassifyContract": "contracts",
    "Contract": "contracts",
    "ForecastContract": "contracts",
    "read_contract": "contracts",
    "ForecasterModel": "pyfunc",
    "TokfragModel": "pyfunc",
    "log_forecaster_model": "pyfunc",
    "log_model": "pyfunc",
    "serving_requirements": "pyfunc",
    "RegistrationError": "register",
    "RegistrationResult": "register",
    "register_candidates": "register",
    "forecasts_to_frame": "series_frames",
    "frame_to_windows": "series_frames",
    "windows_to_frame": "series_frames",
    "frame_to_texts": "text_frames",
    "probabilities_to_frame": "text_frames",
    "texts_to_frame": "text_frames",
    "RunLogger": "tracking",
    "Store": "tracking",
    "TrialRunLogger": "tracking",
    "log_baseline_run": "tracking",
    "log_metrics_to_run": "tracking",
    "open_store": "tracking",
    "training_run": "tracking",
    "trial_runs": "tracking",
    "describe_registry": "versions",
}


__getattr__ = lazy_attributes(__name__, _LAZY)


__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "AnyCandidate",
    "ArtifactsChanged",
    "Candidate",
    "CandidateError",
    "ClassifyContract",
    "Contract",
    "ForecastContract",
    "ForecasterModel",
    "RegistrationError",
    "RegistrationResult",
    "RunLogger",
    "Store",
    "TextCandidate",
    "TokfragModel",
    "TrialRunLogger",
    "champion_contract",
    "current_champion",
    "describe_registry",
    "forecasts_to_frame",
    "frame_to_texts",
    "frame_to_windows",
    "load_champion",
    "log_baseline_run",
    "log_forecaster_model",
    "log_metrics_to_run",
    "log_model",
    "open_store",
    "probabilities_to_frame",
    "read_contract",
    "register_candidates",
    "serving_requirements",
    "texts_to_frame",
    "training_run",
    "trial_runs",
    "windows_to_frame",
]
