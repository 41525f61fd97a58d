"""Real images with captions: scikit-learn's handwritten digits (``source="digits"``).

**What is real:** the images and their labels. They are the 1797 8x8
handwritten digits that scikit-learn ships (``sklearn.datasets.load_digits``,
the UCI "Optical Recognition of Handwritten Digits" test set by E. Alpaydin
and C. Kaynak, CC BY 4.0): 43 writers' digits, each pixel the count (0..16) of
ink pixels in a 4x4 block of the 32x32 scan. The two properties named in some
captions are *measured* from those pixels, never invented:

- ink: the image's total ink, compared with the other images of the same
  digit: the lightest third is ``"thin"``, the heaviest third ``"bold"``, the
  rest ``"regular"`` strokes;
- slant: the ink's shear, ``-cov(row, column) / var(row)`` of the
  ink-weighted pixel positions (positive when the top leans right), compared
  with the same digit: the most left-leaning third ``"leaning left"``, the
  most right-leaning third ``"leaning right"``, the rest ``"standing upright"``.

The thirds are computed once over all 1797 images (they describe an image
against its own digit, not a split).

**What is templated:** the wording. Each image has four reference captions
from fixed templates: ``"the digit seven"``, ``"a handwritten seven"``,
``"a seven in bold strokes"``, ``"a seven leaning right"``. A captioning model
can only be right by reading the digit (and the two measured properties) from
the image.

Images are scaled to ``[0, 1]`` (pixel / 16), upscaled from 8x8 to
``image_size`` (default 32x32, the captioning model's default) by bilinear
interpolation (``tf.image.resize``), and repeated over ``channels`` (3 by
default, so the default model and ImageNet backbones read them). The split is
seeded and stratified by digit: 15% of each digit (rounded) to ``"test"``,
15% to ``"validation"``, the rest to ``"train"``: 1259 / 269 / 269 images.
"""

from __future__ import annotations

import numpy as np

from rnnzoo._validation import check_positive_int, check_seed, is_int, received
from rnnzoo.data import check_batch_size, check_split, import_optional
from rnnzoo.data.captioning import prepare_images, reference_dataset
from rnnzoo.text import Vocabulary, build_vocabulary

__all__ = [
    "WORDS",
    "TEMPLATES",
    "LICENCE",
    "measure",
    "write_captions",
    "caption_vocabulary",
    "load_arrays",
    "load",
]

SOURCE = "digits"
WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
INK = ("thin", "regular", "bold")
SLANT = ("leaning left", "standing upright", "leaning right")
TEMPLATES = (
    "the digit {digit}",
    "a handwritten {digit}",
    "{a} {digit} in {ink} strokes",
    "{a} {digit} {slant}",
)
FRACTIONS = {"validation": 0.15, "test": 0.15}
LICENCE = ("scikit-learn's digits: UCI Optical Recognition of Handwritten Digits (E. Alpaydin, "
           "C. Kaynak, 1998), CC BY 4.0; captions are rnnzoo's templates")
_CACHE: dict = {}


def _digits():
    if "digits" not in _CACHE:
        datasets = import_optional("sklearn.datasets", SOURCE, "scikit-learn")
        bunch = datasets.load_digits()
        _CACHE["digits"] = (np.asarray(bunch.images, np.float32),
                            np.asarray(bunch.target, np.int32))
    return _CACHE["digits"]


