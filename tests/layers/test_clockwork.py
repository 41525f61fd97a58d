"""ClockworkRNN / ClockworkRNNCell: the paper's semantics, Keras RNN behaviour, saving, TFLite."""

import numpy as np
import pytest

import keras
from keras import ops

from rnnzoo.callbacks import autodiff
from rnnzoo.layers import ClockworkRNN, ClockworkRNNCell, make_rnn_layer
from rnnzoo.layers.clockwork import default_num_modules
from rnnzoo.layers.clockwork_schedule import static_recurrence

RNG = np.random.default_rng(0)
B, T, D = 3, 13, 4
ON_TF = keras.backend.backend() == "tensorflow"


def _x(batch=B, steps=T, features=D):
    return RNG.standard_normal((batch, steps, features)).astype("float32")


def _reference(layer, x, h0=None, t0=None):
    """The paper's update in plain numpy, one step at a time, from the layer's weights."""
    cell = layer.cell
    g, k, units = cell.num_modules, cell.module_size, cell.units
    kernel = np.asarray(cell.kernel.value)
    bias = np.asarray(cell.bias.value)
    blocks = [np.asarray(w.value) for w in cell.recurrent_kernels]
    h = np.zeros((x.shape[0], units), "float32") if h0 is None else h0.copy()
    t = np.zeros(x.shape[0], int) if t0 is None else t0.astype(int)
    outs = []
    for s in range(x.shape[1]):
        new = h.copy()
        for b in range(x.shape[0]):
            for i, period in enumerate(cell.periods):
                if t[b] % period:
                    continue  # inactive: keeps its value
                pre = x[b, s] @ kernel[:, i * k:(i + 1) * k] + bias[i * k:(i + 1) * k]
                pre = pre + h[b, i * k:] @ blocks[i]  # from itself and every slower module
                new[b, i * k:(i + 1) * k] = np.tanh(pre)
        h, t = new, t + 1
        outs.append(h)
    return np.stack(outs, 1), h, t


@pytest.mark.parametrize("kwargs", [{"num_modules": 4}, {"periods": [1, 3, 5, 7]},
                                    {"periods": [2, 4, 8]}])
def test_matches_the_paper_update(kwargs):
    x = _x()
    layer = ClockworkRNN(12, return_sequences=True, return_state=True, **kwargs)
    # Random biases so every term of the update is checked.
    layer(x)
    layer.cell.bias.assign(RNG.standard_normal(12).astype("float32"))
    h0 = RNG.standard_normal((B, 12)).astype("float32")
    t0 = np.array([[0.0], [5.0], [2.0]], "float32")
    out, h, t = layer(x, initial_state=[h0, t0])
    ref_out, ref_h, ref_t = _reference(layer, x, h0, t0[:, 0])
    np.testing.assert_allclose(out, ref_out, atol=1e-5)
    np.testing.assert_allclose(h, ref_h, atol=1e-5)
    cycle = layer.cell.clock_cycle
    np.testing.assert_array_equal(np.asarray(t)[:, 0], ref_t % cycle)


def test_inactive_modules_keep_their_values_exactly():
    layer = ClockworkRNN(16, num_modules=4, return_sequences=True)  # periods 1, 2, 4, 8
    out = np.asarray(layer(_x(steps=16)))
    for s in range(1, 16):
        for i, period in enumerate([1, 2, 4, 8]):
            block = slice(4 * i, 4 * (i + 1))
            if s % period:
                np.testing.assert_array_equal(out[:, s, block], out[:, s - 1, block])
            else:
                assert not np.array_equal(out[:, s, block], out[:, s - 1, block]), (s, i)


@pytest.mark.parametrize("units, g, input_dim", [(256, 8, 32), (12, 3, 5), (7, 1, 2), (16, 4, 1)])
def test_parameter_count_follows_the_paper(units, g, input_dim):
    # k²·g(g+1)/2 recurrent weights (block triangular), input_dim·units input weights,
    # units biases.
    k = units // g
    layer = ClockworkRNN(units, num_modules=g)
    layer.build((None, None, input_dim))
    assert layer.count_params() == k * k * g * (g + 1) // 2 + input_dim * units + units
    assert [tuple(w.shape) for w in layer.cell.recurrent_kernels] == [
        ((g - i) * k, k) for i in range(g)]


