"""Substituting layers in a functional model with Keras' public API only.

Streaming and fused-LSTM exports run a model with some layers replaced (a
recurrent layer by one step of its cell, an LSTM by the fused op) and every
other layer unchanged. ``keras.models.clone_model`` with a ``clone_function``
does exactly that when the function returns the *same* layer for the layers
to keep: the copy shares their weights. :func:`replace_layers` clones an
uncompiled view of the model, so nothing is compiled or built twice.
"""

from __future__ import annotations

from typing import Callable

import keras

__all__ = ["functional_view", "replace_layers"]


def functional_view(model) -> keras.Model:
    """An uncompiled functional model over ``model``'s own graph (same layers, same weights).

    Args:
        model: a functional or sequential Keras model.

    Returns:
        A new ``keras.Model`` from ``model.input`` to ``model.output``.

    Raises:
        ValueError: ``model`` has no symbolic inputs and outputs (a subclassed model).
    """
    try:
        inputs, outputs = model.input, model.output
    except (AttributeError, ValueError) as err:
        raise ValueError(
            "This export needs a functional or sequential Keras model (one with symbolic "
            f"inputs and outputs). Received: model of type {type(model).__name__}"
        ) from err
    return keras.Model(inputs, outputs, name=model.name)


def replace_layers(model, replace: Callable[[keras.layers.Layer], keras.layers.Layer], *,
                   time_steps: int | None = None) -> keras.Model:
    """A copy of ``model`` where each top-level layer is ``replace(layer)``.

    Args:
        model: a functional or sequential Keras model.
        replace: returns the layer itself to keep it (weights shared), or a
            substitute called with the same arguments.
        time_steps: if given, every input of the copy has a time axis (axis 1)
            of this length (streaming runs one step of a model whose inputs
            may declare a fixed length).

    Returns:
        The rewired functional model; ``model`` is unchanged.

    Example:

    >>> copy = replace_layers(model, lambda layer: layer)   # same layers, same outputs
    """
    view = functional_view(model)
    inputs = None
    if time_steps is not None:
        inputs = keras.tree.map_structure(
            lambda t: keras.Input(batch_shape=(t.shape[0], time_steps, *t.shape[2:]),
                                  dtype=t.dtype, name=t.name),
            view.input,
        )
    return keras.models.clone_model(view, input_tensors=inputs, clone_function=replace)
