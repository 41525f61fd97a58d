"""Data for the ``video_classification`` task: generated "moving dot" clips and UCF101.

Built-in ("which way does the dot move"): a soft bright blob moves in a
straight line at constant speed, and the class is its direction:

| label | name | motion |
|---|---|---|
| 0 | ``right`` | +x |
| 1 | ``left`` | -x |
| 2 | ``down`` | +y |
| 3 | ``up`` | -y |

The path's centre, length (45-60% of the frame) and perpendicular offset
are random and independent of the direction, so any single frame is a blob
at a random place whatever the class. More than that: a clip moving left is
distributed exactly like the same clip played backwards moving right, so the
*set* of frames of a clip says at most which axis it moves along, never
which way. A model that looks at frames one at a time and averages (the
``"feedforward"`` cell) can therefore reach at most 50% (chance is 25%);
only a model that compares frames in order can reach 100%. Blob size,
brightness, colour (for 3 channels) and pixel noise vary per clip.

Clips are rendered on the fly inside the ``tf.data`` pipeline (only the few
numbers that describe each clip are held in memory), deterministically per
``(seed, split, index)``. Frames are float32 in ``[0, 1]``, shape
``(frames, height, width, channels)``.
"""

from __future__ import annotations

import numpy as np

from rnnzoo.data import builtin_split, check_batch_size, check_split

__all__ = [
    "BUILTIN",
    "CLASS_NAMES",
    "clip_parameters",
    "order_blind_bound",
    "load_builtin",
    "load_tfds",
    "normalize_image_size",
    "sample_frame_indices",
]

CLASS_NAMES = ("right", "left", "down", "up")
# (dx, dy) per class; classes 2k and 2k+1 are each other's time reversal.
_DIRECTIONS = ((1.0, 0.0), (-1.0, 0.0), (0.0, 1.0), (0.0, -1.0))

# Defaults of the built-in dataset; the task's defaults read these.
BUILTIN = {
    "frames": 8,
    "image_size": 32,
    "channels": 1,
    "num_classes": len(CLASS_NAMES),
    "num_examples": {"train": 2000, "validation": 400, "test": 800},
    "seed": 4321,
}


def normalize_image_size(image_size, name: str = "image_size") -> tuple[int, int]:
    """Returns ``(height, width)`` from an int or a pair, or raises ``ValueError``."""
    if isinstance(image_size, (int, np.integer)) and not isinstance(image_size, bool):
        size = (int(image_size), int(image_size))
    elif isinstance(image_size, (tuple, list)) and len(image_size) == 2 and all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in image_size
    ):
        size = (int(image_size[0]), int(image_size[1]))
    else:
        raise ValueError(
            f"`{name}` must be a positive integer or a (height, width) pair of positive "
            f"integers. Received: {name}={image_size!r}"
        )
    if min(size) < 1:
        raise ValueError(
            f"`{name}` must be a positive integer or a (height, width) pair of positive "
            f"integers. Received: {name}={image_size!r}"
        )
    return size


def _check_int(name: str, value, low: int) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
        raise ValueError(f"`{name}` must be an integer >= {low}. Received: {name}={value!r}")
    return int(value)


def _check_channels(channels) -> int:
    if channels not in (1, 3) or isinstance(channels, bool):
        raise ValueError(f"`channels` must be 1 or 3. Received: channels={channels!r}")
    return int(channels)


def clip_parameters(num_examples: int, *, seed: int = 0) -> dict[str, np.ndarray]:
    """The numbers that describe each generated clip (everything but the pixels).

    Args:
        num_examples: number of clips.
        seed: the random seed; equal seeds give equal parameters.

    Returns:
        A dict of arrays of length ``num_examples``: ``label`` (int32),
        ``direction`` (``(N, 2)``), ``travel`` (path length), ``along`` and
        ``across`` (path centre along and across the motion), ``sigma`` (blob
        radius), all as fractions of the frame size; ``brightness``, ``color``
        (``(N, 3)``) and ``noise_seed`` (int32).
    """
    num_examples = _check_int("num_examples", num_examples, 1)
    rng = np.random.default_rng(seed)
    n = num_examples
    label = rng.integers(0, len(CLASS_NAMES), size=n).astype(np.int32)
    travel = rng.uniform(0.45, 0.6, size=n)
    # The path stays inside [0.1, 0.9] of the frame; its centre's distribution does
    # not depend on the direction, so a clip and its time reversal are equally likely.
    along = rng.uniform(0.1 + travel / 2, 0.9 - travel / 2)
    return {
        "label": label,
        "direction": np.asarray(_DIRECTIONS, np.float32)[label],
        "travel": travel.astype(np.float32),
        "along": along.astype(np.float32),
        "across": rng.uniform(0.2, 0.8, size=n).astype(np.float32),
        "sigma": rng.uniform(0.045, 0.065, size=n).astype(np.float32),
        "brightness": rng.uniform(0.7, 1.0, size=n).astype(np.float32),
        "color": rng.uniform(0.4, 1.0, size=(n, 3)).astype(np.float32),
        "noise_seed": rng.integers(0, 2**31 - 1, size=n).astype(np.int32),
    }


