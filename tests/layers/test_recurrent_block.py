"""The recurrent block: Keras' own layers as they are, depth, Bidirectional, the baseline."""

import numpy as np
import pytest

import keras
from rnnzoo.layers import FeedForward, recurrent


def _model(**kwargs):
    inputs = keras.Input((None, 3))
    return keras.Model(inputs, recurrent.recurrent_block(inputs, **kwargs))


@pytest.mark.parametrize("cell, cls", [("lstm", keras.layers.LSTM), ("gru", keras.layers.GRU),
                                       ("simple", keras.layers.SimpleRNN)])
def test_builtin_cells_are_keras_layers_with_the_right_sizes(cell, cls):
    model = _model(cell=cell, units=5, depth=3)
    layers = [layer for layer in model.layers if isinstance(layer, cls)]
    assert len(layers) == 3
    assert [layer.return_sequences for layer in layers] == [True, True, False]
    assert model.output_shape == (None, 5)
    reference = keras.Sequential([keras.Input((None, 3)), cls(5, return_sequences=True),
                                  cls(5, return_sequences=True), cls(5)])
    assert model.count_params() == reference.count_params()


def test_bidirectional_doubles_width_and_can_return_sequences():
    model = _model(cell="gru", units=4, depth=2, bidirectional=True, return_sequences=True)
    assert model.output_shape == (None, None, 8)
    assert sum(isinstance(layer, keras.layers.Bidirectional) for layer in model.layers) == 2


def test_feedforward_baseline_same_width_and_depth_no_recurrence():
    model = _model(cell="feedforward", units=6, depth=2)
    assert model.output_shape == (None, 6)
    assert not any(isinstance(layer, keras.layers.RNN) for layer in model.layers)
    x = np.random.default_rng(0).normal(size=(2, 5, 3)).astype("float32")
    # no recurrence and mean pooling: the order of time steps does not matter
    np.testing.assert_allclose(model(x), model(x[:, ::-1]), atol=1e-6)


def test_feedforward_pooling_respects_the_mask():
    inputs = keras.Input((None,), dtype="int32")
    x = keras.layers.Embedding(10, 3, mask_zero=True)(inputs)
    model = keras.Model(inputs, recurrent.recurrent_block(x, cell="feedforward", units=4))
    a = np.array([[1, 2, 3, 0, 0]])
    np.testing.assert_allclose(model(a), model(a[:, :3]), atol=1e-6)


def test_register_cell_extension_point_and_duplicates():
    calls = []

    def factory(units, *, return_sequences, return_state, dropout, go_backwards, name, **kw):
        calls.append(units)
        return keras.layers.SimpleRNN(units, return_sequences=return_sequences,
                                      return_state=return_state, go_backwards=go_backwards,
                                      name=name)

    recurrent.register_cell("toy_cell", factory)
    try:
        assert "toy_cell" in recurrent.available_cells()
        model = _model(cell="toy_cell", units=3, depth=2)
        assert calls == [3, 3] and model.output_shape == (None, 3)
        with pytest.raises(ValueError, match="already registered"):
            recurrent.register_cell("toy_cell", factory)
    finally:
        recurrent.unregister_cell("toy_cell")
    assert "toy_cell" not in recurrent.available_cells()


@pytest.mark.parametrize("kwargs, fragment", [
    ({"cell": "lsmt"}, "Did you mean 'lstm'?"),
    ({"depth": 0}, "`depth` must be a positive integer. Received: depth=0"),
])
def test_bad_block_arguments(kwargs, fragment):
    with pytest.raises(ValueError) as err:
        _model(**kwargs)
    assert fragment in str(err.value)


def test_make_rnn_layer_builds_every_cell_and_rejects_bad_units():
    with pytest.raises(ValueError, match="Received: units=0"):
        recurrent.make_rnn_layer("lstm", 0)
    layer = recurrent.make_rnn_layer("lstm", 4, return_state=True)
    out, h, c = layer(np.zeros((2, 3, 5), "float32"))
    assert out.shape == h.shape == c.shape == (2, 4)
    # the baseline is a cell like the others: a layer without recurrence
    layer = recurrent.make_rnn_layer("feedforward", 4, bidirectional=True, name="ff")
    assert isinstance(layer, FeedForward) and layer.name == "ff"
    assert layer(np.zeros((2, 3, 5), "float32")).shape == (2, 4)


def test_cell_table_declares_which_cells_are_recurrent():
    assert recurrent.recurrent_cells() == tuple(c for c in recurrent.available_cells()
                                                if c != "feedforward")
    assert recurrent.available_cells()[-1] == "feedforward"
    assert not recurrent.get_cell("feedforward").recurrent and recurrent.get_cell("gru").recurrent
    assert recurrent.layer_width("gru", 8, True) == 16
    assert recurrent.layer_width("feedforward", 8, True) == 8  # nothing runs in time
    bi = recurrent.make_rnn_layer("gru", 3, bidirectional=True, name="enc")
    assert isinstance(bi, keras.layers.Bidirectional) and bi.name == "enc"
    assert bi.forward_layer.name.startswith("forward_enc_gru")
    assert recurrent.state_sizes(bi) == [3]
    assert recurrent.state_sizes(recurrent.make_rnn_layer("lstm", 5)) == [5, 5]
    assert recurrent.state_sizes(recurrent.make_rnn_layer("feedforward", 5)) == [5, 1]
    assert recurrent.state_sizes(
        recurrent.make_rnn_layer("feedforward", 5, return_sequences=True)) == []


def test_feedforward_steps_reproduce_the_whole_sequence():
    layer = FeedForward(4, return_state=True)
    x = np.random.default_rng(1).normal(size=(2, 6, 3)).astype("float32")
    mean, total, count = layer(x)
    states = layer.get_initial_state(2)
    for t in range(6):
        y, states = layer.step(x[:, t], states)
    np.testing.assert_allclose(y, mean, atol=1e-6)
    np.testing.assert_allclose(states[0], total, atol=1e-5)
    np.testing.assert_allclose(count, np.full((2, 1), 6.0))
    # continuing from a state equals reading the whole sequence at once
    first, s1, c1 = layer(x[:, :2])
    np.testing.assert_allclose(layer(x[:, 2:], initial_state=[s1, c1])[0], mean, atol=1e-6)


def test_feedforward_saves_and_loads(tmp_path):
    inputs = keras.Input((None, 3))
    model = keras.Model(inputs, FeedForward(5, dropout=0.2, name="ff")(inputs))
    path = tmp_path / "ff.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    x = np.random.default_rng(2).normal(size=(2, 4, 3)).astype("float32")
    np.testing.assert_allclose(loaded(x), model(x), atol=1e-6)
    assert loaded.get_layer("ff").get_config() == model.get_layer("ff").get_config()
