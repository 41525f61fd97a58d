"""The ``regression`` task: sequence regression and forecasting.

Many-to-one (``return_sequences=False``): a window ``(time, num_features)``
gives the next ``horizon`` values of ``num_outputs`` channels. Many-to-many
(``return_sequences=True``): a forecast after every step. Output shapes:

| return_sequences | horizon == 1 | horizon > 1 |
|---|---|---|
| False | ``(batch, num_outputs)`` | ``(batch, horizon, num_outputs)`` |
| True | ``(batch, time, num_outputs)`` | ``(batch, time, horizon, num_outputs)`` |

With ``normalize=True`` (default) the inputs pass through a
``keras.layers.Normalization`` and the outputs through its inverse, both
adapted on the built-in training split (or on ``adapt_data``); their
statistics are weights of the model, so they are saved with it and the model
takes and returns values in the data's own units.
"""

from __future__ import annotations

import numpy as np

import keras

from rnnzoo import registry
from rnnzoo.data import regression as data, series
from rnnzoo.layers.recurrent import recurrent_block
from rnnzoo.registry import Option
from rnnzoo.tasks.common import compile_model, recurrent_options, recurrent_search_space

__all__ = ["build_regression", "adapt_normalization", "output_layout"]


def _batches(test_ds):
    for x, y in test_ds:
        yield np.asarray(x), np.asarray(y)


def output_layout(model: keras.Model) -> tuple[int, bool]:
    """``(horizon, return_sequences)`` of a regression model, read from its output shape."""
    shape = tuple(model.output_shape)
    if len(shape) == 2:
        return 1, False
    if len(shape) == 4:
        return int(shape[2]), True
    return (1, True) if shape[1] is None else (int(shape[1]), False)


def _persistence_report(model, test_ds) -> dict:
    """Test RMSE of the naive last-value forecast, for the demo table."""
    horizon, return_sequences = output_layout(model)
    sq, count = 0.0, 0
    for x, y in _batches(test_ds):
        p = data.persistence_forecast(x, y.shape[-1], horizon, return_sequences)
        sq += float(np.sum((p - y) ** 2))
        count += y.size
    return {"baseline": "persistence (last value)", "baseline_value": float(np.sqrt(sq / count))}


def _check_adapt_data(value):
    if value is None:
        return None
    import tensorflow as tf

    if isinstance(value, tf.data.Dataset):
        return value
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return value
    raise ValueError(
        "`adapt_data` must be None, a tuple (inputs, targets) of arrays or a batched "
        f"tf.data.Dataset of (inputs, targets). Received: adapt_data of type {type(value)}"
    )


def _statistics_of(adapt_data, num_features: int, num_outputs: int):
    """Per-channel mean and variance of inputs and targets."""
    if isinstance(adapt_data, (tuple, list)):
        batches = [(np.asarray(adapt_data[0]), np.asarray(adapt_data[1]))]
    else:
        batches = [(np.asarray(x), np.asarray(y)) for x, y in adapt_data]
    xs = np.concatenate([x.reshape(-1, x.shape[-1]) for x, _ in batches]).astype(np.float64)
    ys = np.concatenate([y.reshape(-1, y.shape[-1]) for _, y in batches]).astype(np.float64)
    if xs.shape[-1] != num_features or ys.shape[-1] != num_outputs:
        raise ValueError(
            f"`adapt_data` must hold inputs with num_features={num_features} channels and "
            f"targets with num_outputs={num_outputs} channels on the last axis. Received: "
            f"inputs with {xs.shape[-1]}, targets with {ys.shape[-1]}"
        )
    return xs.mean(0), xs.var(0), ys.mean(0), ys.var(0)


def _set_statistics(layer: keras.layers.Normalization, mean, variance) -> None:
    # adapt() on an array shaped like the layer's input: only the last axis is kept.
    rank = len(layer.input.shape)
    mean = np.asarray(mean, np.float32)
    std = np.sqrt(np.asarray(variance, np.float32))
    # Two rows mean +- std have exactly this mean and variance.
    rows = np.stack([mean - std, mean + std]).reshape((1,) * (rank - 2) + (2, -1))
    layer.adapt(rows)


def adapt_normalization(model: keras.Model, adapt_data) -> keras.Model:
    """Re-adapts a regression model's normalization layers on your own data.

    Args:
        model: a model built by ``rnnzoo.build("regression", normalize=True)``.
        adapt_data: ``(inputs, targets)`` arrays, or a batched ``tf.data.Dataset``
            of them, in the data's own units.

    Returns:
        The same model, whose input and output scaling now match ``adapt_data``.

    Example:

    >>> model = rnnzoo.build("regression", num_features=3)
    >>> adapt_normalization(model, train_ds)
    """
    try:
        inp = model.get_layer("input_normalization")
        out = model.get_layer("output_denormalization")
    except ValueError:
        raise ValueError(
            "`model` must be a regression model built with normalize=True. Received: "
            f"model={model.name!r} without normalization layers"
        ) from None
    stats = _statistics_of(_check_adapt_data(adapt_data), inp.mean.shape[-1],
                           out.mean.shape[-1])
    _set_statistics(inp, stats[0], stats[1])
    _set_statistics(out, stats[2], stats[3])
    return model


