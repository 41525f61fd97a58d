"""Built-in classification data and the imdb_reviews TFDS loader (offline, mocked)."""

import numpy as np
import pytest

import rnnzoo
from rnnzoo.data import classification as data


def test_generator_is_deterministic_and_labels_are_the_first_marker():
    x1, y1 = data.generate(200, seed=7)
    x2, y2 = data.generate(200, seed=7)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(data.generate(200, seed=8)[0], x1)
    num_classes = data.BUILTIN["num_classes"]
    np.testing.assert_array_equal(x1[:, 0], y1 + 1)  # the label's marker comes first
    for row in x1:
        length = int((row != 0).sum())
        assert data.BUILTIN["min_length"] <= length <= data.BUILTIN["sequence_length"]
        assert np.all(row[:length] != 0) and np.all(row[length:] == 0)  # post-padded
        # every marker exactly once: the bag of tokens says nothing about the label
        for marker in range(1, num_classes + 1):
            assert (row == marker).sum() == 1


def test_bag_of_tokens_carries_no_label_information():
    x, y = data.generate(4000, seed=3)
    num_classes = data.BUILTIN["num_classes"]
    marker_counts = np.stack([(x == m).sum(axis=1) for m in range(1, num_classes + 1)], axis=1)
    assert np.all(marker_counts == 1)
    assert abs(np.bincount(y).max() / len(y) - 1 / num_classes) < 0.03


def test_load_splits_shapes_and_dtypes():
    ds = rnnzoo.data.load("classification", "validation", batch_size=32)
    x, y = next(iter(ds))
    assert x.shape == (32, data.BUILTIN["sequence_length"]) and x.dtype.name == "int32"
    assert y.shape == (32,) and y.dtype.name == "int32"
    assert sum(int(b[1].shape[0]) for b in ds) == data.BUILTIN["num_examples"]["validation"]
    val = next(iter(rnnzoo.data.load("classification", "validation", 64)))[0].numpy()
    test = next(iter(rnnzoo.data.load("classification", "test", 64)))[0].numpy()
    assert not np.array_equal(val, test)


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"split": "dev"}, "`split` must be one of ['train', 'validation', 'test']. Received: split='dev'"),
        ({"batch_size": 0}, "`batch_size` must be a positive integer. Received: batch_size=0"),
        ({"source": "tfsd"}, "Did you mean 'tfds'?"),
    ],
)
def test_load_rejects_bad_arguments(kwargs, fragment):
    with pytest.raises(ValueError) as err:
        rnnzoo.data.load("classification", **kwargs)
    assert fragment in str(err.value)


def test_generator_rejects_impossible_settings():
    with pytest.raises(ValueError, match="min_length"):
        data.generate(10, min_length=50, sequence_length=40)
    with pytest.raises(ValueError, match="num_classes"):
        data.generate(10, num_classes=40, vocab_size=32)


def test_tfds_imdb_loader_with_mock_data():
    import tensorflow_datasets as tfds  # a hard dependency: a broken install fails here
    with tfds.testing.mock_data(num_examples=64):
        ds = rnnzoo.data.load("classification", "train", batch_size=16, source="tfds",
                              vocab_size=200, sequence_length=20, adapt_examples=64)
        x, y = next(iter(ds))
        test_x, _ = next(iter(rnnzoo.data.load("classification", "test", batch_size=16,
                                               source="tfds", vocab_size=200,
                                               sequence_length=20, adapt_examples=64)))
    assert x.shape == (16, 20) and test_x.shape == (16, 20)
    assert int(np.max(x)) < 200 and int(np.min(x)) >= 0
    assert set(np.unique(y.numpy())) <= {0, 1}
    # the same element structure the task's model takes: it fits directly
    model = rnnzoo.build("classification", vocab_size=200, num_classes=2, units=4)
    assert np.isfinite(model.evaluate(x, y, verbose=0, return_dict=True)["loss"])
