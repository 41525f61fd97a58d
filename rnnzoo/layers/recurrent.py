"""The cell table and the recurrent block: any cell, any depth, optionally Bidirectional.

Every task builds its recurrent part from this table, so every task accepts the
same ``cell``, ``units``, ``depth``, ``bidirectional`` and ``dropout`` options:

| cell | layer | recurrent |
|---|---|---|
| ``"lstm"``, ``"gru"``, ``"simple"`` | Keras' own ``LSTM``, ``GRU``, ``SimpleRNN``, unchanged | yes |
| ``"abc"`` | :class:`~rnnzoo.layers.ABCSimpleRNN` (explicit A/B/C weights) | yes |
| ``"clockwork"`` | :class:`~rnnzoo.layers.ClockworkRNN` (Koutnik et al. 2014) | yes |
| ``"feedforward"`` | :class:`~rnnzoo.layers.FeedForward` (per-step ``Dense``, masked mean) | no |

A cell's entry says what the rest of the package needs to know about it, so no
task or exporter asks for a cell by name: a non-recurrent cell is not wrapped
in ``Bidirectional`` (nothing runs in time; the width stays ``units``) and a
decoder built on it reads its condition at every step instead of from a state.
:func:`register_cell` adds a cell to every task.

Example:

```python
inputs = keras.Input((None,), dtype="int32")
x = keras.layers.Embedding(100, 32, mask_zero=True)(inputs)
x = recurrent_block(x, cell="gru", units=64, depth=2, bidirectional=True)
```
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import keras

from rnnzoo import _validation as v
from rnnzoo.layers.abc_rnn import ABCSimpleRNN
from rnnzoo.layers.clockwork import ClockworkRNN
from rnnzoo.layers.feedforward import FeedForward

__all__ = [
    "CellSpec",
    "FEEDFORWARD",
    "register_cell",
    "unregister_cell",
    "get_cell",
    "available_cells",
    "recurrent_cells",
    "make_rnn_layer",
    "layer_width",
    "state_sizes",
    "recurrent_block",
]

FEEDFORWARD = "feedforward"


@dataclasses.dataclass(frozen=True)
class CellSpec:
    """One entry of the cell table.

    Attributes:
        name: the value users pass as ``cell``.
        factory: ``factory(units, *, return_sequences, return_state, dropout,
            go_backwards, name, **cell_kwargs)`` returning a layer whose call
            signature matches ``keras.layers.RNN`` (``mask``, ``initial_state``)
            and whose ``return_state`` outputs are ``[output, *states]``.
        recurrent: whether the layer carries information across time steps.
            A non-recurrent cell is never wrapped in ``Bidirectional`` and a
            decoder on it is fed its condition at every step.
    """

    name: str
    factory: Callable[..., keras.layers.Layer]
    recurrent: bool = True


_CELLS: dict[str, CellSpec] = {}


def register_cell(name: str, factory: Callable[..., keras.layers.Layer], *,
                  recurrent: bool = True) -> CellSpec:
    """Makes a layer available as ``cell=name`` in every task.

    Args:
        name: the value users pass as ``cell``.
        factory: see :class:`CellSpec`.
        recurrent: see :class:`CellSpec`.

    Returns:
        The new :class:`CellSpec`.

    Raises:
        ValueError: if ``name`` is taken.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"`name` must be a non-empty string. Received: name={name!r}")
    if name in _CELLS:
        raise ValueError(f"Cell '{name}' is already registered.")
    spec = CellSpec(name, factory, bool(recurrent))
    _CELLS[name] = spec
    return spec


def unregister_cell(name: str) -> None:
    """Removes a cell added with :func:`register_cell` (plugins, tests)."""
    _CELLS.pop(name, None)


def available_cells() -> tuple[str, ...]:
    """Every value ``cell`` accepts, recurrent cells first, then the baselines."""
    return recurrent_cells() + tuple(n for n, s in _CELLS.items() if not s.recurrent)


def recurrent_cells() -> tuple[str, ...]:
    """The cells that carry information across time steps."""
    return tuple(n for n, s in _CELLS.items() if s.recurrent)


def get_cell(cell: str) -> CellSpec:
    """The :class:`CellSpec` of a registered cell; a ``ValueError`` with a hint otherwise."""
    v.check_choice("cell", cell, available_cells())
    return _CELLS[cell]


def _keras_factory(layer_cls):
    def factory(units, *, return_sequences, return_state, dropout, go_backwards, name, **kw):
        return layer_cls(units, return_sequences=return_sequences, return_state=return_state,
                         dropout=dropout, go_backwards=go_backwards, name=name, **kw)

    factory.__name__ = f"{layer_cls.__name__.lower()}_factory"
    return factory


