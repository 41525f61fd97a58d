"""scikit-learn's handwritten digits with captions that state their content."""

import numpy as np
import pytest

pytest.importorskip("sklearn")

from rnnzoo.data import digits  # noqa: E402


def test_split_is_stratified_seeded_and_disjoint():
    parts = {s: digits.load_arrays(s) for s in ("train", "validation", "test")}
    sizes = {s: len(p[1]) for s, p in parts.items()}
    assert sizes == {"train": 1259, "validation": 269, "test": 269}
    rows = [set(p[3].tolist()) for p in parts.values()]
    assert not (rows[0] & rows[1] or rows[0] & rows[2] or rows[1] & rows[2])
    assert set.union(*rows) == set(range(1797))
    for s in ("validation", "test"):
        counts = np.bincount(parts[s][1], minlength=10)
        assert counts.min() >= 26 and counts.max() <= 28  # 15% of every digit
    again = digits.load_arrays("test")
    other = digits.load_arrays("test", seed=1)
    np.testing.assert_array_equal(again[3], parts["test"][3])
    assert not np.array_equal(other[3], parts["test"][3])


def test_images_are_the_real_digits_upscaled():
    from sklearn.datasets import load_digits

    real = load_digits()
    images, labels, _, rows = digits.load_arrays("validation", image_size=(32, 32))
    assert images.shape == (269, 32, 32, 3) and images.dtype == np.float32
    assert 0.0 <= images.min() and images.max() <= 1.0
    np.testing.assert_array_equal(labels, real.target[rows])
    # bilinear upscaling of pixel / 16, as documented
    import tensorflow as tf

    expected = tf.image.resize(real.images[rows][..., None] / 16.0, (32, 32),
                               method="bilinear", antialias=True).numpy()
    np.testing.assert_allclose(images[..., :1], expected, atol=1e-6)
    # each 4x4 block still follows the original 8x8 pixel
    blocks = images[..., 0].reshape(-1, 8, 4, 8, 4).mean(axis=(2, 4))
    assert np.corrcoef(blocks.ravel(), real.images[rows].ravel())[0, 1] > 0.95
    np.testing.assert_array_equal(images[..., 0], images[..., 2])  # grey in every channel
    grey, *_ = digits.load_arrays("test", image_size=(16, 24), channels=1)
    assert grey.shape == (269, 16, 24, 1)


def test_captions_state_the_label_and_measured_properties():
    images, labels, captions, rows = digits.load_arrays("train")
    for label, refs in zip(labels, captions):
        word = digits.WORDS[label]
        assert len(refs) == 4 and all(word in r.split() for r in refs)
        assert refs[0] == f"the digit {word}" and refs[1] == f"a handwritten {word}"
        assert not any(other in r.split() for r in refs for other in digits.WORDS
                       if other != word)
    # "bold" images hold more ink than "thin" images of the same digit
    ink, slant = digits.measure(digits._digits()[0][rows])

    def rows_of(k, ref, word):
        return [i for i, (lab, r) in enumerate(zip(labels, captions))
                if lab == k and word in r[ref]]

    for k in range(10):
        bold, thin = rows_of(k, 2, "bold"), rows_of(k, 2, "thin")
        right, left = rows_of(k, 3, "right"), rows_of(k, 3, "left")
        assert bold and thin and ink[bold].min() > ink[thin].max()
        assert right and left and slant[right].min() > slant[left].max()


def test_slant_sign_on_drawn_strokes():
    slash = np.zeros((1, 8, 8))
    for r in range(8):
        slash[0, r, 7 - r] = 16.0  # "/": the top leans right
    _, slant = digits.measure(np.concatenate([slash, slash[:, :, ::-1]]))
    np.testing.assert_allclose(slant, [1.0, -1.0])
    assert digits.write_captions(8, 2, 0) == [
        "the digit eight", "a handwritten eight", "an eight in bold strokes",
        "an eight leaning left"]


def test_batches_and_build_options():
    ds = digits.load("test", 32)
    x, y = next(iter(ds))
    assert x["image"].shape == (32, 32, 32, 3) and x["caption_in"].shape[0] == 32
    assert y.shape == x["caption_in"].shape and y.dtype.name == "int32"
    opts = ds.rnnzoo_build_options
    vocab = opts["vocabulary"]
    assert opts["image_size"] == (32, 32) and opts["channels"] == 3
    meta = ds.rnnzoo_metadata
    labels = meta["labels"][:32]
    for i, (label, ids) in enumerate(zip(labels, y.numpy())):
        text = vocab.decode(ids)
        assert text == meta["captions"][i][i % 4]  # deterministic reference i % 4
        assert digits.WORDS[label] in text.split()
    assert "real" in meta and "templated" in meta and "CC BY 4.0" in meta["licence"]
    # caption_in is caption_out shifted right behind <start>
    np.testing.assert_array_equal(x["caption_in"].numpy()[:, 1:][y.numpy()[:, 1:] > 0],
                                  y.numpy()[:, :-1][y.numpy()[:, 1:] > 0])
