"""ABCSimpleRNN / ABCSimpleRNNCell: Keras SimpleRNN equivalence, RNN behaviour, saving, TFLite."""

import numpy as np
import pytest

import keras
from keras import ops

from rnnzoo.callbacks import autodiff
from rnnzoo.layers import ABCSimpleRNN, ABCSimpleRNNCell, make_rnn_layer

RNG = np.random.default_rng(0)
B, T, D = 3, 9, 4
ON_TF = keras.backend.backend() == "tensorflow"
tf_only = pytest.mark.skipif(not ON_TF, reason="TFLite converts TensorFlow graphs (a JAX model "
                             "goes through jax2tf, whose seed state TFLite builtins refuse)")


def _x(batch=B, steps=T, features=D):
    return RNG.standard_normal((batch, steps, features)).astype("float32")


def _pair(units=6, **kwargs):
    """A SimpleRNN and an ABCSimpleRNN with A, C, b_h copied from it."""
    x = _x()
    simple = keras.layers.SimpleRNN(units, return_sequences=True, **kwargs)
    simple(x)
    simple.cell.bias.assign(RNG.standard_normal(units).astype("float32"))
    abc = ABCSimpleRNN(units, return_sequences=True, **kwargs)
    abc(x)
    abc.A.assign(simple.cell.kernel.value)
    abc.C.assign(simple.cell.recurrent_kernel.value)
    abc.b_h.assign(simple.cell.bias.value)
    return simple, abc, x


@pytest.mark.parametrize("go_backwards", [False, True])
def test_hidden_states_equal_keras_simple_rnn(go_backwards):
    simple, abc, x = _pair(go_backwards=go_backwards)
    np.testing.assert_allclose(abc(x), simple(x), atol=1e-5)
    mask = np.arange(T)[None] < np.array([[9], [4], [1]])
    np.testing.assert_allclose(abc(x, mask=mask), simple(x, mask=mask), atol=1e-5)


def test_output_is_a_dense_on_the_states():
    simple, _, x = _pair()
    layer = ABCSimpleRNN(6, output_units=3, output_activation="sigmoid", return_sequences=True,
                         return_state=True)
    layer(x)
    layer.A.assign(simple.cell.kernel.value)
    layer.C.assign(simple.cell.recurrent_kernel.value)
    layer.b_h.assign(simple.cell.bias.value)
    layer.b_y.assign(RNG.standard_normal(3).astype("float32"))
    y, h = layer(x)
    states = np.asarray(simple(x))
    dense = keras.layers.Dense(3, activation="sigmoid")
    dense.build((None, 6))
    dense.set_weights([np.asarray(layer.B.value), np.asarray(layer.b_y.value)])
    np.testing.assert_allclose(y, dense(states), atol=1e-5)
    np.testing.assert_allclose(h, states[:, -1], atol=1e-5)
    assert [tuple(w.shape) for w in (layer.A, layer.C, layer.B, layer.b_h, layer.b_y)] == [
        (D, 6), (6, 6), (6, 3), (6,), (3,)]


@pytest.mark.parametrize("output_units", [None, 3])
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("return_state", [False, True])
def test_output_shapes(output_units, return_sequences, return_state):
    layer = ABCSimpleRNN(5, output_units=output_units, return_sequences=return_sequences,
                         return_state=return_state)
    width = output_units or 5
    out = layer(_x())
    outs = out if return_state else [out]
    assert tuple(outs[0].shape) == ((B, T, width) if return_sequences else (B, width))
    if return_state:
        assert [tuple(o.shape) for o in outs[1:]] == [(B, 5)]
    sym = layer(keras.Input((None, D)))
    sym = sym if return_state else [sym]
    assert tuple(sym[0].shape) == ((None, None, width) if return_sequences else (None, width))


