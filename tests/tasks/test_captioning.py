"""The captioning task: encoders, the step model, raw-image API, decoding, round trips, quality."""

import numpy as np
import pytest

import keras
import rnnzoo
from rnnzoo.data import captioning as data
from rnnzoo.tasks.captioning import CaptionModel, evaluate_captions, most_frequent_caption_bleu
from rnnzoo.text import build_vocabulary

from tests.conftest import tiny_data, tiny_overrides


def _tiny(**kw):
    return rnnzoo.build("captioning", **tiny_overrides("captioning", **kw))


def test_builds_with_no_arguments():
    model = rnnzoo.build("captioning")
    assert isinstance(model, CaptionModel)
    assert model.vocabulary == data.builtin_vocabulary()
    assert tuple(model.get_layer("image").batch_shape) == (None, 32, 32, 3)
    assert model.output_shape == (None, None, len(model.vocabulary))


@pytest.mark.parametrize("overrides, fragment", [
    ({"encoder": "resnet"}, "`encoder` must be one of"),
    ({"image_size": (32,)}, "`image_size` must be a (height, width) pair"),
    ({"vocabulary": "a b c"}, "`vocabulary` must be Vocabulary or a list or dict, or None"),
    ({"bidirectional": True}, "bidirectional"),
])
def test_bad_options_fail_fast(overrides, fragment):
    with pytest.raises(ValueError) as err:
        _tiny(**overrides)
    assert fragment in str(err.value)


@pytest.mark.parametrize("overrides", [
    {},
    {"feed_image": False, "cell": "gru", "depth": 2},
    {"cell": "feedforward"},
])
def test_step_model_reproduces_the_training_model(overrides):
    model = _tiny(**overrides)
    x, _ = next(iter(tiny_data("captioning", split="validation")))
    expected = model.predict(x, verbose=0)
    models = model.inference_models()
    states = models["encoder"].predict_on_batch(x["image"].numpy())
    states = states if isinstance(states, list) else [states]
    caption_in = x["caption_in"].numpy()
    for t in range(caption_in.shape[1]):
        outs = models["decoder_step"].predict_on_batch([caption_in[:, t:t + 1], *states])
        rows = caption_in[:, t] != 0
        np.testing.assert_allclose(outs[0][rows], expected[rows, t], atol=2e-5)
        states = outs[1:]


def test_feed_image_false_only_initialises_the_states():
    fed = _tiny()
    init_only = _tiny(feed_image=False)
    # the fed decoder's first layer reads [word embedding, image embedding]
    assert fed.count_params() - init_only.count_params() == 16 * 4 * 16  # LSTM: 4 gates


def test_padding_is_masked_in_loss_and_accuracy():
    model = _tiny()
    x, y = next(iter(tiny_data("captioning", split="validation")))
    result = model.evaluate(x, y, verbose=0, return_dict=True)
    probs = model.predict(x, verbose=0)
    y = y.numpy()
    mask = y != 0
    accuracy = ((probs.argmax(-1) == y) & mask).sum() / mask.sum()
    np.testing.assert_allclose(result["token_accuracy"], accuracy, atol=1e-6)


def _user_data():
    """A user's own images and captions: a bright or a dark image, with Unicode words."""
    rng = np.random.default_rng(0)
    bright = rng.integers(200, 256, size=(8, 20, 20, 3)).astype(np.uint8)
    dark = rng.integers(0, 50, size=(8, 20, 20, 3)).astype(np.uint8)
    images = np.concatenate([bright, dark])
    captions = [["une image claire", "très claire"]] * 8 + ["une image sombre"] * 8
    return images, captions


