"""The ``classification`` task: many-to-one sequence classification.

Three kinds of input, one head (:func:`rnnzoo.tasks.common.recurrent_classifier`):

- token ids ``(batch, time)``, 0 = padding (an ``Embedding`` with ``mask_zero``);
- raw strings ``(batch,)``: a ``keras.layers.TextVectorization`` inside the
  model (``vocabulary=`` or ``adapt_data=`` strings), so the saved ``.keras``
  file classifies text as it is;
- real-valued features ``(batch, time, num_features)`` (``num_features``):
  padded variable-length series are masked (``mask_value``, default ``0.0``:
  a step whose every channel equals it is padding, so the last real step
  decides), optionally normalised per feature by a ``keras.layers.Normalization``
  adapted on the training data (``adapt_data``, padding left out) and saved in
  the model, optionally with LSTM-FCN's convolutional branch (``fcn_filters``,
  Karim et al. 2018, "LSTM Fully Convolutional Networks for Time Series
  Classification") beside the recurrent block.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from rnnzoo import registry
from rnnzoo.data import classification as data, ucr
from rnnzoo.layers.padding import PaddingMask, ZeroMasked
from rnnzoo.registry import Option
from rnnzoo.tasks import normalization as norm
from rnnzoo.tasks.common import recurrent_classifier, recurrent_options, recurrent_search_space

__all__ = ["build_classification", "adapt_normalization", "portable_options", "FCN_KERNELS"]

#: Kernel sizes of LSTM-FCN's convolution blocks (Karim et al. 2018); further blocks use 3.
FCN_KERNELS = (8, 5, 3)
TEXT_MAX_TOKENS = 20000


def _baseline_report(model, test_ds) -> dict:
    """Majority-class accuracy on the test split, for the demo table."""
    labels = np.concatenate([y.numpy() for _, y in test_ds])
    counts = np.bincount(labels)
    return {"baseline": "majority class", "baseline_value": float(counts.max() / counts.sum())}


def _check_vocabulary(value):
    if not value or not all(isinstance(t, str) and t for t in value):
        raise ValueError(
            "`vocabulary` must be a non-empty tuple of non-empty token strings (the "
            "TextVectorization vocabulary without its padding and OOV tokens). Received: "
            f"vocabulary={value!r:.80}"
        )
    return tuple(value)


def _check_filters(value):
    if not value or not all(isinstance(f, (int, np.integer)) and not isinstance(f, bool)
                            and f > 0 for f in value):
        raise ValueError(
            "`fcn_filters` must be None or a non-empty tuple of positive integers (filters of "
            f"each convolution block, e.g. (128, 256, 128)). Received: fcn_filters={value!r}"
        )
    return tuple(int(f) for f in value)


def _is_text(adapt_data) -> bool:
    """Whether ``adapt_data`` holds strings (raw-text input) rather than numbers."""
    if adapt_data is None:
        return False
    if hasattr(adapt_data, "element_spec"):
        import tensorflow as tf

        spec = adapt_data.element_spec
        spec = spec[0] if isinstance(spec, (tuple, list)) else spec
        return spec.dtype == tf.string
    first = adapt_data
    if isinstance(first, (tuple, list)) and len(first) == 2 and not isinstance(first[0], str):
        first = first[0]
    if isinstance(first, (tuple, list)):
        return bool(first) and isinstance(first[0], (str, bytes))
    return np.asarray(first).dtype.kind in "USO"


def _texts(adapt_data):
    """The strings of text ``adapt_data`` as a batched tf.data.Dataset."""
    import tensorflow as tf

    if hasattr(adapt_data, "element_spec"):
        if isinstance(adapt_data.element_spec, (tuple, list)):
            adapt_data = adapt_data.map(lambda *parts: parts[0])
        return adapt_data
    if isinstance(adapt_data, (tuple, list)) and len(adapt_data) == 2 \
            and not isinstance(adapt_data[0], str):
        adapt_data = adapt_data[0]
    texts = [t.decode() if isinstance(t, bytes) else str(t) for t in np.ravel(adapt_data)]
    return tf.data.Dataset.from_tensor_slices(texts).batch(256)


def _text_input(vocabulary, vocab_size, embedding_dim, adapt_data):
    vectorizer = keras.layers.TextVectorization(
        max_tokens=None if vocabulary else (vocab_size or TEXT_MAX_TOKENS),
        vocabulary=list(vocabulary) if vocabulary else None, name="text_vectorization")
    if not vocabulary:
        vectorizer.adapt(_texts(adapt_data))
        if vectorizer.vocabulary_size() <= 2:
            raise ValueError(
                "`adapt_data` must contain at least one word to build the text vocabulary. "
                "Received: adapt_data with no token."
            )
    inputs = keras.Input((), dtype="string", name="text")
    ids = vectorizer(inputs)
    x = keras.layers.Embedding(vectorizer.vocabulary_size(), embedding_dim, mask_zero=True,
                               name="embedding")(ids)
    return inputs, x


def _fcn_branch(x, mask, filters: tuple) -> Any:
    """LSTM-FCN's convolutional branch, exact on padded batches (see layers/padding.py)."""
    h = ZeroMasked(name="fcn_input")(x, mask=mask)
    for i, width in enumerate(filters):
        kernel = FCN_KERNELS[i] if i < len(FCN_KERNELS) else FCN_KERNELS[-1]
        h = keras.layers.Conv1D(width, kernel, padding="same", name=f"fcn_conv_{i + 1}")(h)
        h = keras.layers.BatchNormalization(momentum=0.9, name=f"fcn_norm_{i + 1}")(h, mask=mask)
        h = keras.layers.Activation("relu", name=f"fcn_relu_{i + 1}")(h)
        h = ZeroMasked(name=f"fcn_zero_{i + 1}")(h, mask=mask)
    return keras.layers.GlobalAveragePooling1D(name="fcn_pool")(h, mask=mask)


