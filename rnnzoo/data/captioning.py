"""Data for the ``captioning`` task: generated shape scenes, and COCO captions.

Built-in data: small RGB images (32x32 by default) of coloured shapes on a dark,
noisy background, each with three reference captions written from the scene.
A scene is one of:

* one object of a colour, a shape and a size at a position:
  ``"a big red circle on the left"``, ``"a red circle on the left"``,
  ``"there is a big red circle"``;
* two or three identical small objects: ``"three blue squares"``,
  ``"there are three blue squares"``, ``"three small blue squares"``;
* two different objects side by side: ``"a red circle and a blue square"``,
  ``"a red circle to the left of a blue square"``,
  ``"a blue square to the right of a red circle"``.

Every word that matters (colour, shape, size, count, position, left/right
order) is read from the image, so a caption must describe the image, not just
be fluent: the most frequent caption scores a low BLEU-4 on the test split.
The vocabulary is a fixed list of every word the generator writes.

Real data: ``coco_captions`` (MS-COCO 2014 with the Karpathy splits) through
TensorFlow Datasets, images resized, word-level vocabulary built on the train
captions (see :func:`tfds_vocabulary`).
"""

from __future__ import annotations

import numpy as np

from rnnzoo.data import builtin_split, check_batch_size, check_split
from rnnzoo.text import build_vocabulary

__all__ = [
    "BUILTIN",
    "COLOURS",
    "SHAPES",
    "generate_scenes",
    "builtin_vocabulary",
    "encode_captions",
    "prepare_images",
    "reference_dataset",
    "load_builtin",
    "load_tfds",
    "tfds_vocabulary",
]

BUILTIN = {
    "num_examples": {"train": 3000, "validation": 300, "test": 300},
    "image_size": (32, 32),
    "seed": 2015,
}

COLOURS = {
    "red": (220, 40, 40),
    "green": (40, 200, 60),
    "blue": (50, 90, 240),
    "yellow": (235, 220, 40),
}
SHAPES = ("square", "circle", "triangle")
_POSITIONS = {  # name -> (x, y) as fractions of the width and height
    "on the left": (0.25, 0.5),
    "on the right": (0.75, 0.5),
    "at the top": (0.5, 0.25),
    "at the bottom": (0.5, 0.75),
    "in the middle": (0.5, 0.5),
}
_COUNTS = {2: "two", 3: "three"}


def _draw(image: np.ndarray, shape: str, colour: tuple, cx: float, cy: float, r: float) -> None:
    h, w, _ = image.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    dx, dy = xx - cx, yy - cy
    if shape == "square":
        inside = (np.abs(dx) <= r) & (np.abs(dy) <= r)
    elif shape == "circle":
        inside = dx * dx + dy * dy <= r * r
    else:  # triangle pointing up
        inside = (dy >= -r) & (dy <= r) & (np.abs(dx) <= (dy + r) / 2.0)
    image[inside] = colour


