"""The captioning data: generated shape scenes whose captions describe them, and COCO."""

import numpy as np
import pytest

import rnnzoo
from rnnzoo.data import captioning as data
from rnnzoo.text import END_ID, START_ID, UNK_ID


def _colour_pixels(image, colour):
    return np.all(image == np.array(data.COLOURS[colour], np.uint8), axis=-1)


def test_scenes_are_deterministic_and_seeds_differ():
    a, ca = data.generate_scenes(10, seed=4)
    b, cb = data.generate_scenes(10, seed=4)
    np.testing.assert_array_equal(a, b)
    assert ca == cb
    c, _ = data.generate_scenes(10, seed=5)
    assert not np.array_equal(a, c)
    assert a.shape == (10, 32, 32, 3) and a.dtype == np.uint8
    assert all(len(refs) == 3 for refs in ca)


def test_captions_describe_the_image():
    images, captions = data.generate_scenes(300, seed=11)
    kinds = set()
    for image, refs in zip(images, captions):
        words = refs[1].split()
        mentioned = {w for r in refs for w in r.split() if w in data.COLOURS}
        present = {c for c in data.COLOURS if _colour_pixels(image, c).sum() >= 6}
        assert mentioned == present, (refs, present)
        if "left" in refs[1] and "of" in words:  # "a c1 s1 to the left of a c2 s2"
            kinds.add("pair")
            c1, c2 = words[1], words[-2]
            if c1 != c2:
                x1 = np.nonzero(_colour_pixels(image, c1))[1].mean()
                x2 = np.nonzero(_colour_pixels(image, c2))[1].mean()
                assert x1 < x2, refs
        elif refs[0].split()[0] in ("two", "three"):
            kinds.add("count")
            n = {"two": 2, "three": 3}[refs[0].split()[0]]
            colour = refs[0].split()[1]
            area = _colour_pixels(image, colour).sum()
            single = {"square": 64, "circle": 41, "triangle": 32}[refs[0].split()[2][:-1]]
            assert 0.6 * n * single < area < 1.5 * n * single, (refs, area)
        else:
            kinds.add("one")
            colour = words[1]
            ys, xs = np.nonzero(_colour_pixels(image, colour))
            position = " ".join(words[3:])
            cx, cy = xs.mean() / 32, ys.mean() / 32
            expected = {"on the left": (0.25, 0.5), "on the right": (0.75, 0.5),
                        "at the top": (0.5, 0.25), "at the bottom": (0.5, 0.75),
                        "in the middle": (0.5, 0.5)}[position]
            assert abs(cx - expected[0]) < 0.12 and abs(cy - expected[1]) < 0.12, refs
            big = "big" in refs[0].split()
            assert (len(xs) > 60) == big, (refs, len(xs))  # big: >= 72 pixels, small: <= 49
    assert kinds == {"one", "count", "pair"}


def test_vocabulary_covers_every_caption():
    vocab = data.builtin_vocabulary()
    _, captions = data.generate_scenes(500, seed=12)
    for refs in captions:
        for caption in refs:
            assert UNK_ID not in vocab.encode(caption), caption
            assert vocab.decode(vocab.encode(caption)) == caption


def test_encode_captions_for_teacher_forcing():
    vocab = data.builtin_vocabulary()
    c_in, c_out = data.encode_captions(["a red circle", "two blue squares"], vocab)
    assert c_in.shape == c_out.shape == (2, 4)
    assert c_in[0, 0] == START_ID and c_out[0, 3] == END_ID
    np.testing.assert_array_equal(c_in[0, 1:], c_out[0, :-1])
    assert vocab.decode(c_out[1]) == "two blue squares"


def test_prepare_images_scales_and_resizes():
    uint8 = np.full((2, 8, 8, 3), 255, np.uint8)
    out = data.prepare_images(uint8)
    assert out.dtype == np.float32 and np.allclose(out, 1.0)
    floats = np.full((8, 8, 3), 0.5, np.float32)  # one image, already in [0, 1]
    out = data.prepare_images(floats, (16, 12))
    assert out.shape == (1, 16, 12, 3) and np.allclose(out, 0.5, atol=1e-5)
    with pytest.raises(ValueError, match=r"`images` must be a numeric array of shape"):
        data.prepare_images(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="image_size"):
        data.generate_scenes(2, image_size=(8, 8))


def test_builtin_loader_batches():
    ds = rnnzoo.data.load("captioning", "validation", batch_size=8, num_examples=12)
    batches = list(ds)
    assert [int(y.shape[0]) for _, y in batches] == [8, 4]
    x, y = batches[0]
    assert x["image"].shape == (8, 32, 32, 3) and x["image"].dtype == "float32"
    assert 0.0 <= float(np.min(x["image"])) and float(np.max(x["image"])) <= 1.0
    # evaluation splits use reference i % 3 of image i
    images, captions = data.generate_scenes(12, seed=data.BUILTIN["seed"] * 10 + 1)
    vocab = data.builtin_vocabulary()
    np.testing.assert_allclose(x["image"][1].numpy(), images[1] / 255.0, atol=1e-6)
    assert [vocab.decode(row) for row in y.numpy()[:3]] == [captions[i][i % 3] for i in range(3)]
    # the train split draws one of the references
    (tx, ty), = list(rnnzoo.data.load("captioning", "train", 4, num_examples=4, shuffle=False))
    _, train_captions = data.generate_scenes(4, seed=data.BUILTIN["seed"] * 10)
    for row, refs in zip(ty.numpy(), train_captions):
        assert vocab.decode(row) in refs


def test_coco_loader_with_mock_data():
    import tensorflow_datasets as tfds  # a hard dependency: a broken install fails here
    with tfds.testing.mock_data(num_examples=6):
        vocab = data.tfds_vocabulary(max_tokens=30)
        ds = rnnzoo.data.load("captioning", "validation", batch_size=4, source="tfds",
                              image_size=(24, 20), max_tokens=30, max_length=7,
                              num_examples=4)
        x, y = next(iter(ds))
    assert x["image"].shape == (4, 24, 20, 3) and x["caption_in"].shape == (4, 7)
    assert 0.0 <= float(np.min(x["image"])) and float(np.max(x["image"])) <= 1.0
    assert np.all(x["caption_in"].numpy()[:, 0] == START_ID)
    assert int(np.max(y)) < len(vocab)
    assert ds.rnnzoo_build_options == {"vocabulary": vocab, "image_size": (24, 20)}
    model = rnnzoo.build("captioning", **ds.rnnzoo_build_options, units=4, embedding_dim=4,
                         image_embedding_dim=4)
    assert np.isfinite(model.evaluate(x, y, verbose=0, return_dict=True)["loss"])
