"""Data for the ``classification`` task: a built-in long-memory problem and IMDB reviews.

Built-in ("which marker came first"): ids ``1..num_classes`` are class
markers, ids ``num_classes+1..vocab_size-1`` are noise, 0 is padding. Each
sequence has a random length in ``[min_length, sequence_length]`` (padded with
0 at the end) and contains *every* marker exactly once: the label's marker at
position 0, the others at random later positions, noise elsewhere. The label
is the marker that came first, ``length - 1`` steps before the end. Since the
bag of tokens is the same for every class, a model without recurrence
(per-step features then pooling) sits at chance; a recurrent model must carry
the first marker across the whole sequence, so its memory decides its accuracy.
"""

from __future__ import annotations

import numpy as np

from rnnzoo.data import builtin_split, check_batch_size, check_split

__all__ = ["BUILTIN", "generate", "load_builtin", "load_tfds"]

# Defaults of the built-in dataset; the task's defaults read these.
BUILTIN = {
    "vocab_size": 32,
    "num_classes": 4,
    "sequence_length": 40,
    "min_length": 20,
    "num_examples": {"train": 8000, "validation": 1000, "test": 2000},
    "seed": 1234,
}


def generate(
    num_examples: int,
    *,
    vocab_size: int = BUILTIN["vocab_size"],
    num_classes: int = BUILTIN["num_classes"],
    sequence_length: int = BUILTIN["sequence_length"],
    min_length: int = BUILTIN["min_length"],
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Generates the "recall the first symbol" problem as numpy arrays.

    Args:
        num_examples: number of sequences.
        vocab_size: token ids are in ``[1, vocab_size)``; 0 is padding.
        num_classes: number of labels (at most ``vocab_size - 1``).
        sequence_length: padded length (and maximum length).
        min_length: minimum true length.
        seed: the random seed; equal seeds give equal arrays.

    Returns:
        ``(tokens, labels)``: int32 arrays of shape ``(N, sequence_length)`` and ``(N,)``.
    """
    for name, value, low in (
        ("num_examples", num_examples, 1),
        ("vocab_size", vocab_size, 3),
        ("num_classes", num_classes, 2),
        ("sequence_length", sequence_length, 2),
        ("min_length", min_length, 1),
    ):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
            raise ValueError(f"`{name}` must be an integer >= {low}. Received: {name}={value!r}")
    if num_classes > vocab_size - 1:
        raise ValueError(
            f"`num_classes` must be at most vocab_size - 1 = {vocab_size - 1}. "
            f"Received: num_classes={num_classes}"
        )
    if min_length > sequence_length:
        raise ValueError(
            f"`min_length` must be <= sequence_length={sequence_length}. "
            f"Received: min_length={min_length}"
        )
    if min_length < num_classes:
        raise ValueError(
            f"`min_length` must be >= num_classes={num_classes} (every class marker must fit). "
            f"Received: min_length={min_length}"
        )
    if vocab_size < num_classes + 2:
        raise ValueError(
            f"`vocab_size` must be >= num_classes + 2 = {num_classes + 2} (markers plus noise "
            f"tokens). Received: vocab_size={vocab_size}"
        )
    rng = np.random.default_rng(seed)
    n, length_max = num_examples, sequence_length
    labels = rng.integers(0, num_classes, size=n).astype(np.int32)
    lengths = rng.integers(min_length, length_max + 1, size=n)
    positions = np.arange(length_max)[None, :]
    valid = positions < lengths[:, None]
    # Noise tokens: ids num_classes+1 .. vocab_size-1.
    tokens = rng.integers(num_classes + 1, vocab_size, size=(n, length_max)).astype(np.int32)
    # The answer: marker (label + 1) at position 0.
    tokens[:, 0] = labels + 1
    # Every other marker once, at random distinct positions in 1..length-1, so every
    # marker occurs exactly once per sequence: counts carry no information.
    keys = rng.random((n, length_max))
    keys[:, 0] = np.inf
    keys[~valid] = np.inf
    slots = np.argsort(keys, axis=1)[:, : num_classes - 1]
    others = np.array(
        [[m for m in range(1, num_classes + 1) if m != lab + 1] for lab in range(num_classes)],
        dtype=np.int32,
    )[labels]
    np.put_along_axis(tokens, slots, others, axis=1)
    tokens = np.where(valid, tokens, 0).astype(np.int32)
    return tokens, labels


def load_builtin(
    split: str = "train",
    batch_size: int = 64,
    *,
    num_examples: int | None = None,
    vocab_size: int = BUILTIN["vocab_size"],
    num_classes: int = BUILTIN["num_classes"],
    sequence_length: int = BUILTIN["sequence_length"],
    min_length: int = BUILTIN["min_length"],
    seed: int = BUILTIN["seed"],
    shuffle: bool | None = None,
):
    """The built-in classification data as a batched ``tf.data.Dataset``.

    Args:
        split: ``"train"``, ``"validation"`` or ``"test"`` (disjoint seeds).
        batch_size: examples per batch.
        num_examples: examples in the split (defaults: 8000 / 1000 / 2000).
        vocab_size, num_classes, sequence_length, min_length: see :func:`generate`.
        seed: base seed; each split derives its own from it.
        shuffle: shuffle every epoch (default: only the train split).

    Returns:
        A dataset of ``(tokens int32 (B, sequence_length), labels int32 (B,))``.
    """
    import tensorflow as tf

    num_examples, split_seed = builtin_split(split, batch_size, num_examples, seed, BUILTIN)
    x, y = generate(
        num_examples,
        vocab_size=vocab_size,
        num_classes=num_classes,
        sequence_length=sequence_length,
        min_length=min_length,
        seed=split_seed,
    )
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle if shuffle is not None else split == "train":
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


_VOCAB_CACHE: dict = {}


def load_tfds(
    split: str = "train",
    batch_size: int = 64,
    *,
    vocab_size: int = 20000,
    sequence_length: int = 256,
    data_dir: str | None = None,
    download: bool = False,
    adapt_examples: int = 25000,
):
    """IMDB movie reviews (``imdb_reviews``) as token ids and binary labels.

    The text is tokenised with a ``keras.layers.TextVectorization`` adapted on
    the train split (cached per process), padded/truncated to
    ``sequence_length``; id 0 is padding and 1 is out-of-vocabulary, so the
    output matches ``rnnzoo.build("classification", vocab_size=vocab_size,
    num_classes=2)``. The validation split is the last 10% of TFDS' train
    split, the test split is TFDS' test split.

    Args:
        split: ``"train"``, ``"validation"`` or ``"test"``.
        batch_size: examples per batch.
        vocab_size: vocabulary size including padding and OOV.
        sequence_length: padded length.
        data_dir: TFDS data directory.
        download: whether TFDS may download the dataset.
        adapt_examples: train texts used to build the vocabulary.

    Returns:
        A dataset of ``(tokens int64 (B, sequence_length), labels int64 (B,))``.
    """
    import keras
    import tensorflow as tf
    import tensorflow_datasets as tfds

    check_split(split)
    check_batch_size(batch_size)
    tfds_split = {"train": "train[:90%]", "validation": "train[90%:]", "test": "test"}[split]
    key = (data_dir, vocab_size, sequence_length, adapt_examples)
    vectorizer = _VOCAB_CACHE.get(key)
    if vectorizer is None:
        vectorizer = keras.layers.TextVectorization(
            max_tokens=vocab_size, output_sequence_length=sequence_length
        )
        adapt_ds = tfds.load(
            "imdb_reviews", split="train[:90%]", as_supervised=True,
            data_dir=data_dir, download=download,
        )
        vectorizer.adapt(adapt_ds.take(adapt_examples).map(lambda t, _: t).batch(512))
        _VOCAB_CACHE[key] = vectorizer
    ds = tfds.load(
        "imdb_reviews", split=tfds_split, as_supervised=True, data_dir=data_dir, download=download
    )
    if split == "train":
        ds = ds.shuffle(10000, seed=0)
    ds = ds.batch(batch_size)
    ds = ds.map(
        lambda text, label: (vectorizer(text), tf.cast(label, tf.int32)),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    return ds.prefetch(tf.data.AUTOTUNE)
