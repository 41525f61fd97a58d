"""The package's own entry points refuse or convert what a user may hand them (issue 16)."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import rnnzoo
from rnnzoo.tasks import translation
from tests.conftest import tiny_data, tiny_overrides


@pytest.fixture(scope="module")
def video_model():
    keras.utils.set_random_seed(0)
    return rnnzoo.build("video_classification", **tiny_overrides("video_classification"))


def _uint8_clips():
    return np.random.default_rng(0).integers(0, 256, size=(3, 4, 16, 16, 1)).astype("uint8")


def test_uint8_video_frames_are_scaled_like_the_float_frames_the_model_trains_on(video_model):
    clips = _uint8_clips()
    scaled = clips.astype("float32") / 255.0
    expected = video_model.predict(scaled, verbose=0)
    np.testing.assert_allclose(video_model.predict(clips, verbose=0), expected, atol=1e-6)
    np.testing.assert_allclose(np.asarray(video_model(clips)), expected, atol=1e-6)
    # unscaled uint8 values read as floats would give something else entirely
    assert not np.allclose(video_model.predict(clips.astype("float32"), verbose=0), expected,
                           atol=1e-3)
    labels = np.array([0, 1, 2])
    loss_uint8 = video_model.evaluate(clips, labels, verbose=0, return_dict=True)["loss"]
    loss_float = video_model.evaluate(scaled, labels, verbose=0, return_dict=True)["loss"]
    assert np.isclose(loss_uint8, loss_float, rtol=1e-5)


@pytest.mark.parametrize("dtype", ["int32", "int64", "uint16"])
def test_other_integer_frames_are_refused(video_model, dtype):
    with pytest.raises(ValueError, match=f"uint8 pixels in \\[0, 255\\].*dtype {dtype}"):
        video_model.predict(_uint8_clips().astype(dtype), verbose=0)


def test_the_video_model_still_trains_saves_and_loads(video_model, tmp_path):
    video_model.fit(tiny_data("video_classification"), epochs=1, verbose=0, shuffle=False)
    path = os.fspath(tmp_path / "video.keras")
    video_model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert type(loaded) is type(video_model)
    clips = _uint8_clips()
    np.testing.assert_allclose(loaded.predict(clips, verbose=0),
                               video_model.predict(clips, verbose=0), atol=1e-6)


def test_perplexity_of_an_empty_dataset_is_a_value_error():
    model = rnnzoo.build("text_prediction", **tiny_overrides("text_prediction"))
    empty = tf.data.Dataset.from_tensor_slices(
        (np.zeros((0, 5), "int32"), np.zeros((0, 5), "int32"))).batch(2)
    with pytest.raises(ValueError, match="`dataset` must yield at least one batch"):
        model.perplexity(empty)


def test_evaluating_no_translation_pairs_is_a_value_error():
    model = rnnzoo.build("translation", **tiny_overrides("translation"))
    with pytest.raises(ValueError, match="`pairs` must be a non-empty list"):
        translation.evaluate_generation(model, [])
