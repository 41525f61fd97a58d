"""The ``regression`` task: output layouts, normalization, errors, CLI, and beating persistence."""

import json

import numpy as np
import pytest

import keras
import rnnzoo
from rnnzoo import cli
from rnnzoo.data import regression as data
from rnnzoo.tasks.regression import adapt_normalization, output_layout

SMALL = {"sequence_length": 12, "length": 600, "stride": 8}


@pytest.mark.parametrize(
    "return_sequences, horizon, expected",
    [
        (False, 1, (None, 2)),
        (False, 5, (None, 5, 2)),
        (True, 1, (None, None, 2)),
        (True, 3, (None, None, 3, 2)),
    ],
)
def test_output_layout_matches_the_data(return_sequences, horizon, expected):
    kwargs = dict(num_features=3, num_outputs=2, horizon=horizon,
                  return_sequences=return_sequences)
    model = rnnzoo.build("regression", units=4, **kwargs)
    assert model.output_shape == expected
    assert output_layout(model) == (horizon, return_sequences)
    x, y = next(iter(rnnzoo.data.load("regression", "test", 4, **kwargs, **SMALL)))
    assert x.shape == (4, 12, 3)
    pred = model.predict(x, verbose=0)
    assert pred.shape == y.shape == (4, *(12 if d is None else d for d in expected[1:]))
    assert np.isfinite(model.evaluate(x, y, verbose=0, return_dict=True)["loss"])


def test_windows_are_the_series_cut_in_time():
    part = data.split_series(data.generate_series(600, 3), "validation")
    ds = data.load_builtin("validation", 64, num_features=3, num_outputs=2, horizon=4,
                           sequence_length=12, length=600)
    # static shapes: every window has the same length
    assert tuple(ds.element_spec[0].shape) == (None, 12, 3)
    assert tuple(ds.element_spec[1].shape) == (None, 4, 2)
    x, y = next(iter(ds))
    np.testing.assert_array_equal(x[0], part[0:12])
    np.testing.assert_array_equal(y[0], part[12:16, :2])
    np.testing.assert_array_equal(x[5], part[5:17])  # validation is not shuffled
    # many-to-many: the forecast target after step t is the next `horizon` values
    ds = data.load_builtin("validation", 64, num_features=3, num_outputs=2, horizon=4,
                           return_sequences=True, sequence_length=12, length=600)
    x, y = next(iter(ds))
    np.testing.assert_array_equal(y[0, 3], part[4:8, :2])
    # persistence: the last seen value of each target channel, per forecast step
    p = data.persistence_forecast(x, 2, 4, return_sequences=True)
    np.testing.assert_array_equal(p[0, 3], np.repeat(part[3:4, :2], 4, axis=0))
    np.testing.assert_array_equal(data.persistence_forecast(x[:, :, :], 2), x[:, -1, :2])


def test_splits_are_consecutive_and_disjoint():
    series = data.generate_series(1000, 1)
    parts = [data.split_series(series, s) for s in ("train", "validation", "test")]
    assert [len(p) for p in parts] == [700, 150, 150]
    np.testing.assert_array_equal(np.concatenate(parts), series)
    np.testing.assert_array_equal(data.generate_series(1000, 1), series)  # deterministic
    assert not np.array_equal(data.generate_series(1000, 1, seed=1), series)


def test_normalization_is_adapted_on_the_training_split_and_outputs_are_in_data_units():
    model = rnnzoo.build("regression", units=4, num_features=2, num_outputs=1)
    train = data.split_series(data.generate_series(num_features=2), "train")
    layer = model.get_layer("input_normalization")
    np.testing.assert_allclose(np.ravel(layer.mean), train.mean(0), rtol=1e-5)
    np.testing.assert_allclose(np.ravel(layer.variance), train.var(0), rtol=1e-4)
    # An untrained model already predicts around the data's level (about 10), not around 0.
    x, _ = next(iter(data.load_builtin("test", 16, num_features=2)))
    pred = model.predict(x, verbose=0)
    assert abs(pred.mean() - train[:, 0].mean()) < 1.5 * train[:, 0].std()
    plain = rnnzoo.build("regression", units=4, num_features=2, normalize=False)
    assert abs(plain.predict(x, verbose=0).mean()) < 3.0
    names = [lyr.name for lyr in plain.layers]
    assert "input_normalization" not in names and "output_denormalization" not in names


def test_adapt_data_sets_the_statistics_and_they_are_saved(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(100.0, 5.0, size=(50, 7, 3)).astype("float32")
    y = rng.normal(-20.0, 2.0, size=(50, 2)).astype("float32")
    model = rnnzoo.build("regression", units=4, num_features=3, num_outputs=2,
                         adapt_data=(x, y))
    inp = model.get_layer("input_normalization")
    out = model.get_layer("output_denormalization")
    np.testing.assert_allclose(np.ravel(inp.mean), x.reshape(-1, 3).mean(0), rtol=1e-5)
    np.testing.assert_allclose(np.ravel(out.variance), y.var(0), rtol=1e-4)
    path = tmp_path / "reg.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               atol=1e-5)
    np.testing.assert_allclose(
        np.ravel(loaded.get_layer("output_denormalization").mean), y.mean(0), rtol=1e-5
    )
    # re-adapting on a tf.data pipeline gives the same statistics
    import tensorflow as tf

    other = rnnzoo.build("regression", units=4, num_features=3, num_outputs=2)
    adapt_normalization(other, tf.data.Dataset.from_tensor_slices((x, y)).batch(16))
    np.testing.assert_allclose(np.ravel(other.get_layer("output_denormalization").mean),
                               y.mean(0), rtol=1e-5)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"horizon": 0}, "horizon"),
        ({"num_features": 0}, "num_features"),
        ({"return_sequences": "yes"}, "return_sequences"),
        ({"cell": "lstn"}, "Did you mean 'lstm'"),
        ({"adapt_data": "train.csv"}, "adapt_data"),
        ({"bidirectional": True, "return_sequences": True}, "future"),
        ({"num_features": 2, "adapt_data": (np.zeros((4, 5, 3)), np.zeros((4, 1)))},
         "num_features=2"),
    ],
)
def test_bad_options_fail_fast(kwargs, match):
    with pytest.raises(ValueError, match=match):
        rnnzoo.build("regression", **kwargs)


