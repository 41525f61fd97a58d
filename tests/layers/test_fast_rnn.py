"""rnnzoo's LSTM / GRU / SimpleRNN: Keras' outputs, states and gradients, Keras' weights.

Every comparison builds Keras' own layer and the fast one with the same
weights and checks outputs, final states and the gradients of a loss with
respect to the inputs, the initial states and every weight (1e-5), for the
options the zoo uses. The module runs on the backend Keras is configured with;
the JAX CI leg (tests/conftest.py BACKEND_NEUTRAL) runs masks of any pattern,
dropout, stateful and weight files again on JAX.
"""


import numpy as np
import pytest

import keras
from keras import ops

from rnnzoo import layers
from rnnzoo.layers import recurrent

RNG = np.random.default_rng(0)
B, T, D, U = 3, 9, 4, 5
PAIRS = [(layers.LSTM, keras.layers.LSTM), (layers.GRU, keras.layers.GRU),
         (layers.SimpleRNN, keras.layers.SimpleRNN)]
IDS = ["lstm", "gru", "simple"]
MASKS = {
    "none": None,
    "right_padded": np.array([[1] * 9, [1] * 6 + [0] * 3, [1] * 2 + [0] * 7], bool),
    "any_pattern": np.array([[0, 0, 1, 1, 0, 1, 1, 0, 1], [1, 0, 1, 0, 1, 0, 1, 0, 1],
                             [0] * 9], bool),  # leading gaps, holes, an empty row
}


def _x(batch=B, steps=T, features=D):
    return RNG.standard_normal((batch, steps, features)).astype("float32")


def _pair(fast_cls, keras_cls, input_shape=(None, T, D), **kwargs):
    ref = keras_cls(U, **kwargs)
    ref.build(input_shape)
    fast = fast_cls(U, **kwargs)
    fast.build(input_shape)
    # Random biases (Keras' start at zero or one) so every term is checked.
    weights = [w if w.ndim == 2 and w.shape[0] != 2 else RNG.standard_normal(w.shape)
               .astype("float32") * 0.5 for w in ref.get_weights()]
    ref.set_weights(weights)
    fast.set_weights(weights)
    return fast, ref


def _n_states(layer):
    size = layer.cell.state_size
    return len(size) if isinstance(size, (list, tuple)) else 1


def _loss(outputs):
    """A loss that weighs every output element differently (a plain sum hides errors)."""
    flat = [ops.reshape(o, (-1,)) for o in outputs]
    return sum(ops.sum(ops.sin(3.0 * f + i) * f) for i, f in enumerate(flat))


def _call_and_grads(layer, x, mask=None, initial_state=None, training=True):
    """Outputs of ``layer(x, ...)`` and d loss / d (x, initial states, weights)."""
    kwargs = {"training": training}
    if mask is not None:
        kwargs["mask"] = ops.convert_to_tensor(mask)
    sources = [ops.convert_to_tensor(x)] + [ops.convert_to_tensor(s) for s in initial_state or []]
    if keras.config.backend() == "jax":
        import jax

        weights = [v.value for v in layer.trainable_variables]
        others = [v.value for v in layer.non_trainable_variables]

        def loss_fn(sources, weights):
            state = sources[1:] or None
            out, _ = layer.stateless_call(weights, others, sources[0], initial_state=state,
                                          **kwargs)
            out = out if isinstance(out, (list, tuple)) else [out]
            return _loss(out), out

        (_, out), (g_src, g_w) = jax.value_and_grad(loss_fn, argnums=(0, 1), has_aux=True)(
            sources, weights)
        return [np.asarray(o) for o in out], [np.asarray(g) for g in g_src + g_w]
    import tensorflow as tf

    with tf.GradientTape() as tape:
        tape.watch(sources)
        out = layer(sources[0], initial_state=sources[1:] or None, **kwargs)
        out = out if isinstance(out, (list, tuple)) else [out]
        loss = _loss(out)
    grads = tape.gradient(loss, sources + list(layer.trainable_variables))
    return [np.asarray(o) for o in out], [np.asarray(g) for g in grads]