def _input_statistics(adapt_data, num_features: int, mask_value):
    adapt_data = norm.check_adapt_data(adapt_data, pairs=False)
    return norm.feature_statistics((x for x, _ in norm.batches_of(adapt_data)), num_features,
                                   mask_value=mask_value)


def adapt_normalization(model: keras.Model, adapt_data, *, mask_value: float | None = 0.0):
    """Re-adapts a feature classifier's input normalization on your own data.

    Args:
        model: a model built by ``rnnzoo.build("classification", num_features=F,
            normalize=True)``.
        adapt_data: inputs ``(batch, time, F)``, ``(inputs, labels)`` or a batched
            ``tf.data.Dataset`` of either, in the data's own units.
        mask_value: the padding value left out of the statistics (``None``: every step).

    Returns:
        The same model.

    Example:

    >>> model = rnnzoo.build("classification", num_features=12, num_classes=9, normalize=True)
    >>> adapt_normalization(model, train_inputs)
    """
    try:
        layer = model.get_layer("input_normalization")
    except ValueError:
        raise ValueError(
            "`model` must be a feature classifier built with normalize=True. Received: "
            f"model={model.name!r} without an input_normalization layer"
        ) from None
    norm.set_statistics(layer, *_input_statistics(adapt_data, int(layer.input.shape[-1]),
                                                  mask_value))
    return model


def portable_options(model: keras.Model, config: dict) -> dict:
    """``config`` with what the model learned from ``adapt_data`` written as options.

    The text vocabulary becomes ``vocabulary`` and ``normalize`` says whether
    the model has its normalization layer (its statistics are weights), so the
    result rebuilds the same architecture without the adapt data.
    """
    out = dict(config, adapt_data=None)
    names = {layer.name for layer in model.layers}
    if "text_vectorization" in names:
        vocab = model.get_layer("text_vectorization").get_vocabulary(include_special_tokens=False)
        out["vocabulary"] = tuple(str(token) for token in vocab)
    if config.get("num_features") is not None:
        out["normalize"] = "input_normalization" in names
    return out