def order_blind_bound(labels) -> float:
    """The best accuracy any model blind to frame order can reach on these labels.

    A left clip is distributed like a right clip played backwards (and up like
    down), so such a model cannot do better than always answering the more
    frequent class of each pair.

    Args:
        labels: integer labels of the built-in clips.

    Returns:
        A float in ``[0.5, 1]`` (``0.5`` for balanced labels).
    """
    counts = np.bincount(np.asarray(labels).ravel(), minlength=len(CLASS_NAMES))
    best = sum(max(counts[i], counts[i + 1]) for i in range(0, len(CLASS_NAMES), 2))
    return float(best / max(1, counts.sum()))


def _render(params, frames: int, height: int, width: int, channels: int, noise: float):
    """Renders one clip from its parameters (a dict of scalar tensors), in tf ops."""
    import tensorflow as tf

    # position along the path in [-1/2, 1/2], symmetric in time
    if frames > 1:
        u = tf.range(frames, dtype=tf.float32) / float(frames - 1) - 0.5
    else:
        u = tf.zeros((1,), tf.float32)
    dx, dy = params["direction"][0], params["direction"][1]
    offset = params["along"] + params["travel"] * u  # (T,) along the motion axis
    horizontal = tf.abs(dx)
    # x and y in [0, 1]: along the motion on its axis, "across" on the other one.
    sign = dx + dy
    centre = 0.5 + sign * (offset - 0.5)
    x = horizontal * centre + (1.0 - horizontal) * params["across"]
    y = (1.0 - horizontal) * centre + horizontal * params["across"]
    px, py = x * width, y * height
    xs = tf.range(width, dtype=tf.float32) + 0.5
    ys = tf.range(height, dtype=tf.float32) + 0.5
    ddx = xs[None, None, :] - px[:, None, None]
    ddy = ys[None, :, None] - py[:, None, None]
    sigma = params["sigma"] * float(min(height, width))
    blob = params["brightness"] * tf.exp(-(ddx * ddx + ddy * ddy) / (2.0 * sigma * sigma))
    if channels == 3:
        clip = blob[..., None] * params["color"][None, None, None, :]
    else:
        clip = blob[..., None]
    seed = tf.stack([params["noise_seed"], tf.constant(7, tf.int32)])
    clip = clip + noise * tf.random.stateless_normal(tf.shape(clip), seed=seed)
    return tf.clip_by_value(clip, 0.0, 1.0)