def measure(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ink and slant of 8x8 digit images (see the module docstring).

    Args:
        images: ``(N, 8, 8)`` (any size works) non-negative pixel values.

    Returns:
        ``(ink, slant)``: float64 ``(N,)``: the sum of the pixels, and the
        shear ``-cov(row, col) / var(row)`` of the ink (``> 0``: top leans right).
    """
    img = np.asarray(images, np.float64)
    rows, cols = np.mgrid[0 : img.shape[1], 0 : img.shape[2]]
    ink = img.sum(axis=(1, 2))
    weight = img / np.maximum(ink, 1e-12)[:, None, None]
    r_mean = (weight * rows).sum(axis=(1, 2))
    c_mean = (weight * cols).sum(axis=(1, 2))
    dr = rows[None] - r_mean[:, None, None]
    dc = cols[None] - c_mean[:, None, None]
    cov = (weight * dr * dc).sum(axis=(1, 2))
    var = np.maximum((weight * dr * dr).sum(axis=(1, 2)), 1e-12)
    return ink, -cov / var


def _thirds(values: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """0/1/2: the third of each value among the values of its own label."""
    out = np.ones(len(values), np.int32)
    for k in np.unique(labels):
        rows = labels == k
        low, high = np.quantile(values[rows], [1 / 3, 2 / 3])
        out[rows & (values < low)] = 0
        out[rows & (values > high)] = 2
    return out


def write_captions(digit: int, ink_third: int, slant_third: int) -> list[str]:
    """The reference captions of one image, from :data:`TEMPLATES`.

    Args:
        digit: the label, 0..9.
        ink_third: 0 (thin), 1 (regular) or 2 (bold).
        slant_third: 0 (leaning left), 1 (standing upright) or 2 (leaning right).

    Returns:
        Four strings.
    """
    word = WORDS[int(digit)]
    article = "an" if word == "eight" else "a"  # the only digit name with a vowel sound
    return [t.format(digit=word, a=article, ink=INK[ink_third], slant=SLANT[slant_third])
            for t in TEMPLATES]


def caption_vocabulary() -> Vocabulary:
    """The fixed word-level vocabulary of every caption the templates write."""
    words = [w for t in TEMPLATES for w in t.split() if not w.startswith("{")]
    words += ["a", "an", *WORDS, *INK, *" ".join(SLANT).split()]
    return build_vocabulary([" ".join(dict.fromkeys(words))], level="word")


def _check_image_size(image_size) -> tuple[int, int]:
    if not (isinstance(image_size, (tuple, list)) and len(image_size) == 2
            and all(is_int(v) and v >= 8 for v in image_size)):
        raise ValueError("`image_size` must be a (height, width) pair of integers >= 8. "
                         + received("image_size", image_size))
    return int(image_size[0]), int(image_size[1])


def _split_rows(labels: np.ndarray, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    parts = {"train": [], "validation": [], "test": []}
    for k in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == k))
        n_test = int(round(FRACTIONS["test"] * len(rows)))
        n_val = int(round(FRACTIONS["validation"] * len(rows)))
        parts["test"].append(rows[:n_test])
        parts["validation"].append(rows[n_test : n_test + n_val])
        parts["train"].append(rows[n_test + n_val :])
    return {s: np.sort(np.concatenate(p)) for s, p in parts.items()}


def load_arrays(
    split: str = "train",
    *,
    image_size: tuple[int, int] = (32, 32),
    channels: int = 3,
    seed: int = 0,
):
    """One split of the digits as arrays, with their captions.

    Args:
        split: ``"train"``, ``"validation"`` or ``"test"`` (70% / 15% / 15% of
            each digit, seeded).
        image_size: ``(height, width)`` to upscale to.
        channels: the grey image repeated over this many channels.
        seed: the split's seed; equal seeds give equal splits.

    Returns:
        ``(images, labels, captions, rows)``: float32 ``(N, H, W, channels)``
        in ``[0, 1]``, int32 digits ``(N,)``, per image the list of its four
        reference captions, and the rows of ``load_digits()`` they are.

    Example:

    >>> images, labels, captions, _ = load_arrays("test")
    >>> images.shape, len(captions[0])
    ((269, 32, 32, 3), 4)
    """
    check_split(split)
    image_size = _check_image_size(image_size)
    channels = check_positive_int("channels", channels)
    seed = check_seed("seed", seed)
    raw, labels = _digits()
    ink, slant = measure(raw)
    ink_third, slant_third = _thirds(ink, labels), _thirds(slant, labels)
    rows = _split_rows(labels, 0 if seed is None else seed)[split]
    images = prepare_images(raw[rows, :, :, None] / 16.0, image_size, "images")
    images = np.repeat(images, channels, axis=-1) if channels > 1 else images
    captions = [write_captions(labels[i], ink_third[i], slant_third[i]) for i in rows]
    return images.astype(np.float32), labels[rows].copy(), captions, rows


def load(
    split: str = "train",
    batch_size: int = 64,
    *,
    image_size: tuple[int, int] = (32, 32),
    channels: int = 3,
    seed: int = 0,
    shuffle: bool | None = None,
):
    """The digits as captioning batches, shaped like the built-in captioning data.

    Each image appears once per epoch with one of its four references: a
    random one in the train split (a new draw every epoch), reference
    ``i % 4`` in the validation and test splits (deterministic).

    Args:
        split: ``"train"``, ``"validation"`` or ``"test"``.
        batch_size: images per batch.
        image_size, channels, seed: see :func:`load_arrays`.
        shuffle: shuffle every epoch (default: only the train split).

    Returns:
        A dataset of ``({"image": float32 (B, H, W, channels), "caption_in":
        int32 (B, T)}, caption_out int32 (B, T))``, with
        ``ds.rnnzoo_build_options`` (``vocabulary``, ``image_size``,
        ``channels``) and ``ds.rnnzoo_metadata`` (labels, captions, licence).

    Example:

    >>> ds = rnnzoo.data.load("captioning", source="digits")
    >>> model = rnnzoo.build("captioning", **ds.rnnzoo_build_options)
    """
    check_batch_size(batch_size)
    images, labels, captions, rows = load_arrays(split, image_size=image_size,
                                                 channels=channels, seed=seed)
    vocab = caption_vocabulary()
    ds = reference_dataset(images, captions, vocab, training=split == "train",
                           batch_size=batch_size, shuffle=shuffle, seed=seed)
    h, w = images.shape[1:3]
    ds.rnnzoo_build_options = {"vocabulary": vocab, "image_size": (int(h), int(w)),
                               "channels": int(channels)}
    ds.rnnzoo_metadata = {
        "source": SOURCE,
        "split": split,
        "num_examples": int(len(labels)),
        "labels": labels,
        "rows": rows,
        "captions": captions,
        "real": "images and digit labels (scikit-learn load_digits); ink and slant measured "
                "from the pixels",
        "templated": "the caption wording: " + " | ".join(TEMPLATES),
        "upscaling": f"8x8 -> {h}x{w}, bilinear (tf.image.resize), pixel/16 in [0, 1]",
        "licence": LICENCE,
    }
    return ds