@registry.register(
    "classification",
    pattern="many-to-one",
    description=(
        "Sequence classification: a sequence of token ids (an Embedding with padding "
        "masked), raw strings (a TextVectorization inside the model) or real-valued feature "
        "vectors (padding masked, optionally normalised and with LSTM-FCN's convolutional "
        "branch) is read by the recurrent block and its last state goes to a softmax over "
        "num_classes."
    ),
    inputs="int token ids (batch, time), 0 = padding; strings (batch,) with a vocabulary; "
           "or floats (batch, time, num_features), padded at the end with mask_value",
    outputs="class probabilities (batch, num_classes)",
    options=[
        *recurrent_options(cell="lstm", units=64),
        Option("num_classes", data.BUILTIN["num_classes"], int, low=2,
               help="number of classes of the softmax head"),
        Option("vocab_size", None, int, low=2, allow_none=True,
               help="token-id input: vocabulary size including padding id 0 "
                    f"(default {data.BUILTIN['vocab_size']}, the built-in data's); raw-text "
                    f"input: the most tokens adapt_data may give (default {TEXT_MAX_TOKENS})"),
        Option("num_features", None, int, low=1, allow_none=True,
               help="real-valued input: features per time step (then no Embedding)"),
        Option("embedding_dim", 32, int, low=1, help="token embedding width"),
        Option("mask_value", 0.0, float, allow_none=True,
               help="feature input: steps whose every feature equals it are padding and are "
                    "masked in every layer (None: no masking)"),
        Option("normalize", None, bool, allow_none=True,
               help="feature input: a Normalization layer adapted on adapt_data and saved "
                    "with the model (None: when adapt_data is given)"),
        Option("adapt_data", None, object, allow_none=True,
               help="feature inputs (or (inputs, labels), or a tf.data.Dataset) to adapt the "
                    "normalization on; or strings to build the raw-text vocabulary"),
        Option("vocabulary", None, tuple, allow_none=True, validator=_check_vocabulary,
               help="raw-text input: the TextVectorization vocabulary (tokens without padding "
                    "and OOV)"),
        Option("fcn_filters", None, tuple, allow_none=True, validator=_check_filters,
               help="feature input: add LSTM-FCN's convolutional branch with these filters "
                    "per block (kernels 8, 5, 3; e.g. (128, 256, 128))"),
    ],
    metrics=["accuracy"],
    datasets={"builtin": data.load_builtin, "tfds": data.load_tfds, "ucr": ucr.load_ucr,
              "uea": ucr.load_uea},
    tfds_name="imdb_reviews",
    search_space=recurrent_search_space(),
    objective=("val_accuracy", "max"),
    demo={"epochs": 3, "data": {"num_examples": 4000}, "report": _baseline_report},
    tiny={
        "overrides": {"units": 8, "embedding_dim": 8},
        "data": {"num_examples": 32, "sequence_length": 12, "min_length": 6},
    },
    extra={"portable_options": portable_options},
)
def build_classification(
    *,
    num_classes: int,
    vocab_size: int | None,
    num_features: int | None,
    embedding_dim: int,
    mask_value: float | None,
    normalize: bool | None,
    adapt_data,
    vocabulary: tuple | None,
    fcn_filters: tuple | None,
    **recurrent,
) -> keras.Model:
    """Builds the compiled classification model.

    With ``num_features`` the input is ``(batch, time, num_features)`` floats;
    with ``vocabulary`` (or string ``adapt_data``) raw strings ``(batch,)``;
    otherwise token ids ``(batch, time)`` embedded with ``mask_zero=True``.
    Loss: sparse categorical cross-entropy on integer labels; metric: accuracy.

    Args:
        num_classes, vocab_size, num_features, embedding_dim, mask_value,
            normalize, adapt_data, vocabulary, fcn_filters: see the task's options.
        **recurrent: the recurrent options (``cell``, ``units``, ``depth``,
            ``bidirectional``, ``dropout``, ``learning_rate``), passed to
            :func:`rnnzoo.tasks.common.recurrent_classifier`.

    Example:

    >>> model = rnnzoo.build("classification", num_features=12, num_classes=9,
    ...                      adapt_data=train_inputs)           # padded series, normalised
    >>> model = rnnzoo.build("classification", adapt_data=reviews, num_classes=2)  # strings
    """
    text = vocabulary is not None or _is_text(adapt_data)
    if num_features is not None and (vocab_size is not None or text):
        raise ValueError(
            "`num_features` excludes `vocab_size`, `vocabulary` and string `adapt_data`: "
            "token ids, raw text or real-valued features. Received: "
            f"vocab_size={vocab_size}, num_features={num_features}"
            + (", text input" if text else "")
        )
    features_only = {"normalize": normalize, "fcn_filters": fcn_filters}
    if num_features is None:
        for name, value in features_only.items():
            if value:
                raise ValueError(
                    f"`{name}` applies to real-valued input (num_features=F). Received: "
                    f"{name}={value!r}, num_features=None"
                )
        if adapt_data is not None and not text:
            raise ValueError(
                "`adapt_data` must be strings (raw-text input) or go with num_features "
                "(feature input). Received: numeric adapt_data and num_features=None"
            )
    branches = ()
    if num_features is not None:
        inputs = keras.Input((None, num_features), dtype="float32", name="features")
        x = inputs
        if mask_value is not None:
            x = keras.layers.Masking(mask_value, name="padding_mask")(x)
        if normalize or (normalize is None and adapt_data is not None):
            layer = keras.layers.Normalization(axis=-1, name="input_normalization")
            x = layer(x)
            stats = ((np.zeros(num_features), np.ones(num_features)) if adapt_data is None
                     else _input_statistics(adapt_data, num_features, mask_value))
            norm.set_statistics(layer, *stats)
        if fcn_filters:
            mask = None if mask_value is None else PaddingMask(mask_value, name="fcn_mask")(inputs)
            branches = (_fcn_branch(x, mask, fcn_filters),)
    elif text:
        inputs, x = _text_input(vocabulary, vocab_size, embedding_dim, adapt_data)
    else:
        vocab_size = vocab_size or data.BUILTIN["vocab_size"]
        inputs = keras.Input((None,), dtype="int32", name="tokens")
        x = keras.layers.Embedding(vocab_size, embedding_dim, mask_zero=True, name="embedding")(
            inputs
        )
    return recurrent_classifier(inputs, x, num_classes=num_classes, branches=branches,
                                name="rnnzoo_classification", **recurrent)
