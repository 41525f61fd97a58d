"""Pins every private Keras (and keras-tuner) name rnnzoo uses, all of them in rnnzoo/_compat.py.

Each test fails with a message naming ``rnnzoo/_compat.py`` when a new release
changes what the wrapper relies on, so an upgrade breaks here first and loudly.
"""

from __future__ import annotations

import inspect

import pytest

from rnnzoo import _compat

HINT = "Keras/keras-tuner changed a private API that rnnzoo/_compat.py relies on: "


# --------------------------------------------------------------------------- distribute


def _tiny_compiled_model():
    import keras

    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    return model


def test_symbolic_build_still_builds_metric_and_optimizer_state_from_a_batch():
    import keras
    import numpy as np

    method = getattr(keras.Model, "_symbolic_build", None)
    assert method is not None, HINT + "keras.Model._symbolic_build is gone"
    params = inspect.signature(method).parameters
    assert "data_batch" in params, HINT + f"_symbolic_build{inspect.signature(method)}"
    model = _tiny_compiled_model()
    batch = (np.zeros((4, 3), "float32"), np.zeros((4, 1), "float32"))
    _compat.build_training_state(model, batch)
    assert model.built and model.optimizer.built, HINT + "_symbolic_build built no optimizer"
    assert model.optimizer.variables, HINT + "_symbolic_build created no optimizer state"
    metric_variables = [v for m in model.metrics for v in m.variables]
    assert metric_variables, HINT + "_symbolic_build created no metric state"


def test_fit_still_resumes_from_the_epoch_a_callback_restored():
    import keras
    import numpy as np

    model = _tiny_compiled_model()
    assert _compat.resume_epoch(model) is None, HINT + "a fresh model has a resume epoch"

    class Restore(keras.callbacks.Callback):  # what BackupAndRestore.on_train_begin does
        def on_train_begin(self, logs=None):
            _compat.set_resume_epoch(self.model, 2)

    x, y = np.zeros((4, 3), "float32"), np.zeros((4, 1), "float32")
    history = model.fit(x, y, epochs=4, verbose=0, callbacks=[Restore()])
    assert history.epoch == [2, 3], HINT + f"fit ignored Model._initial_epoch: {history.epoch}"
    assert _compat.resume_epoch(model) == 2
    # and Keras' own BackupAndRestore still reports its epoch the same way
    import json
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        model.save_weights(f"{folder}/latest.weights.h5")
        with open(f"{folder}/training_metadata.json", "w") as f:
            json.dump({"epoch": 3, "batch": 0}, f)
        fresh = _tiny_compiled_model()
        fresh.build((None, 3))
        callback = keras.callbacks.BackupAndRestore(folder, delete_checkpoint=False)
        callback.set_model(fresh)
        callback.on_train_begin()
        assert _compat.resume_epoch(fresh) == 3, HINT + "BackupAndRestore sets another attribute"


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