@pytest.mark.parametrize("padding", ["post", "pre"])
def test_padded_batch_equals_unpadded_sequences(padding):
    lengths = [9, 4, 1]
    tokens = RNG.integers(1, 9, size=(B, T))
    padded = np.zeros((B, T), "int32")
    for b, n in enumerate(lengths):
        if padding == "post":
            padded[b, :n] = tokens[b, :n]
        else:
            padded[b, T - n:] = tokens[b, :n]
    inputs = keras.Input((None,), dtype="int32")
    emb = keras.layers.Embedding(10, D, mask_zero=True)
    model = keras.Model(inputs, ABCSimpleRNN(6, output_units=2, return_state=True)(emb(inputs)))
    y, h = (np.asarray(v) for v in model(padded))
    for b, n in enumerate(lengths):
        y1, h1 = (np.asarray(v) for v in model(tokens[b:b + 1, :n].astype("int32")))
        np.testing.assert_allclose(y[b], y1[0], atol=1e-5)
        np.testing.assert_allclose(h[b], h1[0], atol=1e-5)


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("zero_output_for_mask", [False, True])
def test_fast_loop_equals_the_per_step_cell_loop(go_backwards, zero_output_for_mask):
    # The layer projects inputs and outputs outside the loop; masked steps must
    # still give Keras' outputs (previous output, or zeros).
    x = _x()
    mask = RNG.random((B, T)) > 0.4
    mask[0, 0] = mask[0, -1] = False
    layer = ABCSimpleRNN(6, output_units=3, return_sequences=True, return_state=True,
                         go_backwards=go_backwards)
    layer.zero_output_for_mask = zero_output_for_mask
    layer(x)
    layer.b_y.assign(np.ones(3, "float32"))  # a non-zero b_y makes y(h=0) != 0
    state = [RNG.standard_normal((B, 6)).astype("float32")]
    got = layer(x, mask=mask, initial_state=state)
    generic = keras.layers.RNN(layer.cell, return_sequences=True, return_state=True,
                               go_backwards=go_backwards,
                               zero_output_for_mask=zero_output_for_mask)
    if not ON_TF and not zero_output_for_mask:
        # Keras' JAX scan loop gives a masked step its first state (h), not the previous
        # output y (it assumes they are one tensor); its unrolled loop keeps y, as TF does.
        generic = keras.layers.RNN(layer.cell, return_sequences=True, return_state=True,
                                   go_backwards=go_backwards, unroll=True)
    want = generic(x, mask=mask, initial_state=state)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, atol=1e-5)
    for unroll in (True,):
        unrolled = ABCSimpleRNN(6, output_units=3, return_sequences=True, unroll=unroll,
                                go_backwards=go_backwards)
        unrolled(x)
        unrolled.set_weights(layer.get_weights())
        np.testing.assert_allclose(unrolled(x), generic(x)[0], atol=1e-5)


def test_stateful_halves_equal_one_call():
    x = _x(steps=10)
    whole = ABCSimpleRNN(6, output_units=2, return_sequences=True)
    full = np.asarray(whole(x))
    stateful = ABCSimpleRNN(6, output_units=2, return_sequences=True, stateful=True)
    stateful(x[:, :1])
    stateful.set_weights(whole.get_weights())
    stateful.reset_state()
    parts = [np.asarray(stateful(x[:, :4])), np.asarray(stateful(x[:, 4:]))]
    np.testing.assert_allclose(np.concatenate(parts, 1), full, atol=1e-5)
    # and the same through initial_state / return_state, as a decoder uses it
    layer = ABCSimpleRNN(6, output_units=2, return_sequences=True, return_state=True)
    layer(x)
    layer.set_weights(whole.get_weights())
    y1, h1 = layer(x[:, :4])
    y2, _ = layer(x[:, 4:], initial_state=[h1])
    np.testing.assert_allclose(np.concatenate([y1, y2], 1), full, atol=1e-5)


def test_bidirectional_and_stacked():
    x = _x()
    inputs = keras.Input((T, D))
    h = keras.layers.Bidirectional(ABCSimpleRNN(5, return_sequences=True))(inputs)
    model = keras.Model(inputs, ABCSimpleRNN(4, output_units=2)(h))
    assert tuple(model(x).shape) == (B, 2)
    both = keras.layers.Bidirectional(ABCSimpleRNN(5, output_units=2, return_state=True))(x)
    assert [tuple(v.shape) for v in both] == [(B, 4), (B, 5), (B, 5)]


def test_gradient_reaches_every_weight():
    layer = ABCSimpleRNN(6, output_units=3, return_sequences=True, dropout=0.2,
                         recurrent_dropout=0.2)
    x = _x()
    layer(x)
    # the gradient monitor's per-backend adapters (tf.GradientTape, jax.value_and_grad)
    _, grads, _ = autodiff.value_and_gradients(
        lambda probes: ops.sum(layer(x, training=True) ** 2), layer.trainable_weights,
        state=layer.variables)
    assert sorted(w.name for w in layer.trainable_weights) == ["A", "B", "C", "b_h", "b_y"]
    for w, grad in zip(layer.trainable_weights, grads):
        assert grad is not None and np.any(np.asarray(grad) != 0), w.name


