"""Pins every private Keras (and keras-tuner) name rnnzoo uses, all of them in rnnzoo/_compat.py.

Each test fails with a message naming ``rnnzoo/_compat.py`` when a new release
changes what the wrapper relies on, so an upgrade breaks here first and loudly.
"""

from __future__ import annotations

import inspect

import pytest

from rnnzoo import _compat

HINT = "Keras/keras-tuner changed a private API that rnnzoo/_compat.py relies on: "


# --------------------------------------------------------------------------- tuning


def test_keras_tuner_still_configures_tensorboard_per_trial():
    import keras_tuner  # a core dependency: a broken install must fail here
    method = getattr(keras_tuner.Tuner, "_configure_tensorboard_dir", None)
    assert method is not None, HINT + "Tuner._configure_tensorboard_dir is gone"
    params = list(inspect.signature(method).parameters)
    assert params[:4] == ["self", "callbacks", "trial", "execution"], HINT + str(params)


def test_tensorboard_only_when_used_skips_the_import_without_a_tensorboard_callback():
    calls = []

    class Base:
        def _configure_tensorboard_dir(self, callbacks, trial, execution=0):
            calls.append((len(callbacks), trial, execution))

    class TensorBoard:  # only the class name matters
        pass

    tuner = _compat.tensorboard_only_when_used(Base)()
    tuner._configure_tensorboard_dir([object()], "t1")
    assert calls == []
    tuner._configure_tensorboard_dir([TensorBoard()], "t2", 1)
    assert calls == [(1, "t2", 1)]
    assert type(tuner).__name__ == "Base"