def test_bad_data_arguments_fail_clearly():
    with pytest.raises(ValueError, match="num_outputs"):
        data.load_builtin("train", 8, num_features=1, num_outputs=2)
    with pytest.raises(ValueError, match="sequence_length"):
        data.make_windows(np.zeros(10), sequence_length=10, horizon=1)
    with pytest.raises(ValueError, match="split"):
        rnnzoo.data.load("regression", "tests")
    with pytest.raises(ValueError, match="normalize=True"):
        adapt_normalization(rnnzoo.build("regression", units=4, normalize=False),
                            (np.zeros((2, 3, 1)), np.zeros((2, 1))))


def test_cli_trains_with_a_progress_bar_and_saves(tmp_path, capsys):
    out = tmp_path / "run"
    code = cli.main([
        "train", "regression", "--epochs", "1", "--units", "4", "--cell", "gru",
        "--set", "horizon=2", "--data", "horizon=2", "length=600", "sequence_length=12",
        "stride=4", "--out", str(out),
    ])
    assert code == 0
    printed = capsys.readouterr().out
    assert "step" in printed and "rmse" in printed  # Keras progress bar with the metrics
    record = json.loads((out / "regression_metrics.json").read_text())
    assert set(record["test"]) >= {"loss", "rmse", "mae", "mse"}
    assert record["options"]["horizon"] == 2
    model = keras.saving.load_model(out / "regression.keras", safe_mode=True)
    assert model.output_shape == (None, 2, 1)


@pytest.mark.slow
def test_default_model_beats_persistence_by_a_clear_margin():
    keras.utils.set_random_seed(0)
    model = rnnzoo.build("regression")
    train = rnnzoo.data.load("regression", "train", 64, stride=2)
    test = rnnzoo.data.load("regression", "test", 256)
    model.fit(train, epochs=4, verbose=0)
    rmse = model.evaluate(test, verbose=0, return_dict=True)["rmse"]
    report = rnnzoo.registry.get("regression").demo["report"](model, test)
    persistence = report["baseline_value"]
    print(f"regression test RMSE {rmse:.4f} vs persistence {persistence:.4f}")
    assert persistence > 0.4  # the series is not trivially predictable by the last value
    assert rmse < 0.6 * persistence, (rmse, persistence)


@pytest.mark.parametrize("return_sequences, horizon", [(False, 1), (False, 3), (True, 1),
                                                       (True, 3)])
def test_residual_forecast_is_persistence_plus_a_learned_correction(return_sequences, horizon):
    rng = np.random.default_rng(0)
    x = rng.normal(50.0, 5.0, size=(3, 6, 2)).astype("float32")
    model = rnnzoo.build("regression", num_features=2, num_outputs=1, horizon=horizon,
                         return_sequences=return_sequences, residual=True, units=4,
                         adapt_data=(x, x[:, -1:, 0]))
    head = model.get_layer("forecast")
    head.kernel.assign(np.zeros(head.kernel.shape))
    head.bias.assign(np.zeros(head.bias.shape))
    last = x[:, :, None, :1] if return_sequences else x[:, -1:, :1]
    out = np.asarray(model(x))
    expected = np.repeat(last, horizon, axis=-2).reshape(out.shape)  # (3, [6,] [h,] 1)
    np.testing.assert_allclose(out, expected, rtol=1e-5)
    # a correction moves the forecast away from persistence
    head.bias.assign(np.ones(head.bias.shape))
    assert not np.allclose(np.asarray(model(x)), expected)


def test_residual_forecast_reads_the_last_real_step_of_padded_windows():
    rng = np.random.default_rng(1)
    x = rng.normal(5.0, 1.0, size=(1, 4, 2)).astype("float32")
    padded = np.concatenate([x, np.zeros((1, 3, 2), "float32")], axis=1)
    model = rnnzoo.build("regression", num_features=2, residual=True, units=4)
    np.testing.assert_allclose(np.asarray(model(padded)), np.asarray(model(x)), atol=1e-6)
    with pytest.raises(ValueError, match="num_outputs must be <= num_features"):
        rnnzoo.build("regression", num_features=1, num_outputs=2, residual=True)


def test_loaded_weights_bring_their_normalization_statistics(tmp_path):
    """weights=<file> into a model built with other statistics normalises like the file."""
    rng = np.random.default_rng(3)
    x = rng.normal(40.0, 9.0, size=(20, 6, 1)).astype("float32")
    y = rng.normal(40.0, 9.0, size=(20, 1)).astype("float32")
    trained = rnnzoo.build("regression", num_features=1, units=4, mask_value=None,
                           adapt_data=(x, y))
    trained.save(tmp_path / "m.keras")
    loaded = rnnzoo.build("regression", num_features=1, units=4, mask_value=None,
                          weights=str(tmp_path / "m.keras"))  # built with other statistics
    np.testing.assert_allclose(loaded.predict(x, verbose=0), trained.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-4)