def test_every_connection_goes_from_slow_to_fast():
    g, k = 4, 3
    layer = ClockworkRNN(g * k, num_modules=g, return_state=True)
    x = np.zeros((1, 1, D), "float32")
    layer(x)
    matrix = np.asarray(layer.cell.recurrent_matrix())
    base = np.asarray(layer(x, initial_state=[np.zeros((1, g * k), "float32")])[0])
    for j in range(g):  # source module
        for i in range(g):  # destination module
            block = matrix[j * k:(j + 1) * k, i * k:(i + 1) * k]
            assert np.any(block) == (j >= i), (j, i)
        # behaviour: perturbing module j at t-1 changes module i at t (t = 0: all
        # active) exactly when j is i itself or slower
        h0 = np.zeros((1, g * k), "float32")
        h0[0, j * k:(j + 1) * k] = 1.0
        out = np.asarray(layer(x, initial_state=[h0])[0])
        changed = [not np.allclose(out[0, i * k:(i + 1) * k], base[0, i * k:(i + 1) * k])
                   for i in range(g)]
        assert changed == [i <= j for i in range(g)], (j, changed)


@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("return_state", [False, True])
def test_output_shapes(return_sequences, return_state):
    layer = ClockworkRNN(8, return_sequences=return_sequences, return_state=return_state)
    out = layer(_x())
    outs = out if return_state else [out]
    assert tuple(outs[0].shape) == ((B, T, 8) if return_sequences else (B, 8))
    if return_state:
        assert [tuple(o.shape) for o in outs[1:]] == [(B, 8), (B, 1)]
        np.testing.assert_array_equal(outs[2], np.full((B, 1), T))  # the clock: steps done
    symbolic = layer(keras.Input((None, D)))
    sym = symbolic if return_state else [symbolic]
    assert tuple(sym[0].shape) == ((None, None, 8) if return_sequences else (None, 8))


@pytest.mark.parametrize("cell_kwargs", [{"num_modules": 4}, {"periods": [1, 3, 4]}])
@pytest.mark.parametrize("padding", ["post", "pre"])
def test_padded_batch_equals_unpadded_sequences(cell_kwargs, padding):
    lengths = [13, 6, 1]
    tokens = RNG.integers(1, 9, size=(B, T))
    padded = np.zeros((B, T), "int32")
    for b, n in enumerate(lengths):
        if padding == "post":
            padded[b, :n] = tokens[b, :n]
        else:
            padded[b, T - n:] = tokens[b, :n]
    inputs = keras.Input((None,), dtype="int32")
    emb = keras.layers.Embedding(10, D, mask_zero=True)
    rnn = ClockworkRNN(12, return_state=True, **cell_kwargs)
    model = keras.Model(inputs, rnn(emb(inputs)))
    out, h, t = (np.asarray(v) for v in model(padded))
    for b, n in enumerate(lengths):
        o1, h1, t1 = (np.asarray(v) for v in model(tokens[b:b + 1, :n].astype("int32")))
        np.testing.assert_allclose(out[b], o1[0], atol=1e-5)
        np.testing.assert_allclose(h[b], h1[0], atol=1e-5)
        assert t[b, 0] == t1[0, 0] == n % rnn.cell.clock_cycle  # padding does not tick the clock


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("zero_output_for_mask", [False, True])
def test_fast_loop_equals_the_per_step_cell_loop(go_backwards, zero_output_for_mask):
    # Any mask pattern (holes too) and per-sample clocks, against keras.layers.RNN(cell).
    x = _x()
    mask = RNG.random((B, T)) > 0.4
    mask[2] = False  # a sample with nothing kept
    layer = ClockworkRNN(16, num_modules=4, return_sequences=True, return_state=True,
                         go_backwards=go_backwards)
    layer.zero_output_for_mask = zero_output_for_mask
    state = [RNG.standard_normal((B, 16)).astype("float32"),
             np.array([[3.0], [0.0], [6.0]], "float32")]
    got = layer(x, mask=mask, initial_state=state)
    generic = keras.layers.RNN(layer.cell, return_sequences=True, return_state=True,
                               go_backwards=go_backwards,
                               zero_output_for_mask=zero_output_for_mask)
    if not ON_TF and not zero_output_for_mask:
        # Keras' JAX scan loop gives a masked step before the first kept one the initial
        # state, not zeros as on TF; its unrolled loop gives zeros, as the layer does everywhere.
        generic = keras.layers.RNN(layer.cell, return_sequences=True, return_state=True,
                                   go_backwards=go_backwards, unroll=True)
    want = generic(x, mask=mask, initial_state=state)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, atol=1e-5)


