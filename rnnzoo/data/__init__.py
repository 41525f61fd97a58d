"""Datasets for every task, through one door: :func:`load`.

``rnnzoo.data.load(task, split=..., batch_size=..., source="builtin" | "tfds")``
returns a ``tf.data.Dataset`` of ``(inputs, targets)`` batches that the task's
default model fits and evaluates directly. ``"builtin"`` data is generated (or
shipped) offline and deterministic; ``"tfds"`` reads the real dataset with
TensorFlow Datasets (imported only when asked for).
"""

from __future__ import annotations

from typing import Any

__all__ = ["load", "SPLITS", "SOURCES"]

from rnnzoo._validation import suggest

SPLITS = ("train", "validation", "test")
SOURCES = ("builtin", "tfds")


def check_split(split: str) -> str:
    if split not in SPLITS:
        raise ValueError(
            f"`split` must be one of {list(SPLITS)}. Received: split={split!r}.{suggest(split, SPLITS)}"
        )
    return split


def check_batch_size(batch_size: int) -> int:
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(
            f"`batch_size` must be a positive integer. Received: batch_size={batch_size!r}"
        )
    return batch_size


def load(
    task: str,
    split: str = "train",
    batch_size: int = 64,
    source: str = "builtin",
    **kwargs: Any,
):
    """Returns a batched ``tf.data.Dataset`` of ``(inputs, targets)`` for a task.

    Args:
        task: a registered task name.
        split: ``"train"``, ``"validation"`` or ``"test"``.
        batch_size: examples per batch.
        source: ``"builtin"`` (offline, deterministic) or ``"tfds"`` (the real
            dataset through TensorFlow Datasets; needs it downloaded or
            ``data_dir`` pointing at a prepared copy).
        **kwargs: loader options (for example ``num_examples``, ``seed``,
            ``data_dir``); see the task's loader docstring.

    Returns:
        A ``tf.data.Dataset`` yielding ``(inputs, targets)`` batches.

    Example:

    >>> ds = rnnzoo.data.load("classification", split="train", batch_size=64)
    """
    from rnnzoo import registry

    spec = registry.get(task)
    check_split(split)
    check_batch_size(batch_size)
    if source not in spec.datasets:
        raise ValueError(
            f"`source` must be one of {sorted(spec.datasets)} for task '{task}'. "
            f"Received: source={source!r}.{suggest(source, spec.datasets)}"
        )
    return spec.datasets[source](split=split, batch_size=batch_size, **kwargs)
