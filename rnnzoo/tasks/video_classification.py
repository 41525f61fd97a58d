"""The ``video_classification`` task: a CNN on every frame, then the recurrent block.

Frames ``(batch, frames, height, width, channels)`` (floats in ``[0, 1]``, or
``uint8`` pixels in ``[0, 255]``, which the model divides by 255 itself) go
through a per-frame image backbone wrapped in ``keras.layers.TimeDistributed``,
each frame becomes an ``embedding_dim`` vector, the recurrent block reads the
sequence of frame vectors and its last state goes to a softmax over
``num_classes``.

Backbones:

- ``"small_cnn"`` (default, trained from scratch): three stride-2 3x3
  convolutions (16, 32, 64 filters), average pooling to a grid of at most
  4x4, flatten, dense. The coarse grid keeps *where* things are in the frame
  (global average pooling would throw it away, and with it the motion).
- ``"mobilenet_v3_small"``: ``keras.applications.MobileNetV3Small`` without
  its top, global-average pooled. Random initialisation by default
  (``backbone_weights=None``, offline); ``backbone_weights="imagenet"`` loads
  the pretrained ImageNet weights, which Keras downloads once into
  ``~/.keras/models`` (about 4 MB) and which need ``channels=3``.
"""

from __future__ import annotations

import warnings

import keras
import numpy as np

from rnnzoo import _validation as v
from rnnzoo import registry
from rnnzoo.data import video_classification as data
from rnnzoo.registry import Option
from rnnzoo.tasks.common import recurrent_classifier, recurrent_options, recurrent_search_space

__all__ = ["build_video_classification", "BACKBONES", "VideoClassifier"]

BACKBONES = ("small_cnn", "mobilenet_v3_small")
_MIN_SIZE = {"small_cnn": 8, "mobilenet_v3_small": 32}


def _order_blind_report(model, test_ds) -> dict:
    """The demo's baseline: the best accuracy a frame-order-blind model can reach.

    On the built-in clips a frame-averaging model (the ``"feedforward"`` cell)
    can tell the axis of motion but not its direction: at most 50%.
    """
    labels = np.concatenate([np.asarray(y) for _, y in test_ds])
    return {
        "baseline": "frame averaging (best possible)",
        "baseline_value": data.order_blind_bound(labels),
    }


@keras.saving.register_keras_serializable(package="rnnzoo")
class VideoClassifier(keras.Model):
    """The video classification model: it takes floats in ``[0, 1]`` or ``uint8`` pixels.

    Decoders and cameras give ``uint8`` frames; fed as they are to a model
    trained on ``[0, 1]`` floats they would be 255 times too bright. This
    functional model divides ``uint8`` frames by 255 itself (in ``fit``,
    ``evaluate``, ``predict`` and a direct call) and refuses other integer
    dtypes, whose range it cannot know. Floats are passed through unchanged.

    Example:

    >>> model = rnnzoo.build("video_classification")
    >>> model.predict(uint8_clips)   # (batch, frames, height, width, channels) uint8
    """

    def call(self, inputs, training=None, mask=None):
        dtype = keras.backend.standardize_dtype(getattr(inputs, "dtype", "float32"))
        if dtype == "uint8":
            inputs = keras.ops.divide(keras.ops.cast(inputs, "float32"), 255.0)
        elif not keras.backend.is_float_dtype(dtype):
            raise ValueError(
                "`frames` must be floats in [0, 1] or uint8 pixels in [0, 255]. "
                f"Received frames of dtype {dtype}."
            )
        return super().call(inputs, training=training, mask=mask)


def _check_image_size(value):
    return data.normalize_image_size(value)