@pytest.mark.parametrize("steps", [1, 5, 16, 37, 130])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_static_schedule_from_a_fresh_state_matches_the_paper(steps, go_backwards, monkeypatch):
    # No initial state, no mask, a known length: the static schedule (chunks of
    # clock-aligned steps, a tail after the loop). g = 8 modules, periods up to 128:
    # 130 steps cross a hyperperiod, 37 end inside a chunk.
    from rnnzoo.layers import clockwork

    calls = []
    monkeypatch.setattr(clockwork, "static_recurrence",
                        lambda *a, **k: calls.append(1) or static_recurrence(*a, **k))
    x = _x(batch=2, steps=steps)
    layer = ClockworkRNN(16, num_modules=8, return_sequences=True, return_state=True,
                         go_backwards=go_backwards)
    layer(x)
    assert calls  # the static schedule ran
    layer.cell.bias.assign(RNG.standard_normal(16).astype("float32"))
    out, h, t = layer(x)
    ref_out, ref_h, ref_t = _reference(layer, x[:, ::-1] if go_backwards else x)
    np.testing.assert_allclose(out, ref_out, atol=1e-5)
    np.testing.assert_allclose(h, ref_h, atol=1e-5)
    np.testing.assert_array_equal(np.asarray(t)[:, 0], ref_t % layer.cell.clock_cycle)
    last = ClockworkRNN(16, num_modules=8, go_backwards=go_backwards)
    last(x)
    last.set_weights(layer.get_weights())
    np.testing.assert_allclose(last(x), ref_h, atol=1e-5)


@pytest.mark.parametrize("return_sequences", [False, True])
def test_static_schedule_gradients_equal_the_per_step_loop(return_sequences):
    # Same weights and dropout seeds: the static schedule and Keras' per-step loop
    # (step_by_step) give the same outputs and the same gradients for x and every weight
    # (through the gradient monitor's per-backend adapters: tf.GradientTape, jax.grad).
    x = keras.Variable(_x(steps=37), name="x")
    kwargs = dict(num_modules=4, return_sequences=return_sequences, dropout=0.2,
                  recurrent_dropout=0.2, seed=3)
    fast, slow = ClockworkRNN(12, **kwargs), ClockworkRNN(12, **kwargs)
    fast(x)
    slow(x)
    slow.set_weights(fast.get_weights())
    slow.step_by_step = True
    results = []
    for layer in (fast, slow):
        y = layer(x.value, training=True)

        def loss(probes, layer=layer):
            y = layer(x.value, training=True)
            return ops.sum(ops.sin(3 * y) * y)

        value, grads, _ = autodiff.value_and_gradients(
            loss, [x, *layer.trainable_weights], state=[x, *layer.variables])
        results.append([y, value, *grads])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_stateful_halves_equal_one_call_and_reset():
    x = _x(steps=14)
    whole = ClockworkRNN(8, return_sequences=True)
    full = np.asarray(whole(x))
    stateful = ClockworkRNN(8, return_sequences=True, stateful=True)
    stateful(x[:, :1])
    stateful.set_weights(whole.get_weights())
    stateful.reset_state()
    first = np.asarray(stateful(x[:, :5]))  # 5 steps: the clock continues mid-cycle
    second = np.asarray(stateful(x[:, 5:]))
    np.testing.assert_allclose(np.concatenate([first, second], 1), full, atol=1e-5)
    stateful.reset_state()
    np.testing.assert_allclose(stateful(x[:, :5]), full[:, :5], atol=1e-5)


