"""GradientMonitor against hand-written tapes for every recurrent cell; sample weights, verbose.

``test_gradient_monitor.py`` checks SimpleRNN's ``||dL/dh_t||`` against its recursion
written out with a ``tf.GradientTape``; here the same is done for LSTM, GRU, the
Clockwork RNN and the ABC RNN with an output projection (``output_units``), each
recursion written from its equations, not from the layer's code.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import rnnzoo
from rnnzoo.callbacks import GradientMonitor
from rnnzoo.layers import ABCSimpleRNN, ClockworkRNN

from tests.conftest import TASKS, tiny_overrides

N, T, F, U = 5, 7, 3, 8


def _data(seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(N, T, F)).astype("float32"),
            rng.integers(0, 2, size=N).astype("int32"))


def _model(layer, lr=1e-2):
    inputs = keras.Input((T, F))
    outputs = keras.layers.Dense(2, activation="softmax", name="head")(layer(inputs))
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.SGD(lr), "sparse_categorical_crossentropy")
    return model


# Each step takes (x_t, carried state, weights, t) and returns (h_t, carried state, output).


def _lstm_step(x, state, w, t):
    h, c = state
    kernel, recurrent, bias = w
    i, f, g, o = tf.split(x @ kernel + h @ recurrent + bias, 4, axis=-1)
    c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
    return tf.sigmoid(o) * tf.tanh(c), c


def _gru_step(x, state, w, t):  # Keras' default reset_after=True
    (h,) = state
    kernel, recurrent, bias = w
    xz, xr, xh = tf.split(x @ kernel + bias[0], 3, axis=-1)
    hz, hr, hh = tf.split(h @ recurrent + bias[1], 3, axis=-1)
    z, r = tf.sigmoid(xz + hz), tf.sigmoid(xr + hr)
    return z * h + (1 - z) * tf.tanh(xh + r * hh), None


PERIODS = [1, 2, 4, 8]


def _clockwork_step(x, state, w, t):
    # Koutnik et al. 2014: module i (k units, period T_i) updates when t mod T_i == 0 and
    # reads itself and the slower modules (a block upper-triangular recurrent matrix).
    (h,) = state
    kernel, *blocks, bias = w
    k = U // len(PERIODS)
    columns = []
    for i, block in enumerate(blocks):  # block i: rows of modules i.., columns of module i
        columns.append(tf.concat([tf.zeros((i * k, k)), block], axis=0) if i else block)
    full = tf.concat(columns, axis=1)
    candidate = tf.tanh(x @ kernel + h @ full + bias)
    active = np.repeat([t % p == 0 for p in PERIODS], k)[None, :]
    return tf.where(active, candidate, h), None


def _abc_step(x, state, w, t):
    (h,) = state
    a, c, b_h, _, _ = w
    return tf.tanh(x @ a + h @ c + b_h), None


CELLS = {
    "lstm": (lambda: keras.layers.LSTM(U, name="rnn"), _lstm_step, 2),
    "gru": (lambda: keras.layers.GRU(U, name="rnn"), _gru_step, 1),
    "clockwork": (lambda: ClockworkRNN(U, periods=PERIODS, name="rnn"), _clockwork_step, 1),
    "abc_output_units": (lambda: ABCSimpleRNN(U, output_units=5, name="rnn"), _abc_step, 1),
}


def _abc_weights(layer):
    cell = layer.cell
    return [cell.A, cell.C, cell.b_h, cell.B, cell.b_y]


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_per_step_norms_equal_a_hand_written_tape(cell):
    make, step, num_states = CELLS[cell]
    model = _model(make())
    x, y = _data()
    layer = model.get_layer("rnn")
    w = _abc_weights(layer) if cell.startswith("abc") else list(layer.weights)
    w_head, b_head = model.get_layer("head").weights
    with tf.GradientTape(persistent=True) as tape:
        state = [tf.zeros((N, U)) for _ in range(num_states)]
        hs = []
        for t in range(T):
            h, c = step(tf.constant(x[:, t]), state, w, t)
            tape.watch(h)
            hs.append(h)
            state = [h] if c is None else [h, c]
        out = hs[-1] if not cell.startswith("abc") else hs[-1] @ w[3] + w[4]  # y = h B + b_y
        probs = tf.nn.softmax(out @ w_head + b_head)
        loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y, probs))
    # the hand-written forward pass is the layer's
    np.testing.assert_allclose(probs, model(x), rtol=0, atol=1e-5)
    expected = np.array([np.linalg.norm(g) for g in tape.gradient(loss, hs)])
    assert np.all(expected > 0)
    for compiled in (False, True):
        result = GradientMonitor().measure(model, x, y, compiled=compiled)
        np.testing.assert_allclose(result["curves"]["rnn"], expected, rtol=1e-4, atol=1e-7)
        assert result["loss"] == pytest.approx(float(loss), rel=1e-5)
    weight_grads = tape.gradient(loss, w)
    expected_rnn = np.sqrt(sum(float(tf.reduce_sum(g ** 2)) for g in weight_grads))
    np.testing.assert_allclose(result["norms"]["grad_norm/rnn"], expected_rnn, rtol=1e-4)


# --------------------------------------------------------------------------- sample weights


def test_sample_weights_weigh_the_loss_and_its_gradients():
    model = _model(keras.layers.SimpleRNN(4, name="rnn"))
    x, y = _data()
    sw = np.array([1.0, 1.0, 3.0, 0.0, 0.0], "float32")
    kernel, recurrent, bias = model.get_layer("rnn").weights
    w_head, b_head = model.get_layer("head").weights
    with tf.GradientTape() as tape:
        h, hs = tf.zeros((N, 4)), []
        for t in range(T):
            h = tf.tanh(tf.constant(x[:, t]) @ kernel + h @ recurrent + bias)
            tape.watch(h)
            hs.append(h)
        probs = tf.nn.softmax(h @ w_head + b_head)
        per_example = keras.losses.sparse_categorical_crossentropy(y, probs)
        loss = tf.reduce_sum(per_example * sw) / N  # Keras' sum_over_batch_size
    expected = np.array([np.linalg.norm(g) for g in tape.gradient(loss, hs)])
    result = GradientMonitor().measure(model, x, y, sample_weight=sw)
    assert result["loss"] == pytest.approx(float(loss), rel=1e-5)
    np.testing.assert_allclose(result["curves"]["rnn"], expected, rtol=1e-4, atol=1e-7)
    unweighted = GradientMonitor().measure(model, x, y)
    assert unweighted["loss"] != pytest.approx(result["loss"], rel=1e-3)

    # the callback measures its (x, y, sample_weight) probe the same way: with a learning
    # rate of 0 the weights stay put, so every record is this measurement
    frozen = _model(keras.layers.SimpleRNN(4, name="rnn"), lr=0.0)
    frozen.set_weights(model.get_weights())
    monitor = GradientMonitor(every_n_batches=1, probe=(x, y, sw))
    frozen.fit(x, y, sample_weight=sw, epochs=1, batch_size=5, verbose=0, callbacks=[monitor])
    assert len(monitor.batch_history) == 2  # the batch and the epoch end
    for record in monitor.batch_history:
        assert record["grad_norm"] == pytest.approx(result["norms"]["grad_norm"], rel=1e-5)
    np.testing.assert_allclose(monitor.history["rnn"][-1], expected, rtol=1e-4, atol=1e-7)


# --------------------------------------------------------------------------- verbose


@pytest.mark.parametrize("verbose", [0, 1])
def test_verbose_prints_one_retention_line_per_epoch(verbose, capsys):
    model = _model(keras.layers.SimpleRNN(4, name="rnn"))
    x, y = _data()
    monitor = GradientMonitor(verbose=verbose, vanish_threshold=None)
    model.fit(x, y, epochs=2, batch_size=5, verbose=0, callbacks=[monitor])
    lines = [line for line in capsys.readouterr().out.splitlines() if "GradientMonitor" in line]
    if not verbose:
        assert lines == []
        return
    retention = monitor.summary()["rnn"]["retention_per_epoch"]
    assert lines == [
        f"GradientMonitor epoch {e + 1}: retention ||dL/dh_1||/||dL/dh_T|| rnn: {r:.2e}"
        for e, r in enumerate(retention)]


# --------------------------------------------------------------------------- clipping


@pytest.mark.parametrize("task", TASKS)
def test_every_task_compiles_with_gradient_clipping_at_norm_one(task):
    model = rnnzoo.build(task, **tiny_overrides(task))
    assert model.optimizer.clipnorm == 1.0


def test_clipnorm_scales_each_large_gradient_to_norm_one():
    """Adam's first moment after one step is (1 - beta_1) times the *clipped* gradient.

    Keras' ``clipnorm`` clips each variable's gradient on its own (``global_clipnorm``
    would clip them together).
    """
    model = rnnzoo.build("classification", **tiny_overrides("classification"))
    optimizer = model.optimizer
    variables = model.trainable_variables
    rng = np.random.default_rng(0)
    grads = [rng.normal(size=v.shape).astype("float32") for v in variables]
    norms = [float(np.linalg.norm(g)) for g in grads]
    assert max(norms) > 10  # clipping must act
    optimizer.apply_gradients(zip([tf.constant(g) for g in grads], variables))
    # Adam keeps one "<variable path>_momentum" slot per variable (its public variables)
    by_path = {v.path.split("/", 1)[-1]: np.asarray(v) for v in optimizer.variables}
    for var, g, norm in zip(variables, grads, norms):
        first = by_path[var.path.replace("/", "_") + "_momentum"]
        np.testing.assert_allclose(first, (1 - optimizer.beta_1) * g / max(1.0, norm),
                                   rtol=1e-4, atol=1e-8)
