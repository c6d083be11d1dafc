"""tokfrag: tokens + Transformer versus spatio-temporal fragments + GNN, on the same data.

Importing the package turns telemetry off for every tool it drives, so that no entry
point (CLI, DVC stage, Prefect task, test) ever tries to phone home.
"""

from __future__ import annotations

import os

__version__ = "0.1.0"

_TELEMETRY_OFF = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DVC_NO_ANALYTICS": "1",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "DO_NOT_TRACK": "1",
    # MLflow draws a progress bar per artifact download; in pipeline logs it is noise.
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
}
for _key, _value in _TELEMETRY_OFF.items():
    os.environ.setdefault(_key, _value)
