"""Forecasting windows on statsmodels' real series, with a fixed chronological holdout."""

import numpy as np
import pytest

pytest.importorskip("statsmodels")

from rnnzoo.data import regression, series  # noqa: E402


def _arrays(ds):
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in ds])
    return np.concatenate(xs), np.concatenate(ys)


@pytest.mark.parametrize("name,length,start,end,period", [
    ("sunspots", 309, "1700", "2008", 11),
    ("co2", 526, "1958-03", "2001-12", 12),
    ("elnino", 732, "1950-01", "2010-12", 12),
    ("nile", 100, "1871", "1970", 1),
])
def test_series_are_the_published_records(name, length, start, end, period):
    values, info = series.load_series(name)
    assert values.shape == (length,) and values.dtype == np.float32
    assert np.isfinite(values).all()
    assert info["times"][0] == start and info["times"][-1] == end
    assert info["seasonal_period"] == period and info["frequency"] in ("yearly", "monthly")
    assert "public domain" in info["licence"] and info["data_source"]
    parts = series.raw_splits(name)
    np.testing.assert_array_equal(np.concatenate([parts[s] for s in
                                                  ("train", "validation", "test")]), values)
    assert len(parts["test"]) == round(0.15 * length) == len(parts["validation"])


def test_known_values():
    values, info = series.load_series("sunspots")
    assert values[0] == 5.0 and values[-1] == pytest.approx(2.9)  # 1700 and 2008
    co2, info = series.load_series("co2")
    assert "5 months" in info["preprocessing"]
    assert 310 < co2.min() < co2.max() < 375  # ppm, rising over the record
    nino, _ = series.load_series("elnino")
    assert nino[0] == pytest.approx(23.11) and nino[12] == pytest.approx(24.19)  # Jan 1950, 1951


@pytest.mark.parametrize("split", ["train", "validation", "test"])
def test_targets_lie_inside_their_split(split):
    parts = series.raw_splits("sunspots")
    ds = series.load(split, 500, name="sunspots", shuffle=False)
    x, y = _arrays(ds)
    assert x.shape[1:] == (22, 1) and y.shape[1:] == (1,)
    if split == "train":
        # train windows start at the first value: one target per value after the first window
        np.testing.assert_array_equal(y[:, 0], parts["train"][22:])
        np.testing.assert_array_equal(x[0, :, 0], parts["train"][:22])
    else:
        # one window per holdout value: targets are exactly the holdout, in order
        np.testing.assert_array_equal(y[:, 0], parts[split])
        before = parts["train"] if split == "validation" else parts["validation"]
        np.testing.assert_array_equal(x[0, :, 0], before[-22:])  # the preceding history


def test_horizon_and_many_to_many_targets_stay_in_the_holdout():
    parts = series.raw_splits("elnino")
    _, y = _arrays(series.load("test", 500, name="elnino", horizon=6))
    assert y.shape == (110 - 6 + 1, 6, 1)
    assert y[0, 0, 0] == parts["test"][0] and y[-1, -1, 0] == parts["test"][-1]
    x, y = _arrays(series.load("validation", 500, name="elnino", horizon=2,
                               return_sequences=True, sequence_length=12))
    assert x.shape[1:] == (12, 1) and y.shape[1:] == (12, 2, 1)
    assert y[0, 0, 0, 0] == parts["validation"][0]
    assert y[-1, -1, -1, 0] == parts["validation"][-1]
    _, train_y = _arrays(series.load("train", 500, name="elnino", horizon=2,
                                     return_sequences=True, sequence_length=12, shuffle=False))
    # the last train target is the last train value: nothing reaches into validation
    assert train_y[0, 0, 0, 0] == parts["train"][1]
    assert train_y[-1, -1, -1, 0] == parts["train"][-1]
    assert len(train_y) == 512 - (12 + 2) + 1


def test_windows_match_the_regression_loader_shapes():
    builtin = regression.load_builtin("test", 4, sequence_length=22, horizon=3,
                                      length=400, shuffle=False)
    real = series.load("test", 4, name="sunspots", horizon=3)
    assert builtin.element_spec[0].shape.as_list()[1:] == real.element_spec[0].shape.as_list()[1:]
    assert builtin.element_spec[1].shape.as_list()[1:] == real.element_spec[1].shape.as_list()[1:]
    assert real.element_spec[0].dtype == builtin.element_spec[0].dtype


def test_train_shuffle_is_seeded_and_stays_in_train():
    parts = series.raw_splits("nile")
    a = _arrays(series.load("train", 100, name="nile", seed=1))[1][:, 0]
    b = _arrays(series.load("train", 100, name="nile", seed=1))[1][:, 0]
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(np.sort(a), np.sort(parts["train"][10:]))
    assert not np.array_equal(a, parts["train"][10:])


def test_build_options_and_metadata():
    ds = series.load("validation", 8, name="co2", horizon=2)
    opts = ds.rnnzoo_build_options
    assert {k: opts[k] for k in ("num_features", "num_outputs", "horizon",
                                 "return_sequences")} == {
        "num_features": 1, "num_outputs": 1, "horizon": 2, "return_sequences": False}
    np.testing.assert_array_equal(opts["adapt_data"][0][:, 0], series.raw_splits("co2")["train"])
    meta = ds.rnnzoo_metadata
    assert meta["name"] == "co2" and meta["seasonal_period"] == 12
    assert meta["frequency"] == "monthly" and meta["source"] == "statsmodels"
    assert meta["sizes"] == {"train": 368, "validation": 79, "test": 79}
    assert meta["periods"]["test"] == ("1995-06", "2001-12")


def test_errors():
    with pytest.raises(ValueError, match=r"`name` must be one of \['sunspots'"):
        series.load("train", 8, name="sunspot")
    with pytest.raises(ValueError, match="num_outputs"):
        series.load("train", 8, name="nile", num_outputs=2)
    with pytest.raises(ValueError, match="fewer than one window"):
        series.load("test", 8, name="nile", sequence_length=10, horizon=20)