def _scene(rng: np.random.Generator, h: int, w: int) -> tuple[np.ndarray, list[str]]:
    image = rng.integers(0, 40, size=(h, w, 3)).astype(np.uint8)
    colours = list(COLOURS)
    kind = rng.choice(["one", "count", "pair"], p=[0.4, 0.3, 0.3])
    scale = min(h, w) / 32.0
    jitter = lambda: rng.uniform(-1.5, 1.5) * scale  # noqa: E731
    if kind == "one":
        colour = colours[rng.integers(len(colours))]
        shape = SHAPES[rng.integers(len(SHAPES))]
        size = "big" if rng.random() < 0.5 else "small"
        position = list(_POSITIONS)[rng.integers(len(_POSITIONS))]
        fx, fy = _POSITIONS[position]
        r = (6.0 if size == "big" else 3.5) * scale
        _draw(image, shape, COLOURS[colour], fx * w + jitter(), fy * h + jitter(), r)
        captions = [
            f"a {size} {colour} {shape} {position}",
            f"a {colour} {shape} {position}",
            f"there is a {size} {colour} {shape}",
        ]
    elif kind == "count":
        colour = colours[rng.integers(len(colours))]
        shape = SHAPES[rng.integers(len(SHAPES))]
        n = int(rng.integers(2, 4))
        # distinct cells of a 3x3 grid, so the objects never overlap
        cells = rng.permutation(9)[:n]
        for cell in cells:
            cx = (cell % 3 + 0.5) * w / 3 + jitter() * 0.6
            cy = (cell // 3 + 0.5) * h / 3 + jitter() * 0.6
            _draw(image, shape, COLOURS[colour], cx, cy, 3.5 * scale)
        word = _COUNTS[n]
        captions = [
            f"{word} {colour} {shape}s",
            f"there are {word} {colour} {shape}s",
            f"{word} small {colour} {shape}s",
        ]
    else:
        while True:
            c1, c2 = (colours[i] for i in rng.integers(len(colours), size=2))
            s1, s2 = (SHAPES[i] for i in rng.integers(len(SHAPES), size=2))
            if (c1, s1) != (c2, s2):
                break
        r = 5.0 * scale
        _draw(image, s1, COLOURS[c1], 0.25 * w + jitter(), 0.5 * h + jitter(), r)
        _draw(image, s2, COLOURS[c2], 0.75 * w + jitter(), 0.5 * h + jitter(), r)
        captions = [
            f"a {c1} {s1} and a {c2} {s2}",
            f"a {c1} {s1} to the left of a {c2} {s2}",
            f"a {c2} {s2} to the right of a {c1} {s1}",
        ]
    return image, captions


def generate_scenes(
    num_examples: int,
    *,
    image_size: tuple[int, int] = BUILTIN["image_size"],
    seed: int = 0,
) -> tuple[np.ndarray, list[list[str]]]:
    """Generates shape scenes and their reference captions.

    Args:
        num_examples: number of images.
        image_size: ``(height, width)``, each at least 16.
        seed: the random seed; equal seeds give equal scenes.

    Returns:
        ``(images, captions)``: uint8 array ``(N, H, W, 3)`` and, per image, a
        list of three reference captions.

    Example:

    >>> images, captions = generate_scenes(2, seed=0)
    >>> images.shape, len(captions[0])
    ((2, 32, 32, 3), 3)
    """
    if not isinstance(num_examples, (int, np.integer)) or isinstance(num_examples, bool) or (
        num_examples < 1
    ):
        raise ValueError(
            f"`num_examples` must be a positive integer. Received: num_examples={num_examples!r}"
        )
    h, w = _check_image_size(image_size, low=16)
    rng = np.random.default_rng(seed)
    images = np.zeros((int(num_examples), h, w, 3), np.uint8)
    captions = []
    for i in range(int(num_examples)):
        images[i], refs = _scene(rng, h, w)
        captions.append(refs)
    return images, captions


def _check_image_size(image_size, low: int = 1) -> tuple[int, int]:
    if (
        not isinstance(image_size, (tuple, list))
        or len(image_size) != 2
        or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= low
                   for v in image_size)
    ):
        raise ValueError(
            f"`image_size` must be a (height, width) pair of integers >= {low}. "
            f"Received: image_size={image_size!r}"
        )
    return int(image_size[0]), int(image_size[1])


def builtin_vocabulary():
    """The fixed word-level vocabulary of the built-in captions.

    Returns:
        A :class:`rnnzoo.text.Vocabulary` holding every word the generator writes.
    """
    words = ["a", "there", "is", "are", "and", "to", "the", "of", "left", "right", "on", "at",
             "top", "bottom", "in", "middle", "big", "small", *_COUNTS.values(), *COLOURS,
             *SHAPES, *[f"{s}s" for s in SHAPES]]
    return build_vocabulary([" ".join(words)], level="word")


def encode_captions(captions, vocabulary, *, max_length: int | None = None):
    """Encodes captions for teacher forcing.

    Args:
        captions: a list of strings.
        vocabulary: a :class:`rnnzoo.text.Vocabulary`.
        max_length: the padded length (``None``: the longest caption + 1).

    Returns:
        ``(caption_in, caption_out)``: int32 arrays ``(N, T)``; ``caption_in``
        starts with ``<start>``, ``caption_out`` ends with ``<end>``.
    """
    encoded = [vocabulary.encode(c, add_start=True, add_end=True) for c in captions]
    length = max_length or max(len(e) for e in encoded) - 1
    caption_in = np.zeros((len(encoded), length), np.int32)
    caption_out = np.zeros((len(encoded), length), np.int32)
    for i, e in enumerate(encoded):
        t_in, t_out = e[:-1][:length], e[1:][:length]
        caption_in[i, : len(t_in)] = t_in
        caption_out[i, : len(t_out)] = t_out
    return caption_in, caption_out


