"""GradientMonitor: gradient norms, BPTT curves, vanishing/exploding detection, plots."""

import json
import os
import pathlib
import subprocess
import sys
import textwrap
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

import rnnzoo
from rnnzoo.callbacks import GradientMonitor, autodiff
from rnnzoo.callbacks.tracing import Tracer, recurrent_layers
from rnnzoo.layers.recurrent import recurrent_cells

from tests.conftest import TASKS, tiny_data, tiny_overrides

ROOT = pathlib.Path(__file__).resolve().parents[2]
RECURRENT_CELLS = recurrent_cells()
# These tests use keras.ops and numpy only: they run under every backend (tests/test_backends.py
# runs them under JAX); the few that need TensorFlow itself say so.
tf_only = pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                             reason="needs the TensorFlow backend")


def _rnn_model(T=7, F=3, U=4, layer=None, classes=2, lr=1e-2, optimizer=None, logits=False):
    inputs = keras.Input((T, F))
    layer = layer or keras.layers.SimpleRNN(U, name="rnn")
    h = layer(inputs)
    outputs = keras.layers.Dense(classes, activation=None if logits else "softmax",
                                 name="head")(h)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer or keras.optimizers.SGD(lr),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=logits))
    return model


def _data(n=5, T=7, F=3, classes=2, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, T, F)).astype("float32"),
            rng.integers(0, classes, size=n).astype("int32"))


def _numbers(model, x):
    out = model(x, training=False)
    return [np.asarray(o) for o in (out if isinstance(out, (list, tuple)) else [out])] \
        if not isinstance(out, dict) else [np.asarray(out[k]) for k in sorted(out)]


# ------------------------------------------------------------------ exactness


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _hand_bptt(model, x, y, *, backwards=False, kernel_l2=0.0, activity_l1=0.0,
               crossentropy=True):
    """An independent float64 backpropagation through time of ``_rnn_model``, by hand.

    SimpleRNN ``h_t = tanh(x_t K + h_{t-1} R + b)``, softmax head ``p = softmax(h_T W + c)``,
    loss ``mean(-log p_y)`` (+ ``kernel_l2 * sum(K^2)`` + ``activity_l1 * sum|p| / n``).

    Returns:
        ``(loss, [||dL/dh_t||] in processing order, {layer: ||dL/dweights||}, total norm)``.
    """
    kernel, recurrent, bias = (np.asarray(w, "float64") for w in model.get_layer("rnn").weights)
    w_head, b_head = (np.asarray(w, "float64") for w in model.get_layer("head").weights)
    x = np.asarray(x, "float64")
    n, steps = x.shape[:2]
    order = list(reversed(range(steps))) if backwards else list(range(steps))
    hs = [np.zeros((n, kernel.shape[1]))]
    for t in order:
        hs.append(np.tanh(x[:, t] @ kernel + hs[-1] @ recurrent + bias))
    p = _softmax(hs[-1] @ w_head + b_head)
    onehot = np.eye(p.shape[1])[y]
    loss = kernel_l2 * np.sum(kernel ** 2) + activity_l1 * np.sum(np.abs(p)) / n
    d_p = np.full_like(p, activity_l1 / n)
    if crossentropy:
        loss += np.mean(-np.log(np.sum(p * onehot, axis=1)))
        d_p -= onehot / (p * n)
    d_logits = p * (d_p - np.sum(d_p * p, axis=1, keepdims=True))
    grads = {"head": [hs[-1].T @ d_logits, d_logits.sum(0)]}
    d_kernel, d_recurrent, d_bias = 2 * kernel_l2 * kernel, np.zeros_like(recurrent), 0.0
    dh = d_logits @ w_head.T
    norms = []
    for k in range(steps, 0, -1):  # hs[k] is the state after the k-th processed step
        norms.append(np.linalg.norm(dh))
        d_pre = dh * (1 - hs[k] ** 2)
        t = order[k - 1]
        d_kernel = d_kernel + x[:, t].T @ d_pre
        d_recurrent = d_recurrent + hs[k - 1].T @ d_pre
        d_bias = d_bias + d_pre.sum(0)
        dh = d_pre @ recurrent.T
    grads["rnn"] = [d_kernel, d_recurrent, d_bias]
    layer_norms = {k: np.sqrt(sum(np.sum(g ** 2) for g in gs)) for k, gs in grads.items()}
    total = np.sqrt(sum(v ** 2 for v in layer_norms.values()))
    return loss, np.array(norms[::-1]), layer_norms, total


