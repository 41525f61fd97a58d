"""The ``video_classification`` task: options, backbones, errors, CLI, and motion beating frames."""

import json
import warnings

import numpy as np
import pytest

import keras
import rnnzoo
from rnnzoo import cli
from rnnzoo.data import video_classification as data


def test_small_cnn_per_frame_then_rnn_non_square_frames():
    model = rnnzoo.build("video_classification", units=8, embedding_dim=8, frames=3,
                         image_size=(24, 40), channels=3, num_classes=5, cell="gru")
    assert model.input_shape == (None, 3, 24, 40, 3)
    assert model.output_shape == (None, 5)
    # the CNN is applied to every frame: one set of weights, per-frame outputs
    assert model.get_layer("frame_conv_1").output.shape[:2] == (None, 3)
    probs = model.predict(np.random.default_rng(0).random((2, 3, 24, 40, 3), "float32"),
                          verbose=0)
    np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-5)


def test_mobilenet_backbone_offline_round_trip(tmp_path):
    with pytest.warns(UserWarning, match="imagenet"):
        model = rnnzoo.build("video_classification", backbone="mobilenet_v3_small", frames=2,
                             channels=3, units=4, embedding_dim=4)
    x = np.random.default_rng(0).random((1, 2, 32, 32, 3), "float32")
    path = tmp_path / "video.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               atol=1e-5)


def test_imagenet_weights_failure_says_what_to_do(monkeypatch):
    def offline(**kwargs):
        assert kwargs["weights"] == "imagenet"
        raise OSError("URL fetch failure: network is unreachable")

    monkeypatch.setattr(keras.applications, "MobileNetV3Small", offline)
    with pytest.raises(ValueError, match=r"backbone_weights=None.*|\.keras/models") as info:
        rnnzoo.build("video_classification", backbone="mobilenet_v3_small",
                     backbone_weights="imagenet", channels=3)
    assert "~/.keras/models" in str(info.value) and "backbone_weights=None" in str(info.value)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"frames": 0}, r"`frames`.*frames=0"),
        ({"image_size": 4}, r"image_size.*at least 8x8"),
        ({"image_size": 16, "backbone": "mobilenet_v3_small", "channels": 3},
         r"image_size.*at least 32x32.*mobilenet"),
        ({"image_size": (32, 32, 3)}, "image_size"),
        ({"image_size": "big"}, "image_size"),
        ({"channels": 2}, "channels"),
        ({"backbone": "mobilenet"}, "Did you mean 'mobilenet_v3_small'"),
        ({"backbone_weights": "imagenet"}, "small_cnn"),
        ({"backbone": "mobilenet_v3_small", "backbone_weights": "imagenet"}, "channels"),
        ({"backbone_weights": "coco"}, "backbone_weights"),
        ({"num_classes": 1}, "num_classes"),
    ],
)
def test_bad_options_fail_fast(kwargs, match):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match=match):
            rnnzoo.build("video_classification", **kwargs)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="Keras' JAX trainer "
                    "predicts through stateless_call, which skips the model's input shape check")
def test_wrong_clip_shape_is_refused():
    model = rnnzoo.build("video_classification", units=4, embedding_dim=4)
    with pytest.raises(ValueError, match=r"'frames'.*incompatible.*expected "
                                         r"shape=\(None, 8, 32, 32, 1\)"):
        model.predict(np.zeros((1, 4, 32, 32, 1), "float32"), verbose=0)


def test_cli_trains_with_a_progress_bar_and_saves(tmp_path, capsys):
    out = tmp_path / "run"
    code = cli.main([
        "train", "video_classification", "--epochs", "1", "--batch-size", "8", "--units", "4",
        "--set", "frames=4", "image_size=16", "embedding_dim=4",
        "--data", "num_examples=16", "frames=4", "image_size=16", "--out", str(out),
    ])
    assert code == 0
    printed = capsys.readouterr().out
    assert "step" in printed and "accuracy" in printed
    record = json.loads((out / "video_classification_metrics.json").read_text())
    assert 0.0 <= record["test"]["accuracy"] <= 1.0
    assert record["options"]["image_size"] == [16, 16]
    loaded = keras.saving.load_model(out / "video_classification.keras")
    assert loaded.input_shape == (None, 4, 16, 16, 1)
    # the saved model reproduces the recorded test accuracy on the same test split
    test = rnnzoo.data.load("video_classification", "test", 8, num_examples=16, frames=4,
                            image_size=16)
    accuracy = loaded.evaluate(test, verbose=0, return_dict=True)["accuracy"]
    assert accuracy == pytest.approx(record["test"]["accuracy"], abs=1e-6)


@pytest.mark.slow
def test_recurrent_model_beats_frame_averaging_by_a_wide_margin():
    train = rnnzoo.data.load("video_classification", "train", 32, num_examples=800)
    test = rnnzoo.data.load("video_classification", "test", 100, num_examples=400)
    accuracy = {}
    for cell, epochs in (("lstm", 3), ("feedforward", 3)):
        keras.utils.set_random_seed(0)
        model = rnnzoo.build("video_classification", cell=cell)
        model.fit(train, epochs=epochs, verbose=0)
        accuracy[cell] = model.evaluate(test, verbose=0, return_dict=True)["accuracy"]
    labels = np.concatenate([y for _, y in test])
    bound = data.order_blind_bound(labels)
    print(f"video test accuracy {accuracy}, order-blind bound {bound:.3f}")
    assert accuracy["lstm"] >= 0.9, accuracy
    assert accuracy["feedforward"] <= bound + 0.05, accuracy  # it cannot see direction
    assert accuracy["lstm"] - accuracy["feedforward"] >= 0.3, accuracy
