"""MLflow "models from code" entry file for every tokfrag model (series or text).

MLflow copies this file into each logged model and executes it at load time; it only names
the wrapper class. Because the model is defined by code plus artifacts (the model's
``config.json`` / ``model.safetensors`` and ``contract.json``), loading never unpickles.
At load time ``tokfrag`` is importable from the model's own ``code/`` folder.
"""

import mlflow

from tokfrag.registry.pyfunc import TokfragModel

mlflow.models.set_model(TokfragModel())