def test_per_step_norms_equal_an_independent_hand_unrolled_bptt():
    model = _rnn_model()
    x, y = _data()
    result = GradientMonitor().measure(model, x, y)
    loss, expected, layer_norms, total = _hand_bptt(model, x, y)
    np.testing.assert_allclose(result["curves"]["rnn"], expected, rtol=1e-4, atol=1e-7)
    assert result["loss"] == pytest.approx(loss, rel=1e-5)
    # the compiled pass (what the callback runs) computes the same
    compiled = GradientMonitor().measure(model, x, y, compiled=True)
    np.testing.assert_allclose(compiled["curves"]["rnn"], expected, rtol=1e-4, atol=1e-7)
    # the total derivative at the first step is much smaller than at the last: BPTT decays
    assert result["curves"]["rnn"][0] < result["curves"]["rnn"][-1]
    for name in ("rnn", "head"):
        np.testing.assert_allclose(result["norms"][f"grad_norm/{name}"], layer_norms[name],
                                   rtol=1e-5)
        np.testing.assert_allclose(compiled["norms"][f"grad_norm/{name}"], layer_norms[name],
                                   rtol=1e-5)
    np.testing.assert_allclose(result["norms"]["grad_norm"], total, rtol=1e-5)


@pytest.mark.parametrize("compiled", [False, True])
def test_tiny_per_step_norms_do_not_underflow(compiled):
    # Issue 16, item 10: a contracting SimpleRNN over 60 steps. dL/dh_1 is about 1e-31 per
    # entry, representable in float32, but its square (1e-62) is not: a norm taken by
    # squaring in float32 reads 0. It must match an independent float64 BPTT instead.
    T = 60
    layer = keras.layers.SimpleRNN(
        4, name="rnn", kernel_initializer=keras.initializers.Constant(0.01),
        recurrent_initializer=keras.initializers.Identity(gain=0.3))
    model = _rnn_model(T=T, F=3, layer=layer)
    x, y = _data(n=8, T=T, F=3)
    curve = GradientMonitor().measure(model, x, y, compiled=compiled)["curves"]["rnn"]
    _, expected, _, _ = _hand_bptt(model, x, y)
    assert expected[0] < 1e-28, expected[0]  # the regime the issue is about
    assert curve[0] > 0, "the first step's gradient norm underflowed to 0"
    np.testing.assert_allclose(curve, expected, rtol=1e-3, atol=0)
    retention = GradientMonitor().measure(model, x, y)["curves"]["rnn"]
    assert retention[0] / retention[-1] == pytest.approx(expected[0] / expected[-1], rel=1e-3)


def test_backward_direction_counts_steps_in_processing_order():
    # go_backwards: the layer's first step reads the last input; its h_1 is the
    # earliest state, far from the loss, so its gradient is the smallest.
    model = _rnn_model(layer=keras.layers.SimpleRNN(4, go_backwards=True, name="rnn"))
    x, y = _data()
    _, expected, _, _ = _hand_bptt(model, x, y, backwards=True)
    curve = GradientMonitor().measure(model, x, y)["curves"]["rnn"]
    np.testing.assert_allclose(curve, expected, rtol=1e-4, atol=1e-7)
    assert curve[0] < curve[-1]


@pytest.mark.parametrize("cell", RECURRENT_CELLS)
def test_traced_forward_pass_equals_the_model_for_every_cell(cell):
    # Masked token input, a bidirectional stack: the step-by-step loop the monitor
    # runs must compute exactly what the layers compute.
    model = rnnzoo.build("classification", **tiny_overrides(
        "classification", cell=cell, depth=2, bidirectional=True))
    x, _ = next(iter(tiny_data("classification")))
    reference = _numbers(model, x)
    layers = recurrent_layers(model)
    assert [name for name, _ in layers] == [
        "rnn_1/forward", "rnn_1/backward", "rnn_2/forward", "rnn_2/backward"]
    with Tracer(autodiff.zero_probes(), layers) as tracer:
        traced = _numbers(model, x)
    for a, b in zip(reference, traced):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-5)
    steps = x.shape[1]
    assert all(tracer.probes[name].shape[1] == steps for name, _ in layers)
    # the patch is gone afterwards
    assert all("inner_loop" not in layer.__dict__ for _, layer in layers)