def test_streaming_one_step_at_a_time_continues_the_clock():
    x = _x(steps=10)
    layer = ClockworkRNN(8, return_sequences=True, return_state=True)
    full, h_full, t_full = layer(x)
    state = None
    for s in range(10):
        out, h, t = layer(x[:, s:s + 1], initial_state=state)
        np.testing.assert_allclose(out[:, 0], np.asarray(full)[:, s], atol=1e-5)
        state = [h, t]
    np.testing.assert_allclose(h, h_full, atol=1e-5)
    np.testing.assert_array_equal(t, t_full)
    # just [h] as initial state starts the clock at 0
    a = layer(x, initial_state=[np.asarray(h)])[0]
    b = layer(x, initial_state=[np.asarray(h), np.zeros((B, 1), "float32")])[0]
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.skipif(not ON_TF, reason="unknown dimensions are a tf.function feature "
                    "(jax.jit compiles every shape it is given)")
def test_unknown_batch_and_length_in_a_compiled_function(return_sequences):
    import tensorflow as tf

    x = _x()
    layer = ClockworkRNN(16, num_modules=4, return_sequences=return_sequences,
                         return_state=True)
    eager = layer(x, initial_state=[np.zeros((B, 16), "float32"), np.full((B, 1), 3.0, "float32")])
    fn = tf.function(lambda v, h, t: layer(v, initial_state=[h, t]), input_signature=[
        tf.TensorSpec((None, None, D)), tf.TensorSpec((None, 16)), tf.TensorSpec((None, 1))])
    compiled = fn(x, np.zeros((B, 16), "float32"), np.full((B, 1), 3.0, "float32"))
    for a, b in zip(compiled, eager):
        np.testing.assert_allclose(a, b, atol=1e-6)


@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.skipif(not ON_TF, reason="a tf.function regression (unknown length in "
                    "keras.ops.scan on TensorFlow)")
def test_unknown_length_with_fixed_batch_in_tf_function_matches_eager(return_sequences):
    # Regression: keras.ops.scan on TensorFlow raised "'NoneType' object has no attribute
    # 'assert_is_compatible_with'" when the loop got several inputs of unknown length.
    import tensorflow as tf

    layer = ClockworkRNN(16, return_sequences=return_sequences)  # 8 modules: chunks of 8 steps
    fn = tf.function(lambda v: layer(v), input_signature=[tf.TensorSpec((2, None, D))])
    for steps in (13, 16):  # one length that is not a multiple of the chunk, one that is
        x = _x(batch=2, steps=steps)
        np.testing.assert_allclose(fn(x), layer(x), atol=1e-6)


def test_fit_on_batches_of_different_lengths():
    import tensorflow as tf

    lengths = (5, 13, 9, 16)  # one length per batch of 2
    xs = [_x(batch=2, steps=n) for n in lengths]
    ds = tf.data.Dataset.from_generator(
        lambda: ((x, x.sum(axis=(1, 2))[:, None] / 10) for x in xs),
        output_signature=(tf.TensorSpec((None, None, D)), tf.TensorSpec((None, 1))),
    ).apply(tf.data.experimental.assert_cardinality(len(xs)))
    inputs = keras.Input((None, D))
    # 2 modules: chunks of 2 steps (cheap to trace); 5, 13 and 9 are odd lengths
    model = keras.Model(inputs, keras.layers.Dense(1)(ClockworkRNN(16, num_modules=2)(inputs)))
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    history = model.fit(ds, epochs=4, verbose=0)
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]
    # the compiled predict step agrees with eager calls on every length
    for x in xs:
        np.testing.assert_allclose(model.predict_on_batch(x), model(x), atol=1e-5)


def test_go_backwards_reads_the_sequence_reversed():
    x = _x()
    fwd = ClockworkRNN(8, return_sequences=True)
    bwd = ClockworkRNN(8, return_sequences=True, go_backwards=True)
    fwd(x)
    bwd(x)
    bwd.set_weights(fwd.get_weights())
    np.testing.assert_allclose(bwd(x), fwd(x[:, ::-1]), atol=1e-6)


