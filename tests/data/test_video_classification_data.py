"""The built-in moving-dot clips and the UCF101 loader (offline, on mock data)."""

import numpy as np
import pytest
import tensorflow as tf

from rnnzoo.data import video_classification as data


def _centroids(clip):
    """(x, y) of the blob in each frame of a (T, H, W, C) clip."""
    w = np.asarray(clip)[..., 0] ** 4
    h, wd = w.shape[1:]
    x = (w.sum(1) * (np.arange(wd) + 0.5)).sum(-1) / w.sum((1, 2))
    y = (w.sum(2) * (np.arange(h) + 0.5)).sum(-1) / w.sum((1, 2))
    return x, y


def test_clips_are_deterministic_in_range_and_move_the_labelled_way():
    ds = data.load_builtin("test", 32, num_examples=64)
    x, y = next(iter(ds))
    x2, y2 = next(iter(data.load_builtin("test", 32, num_examples=64)))
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    assert x.shape == (32, 8, 32, 32, 1) and x.dtype == tf.float32 and y.dtype == tf.int32
    assert float(tf.reduce_min(x)) >= 0.0 and float(tf.reduce_max(x)) <= 1.0
    assert set(np.unique(y)) == {0, 1, 2, 3}
    for clip, label in zip(x.numpy(), y.numpy()):
        cx, cy = _centroids(clip)
        moved = {0: cx[-1] - cx[0], 1: cx[0] - cx[-1], 2: cy[-1] - cy[0], 3: cy[0] - cy[-1]}
        assert moved[label] > 8.0  # at least a quarter of the frame, in the labelled direction
        other = cy if label < 2 else cx
        assert np.ptp(other) < 1.0  # and not along the other axis
    val, _ = next(iter(data.load_builtin("validation", 32, num_examples=64)))
    assert not np.array_equal(val, x)


def test_a_left_clip_is_a_right_clip_played_backwards():
    # This is why a frame-order-blind model cannot beat 50%: pairs of classes share
    # the same distribution over sets of frames.
    params = {k: v[0] for k, v in data.clip_parameters(1, seed=3).items() if k != "label"}
    right = dict(params, direction=np.float32([1, 0]))
    left = dict(params, direction=np.float32([-1, 0]), along=np.float32(1 - params["along"]))
    a = data._render(right, 8, 32, 32, 1, 0.0)
    b = data._render(left, 8, 32, 32, 1, 0.0)
    np.testing.assert_allclose(a.numpy()[::-1], b.numpy(), atol=1e-5)
    assert not np.allclose(a.numpy(), b.numpy(), atol=1e-2)
    assert data.order_blind_bound([0, 1, 2, 3]) == 0.5
    assert data.order_blind_bound([0, 0, 1, 2]) == 0.75


def test_colour_and_sizes():
    x, _ = next(iter(data.load_builtin("train", 4, num_examples=4, channels=3, frames=5,
                                       image_size=(20, 28))))
    assert x.shape == (4, 5, 20, 28, 3)
    for kwargs, match in [({"frames": 0}, "frames"), ({"channels": 2}, "channels"),
                          ({"image_size": 4}, "image_size"),
                          ({"image_size": (32, 32, 1)}, "image_size")]:
        with pytest.raises(ValueError, match=match):
            data.load_builtin("train", 4, **kwargs)


def test_frame_sampling_spans_the_clip():
    np.testing.assert_array_equal(data.sample_frame_indices(10, 4), [0, 3, 6, 9])
    np.testing.assert_array_equal(data.sample_frame_indices(2, 4), [0, 0, 1, 1])
    np.testing.assert_array_equal(data.sample_frame_indices(9, 1), [4])


def test_ucf101_loader_on_mock_data():
    import tensorflow_datasets as tfds  # a hard dependency: a broken install fails here
    with tfds.testing.mock_data(num_examples=3):
        ds = data.load_tfds("train", 2, frames=4, image_size=24)
        x, y = next(iter(ds))
        assert x.shape == (2, 4, 24, 24, 3) and x.dtype == tf.float32
        assert float(tf.reduce_min(x)) >= 0.0 and float(tf.reduce_max(x)) <= 1.0
        assert y.dtype == tf.int32 and np.all((y.numpy() >= 0) & (y.numpy() < 101))
        grey, _ = next(iter(data.load_tfds("test", 1, frames=3, image_size=(16, 20),
                                           channels=1)))
        assert grey.shape == (1, 3, 16, 20, 1)
