"""Params for tests: the real params.yaml, shrunk."""

from __future__ import annotations

# A few epochs instead of hundreds: the same pipeline, shrunk (as lightning-hydra-template does).
SHRUNK = {
    "train": {"epochs": 3, "patience": 2, "repeats": 2},
    "token": {
        "model": {"hidden_size": 32, "num_layers": 1, "num_heads": 2, "intermediate_size": 64}
    },
    "fragment": {"model": {"hidden_channels": 8}},
    # Two trials per family: the tuning path runs everywhere, the suite stays quick.
    "tune": {"n_trials": 2, "timeout_seconds": 120, "heartbeat_seconds": 1, "grace_seconds": 3},
}

# Text datasets on top of SHRUNK: one short epoch, small vocabularies and models.
TEXT_SHRUNK = {
    "split": {"val_fraction": 0.1},
    "train": {"text": {"epochs": 1, "patience": 1, "batch_size": 64}},
    # From scratch, so the suite does not fine-tune MiniLM in every text test (the tests of
    # the pretrained paths ask for it themselves).
    "token": {"text": {"vocab_size": 2000, "max_length": 32, "pretrained": False}},
    "fragment": {
        "text": {
            "embedding_dim": 16,
            "hidden_channels": 16,
            "num_layers": 1,
            "pretrained": False,
        }
    },
}


def merge(base: dict, override: dict) -> dict:
    """``base`` with ``override``'s keys replaced, recursively into nested sections."""
    out = dict(base)
    for key, value in override.items():
        out[key] = merge(base.get(key, {}), value) if isinstance(value, dict) else value
    return out