def test_dropout_only_in_training_and_regularizers_add_losses():
    x = _x()
    layer = ABCSimpleRNN(6, dropout=0.5, recurrent_dropout=0.5, seed=1, C_regularizer="l2",
                         B_regularizer="l1", output_units=2)
    a, b = layer(x), layer(x)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(layer(x, training=True), a)
    assert len(layer.losses) == 2


@pytest.mark.parametrize("kwargs", [{"dropout": 0.3, "recurrent_dropout": 0.4},
                                    {"dropout": 0.3}, {"recurrent_dropout": 0.4}])
def test_dropout_masks_and_seeds_are_keras_simple_rnns(kwargs):
    # One input mask and one recurrent mask per sequence, drawn from the seed in the
    # order Keras draws them: with the same seed and weights, the layer and the cell
    # alone in keras.layers.RNN give SimpleRNN's training outputs, call after call.
    x = _x()
    simple = keras.layers.SimpleRNN(6, return_sequences=True, seed=3, **kwargs)
    simple(x)
    layer = ABCSimpleRNN(6, return_sequences=True, seed=3, **kwargs)
    layer(x)
    layer.set_weights(simple.get_weights())
    generic = keras.layers.RNN(ABCSimpleRNNCell(6, seed=3, **kwargs), return_sequences=True)
    generic(x)
    generic.set_weights(simple.get_weights())
    twin = keras.layers.SimpleRNN(6, return_sequences=True, seed=3, **kwargs)
    twin(x)
    twin.set_weights(simple.get_weights())
    outputs = []
    for _ in range(3):
        want = np.asarray(simple(x, training=True))
        np.testing.assert_allclose(layer(x, training=True), want, atol=1e-5)
        np.testing.assert_allclose(generic(x, training=True), twin(x, training=True), atol=1e-5)
        np.testing.assert_allclose(layer(x), simple(x), atol=1e-5)
        outputs.append(want)
    assert not np.allclose(outputs[0], outputs[1])  # a new mask for every sequence


@pytest.mark.parametrize("kwargs, match", [
    ({"units": 0}, "`units` must be a positive integer"),
    ({"units": 2.5}, "`units` must be a positive integer"),
    ({"units": 4, "output_units": 0}, "`output_units` must be a positive integer or None"),
    ({"units": 4, "dropout": -0.1}, "`dropout` must be a float in"),
    ({"units": 4, "recurrent_dropout": 1.0}, "`recurrent_dropout` must be a float in"),
])
def test_bad_arguments_raise_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ABCSimpleRNN(**kwargs)
    with pytest.raises(ValueError, match=match):
        ABCSimpleRNNCell(**kwargs)


def test_config_and_keras_round_trip_in_safe_mode(tmp_path):
    x = _x()
    inputs = keras.Input((T, D))
    layer = ABCSimpleRNN(6, output_units=2, output_activation="softmax", return_sequences=True,
                         A_initializer="he_normal", b_y_regularizer="l2", name="abc")
    model = keras.Model(inputs, layer(inputs))
    config = layer.get_config()
    assert config["output_units"] == 2 and config["A_initializer"]["class_name"] == "HeNormal"
    assert ABCSimpleRNN.from_config(config).get_config() == config
    cell = ABCSimpleRNNCell.from_config(layer.cell.get_config())
    assert cell.get_config() == layer.cell.get_config()
    path = tmp_path / "abc.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(loaded.get_layer("abc"), ABCSimpleRNN)
    np.testing.assert_array_equal(loaded(x), model(x))


def test_the_recurrent_block_builds_it():
    layer = make_rnn_layer("abc", 7, return_sequences=True, dropout=0.1, name="a")
    assert isinstance(layer, ABCSimpleRNN) and layer.units == 7 and layer.dropout == 0.1
    assert make_rnn_layer("abc", 7, output_units=2).output_units == 2


@pytest.mark.slow
@tf_only
def test_tflite_builtins_only_matches_keras():
    import tensorflow as tf
    from ai_edge_litert.interpreter import Interpreter

    x = _x(batch=1)
    inputs = keras.Input((T, D), batch_size=1)
    model = keras.Model(inputs, ABCSimpleRNN(6, output_units=3, return_sequences=True)(inputs))
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    interpreter = Interpreter(model_content=converter.convert())
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
    interpreter.invoke()
    out = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    np.testing.assert_allclose(out, model(x), atol=1e-5)
