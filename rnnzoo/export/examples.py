"""Example inputs for an export: the task's data or the user's, one example at a time.

Verification and int8 calibration both need single examples (the file runs
at batch 1) laid out the way a signature wants them: a feed ``{input name:
array}``, padded or cut to a fixed length, without trailing padding when
streaming, or (generative models) an encoder feed or a prompt prefix.
"""

from __future__ import annotations

from typing import Iterable

import keras
import numpy as np

from rnnzoo import data
from rnnzoo.layers import walk

__all__ = [
    "unbatch",
    "task_examples",
    "fits_model",
    "random_examples",
    "fit_length",
    "feed",
    "valid_length",
    "generative_inputs",
]


def _to_numpy(value):
    return keras.tree.map_structure(lambda t: np.asarray(t), value)


def unbatch(batches: Iterable, limit: int) -> list:
    """Splits ``(x, y)`` (or ``x``) batches into at most ``limit`` examples (batch axis kept)."""
    examples = []
    for batch in batches:
        batch = _to_numpy(batch)
        if isinstance(batch, tuple) and len(batch) in (2, 3):
            x, y = batch[0], batch[1]
        else:
            x, y = batch, None
        n = len(keras.tree.flatten(x)[0])
        for i in range(n):
            xi = keras.tree.map_structure(lambda a: a[i:i + 1], x)
            yi = None if y is None else keras.tree.map_structure(lambda a: a[i:i + 1], y)
            examples.append((xi, yi))
            if len(examples) >= limit:
                return examples
    return examples


def task_examples(task: str | None, split: str, limit: int, batches=None) -> list | None:
    """Single examples from ``batches``, else from the task's built-in split (``None``: no task)."""
    if batches is None:
        if task is None:
            return None
        batches = data.load(task, split, batch_size=min(64, limit))
    return unbatch(batches, limit)


def fits_model(model, examples) -> bool:
    """Whether the examples' arrays match the model's inputs (rank, kind, static sizes)."""
    if not examples:
        return False
    arrays = [np.asarray(a) for a in keras.tree.flatten(examples[0][0])]
    if len(arrays) != len(model.inputs):
        return False
    for a, t in zip(arrays, model.inputs):
        if a.ndim != len(t.shape) or (a.dtype.kind in "iu") != ("int" in str(t.dtype)):
            return False
        if any(d is not None and d != s for d, s in zip(t.shape[1:], a.shape[1:])):
            return False
    return True


def random_examples(model, sequence_length: int | None, n: int, seed: int = 0) -> list:
    """``n`` random ``(x, None)`` examples shaped like the model inputs (ids in its vocabulary)."""
    rng = np.random.default_rng(seed)
    vocab = [layer.input_dim for layer in walk.iter_layers(model)
             if isinstance(layer, keras.layers.Embedding)]
    high = max(2, min(vocab)) if vocab else 2
    examples = []
    for _ in range(n):
        xs = []
        for t in model.inputs:
            shape = [1] + [d if d is not None else (sequence_length or 8) for d in t.shape[1:]]
            if "int" in str(t.dtype):
                xs.append(rng.integers(1, high, size=shape).astype(str(t.dtype)))
            else:
                xs.append(rng.normal(size=shape).astype(str(t.dtype)))
        examples.append((xs[0] if len(xs) == 1 else xs, None))
    return examples


def fit_length(array: np.ndarray, length: int | None) -> np.ndarray:
    """Pads with zeros or truncates axis 1 to ``length`` (``None``: unchanged)."""
    if length is None or array.ndim < 2 or array.shape[1] == length:
        return array
    if array.shape[1] > length:
        return array[:, :length]
    pad = [(0, 0)] * array.ndim
    pad[1] = (0, length - array.shape[1])
    return np.pad(array, pad)


def feed(names, x, length: int | None = None) -> dict:
    """``{name: array}`` for a signature's inputs, each fitted to ``length``."""
    arrays = keras.tree.flatten(x)
    return {n: fit_length(np.asarray(a), length) for n, a in zip(names, arrays)}


def valid_length(model, inputs: dict) -> int:
    """Steps before trailing padding (token 0, or an all-``mask_value`` step)."""
    masking = [layer for layer in walk.iter_layers(model)
               if isinstance(layer, keras.layers.Masking)]
    lengths = []
    for a in inputs.values():
        if a.ndim < 2:
            continue
        if np.issubdtype(a.dtype, np.integer) and a.ndim == 2:
            nonzero = np.nonzero(a[0])[0]
            lengths.append(int(nonzero[-1]) + 1 if len(nonzero) else 1)
        elif masking:
            value = masking[0].mask_value
            flat = a[0].reshape(a.shape[1], -1)
            keep = np.nonzero(np.any(flat != value, axis=-1))[0]
            lengths.append(int(keep[-1]) + 1 if len(keep) else 1)
        else:
            lengths.append(a.shape[1])
    return max(lengths) if lengths else 1


def generative_inputs(encoder_specs: list | None, x) -> tuple[dict | None, list | None]:
    """The encoder feed (or, without encoder, a prompt prefix) of one generative example.

    Args:
        encoder_specs: the ``encoder`` signature's ``[(name, shape, dtype)]``,
            or ``None`` for a model without encoder (text prediction).
        x: the example's inputs.

    Returns:
        ``(feed, None)`` with an encoder, else ``(None, prefix token ids)``.
    """
    arrays = [np.asarray(a) for a in keras.tree.flatten(x)]
    if encoder_specs:
        inputs = {}
        for name, shape, dtype in encoder_specs:
            match = next((a for a in arrays if a.ndim == len(shape)
                          and str(a.dtype).startswith(dtype[:3])
                          and all(s is None or s == d for s, d in zip(shape[1:], a.shape[1:]))),
                         None)
            if match is None:
                match = next(a for a in arrays if a.ndim == len(shape))
            fixed = shape[1] if len(shape) >= 2 and match.ndim == 2 else None
            inputs[name] = fit_length(match.astype(dtype), fixed)
        return inputs, None
    tokens = arrays[0].reshape(-1)
    tokens = [int(t) for t in tokens if t > 3]  # drop padding and reserved ids
    return None, tokens[: max(1, min(5, len(tokens) // 2))]
