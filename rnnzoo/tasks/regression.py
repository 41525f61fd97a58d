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
adapted on the built-in training split (or on ``adapt_data``: NaN or empty
data is refused); their statistics are weights of the model, so they are
saved with it and the model takes and returns values in the data's own units.

Padded variable-length windows are masked (``mask_value``, default ``0.0``: a
step whose every feature equals it is padding, left out of the statistics
and skipped by every recurrent layer, so the last real step decides). A
series whose real values can be exactly ``0.0`` needs ``mask_value=None``.
"""

from __future__ import annotations

import numpy as np

import keras

from rnnzoo import registry
from rnnzoo.data import regression as data, series
from rnnzoo.layers.padding import LastStep, ZeroMasked
from rnnzoo.layers.recurrent import recurrent_block
from rnnzoo.registry import Option
from rnnzoo.tasks import normalization as norm
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


def _statistics_of(adapt_data, num_features: int, num_outputs: int,
                   mask_value: float | None = None):
    """Per-channel mean and variance of inputs (padding left out) and targets."""
    adapt_data = norm.check_adapt_data(adapt_data, pairs=True)
    batches = list(norm.batches_of(adapt_data))
    x_mean, x_var = norm.feature_statistics((x for x, _ in batches), num_features,
                                            mask_value=mask_value)
    y_mean, y_var = norm.feature_statistics((y for _, y in batches), num_outputs,
                                            what="targets", option="num_outputs")
    return x_mean, x_var, y_mean, y_var


def adapt_normalization(model: keras.Model, adapt_data, *,
                        mask_value: float | None = 0.0) -> keras.Model:
    """Re-adapts a regression model's normalization layers on your own data.

    Args:
        model: a model built by ``rnnzoo.build("regression", normalize=True)``.
        adapt_data: ``(inputs, targets)`` arrays, or a batched ``tf.data.Dataset``
            of them, in the data's own units (finite values, at least one real step).
        mask_value: input steps whose every channel equals it are padding and are
            left out of the statistics (``None``: every step counts).

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
    stats = _statistics_of(adapt_data, inp.mean.shape[-1], out.mean.shape[-1], mask_value)
    norm.set_statistics(inp, stats[0], stats[1])
    norm.set_statistics(out, stats[2], stats[3])
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
                    "(default: the built-in training split); padding, NaN and empty data "
                    "are refused or left out"),
        Option("residual", False, bool,
               help="forecast the change from the last observed value of each target channel "
                    "(the first num_outputs input features): persistence plus a learned "
                    "correction, which extrapolates trending series"),
        Option("mask_value", 0.0, float, allow_none=True,
               help="input steps whose every feature equals it are padding: masked in every "
                    "layer and left out of the statistics (None: no masking; use None for a "
                    "series whose real values can all be exactly 0.0)"),
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
    mask_value: float | None,
    residual: bool,
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
            adapt_data, mask_value, residual: see the task's options.
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
    if residual and num_outputs > num_features:
        raise ValueError(
            "`residual` forecasts the change of the first num_outputs input features, so "
            f"num_outputs must be <= num_features. Received: num_outputs={num_outputs}, "
            f"num_features={num_features}"
        )
    adapt_data = norm.check_adapt_data(adapt_data, pairs=True)
    inputs = keras.Input((None, num_features), dtype="float32", name="features")
    x = inputs
    if mask_value is not None:
        x = keras.layers.Masking(mask_value, name="padding_mask")(x)
    last = LastStep(num_outputs, horizon, return_sequences, name="last_value")(x) \
        if residual else None
    if normalize:
        in_norm = keras.layers.Normalization(axis=-1, name="input_normalization")
        x = in_norm(x)
    x = recurrent_block(x, **recurrent, bidirectional=bidirectional, dropout=dropout,
                        return_sequences=return_sequences)
    if dropout:
        x = keras.layers.Dropout(dropout, name="head_dropout")(x)
    x = keras.layers.Dense(horizon * num_outputs, name="forecast")(x)
    if horizon > 1:
        if return_sequences and mask_value is not None:
            # Reshape reads no mask: padded steps' forecasts become 0 and the mask ends here.
            x = ZeroMasked(name="forecast_padding")(x)
        shape = (-1, horizon, num_outputs) if return_sequences else (horizon, num_outputs)
        x = keras.layers.Reshape(shape, name="forecast_steps")(x)
    if residual:  # y = last + correction (scaled like the targets when normalized)
        if normalize:
            last_norm = keras.layers.Normalization(axis=-1, name="last_value_normalization")
            last = last_norm(last)
        x = keras.layers.Add(name="persistence_plus_correction")([x, last])
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
            stats = _statistics_of(adapt_data, num_features, num_outputs, mask_value)
        norm.set_statistics(in_norm, stats[0], stats[1])
        norm.set_statistics(out_norm, stats[2], stats[3])
        if residual:
            norm.set_statistics(last_norm, stats[2], stats[3])
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
