"""The probe batch: the fixed examples the gradient monitor measures on.

The examples are tensors of the Keras backend (a ``tf.data.Dataset`` gives
TensorFlow tensors; on JAX or PyTorch they are converted).

By default the monitor takes the first ``probe_size`` examples of the data the
running ``model.fit`` trains on (:func:`training_data`), when that data can be
read again without consuming it (a ``tf.data.Dataset``, arrays, tensors);
otherwise the user passes ``probe=(x, y)``. :func:`take_examples` cuts the
examples out of either, and :func:`probe_batch` unpacks them into
``(x, y, sample_weight)``.

Example:

```python
x, y, sample_weight = probe_batch(tf.data.Dataset.from_tensor_slices((x, y)).batch(8), 32)
```
"""

from __future__ import annotations

import types
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from rnnzoo import _compat

__all__ = ["training_data", "take_examples", "probe_batch"]


def training_data(model) -> Any:
    """The ``x``/``y``/``sample_weight`` given to the running ``model.fit``, or None.

    Keras does not hand callbacks the training data; see
    :func:`rnnzoo._compat.running_fit_arguments`. Only data that can be read
    again without consuming it is returned: a ``tf.data.Dataset`` as it is,
    arrays and tensors as ``(x, y)`` or ``(x, y, sample_weight)``.
    """
    arguments = _compat.running_fit_arguments(model)
    if arguments is None:
        return None
    x, y, sw = arguments["x"], arguments["y"], arguments["sample_weight"]
    if isinstance(x, tf.data.Dataset):
        return x
    if x is None or isinstance(x, keras.utils.PyDataset) or _is_iterator(x):
        return None
    leaves = keras.tree.flatten((x, y))
    if not leaves or not all(hasattr(leaf, "shape") for leaf in leaves):
        return None  # e.g. a distributed dataset: ask for an explicit probe
    return (x, y) if sw is None else (x, y, sw)


def _is_iterator(x) -> bool:
    return isinstance(x, types.GeneratorType) or (hasattr(x, "__next__") and hasattr(x, "__iter__"))


def take_examples(data, n: int):
    """The first ``n`` examples of a dataset or of array-likes, as a structure of tensors.

    Raises:
        ValueError: for an empty dataset.
    """
    if isinstance(data, tf.data.Dataset):
        parts, count = [], 0
        for batch in data:
            parts.append(batch)
            count += int(keras.tree.flatten(batch)[0].shape[0])
            if count >= n:
                break
        if not parts:
            raise ValueError("`probe` must be a non-empty dataset. Received an empty one.")
        batch = keras.tree.map_structure(lambda *xs: tf.concat(xs, axis=0), *parts)
    else:
        batch = data
    return keras.tree.map_structure(lambda a: _tensor(a, n) if a is not None else None, batch)


def _tensor(a, n: int):
    """The first ``n`` rows of ``a`` as a tensor of the Keras backend (tf.data gives TF's)."""
    if keras.backend.backend() == "tensorflow":
        return tf.convert_to_tensor(a)[:n]
    return keras.ops.convert_to_tensor(np.asarray(a)[:n])


def probe_batch(data, n: int) -> tuple[Any, Any, Any]:
    """``(x, y, sample_weight)`` of the first ``n`` examples of ``data``.

    Raises:
        ValueError: when ``data`` does not give ``(x, y)`` or ``(x, y, sample_weight)``.
    """
    batch = take_examples(data, n)
    if not isinstance(batch, (tuple, list)):
        raise ValueError(
            "`probe` must give (x, y) or (x, y, sample_weight) batches. "
            f"Received a single structure: {type(batch).__name__}"
        )
    return keras.utils.unpack_x_y_sample_weight(tuple(batch))