def load_builtin(
    split: str = "train",
    batch_size: int = 64,
    *,
    num_examples: int | None = None,
    frames: int = BUILTIN["frames"],
    image_size=BUILTIN["image_size"],
    channels: int = BUILTIN["channels"],
    noise: float = 0.05,
    seed: int = BUILTIN["seed"],
    shuffle: bool | None = None,
):
    """The built-in moving-dot clips as a batched, streaming ``tf.data.Dataset``.

    Args:
        split: ``"train"``, ``"validation"`` or ``"test"`` (disjoint seeds).
        batch_size: clips per batch.
        num_examples: clips in the split (defaults: 2000 / 400 / 800).
        frames: frames per clip.
        image_size: frame size, an int or ``(height, width)``.
        channels: 1 (grey) or 3 (a random colour per clip).
        noise: standard deviation of the Gaussian pixel noise.
        seed: base seed; each split derives its own from it.
        shuffle: shuffle every epoch (default: only the train split).

    Returns:
        A dataset of ``(frames float32 (B, frames, height, width, channels),
        labels int32 (B,))``.

    Example:

    >>> ds = load_builtin("train", 32)
    >>> model = rnnzoo.build("video_classification")   # frames=8, 32x32x1, 4 classes
    """
    import tensorflow as tf

    num_examples, split_seed = builtin_split(split, batch_size, num_examples, seed, BUILTIN)
    frames = _check_int("frames", frames, 1)
    height, width = normalize_image_size(image_size)
    if min(height, width) < 8:
        raise ValueError(
            f"`image_size` must be at least 8x8 for the built-in clips. "
            f"Received: image_size={image_size!r}"
        )
    channels = _check_channels(channels)
    if not isinstance(noise, (int, float)) or isinstance(noise, bool) or noise < 0:
        raise ValueError(f"`noise` must be a number >= 0. Received: noise={noise!r}")
    params = clip_parameters(num_examples, seed=split_seed)
    labels = params.pop("label")
    ds = tf.data.Dataset.from_tensor_slices((params, labels))
    if shuffle if shuffle is not None else split == "train":
        ds = ds.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
    ds = ds.map(
        lambda p, y: (_render(p, frames, height, width, channels, float(noise)), y),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def sample_frame_indices(num_frames, frames: int):
    """Indices of ``frames`` frames spread evenly over a clip of ``num_frames`` frames.

    The first and last frames are always included (for ``frames >= 2``); a clip
    shorter than ``frames`` repeats frames. Works on tensors inside tf.data.

    Args:
        num_frames: the clip's length (a scalar tensor or int, >= 1).
        frames: how many indices to return.

    Returns:
        An int32 tensor of shape ``(frames,)``, non-decreasing, in ``[0, num_frames)``.
    """
    import tensorflow as tf

    last = tf.cast(tf.maximum(num_frames, 1) - 1, tf.float32)
    if frames == 1:
        positions = tf.reshape(last / 2.0, (1,))
    else:
        positions = tf.linspace(0.0, last, frames)
    return tf.cast(tf.round(positions), tf.int32)


def load_tfds(
    split: str = "train",
    batch_size: int = 8,
    *,
    frames: int = BUILTIN["frames"],
    image_size=64,
    channels: int = 3,
    config: str = "ucf101_1_256",
    data_dir: str | None = None,
    download: bool = False,
    shuffle_buffer: int = 32,
):
    """UCF101 action recognition (``ucf101``) as fixed-size clips and labels.

    Each video is streamed from TFDS with its frames left JPEG-encoded
    (``tfds.decode.SkipDecoding``); only ``frames`` frames, spread evenly over
    the clip, are decoded, resized to ``image_size`` and scaled to ``[0, 1]``
    (grey if ``channels=1``), so a batch holds ``batch_size * frames`` small
    frames and nothing loads a whole video, let alone the dataset. The
    validation split is the last 10% of TFDS' train split (of the chosen
    official split ``config``), the test split is TFDS' test split. Build the
    matching model with ``rnnzoo.build("video_classification",
    num_classes=101, frames=frames, image_size=image_size, channels=channels)``.

    Args:
        split: ``"train"``, ``"validation"`` or ``"test"``.
        batch_size: clips per batch.
        frames: frames sampled per clip.
        image_size: output frame size, an int or ``(height, width)``.
        channels: 3 (RGB) or 1 (grey).
        config: the TFDS builder config (``ucf101_1_256``, ``ucf101_1``, ...).
        data_dir: TFDS data directory.
        download: whether TFDS may download the dataset.
        shuffle_buffer: clips in the train shuffle buffer.

    Returns:
        A dataset of ``(frames float32 (B, frames, height, width, channels),
        labels int32 (B,))``.
    """
    import tensorflow as tf
    import tensorflow_datasets as tfds

    check_split(split)
    check_batch_size(batch_size)
    frames = _check_int("frames", frames, 1)
    height, width = normalize_image_size(image_size)
    channels = _check_channels(channels)
    tfds_split = {"train": "train[:90%]", "validation": "train[90%:]", "test": "test"}[split]
    ds = tfds.load(
        f"ucf101/{config}",
        split=tfds_split,
        data_dir=data_dir,
        download=download,
        shuffle_files=split == "train",
        decoders={"video": tfds.decode.SkipDecoding()},
    )

    def prepare(example):
        encoded = example["video"]
        idx = sample_frame_indices(tf.shape(encoded)[0], frames)
        picked = tf.gather(encoded, idx)

        def decode(jpeg):
            image = tf.io.decode_jpeg(jpeg, channels=3)
            image = tf.image.resize(image, (height, width), antialias=True) / 255.0
            if channels == 1:
                image = tf.image.rgb_to_grayscale(image)
            return tf.clip_by_value(image, 0.0, 1.0)

        clip = tf.map_fn(
            decode, picked,
            fn_output_signature=tf.TensorSpec((height, width, channels), tf.float32),
        )
        clip = tf.ensure_shape(clip, (frames, height, width, channels))
        return clip, tf.cast(example["label"], tf.int32)

    if split == "train":
        ds = ds.shuffle(shuffle_buffer, seed=0, reshuffle_each_iteration=True)
    ds = ds.map(prepare, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
