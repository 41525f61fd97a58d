"""The recurrent block: Keras' own layers as they are, depth, Bidirectional, the baseline."""

import numpy as np
import pytest

import keras
from rnnzoo.layers import recurrent


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
        recurrent._CELL_FACTORIES.pop("toy_cell", None)


@pytest.mark.parametrize("kwargs, fragment", [
    ({"cell": "lsmt"}, "Did you mean 'lstm'?"),
    ({"depth": 0}, "`depth` must be a positive integer. Received: depth=0"),
])
def test_bad_block_arguments(kwargs, fragment):
    with pytest.raises(ValueError) as err:
        _model(**kwargs)
    assert fragment in str(err.value)


def test_make_rnn_layer_rejects_feedforward_and_bad_units():
    with pytest.raises(ValueError, match="feedforward"):
        recurrent.make_rnn_layer("feedforward", 4)
    with pytest.raises(ValueError, match="Received: units=0"):
        recurrent.make_rnn_layer("lstm", 0)
    layer = recurrent.make_rnn_layer("lstm", 4, return_state=True)
    out, h, c = layer(np.zeros((2, 3, 5), "float32"))
    assert out.shape == h.shape == c.shape == (2, 4)