def _small_cnn(x, height: int, width: int, embedding_dim: int):
    for i, filters in enumerate((16, 32, 64)):
        x = keras.layers.TimeDistributed(
            keras.layers.Conv2D(filters, 3, strides=2, padding="same", activation="relu"),
            name=f"frame_conv_{i + 1}",
        )(x)
        height, width = -(-height // 2), -(-width // 2)
    pool = (max(1, height // 4), max(1, width // 4))
    if pool != (1, 1):
        x = keras.layers.TimeDistributed(
            keras.layers.AveragePooling2D(pool), name="frame_pool"
        )(x)
    x = keras.layers.TimeDistributed(keras.layers.Flatten(), name="frame_flatten")(x)
    return keras.layers.Dense(embedding_dim, activation="relu", name="frame_embedding")(x)


def _mobilenet(x, height, width, channels, embedding_dim, backbone_weights):
    if backbone_weights is None:
        warnings.warn(
            "backbone='mobilenet_v3_small' is randomly initialised (backbone_weights=None, "
            "nothing is downloaded). Pass backbone_weights='imagenet' for the pretrained "
            "ImageNet weights (channels=3; Keras downloads them once into ~/.keras/models).",
            UserWarning,
            stacklevel=4,
        )
    try:
        cnn = keras.applications.MobileNetV3Small(
            input_shape=(height, width, channels),
            include_top=False,
            weights=backbone_weights,
            pooling="avg",
            include_preprocessing=False,
        )
    except Exception as exc:  # noqa: BLE001 - re-raised with what to do
        if backbone_weights is None:
            raise
        raise ValueError(
            "Could not load the pretrained ImageNet weights of MobileNetV3Small "
            f"(backbone_weights='imagenet'): {exc}. They are downloaded by Keras into "
            "~/.keras/models on first use; without network access copy the file there "
            "(or set KERAS_HOME), or use backbone_weights=None to train from scratch."
        ) from exc
    # MobileNetV3 expects inputs in [-1, 1]; ours are in [0, 1].
    x = keras.layers.Rescaling(2.0, offset=-1.0, name="frame_rescale")(x)
    x = keras.layers.TimeDistributed(cnn, name="frame_backbone")(x)
    return keras.layers.Dense(embedding_dim, activation="relu", name="frame_embedding")(x)


@registry.register(
    "video_classification",
    pattern="many-to-one",
    description=(
        "Video classification: an image CNN applied to every frame (TimeDistributed) turns "
        "the clip into a sequence of frame vectors, the recurrent block reads it and its "
        "last state goes to a softmax over num_classes. The built-in clips can only be told "
        "apart by motion across frames; the 'feedforward' cell (per-frame features averaged "
        "over time) is the frame-averaging baseline."
    ),
    inputs="floats in [0, 1] or uint8 in [0, 255] (batch, frames, height, width, channels)",
    outputs="class probabilities (batch, num_classes)",
    options=[
        *recurrent_options(cell="lstm", units=64, learning_rate=2e-3),
        Option("frames", data.BUILTIN["frames"], int, low=1, high=4096,
               help="frames per clip"),
        Option("image_size", data.BUILTIN["image_size"], (int, tuple),
               validator=_check_image_size,
               help="frame size: an int or (height, width)"),
        Option("channels", data.BUILTIN["channels"], int, choices=(1, 3),
               help="1 (grey) or 3 (RGB)"),
        Option("num_classes", data.BUILTIN["num_classes"], int, low=2,
               help="number of classes of the softmax head"),
        Option("backbone", "small_cnn", str, choices=BACKBONES,
               help="per-frame CNN: 'small_cnn' (from scratch) or 'mobilenet_v3_small'"),
        Option("backbone_weights", None, str, choices=("imagenet",), allow_none=True,
               help="None (random init, offline) or 'imagenet' (mobilenet_v3_small only; "
                    "downloaded once by Keras)"),
        Option("embedding_dim", 64, int, low=1, help="width of each frame's vector"),
    ],
    metrics=["accuracy"],
    datasets={"builtin": data.load_builtin, "tfds": data.load_tfds},
    tfds_name="ucf101",
    search_space=recurrent_search_space(),
    objective=("val_accuracy", "max"),
    demo={
        "epochs": 2,
        "batch_size": 32,
        "data": {"num_examples": 1200},
        "report": _order_blind_report,
    },
    tiny={
        "overrides": {"units": 8, "embedding_dim": 8, "frames": 4, "image_size": 16},
        "data": {"num_examples": 16, "frames": 4, "image_size": 16},
    },
)
def build_video_classification(
    *,
    frames: int,
    image_size: tuple[int, int],
    channels: int,
    num_classes: int,
    backbone: str,
    backbone_weights: str | None,
    embedding_dim: int,
    **recurrent,
) -> keras.Model:
    """Builds the compiled video classification model.

    Loss: sparse categorical cross-entropy on integer labels; metric: accuracy.

    Args:
        frames, image_size, channels, num_classes, backbone, backbone_weights,
            embedding_dim: see the task's options.
        **recurrent: the recurrent options (``cell``, ``units``, ``depth``,
            ``bidirectional``, ``dropout``, ``learning_rate``), passed to
            :func:`rnnzoo.tasks.common.recurrent_classifier`.

    Example:

    >>> model = rnnzoo.build("video_classification", frames=16, image_size=64,
    ...                      channels=3, num_classes=101, cell="gru")
    """
    height, width = image_size
    if min(height, width) < _MIN_SIZE[backbone]:
        low = _MIN_SIZE[backbone]
        raise ValueError(
            f"`image_size` must be at least {low}x{low} for backbone='{backbone}'. "
            f"{v.received('image_size', image_size)}"
        )
    if backbone_weights is not None:
        if backbone != "mobilenet_v3_small":
            raise ValueError(
                "`backbone_weights` must be None for backbone='small_cnn' (it is trained from "
                f"scratch). {v.received('backbone_weights', backbone_weights)}"
            )
        if channels != 3:
            raise ValueError(
                "`channels` must be 3 with backbone_weights='imagenet' (the ImageNet weights "
                f"are RGB). {v.received('channels', channels)}"
            )
    inputs = keras.Input((frames, height, width, channels), dtype="float32", name="frames")
    if backbone == "small_cnn":
        x = _small_cnn(inputs, height, width, embedding_dim)
    else:
        x = _mobilenet(inputs, height, width, channels, embedding_dim, backbone_weights)
    model = recurrent_classifier(inputs, x, num_classes=num_classes,
                                 name="rnnzoo_video_classification", **recurrent)
    # the same graph and training configuration, as the class that accepts uint8 frames
    video = VideoClassifier(model.inputs, model.outputs, name=model.name)
    video.compile_from_config(model.get_compile_config())
    return video
