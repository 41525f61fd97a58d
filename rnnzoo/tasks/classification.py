"""The ``classification`` task: many-to-one sequence classification."""

from __future__ import annotations

import keras
import numpy as np

from rnnzoo import registry
from rnnzoo.data import classification as data, ucr
from rnnzoo.registry import Option
from rnnzoo.tasks.common import recurrent_classifier, recurrent_options, recurrent_search_space

__all__ = ["build_classification"]


def _baseline_report(model, test_ds) -> dict:
    """Majority-class accuracy on the test split, for the demo table."""
    labels = np.concatenate([y.numpy() for _, y in test_ds])
    counts = np.bincount(labels)
    return {"baseline": "majority class", "baseline_value": float(counts.max() / counts.sum())}


@registry.register(
    "classification",
    pattern="many-to-one",
    description=(
        "Sequence classification: a sequence of token ids (an Embedding with padding "
        "masked) or of real-valued feature vectors is read by the recurrent block and "
        "its last state goes to a softmax over num_classes."
    ),
    inputs="int token ids (batch, time), 0 = padding; or floats (batch, time, num_features)",
    outputs="class probabilities (batch, num_classes)",
    options=[
        *recurrent_options(cell="lstm", units=64),
        Option("num_classes", data.BUILTIN["num_classes"], int, low=2,
               help="number of classes of the softmax head"),
        Option("vocab_size", None, int, low=2, allow_none=True,
               help="token-id input: vocabulary size including padding id 0 "
                    f"(default {data.BUILTIN['vocab_size']}, the built-in data's)"),
        Option("num_features", None, int, low=1, allow_none=True,
               help="real-valued input: features per time step (then no Embedding)"),
        Option("embedding_dim", 32, int, low=1, help="token embedding width"),
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
)
def build_classification(
    *,
    num_classes: int,
    vocab_size: int | None,
    num_features: int | None,
    embedding_dim: int,
    **recurrent,
) -> keras.Model:
    """Builds the compiled classification model.

    With ``num_features`` the input is ``(batch, time, num_features)`` floats;
    otherwise token ids ``(batch, time)`` embedded with ``mask_zero=True``.
    Loss: sparse categorical cross-entropy on integer labels; metric: accuracy.

    Args:
        num_classes, vocab_size, num_features, embedding_dim: see the task's options.
        **recurrent: the recurrent options (``cell``, ``units``, ``depth``,
            ``bidirectional``, ``dropout``, ``learning_rate``), passed to
            :func:`rnnzoo.tasks.common.recurrent_classifier`.

    Example:

    >>> model = rnnzoo.build("classification", vocab_size=20000, num_classes=2)
    """
    if num_features is not None and vocab_size is not None:
        raise ValueError(
            "`vocab_size` and `num_features` are exclusive: token ids or real-valued "
            f"features. Received: vocab_size={vocab_size}, num_features={num_features}"
        )
    if num_features is not None:
        inputs = keras.Input((None, num_features), dtype="float32", name="features")
        x = inputs
    else:
        vocab_size = vocab_size or data.BUILTIN["vocab_size"]
        inputs = keras.Input((None,), dtype="int32", name="tokens")
        x = keras.layers.Embedding(vocab_size, embedding_dim, mask_zero=True, name="embedding")(
            inputs
        )
    return recurrent_classifier(inputs, x, num_classes=num_classes,
                                name="rnnzoo_classification", **recurrent)
