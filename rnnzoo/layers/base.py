"""The plumbing rnnzoo's own recurrent layers share: the RNN wrapper and the input check.

:class:`~rnnzoo.layers.abc_rnn.ABCSimpleRNN` and
:class:`~rnnzoo.layers.clockwork.ClockworkRNN` are ``keras.layers.RNN`` over
one cell each, and take the cell's arguments next to the RNN ones, as
``keras.layers.SimpleRNN`` does. :class:`CellRNN` builds the cell from those
arguments, reads the cell's arguments and weights through as attributes of the
layer, and serialises the layer as its arguments (not as a nested cell).
Their cells check their input width with :func:`input_width`.

A layer that runs its own loop in place of ``keras.layers.RNN``'s (the
Clockwork RNN's chunked schedule, :mod:`rnnzoo.layers.fast_rnn`) starts and
ends its ``call`` as ``keras.layers.RNN.call`` does with
:func:`start_states` and :func:`finish_call`.
"""

from __future__ import annotations

from typing import Any

import keras

__all__ = ["CellRNN", "finish_call", "input_width", "start_states"]

_RNN_ARGUMENTS = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll")


def input_width(cell: keras.layers.Layer, input_shape) -> int:
    """The last input dimension, which a cell's ``build`` needs to size its kernel.

    Args:
        cell: the cell being built (named in the error).
        input_shape: the shape ``build`` received.

    Returns:
        ``input_shape[-1]``.

    Raises:
        ValueError: if it is unknown.
    """
    input_dim = input_shape[-1]
    if input_dim is None:
        raise ValueError(
            f"The last input dimension of {cell.name} must be known. "
            f"Received: input_shape={input_shape}"
        )
    return input_dim


def start_states(layer: keras.layers.RNN, sequences, initial_state) -> list:
    """The states a loop starts from, as ``keras.layers.RNN.call`` prepares them.

    Args:
        layer: the RNN layer being called.
        sequences: its input ``(batch, steps, features)``.
        initial_state: the ``initial_state`` argument (None: the layer's
            states when ``stateful``, else its cell's initial state).

    Returns:
        The list of states in the cell's compute dtype.

    Raises:
        ValueError: with Keras' own messages, for ``unroll`` over an unknown
            number of steps and for a stateful layer called with another
            batch size.
    """
    if layer.unroll and sequences.shape[1] is None:
        raise ValueError(  # Keras' own message
            "Cannot unroll a RNN if the time dimension is undefined. \n"
            "- If using a Sequential model, specify the time dimension by passing an "
            "`Input()` as your first layer.\n- If using the functional API, specify the "
            "time dimension by passing a `shape` or `batch_shape` argument to your `Input()`.")
    if initial_state is None:
        initial_state = layer.states if layer.stateful else layer.get_initial_state(
            batch_size=keras.ops.shape(sequences)[0])
    if layer.stateful:
        expected, actual = layer.states[0].shape[0], sequences.shape[0]
        if actual is not None and actual != expected:
            raise ValueError(
                "If an RNN is stateful, the batch size of the input sequences must be the "
                f"same as the batch size of the initial state. \n- Expected batch size: "
                f"{expected}\n- Received batch size: {actual}")
    states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
    return [keras.ops.convert_to_tensor(s, dtype=layer.cell.compute_dtype) for s in states]


def finish_call(layer: keras.layers.RNN, last_output, outputs, states: list):
    """What ``keras.layers.RNN.call`` returns after its loop, stateful states assigned.

    Args:
        layer: the RNN layer being called.
        last_output: ``(batch, units)``.
        outputs: ``(batch, steps, units)`` (only read with ``return_sequences``).
        states: the final states.

    Returns:
        The output (``outputs`` or ``last_output``), followed by the states
        with ``return_state``.
    """
    states = [keras.ops.cast(s, layer.compute_dtype) for s in states]
    if layer.stateful:
        for variable, state in zip(layer.states, states):
            variable.assign(state)
    output = keras.ops.cast(outputs if layer.return_sequences else last_output,
                            layer.compute_dtype)
    return (output, *states) if layer.return_state else output


class CellRNN(keras.layers.RNN):
    """A ``keras.layers.RNN`` over one cell type, configured by the cell's arguments.

    A subclass sets the class attributes and keeps its own explicit,
    documented constructor, which ends with ``super().__init__(locals())``:

    - ``cell_class``: the cell type;
    - ``cell_name``: the cell's layer name (part of the saved weight paths);
    - ``cell_arguments``: the cell's constructor arguments the layer takes too;
      they build the cell, read through as attributes (``layer.units``) and
      make up ``get_config`` with the RNN arguments;
    - ``cell_attributes``: further cell attributes read through (weights, ...).

    Args:
        arguments: the subclass constructor's arguments by name (its
            ``locals()``): every name of ``cell_arguments``,
            ``return_sequences``, ``return_state``, ``go_backwards``,
            ``stateful``, ``unroll`` and ``kwargs`` (other ``keras.layers.RNN``
            / ``Layer`` arguments; ``dtype`` and ``trainable`` reach the cell too).

    Example:

    ```python
    class MyRNN(CellRNN):
        cell_class, cell_name, cell_arguments = MyCell, "my_cell", ("units",)

        def __init__(self, units, return_sequences=False, return_state=False,
                     go_backwards=False, stateful=False, unroll=False, **kwargs):
            super().__init__(locals())
    ```
    """

    cell_class: type
    cell_name: str
    cell_arguments: tuple[str, ...] = ()
    cell_attributes: tuple[str, ...] = ()

    def __init__(self, arguments: dict[str, Any]):
        kwargs = dict(arguments.get("kwargs") or {})
        cell = self.cell_class(
            **{name: arguments[name] for name in self.cell_arguments},
            dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True),
            name=self.cell_name,
        )
        super().__init__(cell, **{name: arguments[name] for name in _RNN_ARGUMENTS}, **kwargs)
        self.input_spec = [keras.layers.InputSpec(ndim=3)]

    def __getattr__(self, name):
        # Cell arguments and weights (units, kernel, ...) read through to the cell.
        if name in self.cell_arguments or name in self.cell_attributes:
            return getattr(self.cell, name)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def get_config(self):
        config = {name: self.cell.get_config()[name] for name in self.cell_arguments}
        base = super().get_config()
        del base["cell"]
        return {**base, **config}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
