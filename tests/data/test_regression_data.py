"""The regression TFDS loader, run offline on mock data."""

import numpy as np
import pytest


def test_tfds_series_is_sorted_in_time_and_windowed():
    import tensorflow_datasets as tfds  # a hard dependency: a broken install fails here
    from rnnzoo.data import regression as data

    with tfds.testing.mock_data(num_examples=100):
        train = data.load_tfds("train", 16, feature_keys=("year", "temp"), sequence_length=8,
                               horizon=2)
        batches = list(train)
        x = np.concatenate([b[0] for b in batches])
        y = np.concatenate([b[1] for b in batches])
        # 70 steps in the train part -> 70 - (8 + 2) + 1 windows
        assert x.shape == (61, 8, 2) and y.shape == (61, 2, 1)
        # TFDS does not keep the order: the loader sorts by year, so every window is in time order
        assert np.all(np.diff(x[..., 0], axis=1) >= 0)
        assert np.all(y[:, 0, 0] >= x[:, -1, 0])
        test = list(data.load_tfds("test", 4, sequence_length=5))
        assert test[0][0].shape == (4, 5, 2) and test[0][1].shape == (4, 1)
        with pytest.raises(ValueError, match="feature_keys"):
            data.load_tfds("train", 4, feature_keys=("temperature",))


def test_missing_values_are_interpolated():
    from rnnzoo.data.regression import _fill_missing

    series = np.array([[np.nan, 1.0], [2.0, np.nan], [np.nan, 3.0], [4.0, np.nan]])
    np.testing.assert_allclose(_fill_missing(series), [[2, 1], [2, 2], [3, 3], [4, 3]])
    with pytest.raises(ValueError, match="no finite value"):
        _fill_missing(np.full((3, 1), np.nan))
