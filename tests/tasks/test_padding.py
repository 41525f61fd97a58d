"""Padded variable-length series: masked through every cell, normalised without the padding.

A padded batch must give each series the output it gets alone (the last real
step decides), for every cell of the table, bidirectional and deep, for
classification and regression, with LSTM-FCN's convolutional branch, and in
the exported TFLite file; the normalization statistics never see the padding,
and adapt data that would poison them (NaN, nothing real) is refused.
"""

import numpy as np
import pytest

import rnnzoo
from rnnzoo.layers.recurrent import available_cells
from rnnzoo.tasks import classification, regression

LENGTHS = (5, 9, 3, 1)


def _series(channels=3, lengths=LENGTHS, seed=0, loc=0.0, pad=0.0):
    rng = np.random.default_rng(seed)
    alone = [rng.normal(loc, 1.0, size=(n, channels)).astype("float32") for n in lengths]
    padded = np.full((len(lengths), max(lengths), channels), pad, "float32")
    for i, x in enumerate(alone):
        padded[i, : len(x)] = x
    return alone, padded


def _assert_padding_ignored(model, alone, padded, atol=1e-5):
    together = np.asarray(model(padded))
    one_by_one = np.concatenate([np.asarray(model(x[None])) for x in alone])
    np.testing.assert_allclose(together, one_by_one, atol=atol)
    return together


@pytest.mark.parametrize("cell", available_cells())
@pytest.mark.parametrize("bidirectional, depth", [(False, 1), (True, 2)])
def test_classification_padded_batch_equals_each_series_alone(cell, bidirectional, depth):
    alone, padded = _series()
    model = rnnzoo.build("classification", num_features=3, num_classes=4, units=6, cell=cell,
                         bidirectional=bidirectional, depth=depth)
    out = _assert_padding_ignored(model, alone, padded)
    # without masking the padding does change the outputs: the test can fail
    plain = rnnzoo.build("classification", num_features=3, num_classes=4, units=6, cell=cell,
                         bidirectional=bidirectional, depth=depth, mask_value=None)
    plain.set_weights(model.get_weights())
    assert not np.allclose(np.asarray(plain(padded)), out, atol=1e-5)


@pytest.mark.parametrize("cell", available_cells())
def test_regression_padded_batch_equals_each_series_alone(cell):
    alone, padded = _series(channels=2, loc=5.0)
    model = rnnzoo.build("regression", num_features=2, num_outputs=1, horizon=3, units=6,
                         cell=cell, depth=2, bidirectional=cell != "feedforward")
    _assert_padding_ignored(model, alone, padded)


def test_many_to_many_regression_keeps_real_steps_and_a_custom_mask_value():
    alone, padded = _series(channels=2, loc=5.0, pad=-1.0)
    model = rnnzoo.build("regression", num_features=2, units=6, return_sequences=True,
                         mask_value=-1.0, adapt_data=(padded, padded[..., :1]))
    together = np.asarray(model(padded))
    for i, x in enumerate(alone):
        np.testing.assert_allclose(together[i, : len(x)], np.asarray(model(x[None]))[0],
                                   atol=1e-5)


def test_fcn_branch_is_exact_on_padded_batches_after_training():
    alone, padded = _series(loc=2.0)
    model = rnnzoo.build("classification", num_features=3, num_classes=3, units=6,
                         fcn_filters=(4, 8, 4), adapt_data=padded)
    assert model.get_layer("fcn_conv_1").kernel.shape == (8, 3, 4)  # LSTM-FCN's kernel 8
    model.fit(padded, np.array([0, 1, 2, 0]), epochs=2, verbose=0)  # moves BatchNorm stats
    _assert_padding_ignored(model, alone, padded)


def test_normalization_statistics_leave_the_padding_out():
    alone, padded = _series(loc=10.0)
    real = np.concatenate(alone)
    model = rnnzoo.build("classification", num_features=3, num_classes=2, units=4,
                         adapt_data=padded)
    layer = model.get_layer("input_normalization")
    np.testing.assert_allclose(np.ravel(layer.mean), real.mean(0), rtol=1e-5)
    np.testing.assert_allclose(np.ravel(layer.variance), real.var(0), rtol=1e-4)
    reg = rnnzoo.build("regression", num_features=3, num_outputs=1, units=4,
                       adapt_data=(padded, np.ones((4, 1), "float32")))
    np.testing.assert_allclose(np.ravel(reg.get_layer("input_normalization").mean),
                               real.mean(0), rtol=1e-5)
    # with mask_value=None every step counts, padding included
    unmasked = rnnzoo.build("classification", num_features=3, num_classes=2, units=4,
                            adapt_data=padded, mask_value=None)
    np.testing.assert_allclose(np.ravel(unmasked.get_layer("input_normalization").mean),
                               padded.reshape(-1, 3).mean(0), rtol=1e-5)


