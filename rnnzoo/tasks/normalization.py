"""Per-feature normalisation adapted on training data and saved inside the model.

The ``classification`` and ``regression`` builders put a
``keras.layers.Normalization`` after their input; its mean and variance are
weights of the model, so they are saved with it and a shared model takes raw
features in the data's own units. This module computes those statistics:

- only real steps count: with a ``mask_value`` (the padding value of padded
  variable-length series, ``0.0`` by default) a step whose every channel equals
  it is padding and is left out, so padding never shifts the statistics;
- NaN, infinite or empty adapt data is refused with a clear error, instead of
  a model that silently predicts NaN.

Example:

```python
mean, variance = feature_statistics(batches_of(adapt_data, "adapt_data"), num_features=3)
set_statistics(model.get_layer("input_normalization"), mean, variance)
```
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator

import keras
import numpy as np

__all__ = [
    "check_adapt_data",
    "batches_of",
    "feature_statistics",
    "set_statistics",
]


def _is_dataset(value: Any) -> bool:
    # tf.data without importing TensorFlow here: a Dataset has element_spec and is iterable.
    return hasattr(value, "element_spec") and hasattr(value, "__iter__")


def check_adapt_data(value: Any, *, pairs: bool, name: str = "adapt_data") -> Any:
    """Checks the form of ``adapt_data`` (not its values: see :func:`feature_statistics`).

    Args:
        value: ``None``, a ``tf.data.Dataset``, a tuple ``(inputs, targets)``
            or, unless ``pairs``, an array of inputs.
        pairs: whether targets are required (regression adapts both sides).
        name: the argument name used in errors.

    Returns:
        ``value``, unchanged.

    Raises:
        ValueError: naming the argument and what it may be.
    """
    if value is None or _is_dataset(value):
        return value
    if isinstance(value, (tuple, list)) and len(value) == 2 and not isinstance(value[0], str):
        return value
    if not pairs and hasattr(value, "shape") and hasattr(value, "dtype"):
        return value
    allowed = ("a tuple (inputs, targets) of arrays or a batched tf.data.Dataset of "
               "(inputs, targets)" if pairs else
               "an array of inputs (batch, time, features), a tuple (inputs, labels) or a "
               "batched tf.data.Dataset of inputs or (inputs, labels)")
    raise ValueError(
        f"`{name}` must be None, {allowed}. Received: {name} of type {type(value).__name__}"
    )


def batches_of(value: Any) -> Iterator[tuple]:
    """``(inputs, targets_or_None)`` numpy batches of checked ``adapt_data``."""
    if _is_dataset(value):
        for element in value:
            if isinstance(element, (tuple, list)):
                yield np.asarray(element[0]), (np.asarray(element[1]) if len(element) > 1
                                               else None)
            else:
                yield np.asarray(element), None
    elif isinstance(value, (tuple, list)):
        yield np.asarray(value[0]), np.asarray(value[1])
    else:
        yield np.asarray(value), None


def _rows(array: np.ndarray, channels: int, what: str, name: str, option: str) -> np.ndarray:
    if not np.issubdtype(array.dtype, np.number) and array.dtype != bool:
        raise ValueError(
            f"`{name}` must hold numbers. Received: {what} of dtype {array.dtype}"
        )
    if array.ndim == 0 or array.shape[-1] != channels:
        got = array.shape[-1] if array.ndim else "no"
        raise ValueError(
            f"`{name}` must hold {what} with {option}={channels} channels on the last axis. "
            f"Received: {what} with {got} (shape {array.shape})"
        )
    return array.reshape(-1, channels).astype(np.float64)


def feature_statistics(
    arrays: Iterable[np.ndarray],
    channels: int,
    *,
    mask_value: float | None = None,
    what: str = "inputs",
    name: str = "adapt_data",
    option: str = "num_features",
) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and variance over every real step of ``arrays``.

    Args:
        arrays: float arrays ``(..., channels)``.
        channels: the expected last dimension (``num_features`` or ``num_outputs``).
        mask_value: steps whose every channel equals it are padding and are
            skipped; ``None`` keeps every step.
        what: what the arrays are, for errors (``"inputs"``, ``"targets"``).
        name: the argument name used in errors.
        option: the option that set ``channels``, named in errors.

    Returns:
        ``(mean, variance)``, float64 arrays of shape ``(channels,)``.

    Raises:
        ValueError: for a wrong channel count, values that are not finite
            (NaN, inf), or no real step at all.
    """
    mean = np.zeros(channels)
    m2 = np.zeros(channels)  # sum of squared deviations (Chan et al.'s pairwise update)
    count = 0
    for array in arrays:
        rows = _rows(np.asarray(array), channels, what, name, option)
        if mask_value is not None:
            rows = rows[np.any(rows != mask_value, axis=1)]
        if not np.all(np.isfinite(rows)):
            bad = int(np.sum(~np.isfinite(rows)))
            raise ValueError(
                f"`{name}` must hold finite values: the normalization would turn them into "
                f"NaN predictions. Received: {what} with {bad} NaN or infinite value(s); "
                "impute or drop them first."
            )
        if not len(rows):
            continue
        n = len(rows)
        batch_mean = rows.mean(0)
        delta = batch_mean - mean
        m2 += ((rows - batch_mean) ** 2).sum(0) + delta ** 2 * count * n / (count + n)
        mean = mean + delta * n / (count + n)
        count += n
    if count == 0:
        padding = (f" (steps whose every channel is mask_value={mask_value} are padding and "
                   "do not count)" if mask_value is not None else "")
        raise ValueError(
            f"`{name}` must hold at least one real step to adapt the normalization on. "
            f"Received: {what} with no real step{padding}."
        )
    return mean, m2 / count


def set_statistics(layer: keras.layers.Normalization, mean, variance) -> None:
    """Sets a built ``Normalization`` layer's statistics exactly (through ``adapt``).

    ``adapt`` is fed two rows ``mean - std`` and ``mean + std``, whose mean and
    variance are exactly ``mean`` and ``variance``: the public way to set them.
    """
    rank = len(layer.input.shape)
    mean = np.asarray(mean, np.float32)
    std = np.sqrt(np.asarray(variance, np.float32))
    rows = np.stack([mean - std, mean + std]).reshape((1,) * (rank - 2) + (2, -1))
    layer.adapt(rows)