def test_fine_tune_on_raw_images_then_generate_and_round_trip(tmp_path):
    images, captions = _user_data()
    vocab = build_vocabulary([c for refs in captions for c in ([refs] if isinstance(refs, str)
                                                               else refs)], level="word")
    model = rnnzoo.build("captioning", vocabulary=vocab, image_size=(16, 16), units=16,
                         embedding_dim=8, image_embedding_dim=8, learning_rate=1e-2)
    ds = model.make_dataset(images, captions, batch_size=8)
    assert sum(int(y.shape[0]) for _, y in ds) == 8 * 2 + 8  # one example per caption
    model.fit(ds, epochs=25, verbose=0)
    out = model.generate(images[[0, 8]])  # uint8, 20x20: scaled and resized
    assert out[1] == "une image sombre"
    assert out[0] in ("une image claire", "très claire")
    # floats in [0, 1] are the same images
    assert model.generate(images[[0, 8]].astype(np.float32) / 255.0) == out
    assert model.generate(images[8]) == out[1:]  # a single (H, W, C) image
    assert model.generate(images[[0, 8]], method="beam", beam_width=1) == out
    sampled = model.generate(images[[0, 8]], method="sample", seed=0, temperature=0.7)
    assert sampled == model.generate(images[[0, 8]], method="sample", seed=0, temperature=0.7)
    path = tmp_path / "captioning.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert loaded.vocabulary == vocab and loaded.image_size == (16, 16)
    assert loaded.generate(images[[0, 8]]) == out
    assert loaded.generate(images[[0, 8]], method="beam", beam_width=3) == model.generate(
        images[[0, 8]], method="beam", beam_width=3)


def test_make_dataset_rejects_mismatched_captions():
    model = _tiny()
    images = np.zeros((2, 32, 32, 3), np.uint8)
    with pytest.raises(ValueError, match="one caption .* per image"):
        model.make_dataset(images, ["only one"])
    with pytest.raises(ValueError, match="`captions` must hold strings"):
        model.make_dataset(images, ["fine", [3]])
    with pytest.raises(ValueError, match="`method` must be one of"):
        model.generate(images, method="topk")


def test_images_follow_the_pixel_contract():
    """Issue 16 item 8: uint8 in [0, 255] or floats in [0, 1]; NaN and unscaled floats refused."""
    model = _tiny()
    images = np.random.default_rng(0).integers(0, 256, (2, 32, 32, 3)).astype(np.uint8)
    scaled = images.astype(np.float32) / 255.0
    nan = scaled.copy()
    nan[1, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="`inputs` must hold finite values.*1 NaN"):
        model.generate(nan)
    with pytest.raises(ValueError, match=r"`inputs` must hold values in \[0, 1\].*divide by 255"):
        model.generate(images.astype(np.float32))  # uint8 values passed as floats, unscaled
    with pytest.raises(ValueError, match=r"`inputs` must hold values in \[0, 255\]"):
        model.generate(images.astype(np.int16) + 100)
    for bad in (None, 42, "picture.png"):
        with pytest.raises(TypeError, match="`inputs` must be a numeric array"):
            model.generate(bad)
    with pytest.raises(ValueError, match="`images` must hold finite values"):
        model.make_dataset(nan, ["a circle", "a square"])
    with pytest.raises(ValueError, match=r"`captions` must hold non-empty captions.*captions\[1\]"):
        model.make_dataset(images, ["a circle", ""])
    # integer pixels of another dtype are the same images
    out = model.generate(images, max_length=5)
    assert model.generate(images.astype(np.int64), max_length=5) == out
    assert model.generate(scaled, max_length=5) == out


@pytest.mark.slow
def test_keras_applications_encoder_builds_offline_and_round_trips(tmp_path):
    model = _tiny(encoder="mobilenet_v2")
    assert model.get_layer("backbone").count_params() > 2_000_000  # MobileNetV2, weights=None
    x, _ = next(iter(tiny_data("captioning", batch_size=2)))
    path = tmp_path / "mobilenet.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               atol=1e-5)


@pytest.mark.slow
def test_default_training_captions_well_above_the_most_frequent_caption():
    spec = rnnzoo.registry.get("captioning")
    keras.utils.set_random_seed(0)
    model = rnnzoo.build("captioning")
    train = rnnzoo.data.load("captioning", "train", 64, **spec.demo["data"])
    model.fit(train, epochs=spec.demo["epochs"], verbose=0)
    images, refs = data.generate_scenes(200, seed=data.BUILTIN["seed"] * 10 + 2)
    scores = evaluate_captions(model, images, refs)
    _, train_refs = data.generate_scenes(3000, seed=data.BUILTIN["seed"] * 10)
    _, baseline = most_frequent_caption_bleu(model.vocabulary, refs, train_refs)
    assert baseline < 0.3
    assert scores["bleu"] > baseline + 0.4, (scores["bleu"], baseline)
    # captions name the right colour: the image's colours, not a fluent guess
    hits = [any(c in h.split() for c in data.COLOURS if c in refs[i][0].split())
            for i, h in enumerate(scores["hypotheses"])]
    assert np.mean(hits) > 0.8
