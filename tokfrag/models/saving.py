"""Saving and loading tokfrag's models: the one place that writes and reads them.

A saved model is a folder: tokfrag's ``config.json`` (``kind`` plus what rebuilds the
model) and its weights, either ``model.safetensors`` (:func:`save_module`) or a Hugging Face
``save_pretrained`` folder under ``hf/`` (:func:`save_hf`, safetensors too). Nothing is
pickled, and loading never unpickles.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
HF_DIR = "hf"  # the network's save_pretrained folder inside a saved model's folder


def write_config(path: Path, config: dict[str, Any]) -> None:
    path.mkdir(parents=True, exist_ok=True)
    (path / CONFIG_FILE).write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")


def read_config(path: str | Path) -> dict[str, Any]:
    config_path = Path(path) / CONFIG_FILE
    if not config_path.is_file():
        raise FileNotFoundError(f"{config_path}: no saved forecaster here (config.json missing)")
    return json.loads(config_path.read_text())


def save_module(path: str | Path, config: dict[str, Any], module: Any) -> Path:
    """Write ``config.json`` and the module's weights as ``model.safetensors``."""
    from safetensors.torch import save_file

    path = Path(path)
    write_config(path, config)
    state = {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}
    save_file(state, str(path / WEIGHTS_FILE))
    return path


def load_weights(path: str | Path) -> dict[str, Any]:
    """The tensors in ``model.safetensors`` (no unpickling)."""
    from safetensors.torch import load_file

    return load_file(str(Path(path) / WEIGHTS_FILE))


@contextmanager
def quiet_hf() -> Iterator[None]:
    """Mute transformers' progress bars and load report around ``save_pretrained`` /
    ``from_pretrained`` (a new classification head is expected to be missing from a
    pretrained checkpoint)."""
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def save_hf(path: str | Path, config: dict[str, Any], net: Any) -> Path:
    """Write tokfrag's ``config.json`` (``config``, with ``kind``) and the network's
    ``save_pretrained`` folder (``config.json`` + ``model.safetensors``) under ``hf/``."""
    path = Path(path)
    write_config(path, {**config, "hf": HF_DIR})
    with quiet_hf():
        net.save_pretrained(path / HF_DIR)  # safetensors: the only format transformers 5 writes
    return path


def load_hf(path: str | Path, net_class: Any) -> Any:
    """``net_class.from_pretrained`` on the forecaster folder's ``hf/`` (local, safetensors),
    on the CPU in eval mode."""
    folder = Path(path) / read_config(path).get("hf", HF_DIR)
    if not (folder / "config.json").is_file():
        raise FileNotFoundError(
            f"{folder}: no Hugging Face model folder here; save the forecaster again with "
            "this version of tokfrag"
        )
    with quiet_hf():
        # safetensors only: never a pickled .bin, even if one is put beside it.
        net = net_class.from_pretrained(folder, local_files_only=True, use_safetensors=True)
    return net.eval()