# Keras' own layers: rnnzoo.layers.LSTM/GRU/SimpleRNN (same weights, hoisted projection,
# hand-written backward pass) measured no faster on CPU (tools/bench_layers.py), so the
# table keeps Keras'; register_cell("lstm", ...) elsewhere would switch every task.
register_cell("lstm", _keras_factory(keras.layers.LSTM))
register_cell("gru", _keras_factory(keras.layers.GRU))
register_cell("simple", _keras_factory(keras.layers.SimpleRNN))
register_cell("abc", _keras_factory(ABCSimpleRNN))  # y = h by default: what SimpleRNN computes
# Default modules: the largest g of 8, 4, 2, 1 dividing units, periods 1, 2, ..., 2^(g-1).
register_cell("clockwork", _keras_factory(ClockworkRNN))
register_cell(FEEDFORWARD, _keras_factory(FeedForward), recurrent=False)


def make_rnn_layer(
    cell: str,
    units: int,
    *,
    return_sequences: bool = False,
    return_state: bool = False,
    dropout: float = 0.0,
    go_backwards: bool = False,
    bidirectional: bool = False,
    name: str | None = None,
    **cell_kwargs: Any,
) -> keras.layers.Layer:
    """Returns one layer of the registered ``cell`` type.

    Args:
        cell: one of :func:`available_cells`.
        units: hidden units (per direction).
        return_sequences, return_state, dropout, go_backwards: as in
            ``keras.layers.RNN``.
        bidirectional: wrap a recurrent layer in ``keras.layers.Bidirectional``
            (the inner layer is named ``f"{name}_{cell}"``); a non-recurrent
            cell is returned unwrapped.
        name: the layer name.
        **cell_kwargs: extra arguments for the layer (for example ``periods``
            for the Clockwork RNN).

    Returns:
        A ``keras.layers.Layer``.
    """
    spec = get_cell(cell)
    v.check_positive_int("units", units)
    wrap = v.check_bool("bidirectional", bidirectional) and spec.recurrent
    layer = spec.factory(
        units,
        return_sequences=return_sequences,
        return_state=return_state,
        dropout=dropout,
        go_backwards=go_backwards,
        name=f"{name}_{cell}" if wrap and name else name,
        **cell_kwargs,
    )
    return keras.layers.Bidirectional(layer, name=name) if wrap else layer


def layer_width(cell: str, units: int, bidirectional: bool) -> int:
    """The output width of :func:`make_rnn_layer` with these options."""
    return units * (2 if bidirectional and get_cell(cell).recurrent else 1)


def state_sizes(layer: keras.layers.Layer) -> list[int]:
    """The sizes of a layer's states, in ``return_state`` order (one direction's)."""
    if isinstance(layer, keras.layers.Bidirectional):
        layer = layer.forward_layer
    size = layer.cell.state_size if isinstance(layer, keras.layers.RNN) else layer.state_size
    sizes = list(size) if isinstance(size, (list, tuple)) else [size]
    return [int(s[-1]) if isinstance(s, (list, tuple)) else int(s) for s in sizes]


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
    """Applies a stack of ``depth`` layers of ``cell`` to a symbolic tensor.

    Every layer but the last returns sequences (so the stack is a deep RNN);
    the last returns sequences only if ``return_sequences``. With
    ``bidirectional=True`` each recurrent layer is wrapped in
    ``keras.layers.Bidirectional`` (outputs concatenated, width ``2 * units``).
    Masks from an ``Embedding`` with ``mask_zero=True`` or a ``Masking`` layer
    flow through every layer.

    Args:
        x: a symbolic ``(batch, time, features)`` tensor.
        cell: one of :func:`available_cells`.
        units: hidden units per layer (per direction).
        depth: number of stacked layers.
        bidirectional: wrap each layer in ``Bidirectional``.
        dropout: input dropout of every layer.
        return_sequences: whether the block returns the whole sequence.
        name: prefix of the layer names (``rnn_1``, ``rnn_2``, ...).
        cell_kwargs: extra arguments for each layer.

    Returns:
        The output tensor: ``(batch, width)`` or ``(batch, time, width)``.
    """
    get_cell(cell)
    v.check_positive_int("depth", depth)
    for i in range(depth):
        layer = make_rnn_layer(
            cell,
            units,
            return_sequences=return_sequences or i < depth - 1,
            dropout=dropout,
            bidirectional=bidirectional,
            name=f"{name}_{i + 1}",
            **dict(cell_kwargs or {}),
        )
        x = layer(x)
    return x