def prepare_images(images, image_size: tuple[int, int] | None = None,
                   argument: str = "images") -> np.ndarray:
    """Turns user images into the float32 ``[0, 1]`` batch the model reads.

    Args:
        images: ``(N, H, W, C)`` or one ``(H, W, C)`` image; uint8 values are
            divided by 255, floats are taken as already in ``[0, 1]``.
        image_size: ``(height, width)`` to resize to (``None``: keep).
        argument: the argument name used in error messages.

    Returns:
        float32 array ``(N, height, width, C)``.

    Raises:
        ValueError: if ``images`` is not a 3-D or 4-D numeric array.
    """
    array = np.asarray(images)
    if array.ndim == 3:
        array = array[None]
    if array.ndim != 4 or array.shape[0] == 0 or not (
        np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)
    ):
        raise ValueError(
            f"`{argument}` must be a numeric array of shape (N, H, W, C) or (H, W, C). "
            f"Received: {argument} of shape {array.shape} and dtype {array.dtype}"
        )
    if np.issubdtype(array.dtype, np.integer):
        array = array.astype(np.float32) / 255.0
    else:
        array = array.astype(np.float32)
    if image_size is not None and tuple(array.shape[1:3]) != tuple(image_size):
        import tensorflow as tf

        array = tf.image.resize(array, image_size, antialias=True).numpy().astype(np.float32)
    return array


def load_builtin(
    split: str = "train",
    batch_size: int = 64,
    *,
    num_examples: int | None = None,
    image_size: tuple[int, int] = BUILTIN["image_size"],
    seed: int = BUILTIN["seed"],
    shuffle: bool | None = None,
):
    """The built-in shape scenes as a batched ``tf.data.Dataset``.

    Each image appears once per epoch with one of its three references: a
    random one in the train split (a new draw every epoch), reference ``i % 3``
    in the validation and test splits (deterministic).

    Args:
        split: ``"train"``, ``"validation"`` or ``"test"`` (disjoint seeds).
        batch_size: examples per batch.
        num_examples: images in the split (defaults: 3000 / 300 / 300).
        image_size: ``(height, width)``.
        seed: base seed; each split derives its own from it.
        shuffle: shuffle every epoch (default: only the train split).

    Returns:
        A dataset of ``({"image": float32 (B, H, W, 3) in [0, 1], "caption_in":
        int32 (B, T)}, caption_out int32 (B, T))``.

    Example:

    >>> ds = rnnzoo.data.load("captioning", split="test", batch_size=32)
    """
    num_examples, split_seed = builtin_split(split, batch_size, num_examples, seed, BUILTIN)
    images, captions = generate_scenes(num_examples, image_size=image_size, seed=split_seed)
    return reference_dataset(images, captions, builtin_vocabulary(), training=split == "train",
                             batch_size=batch_size, shuffle=shuffle, seed=seed)


def reference_dataset(images: np.ndarray, captions, vocabulary, *, training: bool,
                      batch_size: int, shuffle: bool | None, seed: int):
    """Batches images that have the same number of reference captions each.

    Each image appears once per epoch with one of its references: a random
    one when ``training`` (a new draw every epoch), reference ``i % n``
    otherwise (deterministic).

    Args:
        images: ``(N, H, W, C)``, uint8 (divided by 255 in the pipeline) or
            float32 in ``[0, 1]``.
        captions: per image, the same number of reference strings.
        vocabulary: encodes the captions (see :func:`encode_captions`).
        training: draw the reference at random.
        batch_size: examples per batch.
        shuffle: shuffle every epoch (``None``: only when ``training``).
        seed: the shuffle seed.

    Returns:
        A dataset of ``({"image": float32 (B, H, W, C), "caption_in": int32
        (B, T)}, caption_out int32 (B, T))``.
    """
    import tensorflow as tf

    n_refs = len(captions[0])
    flat = [c for refs in captions for c in refs]
    length = max(len(vocabulary.encode(c)) for c in flat) + 1
    cap_in, cap_out = encode_captions(flat, vocabulary, max_length=length)
    cap_in = cap_in.reshape(len(captions), n_refs, length)
    cap_out = cap_out.reshape(len(captions), n_refs, length)
    if not training:
        index = np.arange(len(captions)) % n_refs
        rows = np.arange(len(captions))
        cap_in, cap_out = cap_in[rows, index], cap_out[rows, index]
    ds = tf.data.Dataset.from_tensor_slices((images, cap_in, cap_out))
    if shuffle if shuffle is not None else training:
        ds = ds.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    if training:
        def pick(image, c_in, c_out):
            r = tf.random.uniform((), 0, n_refs, dtype=tf.int32)
            return image, c_in[r], c_out[r]

        ds = ds.map(pick)
    uint8 = np.issubdtype(images.dtype, np.integer)

    def to_inputs(image, c_in, c_out):
        image = tf.cast(image, tf.float32) / 255.0 if uint8 else image
        return {"image": image, "caption_in": c_in}, c_out

    return ds.map(to_inputs).batch(batch_size).prefetch(tf.data.AUTOTUNE)


_VOCAB_CACHE: dict = {}