@pytest.mark.parametrize("bad, match", [
    (np.full((2, 4, 3), np.nan, "float32"), "NaN or infinite"),
    (np.zeros((2, 4, 3), "float32"), "no real step"),
    (np.zeros((0, 4, 3), "float32"), "no real step"),
])
def test_nan_or_empty_adapt_data_is_refused(bad, match):
    with pytest.raises(ValueError, match=match):
        rnnzoo.build("classification", num_features=3, num_classes=2, adapt_data=bad)
    with pytest.raises(ValueError, match=match):
        rnnzoo.build("regression", num_features=3, adapt_data=(bad, np.ones((len(bad), 1))))
    model = rnnzoo.build("regression", num_features=3, units=4)
    with pytest.raises(ValueError, match=match):
        regression.adapt_normalization(model, (bad, np.ones((len(bad), 1))))


def test_nan_targets_are_refused():
    x = np.ones((3, 4, 2), "float32")
    y = np.array([[1.0], [np.nan], [2.0]], "float32")
    with pytest.raises(ValueError, match="targets with 1 NaN"):
        rnnzoo.build("regression", num_features=2, adapt_data=(x, y))


def test_classification_adapt_normalization_on_a_dataset():
    import tensorflow as tf

    alone, padded = _series(loc=-4.0)
    model = rnnzoo.build("classification", num_features=3, num_classes=2, units=4,
                         normalize=True)
    layer = model.get_layer("input_normalization")
    np.testing.assert_allclose(np.ravel(layer.mean), 0.0)  # identity until adapted
    ds = tf.data.Dataset.from_tensor_slices((padded, np.zeros(4, "int32"))).batch(3)
    classification.adapt_normalization(model, ds)
    np.testing.assert_allclose(np.ravel(layer.mean), np.concatenate(alone).mean(0), rtol=1e-5)
    with pytest.raises(ValueError, match="normalize=True"):
        classification.adapt_normalization(
            rnnzoo.build("classification", num_features=3, units=4), padded)


@pytest.mark.parametrize("kwargs, match", [
    ({"normalize": True}, "num_features"),
    ({"fcn_filters": (4,)}, "num_features"),
    ({"num_features": 3, "fcn_filters": (4, 0)}, "fcn_filters"),
    ({"num_features": 3, "mask_value": float("nan")}, "mask_value"),
    ({"adapt_data": np.ones((2, 3, 1), "float32")}, "adapt_data"),
    ({"num_features": 3, "adapt_data": "train.csv"}, "adapt_data"),
    ({"num_features": 3, "adapt_data": np.ones((2, 3, 2), "float32")}, "3 channels"),
])
def test_bad_padding_and_normalization_options_fail_fast(kwargs, match):
    with pytest.raises(ValueError, match=match):
        rnnzoo.build("classification", **kwargs)


@pytest.mark.slow
def test_tflite_file_of_a_masked_model_ignores_padding(tmp_path):
    """The whole-sequence file reads padded input as Keras reads the series alone; the
    streaming file fed the real steps gives the same output."""
    import tensorflow as tf

    from rnnzoo.litert_runtime import LiteRTModel

    alone, padded = _series(loc=3.0)
    model = rnnzoo.build("classification", num_features=3, num_classes=4, units=6,
                         adapt_data=padded)
    test = tf.data.Dataset.from_tensor_slices((padded, np.zeros(4, "int32"))).batch(2)
    report = rnnzoo.export.to_tflite(model, tmp_path / "m.tflite", test_data=test,
                                     verbose=False)
    assert report.verified
    runtime = LiteRTModel(report.path)
    for i, x in enumerate(alone):
        got = runtime.predict(features=padded[i: i + 1])["classifier"]
        np.testing.assert_allclose(got, np.asarray(model(x[None])), atol=1e-5)
    report = rnnzoo.export.to_tflite(model, tmp_path / "s.tflite", streaming=True,
                                     test_data=test, verbose=False)
    streamer = LiteRTModel(report.path).streamer()
    x = alone[1]
    for t in range(len(x)):
        out = streamer.step(features=x[None, t: t + 1])
    np.testing.assert_allclose(out["classifier"], np.asarray(model(x[None])), atol=1e-5)