def test_bidirectional_and_stacked():
    x = _x()
    inputs = keras.Input((T, D))
    h = keras.layers.Bidirectional(ClockworkRNN(8, return_sequences=True))(inputs)
    out = ClockworkRNN(4)(h)
    model = keras.Model(inputs, out)
    assert tuple(model(x).shape) == (B, 4)
    bi = model.layers[1]
    forward = np.asarray(bi.forward_layer(x))
    np.testing.assert_allclose(np.asarray(bi(x))[..., :8], forward, atol=1e-6)
    backward = np.asarray(bi.backward_layer(x))[:, ::-1]
    np.testing.assert_allclose(np.asarray(bi(x))[..., 8:], backward, atol=1e-6)
    # Bidirectional with return_state returns both directions' [h, t]
    both = keras.layers.Bidirectional(ClockworkRNN(8, return_state=True))(x)
    assert [tuple(v.shape) for v in both] == [(B, 16), (B, 8), (B, 1), (B, 8), (B, 1)]


def test_gradient_reaches_every_weight():
    # 9 steps > the slowest period 4, so its self-connection is used on a non-zero h.
    layer = ClockworkRNN(12, num_modules=3, return_sequences=True, dropout=0.2,
                         recurrent_dropout=0.2)
    x = _x(steps=9)
    layer(x)
    _, grads, _ = autodiff.value_and_gradients(
        lambda probes: ops.sum(layer(x, training=True) ** 2), layer.trainable_weights,
        state=layer.variables)
    assert len(grads) == 2 + 3
    for w, grad in zip(layer.trainable_weights, grads):
        assert grad is not None and np.any(np.asarray(grad) != 0), w.path


def test_dropout_only_in_training():
    x = _x()
    layer = ClockworkRNN(8, dropout=0.5, recurrent_dropout=0.5, seed=1)
    a, b = layer(x), layer(x)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(layer(x, training=True), a)


@pytest.mark.parametrize("cell_kwargs", [{"num_modules": 4}, {"periods": [1, 3, 4]}])
def test_dropout_is_one_mask_per_sequence_on_every_loop(cell_kwargs):
    # The layer (chunked or per-step loop, masks drawn in its call) and its cell alone in
    # keras.layers.RNN (masks drawn at the first step) draw the same masks from the same
    # seed: equal training outputs call after call, a new mask for every sequence.
    x = _x()
    kwargs = dict(dropout=0.3, recurrent_dropout=0.3, seed=7, **cell_kwargs)
    layer = ClockworkRNN(12, return_sequences=True, **kwargs)
    layer(x)
    generic = keras.layers.RNN(ClockworkRNNCell(12, **kwargs), return_sequences=True)
    generic(x)
    generic.set_weights(layer.get_weights())
    outputs = []
    for _ in range(3):
        got = np.asarray(layer(x, training=True))
        np.testing.assert_allclose(got, generic(x, training=True), atol=1e-5)
        outputs.append(got)
    assert not np.allclose(outputs[0], outputs[1])
    np.testing.assert_allclose(layer(x), generic(x), atol=1e-5)


def test_recurrent_dropout_on_the_chunked_loop_equals_the_per_step_loop():
    # A mask sends the layer through its chunked loop (the static schedule needs none): the
    # recurrent dropout mask must reach every step there too, a chunk's first one included.
    x = _x()
    mask = RNG.random((B, T)) > 0.3
    kwargs = dict(dropout=0.3, recurrent_dropout=0.3, seed=7, num_modules=4)
    layer = ClockworkRNN(12, return_sequences=True, **kwargs)
    layer(x)
    generic = keras.layers.RNN(ClockworkRNNCell(12, **kwargs), return_sequences=True)
    generic(x)
    generic.set_weights(layer.get_weights())
    got = np.asarray(layer(x, mask=mask, training=True))
    np.testing.assert_allclose(got, generic(x, mask=mask, training=True), atol=1e-5)
    assert not np.allclose(got, layer(x, mask=mask))


@pytest.mark.parametrize("kwargs, match", [
    ({"units": 0}, "`units` must be a positive integer"),
    ({"units": 10, "num_modules": 4}, r"`units` must be divisible.*units=10, num_modules=4"),
    ({"units": 12, "num_modules": 0}, "`num_modules` must be a positive integer"),
    ({"units": 12, "periods": [1, 4, 2]}, "strictly increasing.*periods=\\[1, 4, 2\\]"),
    ({"units": 12, "periods": [0, 1]}, "`periods` must be"),
    ({"units": 12, "periods": []}, "`periods` must be"),
    ({"units": 12, "periods": [1, 2], "num_modules": 3}, "`num_modules` must equal len"),
    ({"units": 12, "periods": [1, 2, 4, 8, 16]}, "divisible"),
    ({"units": 12, "dropout": 1.5}, "`dropout` must be a float in"),
])
def test_bad_arguments_raise_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ClockworkRNN(**kwargs)
    with pytest.raises(ValueError, match=match):
        ClockworkRNNCell(**kwargs)