def _assert_same(fast, ref, x, **kwargs):
    assert fast.fast_path_blocker() is None
    out_f, grads_f = _call_and_grads(fast, x, **kwargs)
    out_r, grads_r = _call_and_grads(ref, x, **kwargs)
    assert len(out_f) == len(out_r)
    for a, b in zip(out_f, out_r):
        np.testing.assert_allclose(a, b, atol=1e-5)
    for a, b in zip(grads_f, grads_r):
        np.testing.assert_allclose(a, b, atol=1e-5, rtol=1e-5)
    return out_f


@pytest.mark.parametrize("fast_cls, keras_cls", PAIRS, ids=IDS)
@pytest.mark.parametrize("mask", list(MASKS), ids=list(MASKS))
@pytest.mark.parametrize("return_sequences, go_backwards",
                         [(False, False), (True, False), (True, True), (False, True)])
def test_outputs_states_and_gradients_equal_keras(fast_cls, keras_cls, mask, return_sequences,
                                                 go_backwards):
    fast, ref = _pair(fast_cls, keras_cls, return_sequences=return_sequences,
                      go_backwards=go_backwards, return_state=True)
    states = [RNG.standard_normal((B, U)).astype("float32") for _ in range(_n_states(ref))]
    out = _assert_same(fast, ref, _x(), mask=MASKS[mask], initial_state=states)
    assert out[0].shape == ((B, T, U) if return_sequences else (B, U))


@pytest.mark.parametrize("fast_cls, keras_cls", PAIRS, ids=IDS)
@pytest.mark.parametrize("training", [False, True])
def test_inference_and_training_paths_equal_keras_with_fresh_state(fast_cls, keras_cls,
                                                                  training):
    fast, ref = _pair(fast_cls, keras_cls, return_sequences=True)
    _assert_same(fast, ref, _x(), mask=MASKS["right_padded"], training=training)


@pytest.mark.parametrize("fast_cls, keras_cls", PAIRS, ids=IDS)
def test_zero_output_for_mask(fast_cls, keras_cls):
    fast, ref = _pair(fast_cls, keras_cls, return_sequences=True, zero_output_for_mask=True)
    out = _assert_same(fast, ref, _x(), mask=MASKS["any_pattern"])
    assert np.all(out[0][~MASKS["any_pattern"]] == 0)


@pytest.mark.parametrize("fast_cls, keras_cls", PAIRS, ids=IDS)
def test_no_bias(fast_cls, keras_cls):
    fast, ref = _pair(fast_cls, keras_cls, use_bias=False, return_sequences=True)
    _assert_same(fast, ref, _x())


@pytest.mark.parametrize("fast_cls, keras_cls", PAIRS, ids=IDS)
def test_input_dropout_draws_keras_masks(fast_cls, keras_cls):
    fast, ref = _pair(fast_cls, keras_cls, dropout=0.5, seed=7, return_sequences=True)
    x = _x()
    out_f = [np.asarray(fast(x, training=True)) for _ in range(2)]
    out_r = [np.asarray(ref(x, training=True)) for _ in range(2)]
    for a, b in zip(out_f, out_r):  # the same mask on each call, a new one per call
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert not np.allclose(out_f[0], out_f[1])
    # Inference applies no dropout.
    np.testing.assert_allclose(fast(x), ref(x), atol=1e-5)


@pytest.mark.parametrize("fast_cls, keras_cls", PAIRS, ids=IDS)
def test_stateful_continues_like_keras(fast_cls, keras_cls):
    fast, ref = _pair(fast_cls, keras_cls, input_shape=(B, T, D), stateful=True)
    x = _x()
    for _ in range(2):
        np.testing.assert_allclose(fast(x), ref(x), atol=1e-5)
    for a, b in zip(fast.states, ref.states):
        np.testing.assert_allclose(a, b, atol=1e-5)
    with pytest.raises(ValueError, match="batch size"):
        fast(_x(batch=B + 1))