def tfds_vocabulary(*, max_tokens: int = 10000, data_dir: str | None = None,
                    download: bool = False, adapt_examples: int | None = None):
    """The word-level vocabulary of ``coco_captions``' train captions.

    Build the model with it so its ids match :func:`load_tfds`:

    ```python
    vocab = rnnzoo.data.captioning.tfds_vocabulary()
    model = rnnzoo.build("captioning", vocabulary=vocab, image_size=(128, 128))
    model.fit(rnnzoo.data.load("captioning", source="tfds", image_size=(128, 128)))
    ```

    Args:
        max_tokens: vocabulary size, reserved tokens included.
        data_dir: TFDS data directory.
        download: whether TFDS may download the dataset.
        adapt_examples: train images whose captions are read (``None``: all).

    Returns:
        A :class:`rnnzoo.text.Vocabulary`.
    """
    import tensorflow_datasets as tfds

    key = (max_tokens, data_dir, adapt_examples)
    if key not in _VOCAB_CACHE:
        ds = tfds.load("coco_captions", split="train", data_dir=data_dir, download=download)
        ds = ds.map(lambda ex: ex["captions"]["text"])
        if adapt_examples is not None:
            ds = ds.take(adapt_examples)
        texts = [t.decode("utf-8") for caps in tfds.as_numpy(ds) for t in caps]
        _VOCAB_CACHE[key] = build_vocabulary(texts, level="word", max_tokens=max_tokens)
    return _VOCAB_CACHE[key]


def load_tfds(
    split: str = "train",
    batch_size: int = 64,
    *,
    image_size: tuple[int, int] = (128, 128),
    max_tokens: int = 10000,
    max_length: int = 24,
    data_dir: str | None = None,
    download: bool = False,
    num_examples: int | None = None,
    adapt_examples: int | None = None,
    shuffle: bool | None = None,
):
    """MS-COCO captions (``coco_captions``) as teacher-forcing batches.

    Images are resized to ``image_size`` and scaled to ``[0, 1]``; every
    (image, caption) pair is one example (COCO has about five captions per
    image); captions are tokenised with :func:`tfds_vocabulary`, truncated to
    ``max_length`` tokens and padded with 0. TFDS splits: train -> ``train``,
    validation -> ``val``, test -> ``test`` (Karpathy splits).

    Args:
        split: ``"train"``, ``"validation"`` or ``"test"``.
        batch_size: examples per batch.
        image_size: ``(height, width)`` of the model's input.
        max_tokens: vocabulary size.
        max_length: caption length including the start/end token.
        data_dir: TFDS data directory.
        download: whether TFDS may download the dataset.
        num_examples: read only the first images of the split.
        adapt_examples: train images used for the vocabulary (``None``: all).
        shuffle: shuffle (default: only the train split).

    Returns:
        A dataset with the structure of :func:`load_builtin`; its attribute
        ``rnnzoo_build_options`` holds the vocabulary and image size to build the
        model with (``rnnzoo.build("captioning", **ds.rnnzoo_build_options)``).
    """
    import tensorflow as tf
    import tensorflow_datasets as tfds

    check_split(split)
    check_batch_size(batch_size)
    h, w = _check_image_size(image_size, low=8)
    vocab = tfds_vocabulary(max_tokens=max_tokens, data_dir=data_dir, download=download,
                            adapt_examples=adapt_examples)
    tfds_split = {"train": "train", "validation": "val", "test": "test"}[split]
    ds = tfds.load("coco_captions", split=tfds_split, data_dir=data_dir, download=download)
    if num_examples is not None:
        ds = ds.take(num_examples)

    def examples():
        for ex in tfds.as_numpy(ds):
            image = tf.image.resize(ex["image"], (h, w), antialias=True).numpy() / 255.0
            texts = [t.decode("utf-8") for t in ex["captions"]["text"]]
            if not texts:
                continue
            c_in, c_out = encode_captions(texts, vocab, max_length=max_length)
            for i in range(len(texts)):
                yield {"image": image.astype(np.float32), "caption_in": c_in[i]}, c_out[i]

    out = tf.data.Dataset.from_generator(
        examples,
        output_signature=(
            {"image": tf.TensorSpec((h, w, 3), tf.float32),
             "caption_in": tf.TensorSpec((max_length,), tf.int32)},
            tf.TensorSpec((max_length,), tf.int32),
        ),
    )
    if shuffle if shuffle is not None else split == "train":
        out = out.shuffle(1024, seed=0)
    out = out.batch(batch_size).prefetch(tf.data.AUTOTUNE)
    # what the model needs to read these batches (`rnnzoo train --source tfds` builds with it)
    out.rnnzoo_build_options = {"vocabulary": vocab, "image_size": (h, w)}
    return out
