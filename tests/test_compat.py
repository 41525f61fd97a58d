"""Pins every private Keras (and keras-tuner) name rnnzoo uses, all of them in rnnzoo/_compat.py.

Each test fails with a message naming ``rnnzoo/_compat.py`` when a new release
changes what the wrapper relies on, so an upgrade breaks here first and loudly.
"""

from __future__ import annotations

import inspect

import pytest

from rnnzoo import _compat

HINT = "Keras/keras-tuner changed a private API that rnnzoo/_compat.py relies on: "


# --------------------------------------------------------------------------- callbacks


@pytest.mark.parametrize("name", ["RNN", "SimpleRNN", "LSTM", "GRU"])
def test_rnn_layers_still_run_their_time_loop_through_inner_loop(name):
    import keras

    method = getattr(getattr(keras.layers, name), "inner_loop", None)
    assert method is not None, HINT + f"keras.layers.{name}.inner_loop is gone"
    parameters = inspect.signature(method).parameters
    assert list(parameters) == ["self", "sequences", "initial_state", "mask", "training"], \
        HINT + f"keras.layers.{name}.inner_loop{inspect.signature(method)}"
    assert parameters["training"].default is False, HINT + str(parameters["training"])


def test_replaced_rnn_loops_routes_every_call_of_the_layer_through_the_given_loop():
    import keras
    import numpy as np

    x = np.random.default_rng(0).normal(size=(2, 5, 3)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    inner = keras.layers.LSTM(4, return_sequences=True, name="lstm")
    wrapped = keras.layers.Bidirectional(keras.layers.GRU(4), name="bi")
    model = keras.Sequential([keras.Input((5, 3)), inner, wrapped])
    expected = np.asarray(model(x))
    calls = []

    def recording(layer):
        def loop(sequences, initial_state, mask, training=False):
            calls.append((layer.name, tuple(sequences.shape), len(initial_state),
                          None if mask is None else tuple(mask.shape), training))
            return type(layer).inner_loop(layer, sequences, initial_state, mask, training)
        return loop

    layers = [inner, wrapped.forward_layer, wrapped.backward_layer]
    with _compat.replaced_rnn_loops([(layer, recording(layer)) for layer in layers]):
        assert all("inner_loop" in vars(layer) for layer in layers)
        traced = np.asarray(model(x, training=False))
        inner(x, mask=mask)
    np.testing.assert_allclose(traced, expected, rtol=0, atol=1e-6)
    forward, backward = wrapped.forward_layer.name, wrapped.backward_layer.name
    assert calls == [
        ("lstm", (2, 5, 3), 2, None, False),
        (forward, (2, 5, 4), 1, None, False),
        (backward, (2, 5, 4), 1, None, False),
        ("lstm", (2, 5, 3), 2, (2, 5), False),
    ], HINT + f"keras.layers.RNN.call no longer hands its loop to self.inner_loop: {calls}"
    # gone afterwards, even after an exception inside the block
    assert all("inner_loop" not in vars(layer) for layer in layers)
    with pytest.raises(RuntimeError, match="boom"):
        with _compat.replaced_rnn_loops([(inner, recording(inner))]):
            raise RuntimeError("boom")
    assert "inner_loop" not in vars(inner)
    calls.clear()
    np.testing.assert_allclose(np.asarray(model(x)), expected, rtol=0, atol=0)
    assert calls == []


def test_running_fit_arguments_finds_the_data_of_the_running_fit():
    import keras
    import numpy as np
    import tensorflow as tf

    x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
    y = np.arange(8, dtype="float32")
    sw = np.linspace(0.5, 1.0, 8).astype("float32")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    seen = []

    class Look(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            seen.append(_compat.running_fit_arguments(self.model))

        def on_epoch_end(self, epoch, logs=None):
            seen.append(_compat.running_fit_arguments(self.model))

    model.fit(x, y, sample_weight=sw, epochs=1, batch_size=4, verbose=0, callbacks=[Look()])
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(4)
    model.fit(dataset, epochs=1, verbose=0, callbacks=[Look()])
    assert len(seen) == 4, seen
    for arguments in seen[:2]:
        assert arguments is not None, HINT + "no frame of Model.fit with the model as self"
        assert arguments["x"] is x and arguments["y"] is y and arguments["sample_weight"] is sw, \
            HINT + f"Model.fit's locals x, y, sample_weight changed: {arguments}"
    for arguments in seen[2:]:
        assert arguments["x"] is dataset and arguments["y"] is None, HINT + str(arguments)
    # outside fit, or for another model: nothing
    assert _compat.running_fit_arguments(model) is None


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
