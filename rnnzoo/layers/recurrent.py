"""The recurrent block: one builder that composes any cell with depth and Bidirectional.

Every task builds its recurrent part here, so every task accepts the same
``cell``, ``units``, ``depth``, ``bidirectional`` and ``dropout`` options.
Keras' own ``SimpleRNN``, ``LSTM``, ``GRU`` and ``Bidirectional`` are used as
they are. Custom cells plug in with :func:`register_cell` (the ABC and
Clockwork RNN modules register ``"abc"`` and ``"clockwork"`` that way), and
``"feedforward"`` is the no-recurrence baseline: the same width and depth, a
per-step ``Dense`` stack, then (for many-to-one) masked average pooling over time.

Example:

```python
inputs = keras.Input((None,), dtype="int32")
x = keras.layers.Embedding(100, 32, mask_zero=True)(inputs)
x = recurrent_block(x, cell="gru", units=64, depth=2, bidirectional=True)
```
"""

from __future__ import annotations

from typing import Any, Callable

import keras

__all__ = [
    "register_cell",
    "available_cells",
    "make_rnn_layer",
    "recurrent_block",
    "FEEDFORWARD",
]

FEEDFORWARD = "feedforward"

# name -> factory(units, *, return_sequences, return_state, dropout, go_backwards, name, **kw)
_CELL_FACTORIES: dict[str, Callable[..., keras.layers.Layer]] = {}


def register_cell(name: str, factory: Callable[..., keras.layers.Layer]) -> None:
    """Makes a recurrent layer available as ``cell=name`` in every task.

    Args:
        name: the value users pass as ``cell``.
        factory: ``factory(units, *, return_sequences, return_state, dropout,
            go_backwards, name, **cell_kwargs)`` returning a Keras RNN layer whose
            call signature matches ``keras.layers.RNN`` (``mask``,
            ``initial_state``) and whose ``return_state`` outputs are
            ``[output, *states]``.

    Raises:
        ValueError: if ``name`` is taken.
    """
    if name in _CELL_FACTORIES or name == FEEDFORWARD:
        raise ValueError(f"Cell '{name}' is already registered.")
    _CELL_FACTORIES[name] = factory


def available_cells() -> tuple[str, ...]:
    """Every value ``cell`` accepts, recurrent cells first, then ``'feedforward'``."""
    _load_custom_cells()
    return tuple(_CELL_FACTORIES) + (FEEDFORWARD,)


def _load_custom_cells() -> None:
    # Importing the layers package registers the custom cells it defines.
    import rnnzoo.layers  # noqa: F401


def _keras_factory(layer_cls):
    def factory(units, *, return_sequences, return_state, dropout, go_backwards, name, **kw):
        return layer_cls(
            units,
            return_sequences=return_sequences,
            return_state=return_state,
            dropout=dropout,
            go_backwards=go_backwards,
            name=name,
            **kw,
        )

    factory.__name__ = f"{layer_cls.__name__.lower()}_factory"
    return factory


register_cell("lstm", _keras_factory(keras.layers.LSTM))
register_cell("gru", _keras_factory(keras.layers.GRU))
register_cell("simple", _keras_factory(keras.layers.SimpleRNN))


def _check_cell(cell: str) -> None:
    allowed = available_cells()
    if cell not in allowed:
        from rnnzoo.registry import suggest

        raise ValueError(
            f"`cell` must be one of {list(allowed)}. Received: cell={cell!r}."
            f"{suggest(cell, allowed)}"
        )


def make_rnn_layer(
    cell: str,
    units: int,
    *,
    return_sequences: bool = False,
    return_state: bool = False,
    dropout: float = 0.0,
    go_backwards: bool = False,
    name: str | None = None,
    **cell_kwargs: Any,
) -> keras.layers.Layer:
    """Returns one recurrent layer of the registered ``cell`` type.

    Args:
        cell: a registered recurrent cell name (not ``'feedforward'``).
        units: hidden units.
        return_sequences, return_state, dropout, go_backwards: as in
            ``keras.layers.RNN``.
        name: the layer name.
        **cell_kwargs: extra arguments for the cell (for example ``periods``
            for the Clockwork RNN).

    Returns:
        A ``keras.layers.Layer``.
    """
    _check_cell(cell)
    if cell == FEEDFORWARD:
        raise ValueError(
            "`cell` must be a recurrent cell for make_rnn_layer. Received: cell='feedforward' "
            "(use recurrent_block, which builds the feed-forward baseline)."
        )
    if not isinstance(units, int) or isinstance(units, bool) or units < 1:
        raise ValueError(f"`units` must be a positive integer. Received: units={units!r}")
    return _CELL_FACTORIES[cell](
        units,
        return_sequences=return_sequences,
        return_state=return_state,
        dropout=dropout,
        go_backwards=go_backwards,
        name=name,
        **cell_kwargs,
    )


def recurrent_block(
    x,
    *,
    cell: str = "lstm",
    units: int = 64,
    depth: int = 1,
    bidirectional: bool = False,
    dropout: float = 0.0,
    return_sequences: bool = False,
    name: str = "rnn",
    cell_kwargs: dict | None = None,
):
    """Applies a stack of ``depth`` recurrent layers to a symbolic tensor.

    Every layer but the last returns sequences (so the stack is a deep RNN);
    the last returns sequences only if ``return_sequences``. With
    ``bidirectional=True`` each layer is wrapped in ``keras.layers.Bidirectional``
    (outputs concatenated, width ``2 * units``). Masks from an ``Embedding`` with
    ``mask_zero=True`` or a ``Masking`` layer flow through every layer.

    Args:
        x: a symbolic ``(batch, time, features)`` tensor.
        cell: one of :func:`available_cells`.
        units: hidden units per layer (per direction).
        depth: number of stacked layers.
        bidirectional: wrap each layer in ``Bidirectional``.
        dropout: input dropout of every recurrent layer (``Dropout`` before each
            ``Dense`` for the feed-forward baseline).
        return_sequences: whether the block returns the whole sequence.
        name: prefix of the layer names (``rnn_1``, ``rnn_2``, ...).
        cell_kwargs: extra arguments for each recurrent layer.

    Returns:
        The output tensor: ``(batch, width)`` or ``(batch, time, width)``.
    """
    _check_cell(cell)
    if not isinstance(depth, int) or isinstance(depth, bool) or depth < 1:
        raise ValueError(f"`depth` must be a positive integer. Received: depth={depth!r}")
    cell_kwargs = dict(cell_kwargs or {})
    if cell == FEEDFORWARD:
        for i in range(depth):
            if dropout:
                x = keras.layers.Dropout(dropout, name=f"{name}_dropout_{i + 1}")(x)
            x = keras.layers.Dense(units, activation="tanh", name=f"{name}_{i + 1}")(x)
        if not return_sequences:
            x = keras.layers.GlobalAveragePooling1D(name=f"{name}_pool")(x)
        return x
    for i in range(depth):
        last = i == depth - 1
        layer = make_rnn_layer(
            cell,
            units,
            return_sequences=return_sequences or not last,
            dropout=dropout,
            name=f"{name}_{i + 1}" if not bidirectional else f"{name}_{i + 1}_{cell}",
            **cell_kwargs,
        )
        if bidirectional:
            layer = keras.layers.Bidirectional(layer, name=f"{name}_{i + 1}")
        x = layer(x)
    return x
