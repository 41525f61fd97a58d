"""Helpers shared by the task builders."""

from __future__ import annotations

from typing import Any

import keras

__all__ = ["compile_model", "RECURRENT_KEYS", "recurrent_kwargs"]

RECURRENT_KEYS = ("cell", "units", "depth", "bidirectional", "dropout")


def recurrent_kwargs(config: dict[str, Any]) -> dict[str, Any]:
    """The subset of a task config that :func:`recurrent_block` takes."""
    return {key: config[key] for key in RECURRENT_KEYS if key in config}


def compile_model(model: keras.Model, *, learning_rate: float, loss: Any, metrics: Any,
                  clipnorm: float | None = 1.0, **kwargs: Any) -> keras.Model:
    """Compiles ``model`` with Adam (gradient clipping on, as RNNs want it)."""
    optimizer = keras.optimizers.Adam(learning_rate=learning_rate, clipnorm=clipnorm)
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)
    return model
