"""What every task builder shares: the recurrent options, the search space, compiling.

A task file declares ``options=[*recurrent_options(...), ...]`` and
``search_space=recurrent_search_space(...)`` next to its builder, and ends the
builder with :func:`compile_model` (the many-to-one classifiers with
:func:`recurrent_classifier`). A builder names its task-specific options and the
recurrent options it reads itself, and takes the rest as ``**recurrent``.
"""

from __future__ import annotations

from typing import Any

import keras

from rnnzoo.layers.recurrent import available_cells, recurrent_block
from rnnzoo.registry import Option

__all__ = [
    "compile_model",
    "recurrent_classifier",
    "recurrent_options",
    "recurrent_search_space",
]


def compile_model(model: keras.Model, *, learning_rate: float, loss: Any, metrics: Any,
                  clipnorm: float | None = 1.0, **kwargs: Any) -> keras.Model:
    """Compiles ``model`` with Adam (gradient clipping on, as RNNs want it)."""
    optimizer = keras.optimizers.Adam(learning_rate=learning_rate, clipnorm=clipnorm)
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)
    return model


def recurrent_classifier(
    inputs: Any,
    x: Any,
    *,
    num_classes: int,
    name: str,
    learning_rate: float,
    branches: tuple = (),
    **recurrent: Any,
) -> keras.Model:
    """The compiled many-to-one classifier the classification tasks share.

    The recurrent block reads ``x`` and its last output (concatenated with the
    ``branches``, if any) goes through
    ``Dropout(dropout)`` (``head_dropout``, only if ``dropout``) to a
    ``Dense(num_classes, softmax)`` named ``classifier``. Loss: sparse
    categorical cross-entropy on integer labels; metric: accuracy.

    Args:
        inputs: the model's ``keras.Input``.
        x: the symbolic ``(batch, time, features)`` sequence the block reads.
        num_classes: width of the softmax.
        name: the model's name.
        learning_rate: Adam's learning rate (see :func:`compile_model`).
        branches: symbolic ``(batch, width)`` tensors computed beside the
            recurrent block (for example a convolutional branch), concatenated
            with its output.
        **recurrent: ``cell``, ``units``, ``depth``, ``bidirectional``,
            ``dropout``: passed to :func:`rnnzoo.layers.recurrent.recurrent_block`.

    Returns:
        The compiled ``keras.Model``.
    """
    x = recurrent_block(x, **recurrent, return_sequences=False)
    if branches:
        x = keras.layers.Concatenate(name="branches")([x, *branches])
    if recurrent.get("dropout"):
        x = keras.layers.Dropout(recurrent["dropout"], name="head_dropout")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="classifier")(x)
    return compile_model(
        keras.Model(inputs, outputs, name=name),
        learning_rate=learning_rate,
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )


def recurrent_options(
    *,
    cell: str = "lstm",
    units: int = 64,
    depth: int = 1,
    bidirectional: bool = False,
    dropout: float = 0.0,
    learning_rate: float = 1e-3,
) -> list[Option]:
    """The recurrent options every task accepts, with task-specific defaults."""
    return [
        Option(
            "cell",
            cell,
            str,
            choices=available_cells,
            help="recurrent cell type; 'feedforward' is the no-recurrence baseline",
        ),
        Option("units", units, int, low=1, help="hidden units per recurrent layer"),
        Option("depth", depth, int, low=1, high=16, help="number of stacked recurrent layers"),
        Option("bidirectional", bidirectional, bool, help="wrap each layer in Bidirectional"),
        Option(
            "dropout",
            dropout,
            float,
            low=0.0,
            high=1.0,
            high_inclusive=False,
            help="dropout rate on the inputs of every recurrent layer",
        ),
        Option(
            "learning_rate",
            learning_rate,
            float,
            low=0.0,
            low_inclusive=False,
            help="Adam learning rate of the compiled model",
        ),
    ]


def recurrent_search_space(
    *,
    units: tuple[int, int, int] = (16, 128, 16),
    depth: tuple[int, int] = (1, 3),
    bidirectional: bool = True,
    **extra: dict,
) -> dict[str, dict]:
    """The keras-tuner search space every task shares, with task-specific ranges.

    Args:
        units: ``(min, max, step)`` of the hidden width.
        depth: ``(min, max)`` stacked layers.
        bidirectional: whether ``bidirectional`` is searched (tasks that generate
            left to right pass ``False``).
        **extra: further task options and their specs (for example ``attention``).

    Returns:
        ``{option: spec}`` for :func:`register`'s ``search_space``; the cells not
        available at tuning time are dropped by :mod:`rnnzoo.tuning`.
    """
    space = {
        "cell": {"type": "choice", "values": ["simple", "lstm", "gru", "abc", "clockwork"]},
        "units": {"type": "int", "min": units[0], "max": units[1], "step": units[2]},
        "depth": {"type": "int", "min": depth[0], "max": depth[1]},
    }
    if bidirectional:
        space["bidirectional"] = {"type": "choice", "values": [False, True]}
    space.update(extra)
    space["dropout"] = {"type": "float", "min": 0.0, "max": 0.4, "step": 0.1}
    space["learning_rate"] = {"type": "float", "min": 1e-4, "max": 1e-2, "sampling": "log"}
    return space