@registry.register(
    "regression",
    pattern="many-to-one / many-to-many",
    description=(
        "Sequence regression and forecasting: a window of real-valued feature vectors is "
        "read by the recurrent block and a linear head forecasts the next `horizon` values "
        "of `num_outputs` channels, after the last step (many-to-one) or after every step "
        "(return_sequences=True). Inputs and outputs are in the data's own units (input "
        "Normalization and its inverse on the output, saved with the model). Loss: MSE; "
        "metrics: RMSE, MAE, MSE. The naive last-value (persistence) forecast is the baseline."
    ),
    inputs="floats (batch, time, num_features)",
    outputs="floats (batch, [time,] [horizon,] num_outputs); horizon axis only if horizon > 1",
    options=[
        *recurrent_options(cell="lstm", units=64, learning_rate=5e-3),
        Option("num_features", data.BUILTIN["num_features"], int, low=1,
               help="features per input time step"),
        Option("num_outputs", data.BUILTIN["num_outputs"], int, low=1,
               help="values forecast per future step"),
        Option("horizon", data.BUILTIN["horizon"], int, low=1, high=10000,
               help="future steps forecast; output gets a (horizon, num_outputs) shape if > 1"),
        Option("return_sequences", False, bool,
               help="forecast after every input step (many-to-many)"),
        Option("normalize", True, bool,
               help="input Normalization + inverse on the output, adapted on the "
                    "training data and saved with the model"),
        Option("adapt_data", None, object, allow_none=True,
               help="(inputs, targets) or a tf.data.Dataset to adapt the normalization on "
                    "(default: the built-in training split)"),
    ],
    metrics=["rmse", "mae", "mse"],
    datasets={"builtin": data.load_builtin, "tfds": data.load_tfds, "statsmodels": series.load},
    tfds_name="cherry_blossoms",
    search_space=recurrent_search_space(),
    objective=("val_rmse", "min"),
    demo={"epochs": 4, "data": {"stride": 2}, "report": _persistence_report},
    tiny={
        "overrides": {"units": 8},
        "data": {"sequence_length": 16, "length": 800, "stride": 4},
    },
)
def build_regression(
    *,
    num_features: int,
    num_outputs: int,
    horizon: int,
    return_sequences: bool,
    normalize: bool,
    adapt_data,
    bidirectional: bool,
    dropout: float,
    learning_rate: float,
    **recurrent,
) -> keras.Model:
    """Builds the compiled regression / forecasting model.

    Inputs ``(batch, time, num_features)`` (any length); outputs as in the
    module docstring. Loss: mean squared error; metrics: RMSE, MAE, MSE.

    Args:
        num_features, num_outputs, horizon, return_sequences, normalize,
            adapt_data: see the task's options.
        bidirectional, dropout: of the recurrent block (``dropout`` also
            before the head).
        learning_rate: Adam's learning rate.
        **recurrent: the other recurrent options (``cell``, ``units``,
            ``depth``), passed to :func:`rnnzoo.layers.recurrent.recurrent_block`.

    Example:

    >>> model = rnnzoo.build("regression", num_features=3, num_outputs=2, horizon=12)
    >>> model.output_shape
    (None, 12, 2)
    """
    if bidirectional and return_sequences:
        raise ValueError(
            "`bidirectional` must be False with return_sequences=True: the backward pass would "
            "show each step the future values it forecasts. Received: bidirectional=True, "
            "return_sequences=True"
        )
    adapt_data = _check_adapt_data(adapt_data)
    inputs = keras.Input((None, num_features), dtype="float32", name="features")
    x = inputs
    if normalize:
        in_norm = keras.layers.Normalization(axis=-1, name="input_normalization")
        x = in_norm(x)
    x = recurrent_block(x, **recurrent, bidirectional=bidirectional, dropout=dropout,
                        return_sequences=return_sequences)
    if dropout:
        x = keras.layers.Dropout(dropout, name="head_dropout")(x)
    x = keras.layers.Dense(horizon * num_outputs, name="forecast")(x)
    if horizon > 1:
        shape = (-1, horizon, num_outputs) if return_sequences else (horizon, num_outputs)
        x = keras.layers.Reshape(shape, name="forecast_steps")(x)
    if normalize:
        out_norm = keras.layers.Normalization(axis=-1, invert=True, name="output_denormalization")
        x = out_norm(x)
    outputs = x
    model = keras.Model(inputs, outputs, name="rnnzoo_regression")
    if normalize:
        if adapt_data is None:
            if num_outputs > num_features:
                # The built-in targets are input channels; scale outputs like the first channel.
                stats = data.target_statistics(num_features, 1)
                stats = (*stats[:2], np.repeat(stats[2], num_outputs),
                         np.repeat(stats[3], num_outputs))
            else:
                stats = data.target_statistics(num_features, num_outputs)
        else:
            stats = _statistics_of(adapt_data, num_features, num_outputs)
        _set_statistics(in_norm, stats[0], stats[1])
        _set_statistics(out_norm, stats[2], stats[3])
    return compile_model(
        model,
        learning_rate=learning_rate,
        loss=keras.losses.MeanSquaredError(),
        metrics=[
            keras.metrics.RootMeanSquaredError(name="rmse"),
            keras.metrics.MeanAbsoluteError(name="mae"),
            keras.metrics.MeanSquaredError(name="mse"),
        ],
    )