def test_bad_initial_state_raises():
    layer = ClockworkRNN(8)
    with pytest.raises(ValueError, match=r"\[h\] or \[h, t\]"):
        layer(_x(), initial_state=[np.zeros((B, 8), "float32")] * 3)


def test_config_and_keras_round_trip_in_safe_mode(tmp_path):
    x = _x()
    inputs = keras.Input((T, D))
    layer = ClockworkRNN(12, periods=[1, 3, 6], return_sequences=True, dropout=0.1,
                         kernel_regularizer="l2", name="cw")
    model = keras.Model(inputs, layer(inputs))
    config = layer.get_config()
    assert config["periods"] == [1, 3, 6] and config["num_modules"] == 3
    clone = ClockworkRNN.from_config(config)
    assert clone.get_config() == config
    path = tmp_path / "cw.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(loaded.get_layer("cw"), ClockworkRNN)
    np.testing.assert_array_equal(loaded(x), model(x))


def test_default_modules_and_the_recurrent_block():
    assert [default_num_modules(u) for u in (256, 12, 6, 7)] == [8, 4, 2, 1]
    assert ClockworkRNN(256).cell.periods == [1, 2, 4, 8, 16, 32, 64, 128]
    layer = make_rnn_layer("clockwork", 12, return_sequences=True, name="c")
    assert isinstance(layer, ClockworkRNN) and layer.cell.num_modules == 4
    assert make_rnn_layer("clockwork", 12, periods=[1, 5]).cell.periods == [1, 5]


@pytest.mark.slow
@pytest.mark.skipif(not ON_TF, reason="TFLite converts TensorFlow graphs (a JAX model goes "
                    "through jax2tf, whose seed state TFLite builtins refuse)")
def test_tflite_builtins_only_matches_keras_including_a_streaming_step(tmp_path):
    import tensorflow as tf
    from ai_edge_litert.interpreter import Interpreter

    def convert(model):
        converter = tf.lite.TFLiteConverter.from_keras_model(model)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        return Interpreter(model_content=converter.convert())

    def run(interpreter, *arrays):
        interpreter.allocate_tensors()
        by_name = sorted(interpreter.get_input_details(), key=lambda d: d["name"])
        for detail, value in zip(by_name, arrays):
            interpreter.set_tensor(detail["index"], value)
        interpreter.invoke()
        return [interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()]

    x = _x(batch=1)
    inputs = keras.Input((T, D), batch_size=1)
    layer = ClockworkRNN(16, num_modules=4, return_sequences=True)
    model = keras.Model(inputs, layer(inputs))
    (out,) = run(convert(model), x)
    np.testing.assert_allclose(out, model(x), atol=1e-5)

    # streaming: the same layer on one step with [h, t] in and out
    step_layer = ClockworkRNN(16, num_modules=4, return_state=True)
    step_in = keras.Input((1, D), batch_size=1, name="a_x")
    h_in = keras.Input((16,), batch_size=1, name="b_h")
    t_in = keras.Input((1,), batch_size=1, name="c_t")
    step_model = keras.Model([step_in, h_in, t_in],
                             step_layer(step_in, initial_state=[h_in, t_in]))
    step_layer.set_weights(layer.get_weights())
    interpreter = convert(step_model)
    h, t = np.zeros((1, 16), "float32"), np.zeros((1, 1), "float32")
    full = np.asarray(model(x))
    for s in range(T):  # feed the interpreter its own state back: a real stream
        outs = run(interpreter, x[:, s:s + 1], h, t)
        t = next(o for o in outs if o.shape == (1, 1))
        h = next(o for o in outs if o.shape == (1, 16))
        np.testing.assert_allclose(h, full[:, s], atol=1e-5)
        assert t[0, 0] == (s + 1) % 8