@pytest.mark.parametrize("fast_cls, keras_cls", PAIRS, ids=IDS)
def test_bidirectional_and_keras_weight_files(fast_cls, keras_cls, tmp_path):
    def model(cls):
        inputs = keras.Input((None,), dtype="int32")
        x = keras.layers.Embedding(10, D, mask_zero=True)(inputs)
        x = keras.layers.Bidirectional(cls(U, return_sequences=True))(x)
        return keras.Model(inputs, cls(U)(x))

    ref = model(keras_cls)
    keras.backend.clear_session()  # automatic names start again: the same names as Keras'
    fast = model(fast_cls)
    ref.save_weights(tmp_path / "ref.weights.h5")
    fast.load_weights(tmp_path / "ref.weights.h5")  # Keras' weight paths, no conversion
    assert [v.path for v in fast.weights] == [v.path for v in ref.weights]
    tokens = np.array([[1, 2, 3, 0, 0], [4, 5, 6, 7, 8]])
    np.testing.assert_allclose(fast(tokens), ref(tokens), atol=1e-5)
    # A whole .keras file round-trips with the fast class and its outputs.
    fast.save(tmp_path / "fast.keras")
    loaded = keras.saving.load_model(tmp_path / "fast.keras", safe_mode=True)
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in fast.layers]
    np.testing.assert_allclose(loaded(tokens), ref(tokens), atol=1e-5)


@pytest.mark.parametrize("fast_cls, keras_cls", PAIRS, ids=IDS)
@pytest.mark.parametrize("kwargs, reason", [
    ({"recurrent_dropout": 0.3}, "recurrent_dropout"),
    ({"activation": "relu"}, "activations other than tanh and sigmoid"),
])
def test_options_without_a_fast_path_run_keras_loop(fast_cls, keras_cls, kwargs, reason):
    fast, ref = _pair(fast_cls, keras_cls, return_sequences=True, **kwargs)
    assert fast.fast_path_blocker() == reason
    x = _x()
    np.testing.assert_allclose(fast(x), ref(x), atol=1e-6)


def test_unroll_step_by_step_and_reset_before_run_keras_loop():
    fast, ref = _pair(layers.LSTM, keras.layers.LSTM, unroll=True, return_sequences=True)
    assert fast.fast_path_blocker() == "unroll"
    x = _x()
    np.testing.assert_allclose(fast(x), ref(x), atol=1e-6)
    fast, _ = _pair(layers.GRU, keras.layers.GRU)
    fast.step_by_step = True
    assert fast.fast_path_blocker() == "step_by_step"
    fast, ref = _pair(layers.GRU, keras.layers.GRU, reset_after=False)
    assert fast.fast_path_blocker() == "reset_after=False"
    np.testing.assert_allclose(fast(x), ref(x), atol=1e-6)


@pytest.mark.parametrize("fast_cls, keras_cls", PAIRS, ids=IDS)
def test_trains_like_keras_on_a_seeded_run(fast_cls, keras_cls):
    # A masked token classifier fitted for a few epochs from the same weights: the
    # loss trajectory of the fast layer follows Keras' (same gradients, same steps).
    rng = np.random.default_rng(3)
    tokens = rng.integers(1, 20, (96, 12))
    lengths = rng.integers(4, 13, 96)
    tokens[np.arange(12)[None] >= lengths[:, None]] = 0
    labels = (tokens[:, 0] > 10).astype("int32")

    def fit(cls):
        keras.utils.set_random_seed(11)
        inputs = keras.Input((None,), dtype="int32")
        x = keras.layers.Embedding(20, 6, mask_zero=True)(inputs)
        x = cls(8, dropout=0.1, seed=5)(x)
        model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x))
        model.compile(keras.optimizers.Adam(0.02), "sparse_categorical_crossentropy")
        history = model.fit(tokens, labels, batch_size=32, epochs=10, shuffle=False, verbose=0)
        return np.array(history.history["loss"])

    fast, ref = fit(fast_cls), fit(keras_cls)
    np.testing.assert_allclose(fast, ref, rtol=1e-3)
    assert fast[-1] < 0.8 * fast[0]  # it learns


@pytest.mark.parametrize("fast_cls, keras_cls", PAIRS, ids=IDS)
def test_in_a_model_with_unknown_length(fast_cls, keras_cls):
    # A functional model over (None, None, D) inputs, called on two lengths.
    def model(cls):
        inputs = keras.Input((None, D))
        return keras.Model(inputs, cls(U, return_sequences=True, go_backwards=True)(inputs))

    ref = model(keras_cls)
    fast = model(fast_cls)
    fast.set_weights(ref.get_weights())
    for steps in (1, 16):
        x = _x(steps=steps)
        np.testing.assert_allclose(fast.predict(x, verbose=0), ref.predict(x, verbose=0),
                                   atol=1e-5)