def _regularised_model(loss):
    inputs = keras.Input((7, 3))
    h = keras.layers.SimpleRNN(4, kernel_regularizer=keras.regularizers.L2(0.1), name="rnn")(
        inputs)
    outputs = keras.layers.Dense(2, activation="softmax", name="head",
                                 activity_regularizer=keras.regularizers.L1(0.05))(h)
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.SGD(1e-2), loss)
    return model


@pytest.mark.parametrize("compiled_loss", [True, False])
def test_loss_is_the_training_loss_with_regularisation_losses(compiled_loss):
    # model.losses (a kernel regulariser, an activity regulariser) count as in training:
    # the monitor's loss, weight gradients and dL/dh_t are those of compute_loss's total,
    # also for a model whose only loss is model.losses.
    model = _regularised_model("sparse_categorical_crossentropy" if compiled_loss else None)
    x, y = _data()
    model(x)  # an eager call leaves its activity loss on the layer
    assert len(model.losses) == 2
    result = GradientMonitor().measure(model, x, y)

    loss, expected, layer_norms, _ = _hand_bptt(model, x, y, kernel_l2=0.1, activity_l1=0.05,
                                                crossentropy=compiled_loss)
    assert result["loss"] == pytest.approx(loss, rel=1e-5)
    np.testing.assert_allclose(result["curves"]["rnn"], expected, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(result["norms"]["grad_norm/rnn"], layer_norms["rnn"], rtol=1e-5)


class _Block(keras.layers.Layer):
    """A user's layer holding recurrent layers publicly, privately, in a list and a dict."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.rnn = keras.layers.GRU(3, return_sequences=True, name="public_gru")
        self._hidden = keras.layers.SimpleRNN(3, return_sequences=True, name="private_rnn")
        self.stack = [keras.layers.LSTM(3, return_sequences=True, name="listed_lstm")]
        self.by_name = {"last": keras.layers.GRU(3, name="dict_gru")}

    def call(self, x):
        return self.by_name["last"](self.stack[0](self._hidden(self.rnn(x))))


class _Subclassed(keras.Model):
    def __init__(self):
        super().__init__(name="sub")
        self.encoder = keras.Sequential(
            [keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=True), name="bi")],
            name="encoder")
        self.block = _Block(name="block")
        self.head = keras.layers.Dense(2, name="head")

    def call(self, x):
        return self.head(self.block(self.encoder(x)))


def test_subclassed_models_nested_models_and_user_layers_are_traced():
    model = _Subclassed()
    x, y = _data()
    model(x)
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    layers = recurrent_layers(model)
    assert sorted(name for name, _ in layers) == sorted([
        "encoder/bi/forward", "encoder/bi/backward", "block/public_gru", "block/private_rnn",
        "block/listed_lstm", "block/dict_gru"])
    reference = np.asarray(model(x, training=False))
    with Tracer(autodiff.zero_probes(), layers) as tracer:
        traced = np.asarray(model(x, training=False))
    np.testing.assert_allclose(traced, reference, rtol=0, atol=1e-5)
    assert all(tracer.probes[name].shape[1] == 7 for name, _ in layers)
    result = GradientMonitor().measure(model, x, y, compiled=True)
    assert sorted(result["curves"]) == sorted(name for name, _ in layers)
    for curve in result["curves"].values():
        assert curve.shape == (7,) and np.all(np.isfinite(curve)) and curve.max() > 0


# -------------------------------------------------------------------- physics


def test_simple_rnn_retention_is_orders_of_magnitude_below_lstm():
    T = 60
    x, y = _data(n=16, T=T, F=4)
    small = keras.initializers.RandomNormal(stddev=0.05, seed=1)
    simple = _rnn_model(T=T, F=4, layer=keras.layers.SimpleRNN(
        16, recurrent_initializer=small, name="rnn"))
    lstm = _rnn_model(T=T, F=4, layer=keras.layers.LSTM(16, name="rnn"))
    ratios = {}
    for name, model in (("simple", simple), ("lstm", lstm)):
        monitor = GradientMonitor(probe=(x, y), vanish_threshold=None)
        model.fit(x, y, epochs=1, batch_size=16, verbose=0, callbacks=[monitor])
        curve = monitor.history["rnn"][-1]
        assert curve.shape == (T,)
        ratios[name] = monitor.summary()["rnn"]["retention"]
        assert ratios[name] == pytest.approx(curve[0] / curve[-1])
    assert ratios["simple"] < 1e-3 * ratios["lstm"], ratios


def test_vanishing_is_reported_with_layer_epoch_and_remedies():
    T = 60
    x, y = _data(n=16, T=T, F=4)
    model = _rnn_model(T=T, F=4, layer=keras.layers.SimpleRNN(
        16, recurrent_initializer=keras.initializers.RandomNormal(stddev=0.05, seed=1),
        name="rnn"))
    monitor = GradientMonitor(vanish_threshold=1e-3)
    with pytest.warns(RuntimeWarning, match=r"vanishing gradient in recurrent layer 'rnn' at "
                                            r"epoch 1.*gated cell"):
        history = model.fit(x, y, epochs=1, batch_size=16, verbose=0, callbacks=[monitor])
    assert history.history["bptt_retention/rnn"][0] < 1e-3
    assert monitor.alerts[0]["kind"] == "vanishing" and monitor.alerts[0]["layer"] == "rnn"


# ------------------------------------------------------------------ exploding


def _exploding_model():
    # A linear recurrence with weights of gain 3: h_T ~ 3^T h_0, and SGD at lr 1. The head
    # gives logits: a saturated softmax output would have a zero gradient on backends that
    # clip probabilities (JAX), where TensorFlow's Keras recovers the logits.
    layer = keras.layers.SimpleRNN(
        8, activation=None, recurrent_initializer=keras.initializers.Orthogonal(gain=3.0, seed=0),
        name="rnn")
    return _rnn_model(T=20, F=3, layer=layer, lr=1.0, logits=True)


@pytest.mark.parametrize("action", ["stop", "raise", "warn"])
def test_exploding_gradients_warn_stop_or_raise(action):
    x, y = _data(n=64, T=20, F=3)
    model = _exploding_model()
    monitor = GradientMonitor(every_n_batches=1, on_explode=action)
    fit = lambda: model.fit(x, y, epochs=4, batch_size=8, verbose=0,  # noqa: E731
                            callbacks=[monitor])
    if action == "raise":
        with pytest.raises(RuntimeError, match=r"exploding gradient in layer .* at epoch 1.*"
                                               r"clipnorm.*learning rate"):
            fit()
        history = model.history.history
    else:
        with pytest.warns(RuntimeWarning, match="exploding gradient.*clipnorm"):
            history = fit().history
    first = monitor.batch_history[0]
    assert not np.isfinite(first["grad_norm"]) or first["grad_norm"] > 1e3
    alert = monitor.alerts[0]
    assert alert["kind"] == "exploding" and alert["epoch"] == 0
    assert "grad_norm" in history and "grad_norm/rnn" in history
    if action == "warn":
        assert len(history["grad_norm"]) == 4  # warned, kept training
    else:
        # stopped after the first measured batch; the epoch is still logged
        assert len(history["grad_norm"]) == 1
        assert len(monitor.batch_history) == 2  # batch 1 and the end of the epoch
        assert model.optimizer.iterations.numpy() == 1


def test_non_finite_gradient_counts_as_explosion_without_threshold():
    x, y = _data(n=8, T=20, F=3)
    model = _exploding_model()
    model.get_layer("head").kernel.assign(np.full((8, 2), np.nan, "float32"))
    monitor = GradientMonitor(explode_threshold=None, on_explode="stop")
    with pytest.warns(RuntimeWarning, match="non-finite"):
        model.fit(x, y, epochs=3, batch_size=8, verbose=0, callbacks=[monitor])
    assert len(model.history.history["grad_norm"]) == 1


# --------------------------------------------------------------- other models


def test_non_recurrent_model_reports_layer_norms_and_says_there_is_nothing_to_trace():
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(5, name="hidden"),
                              keras.layers.Dense(2, activation="softmax", name="out")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    x = np.random.default_rng(0).normal(size=(16, 6)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")
    monitor = GradientMonitor(every_n_batches=1)
    with pytest.warns(UserWarning, match="no recurrent layer to trace"):
        history = model.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[monitor])
    for key in ("grad_norm", "grad_norm/hidden", "grad_norm/out"):
        assert len(history.history[key]) == 2 and history.history[key][0] > 0
    assert monitor.history == {} and monitor.summary() == {}
    # every measurement: the total norm is the root-sum-square of the layers' norms
    assert len(monitor.batch_history) == 6  # 2 batches + the epoch end, 2 epochs
    for record in monitor.batch_history:
        parts = record["grad_norm/hidden"], record["grad_norm/out"]
        assert record["grad_norm"] == pytest.approx(np.hypot(*parts), rel=1e-5)
    # per epoch the logs hold means of norms, and a mean of norms is at least the norm of
    # the means (Minkowski): the total is at least the root-sum-square of the parts' means
    for epoch in range(2):
        records = [r for r in monitor.batch_history if r["epoch"] == epoch]
        for key in ("grad_norm", "grad_norm/hidden", "grad_norm/out"):
            assert history.history[key][epoch] == pytest.approx(
                np.mean([r[key] for r in records]), rel=1e-6)
        total = history.history["grad_norm"][epoch]
        parts = history.history["grad_norm/hidden"][epoch], history.history["grad_norm/out"][epoch]
        assert total >= np.hypot(*parts) * (1 - 1e-6)
    with pytest.raises(ValueError, match=r"There is no .* curve to plot"):
        monitor.plot(ROOT / "unused.png")


@pytest.mark.parametrize("task", TASKS)
def test_every_task_model_is_traced(task):
    # Encoder-decoder, captioning, video...: every recurrent layer of every task's
    # model gets a curve, through whatever inputs (dicts, lists) the task uses.
    model = rnnzoo.build(task, **tiny_overrides(task))
    x, y = next(iter(tiny_data(task)))
    result = GradientMonitor().measure(model, x, y)
    names = [name for name, _ in recurrent_layers(model)]
    assert names, f"{task}: no recurrent layer found"
    assert sorted(result["curves"]) == sorted(names)
    for name in names:
        curve = result["curves"][name]
        assert curve.ndim == 1 and curve.size >= 2 and np.all(np.isfinite(curve))
        assert curve.max() > 0, f"{task}: {name} gets no gradient"
    assert result["norms"]["grad_norm"] > 0


def test_auto_probe_from_arrays_and_warning_for_generators():
    x, y = _data(n=40)
    model = _rnn_model()
    monitor = GradientMonitor(probe_size=12)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0, callbacks=[monitor])
    probe_x, probe_y, _ = monitor._probe_batch
    np.testing.assert_array_equal(np.asarray(probe_x), x[:12])
    np.testing.assert_array_equal(np.asarray(probe_y), y[:12])

    def gen():
        while True:
            yield x[:8], y[:8]

    quiet = GradientMonitor()
    with pytest.warns(UserWarning, match=r"probe=\(x, y\)"):
        history = model.fit(gen(), steps_per_epoch=2, epochs=1, verbose=0, callbacks=[quiet])
    assert "grad_norm" not in history.history


def test_multi_output_loss_metrics_are_not_disturbed():
    inputs = keras.Input((7, 3))
    h = keras.layers.GRU(4, name="gru")(inputs)
    model = keras.Model(inputs, {"a": keras.layers.Dense(2, name="a")(h),
                                 "b": keras.layers.Dense(1, name="b")(h)})
    model.compile("sgd", loss={"a": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                               "b": "mse"})
    x, y = _data(n=16)
    targets = {"a": y, "b": np.ones((16, 1), "float32")}
    weights = model.get_weights()
    plain = model.fit(x, targets, epochs=1, batch_size=8, verbose=0, shuffle=False).history
    model.set_weights(weights)
    model.optimizer.iterations.assign(0)
    monitor = GradientMonitor(every_n_batches=1)
    watched = model.fit(x, targets, epochs=1, batch_size=8, verbose=0, shuffle=False,
                        callbacks=[monitor]).history
    for key in ("loss", "a_loss", "b_loss"):
        np.testing.assert_allclose(watched[key], plain[key], rtol=1e-5)
    assert "gru" in monitor.history


# -------------------------------------------------------- outputs and errors


def test_tensorboard_scalars_and_histograms(tmp_path):
    x, y = _data(n=16)
    model = _rnn_model()
    monitor = GradientMonitor(every_n_batches=1, log_dir=tmp_path, per_weight=True)
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[monitor])
    scalars, histograms = {}, set()
    for path in tmp_path.glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                array = tf.make_ndarray(value.tensor)
                plugin = value.metadata.plugin_data.plugin_name
                if plugin == "scalars":
                    scalars.setdefault(value.tag, []).append((event.step, float(array)))
                elif plugin == "histograms":
                    assert array.ndim == 2 and array.shape[1] == 3
                    histograms.add(value.tag)
    # 2 batches + epoch end, per epoch: 6 measurements of each norm
    assert len(scalars["grad_norm/rnn"]) == 6
    assert "grad_norm/rnn/simple_rnn_cell/kernel" in scalars or any(
        tag.startswith("grad_norm/rnn/") for tag in scalars)
    epoch_means = [np.mean([v for _, v in scalars["grad_norm/rnn"][3 * e: 3 * e + 3]])
                   for e in range(2)]
    np.testing.assert_allclose(epoch_means, history.history["grad_norm/rnn"], rtol=1e-5)
    retention = [v for _, v in sorted(scalars["bptt_retention/rnn"])]
    np.testing.assert_allclose(retention, history.history["bptt_retention/rnn"], rtol=1e-5)
    assert {"gradients/rnn", "gradients/head", "bptt_log10_dL_dh/rnn"} <= histograms


def test_plot_writes_a_png_and_explains_a_missing_matplotlib(tmp_path, monkeypatch):
    x, y = _data(n=16)
    model = _rnn_model()
    monitor = GradientMonitor()
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[monitor])
    assert monitor.epochs == [0, 1] and len(monitor.history["rnn"]) == 2
    assert monitor._use_compiled  # the compiled pass worked: no eager fallback
    path = monitor.plot(tmp_path / "bptt.png", title="test")
    data = pathlib.Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    assert [p.name for p in tmp_path.iterdir()] == ["bptt.png"]  # no temp file left
    with pytest.raises(ValueError, match="layers"):
        monitor.plot(tmp_path / "x.png", layers=["nope"])
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    monkeypatch.setitem(sys.modules, "matplotlib.backends.backend_agg", None)
    with pytest.raises(ImportError, match=r'pip install "rnnzoo\[plot\]"'):
        monitor.plot(tmp_path / "y.png")


@pytest.mark.parametrize("kwargs, match", [
    ({"every_n_batches": 0}, "every_n_batches"),
    ({"probe_size": 2.5}, "probe_size"),
    ({"on_explode": "halt"}, "on_explode"),
    ({"vanish_threshold": -1.0}, "vanish_threshold"),
    ({"explode_threshold": float("inf")}, "explode_threshold"),
    ({"per_weight": "yes"}, "per_weight"),
    ({"verbose": 3}, "verbose"),
])
def test_bad_arguments_name_the_argument_and_value(kwargs, match):
    with pytest.raises(ValueError, match=match) as err:
        GradientMonitor(**kwargs)
    assert "Received" in str(err.value)


def test_measure_needs_a_compiled_model():
    model = keras.Sequential([keras.Input((7, 3)), keras.layers.LSTM(2)])
    with pytest.raises(ValueError, match="compiled"):
        GradientMonitor().measure(model, *_data())


def test_rnnzoo_exposes_the_callback():
    assert rnnzoo.callbacks.GradientMonitor is GradientMonitor
    assert isinstance(GradientMonitor(), keras.callbacks.Callback)


# ----------------------------------------------------------------- distribute


@pytest.mark.slow
@tf_only
def test_under_mirrored_strategy_on_two_logical_cpus(tmp_path):
    script = textwrap.dedent(
        """
        import json, os, sys
        import numpy as np
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        import keras, rnnzoo
        from rnnzoo.callbacks import GradientMonitor
        from tests.conftest import tiny_data, tiny_overrides
        keras.utils.set_random_seed(0)
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        options = tiny_overrides("classification", bidirectional=True)
        model = rnnzoo.build("classification", strategy=strategy, **options)
        data = tiny_data("classification")
        monitor = GradientMonitor(every_n_batches=2)
        history = model.fit(data, epochs=1, verbose=0, callbacks=[monitor])
        plain = rnnzoo.build("classification", **options)
        plain.set_weights(model.get_weights())
        x, y, _ = monitor._probe_batch
        again = GradientMonitor().measure(plain, x, y)
        print(json.dumps({
            "replicas": strategy.num_replicas_in_sync,
            "compiled": monitor._use_compiled,
            "history": {k: v for k, v in history.history.items() if "/" in k or k == "grad_norm"},
            "curves": {k: v[-1].tolist() for k, v in monitor.history.items()},
            "plain_curves": {k: v.tolist() for k, v in again["curves"].items()},
            "plain_norm": again["norms"]["grad_norm"],
        }))
        """
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                         text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["replicas"] == 2
    assert result["compiled"], "the compiled pass fell back to eager under the strategy"
    assert len(result["history"]["grad_norm"]) == 1
    assert sorted(result["curves"]) == ["rnn_1/backward", "rnn_1/forward"]
    # the last epoch's curves were measured on the final weights: a plain model agrees
    for name, curve in result["curves"].items():
        assert np.all(np.isfinite(curve)) and max(curve) > 0
        np.testing.assert_allclose(curve, result["plain_curves"][name], rtol=1e-4, atol=1e-7)
