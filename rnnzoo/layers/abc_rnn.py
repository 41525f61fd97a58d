"""The explicit A/B/C simple RNN: the textbook recurrent network with the textbook names.

``h_t = activation(x_t·A + h_{t-1}·C + b_h)`` and
``y_t = output_activation(h_t·B + b_y)``.

With ``output_units=None`` there is no ``B`` (``y_t = h_t``) and the layer
computes exactly what ``keras.layers.SimpleRNN`` computes (``A`` is its
``kernel``, ``C`` its ``recurrent_kernel``, ``b_h`` its ``bias``).

Speed: :class:`ABCSimpleRNN` computes the output projection ``h·B + b_y`` for
all steps in one matrix product after the recurrent loop, so the loop carries
what ``SimpleRNN``'s does. :class:`ABCSimpleRNNCell` used on its own (for
example in ``keras.layers.RNN(cell)``) computes everything per step.
"""

from __future__ import annotations

import keras
from keras import ops

from rnnzoo import _validation as v
from rnnzoo.layers.base import CellRNN, input_width
from rnnzoo.layers.dropout import DropoutMasks

__all__ = ["ABCSimpleRNNCell", "ABCSimpleRNN"]

_WEIGHTS = ("A", "C", "B", "b_h", "b_y")
_DEFAULT_INITIALIZERS = {
    "A": "glorot_uniform",
    "C": "orthogonal",
    "B": "glorot_uniform",
    "b_h": "zeros",
    "b_y": "zeros",
}


@keras.saving.register_keras_serializable(package="rnnzoo")
class ABCSimpleRNNCell(DropoutMasks, keras.layers.Layer):
    """One step of the explicit A/B/C simple RNN.

    ``h_t = activation(x_t·A + h_{t-1}·C + b_h)``,
    ``y_t = output_activation(h_t·B + b_y)`` (``y_t = h_t`` when
    ``output_units`` is None).

    State list: ``[h]`` with ``h`` of shape ``(batch, units)``. The step output
    is ``y`` (``(batch, output_units)``, or ``h`` when ``output_units`` is None).

    Args:
        units: hidden units (width of ``h``).
        output_units: width of ``y``; None means no ``B`` and ``y = h``.
        activation: hidden activation (default ``"tanh"``); None is linear.
        output_activation: activation of ``y`` (default None: linear).
        use_bias: whether ``b_h`` (and ``b_y``) exist.
        A_initializer, C_initializer, B_initializer, b_h_initializer,
            b_y_initializer: initializers of each weight (defaults:
            glorot_uniform, orthogonal, glorot_uniform, zeros, zeros; as
            ``SimpleRNN`` for A, C, b_h).
        A_regularizer, C_regularizer, B_regularizer, b_h_regularizer,
            b_y_regularizer: regularizers of each weight (default None).
        dropout: fraction of the inputs dropped (one mask per sequence,
            training only; see :mod:`rnnzoo.layers.dropout`).
        recurrent_dropout: fraction of ``h_{t-1}`` dropped before ``C``.
        seed: seed of the dropout masks.
        **kwargs: ``keras.layers.Layer`` arguments.

    Example:

    ```python
    cell = ABCSimpleRNNCell(32, output_units=10)
    y = keras.layers.RNN(cell, return_sequences=True)(np.zeros((2, 5, 3)))  # (2, 5, 10)
    ```
    """

    def __init__(
        self,
        units: int,
        output_units: int | None = None,
        activation="tanh",
        output_activation=None,
        use_bias: bool = True,
        A_initializer="glorot_uniform",
        C_initializer="orthogonal",
        B_initializer="glorot_uniform",
        b_h_initializer="zeros",
        b_y_initializer="zeros",
        A_regularizer=None,
        C_regularizer=None,
        B_regularizer=None,
        b_h_regularizer=None,
        b_y_regularizer=None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: int | None = None,
        **kwargs,
    ):
        v.check_positive_int("units", units)
        v.check_positive_int("output_units", output_units, allow_none=True)
        v.check_rate("dropout", dropout)
        v.check_rate("recurrent_dropout", recurrent_dropout)
        super().__init__(**kwargs)
        self.units = units
        self.output_units = output_units
        self.activation = keras.activations.get(activation)
        self.output_activation = keras.activations.get(output_activation)
        self.use_bias = bool(use_bias)
        given_init = {"A": A_initializer, "C": C_initializer, "B": B_initializer,
                      "b_h": b_h_initializer, "b_y": b_y_initializer}
        given_reg = {"A": A_regularizer, "C": C_regularizer, "B": B_regularizer,
                     "b_h": b_h_regularizer, "b_y": b_y_regularizer}
        for w in _WEIGHTS:
            setattr(self, f"{w}_initializer", keras.initializers.get(given_init[w]))
            setattr(self, f"{w}_regularizer", keras.regularizers.get(given_reg[w]))
        self.set_dropout(dropout, recurrent_dropout, seed)
        self.state_size = units
        self.output_size = output_units or units
        # Set by ABCSimpleRNN while it traces its loop: the step returns h, and B is
        # applied to all steps at once after the loop.
        self._defer_outputs = False

    def build(self, input_shape):
        input_dim = input_width(self, input_shape)

        def add(name, shape):
            return self.add_weight(
                shape=shape,
                name=name,
                initializer=getattr(self, f"{name}_initializer"),
                regularizer=getattr(self, f"{name}_regularizer"),
            )

        self.A = add("A", (input_dim, self.units))
        self.C = add("C", (self.units, self.units))
        self.b_h = add("b_h", (self.units,)) if self.use_bias else None
        if self.output_units:
            self.B = add("B", (self.units, self.output_units))
            self.b_y = add("b_y", (self.output_units,)) if self.use_bias else None
        else:
            self.B = None
            self.b_y = None

    def project_inputs(self, inputs):
        """``inputs·A + b_h`` for a step ``(batch, features)`` or a sequence."""
        z = ops.matmul(inputs, self.A)
        return z if self.b_h is None else z + self.b_h

    def project_outputs(self, h):
        """``output_activation(h·B + b_y)``; ``h`` itself when there is no ``B``."""
        if self.B is None:
            return h
        y = ops.matmul(h, self.B)
        if self.b_y is not None:
            y = y + self.b_y
        return y if self.output_activation is None else self.output_activation(y)

    def call(self, inputs, states, training=False):
        h_prev = states[0] if isinstance(states, (list, tuple)) else states
        input_mask, recurrent_mask = self.dropout_masks(inputs, training)
        if input_mask is not None:
            inputs = inputs * input_mask
        z = self.project_inputs(inputs)
        h_in = h_prev if recurrent_mask is None else h_prev * recurrent_mask
        h = z + ops.matmul(h_in, self.C)
        if self.activation is not None:
            h = self.activation(h)
        out = h if self._defer_outputs else self.project_outputs(h)
        return out, ([h] if isinstance(states, (list, tuple)) else h)

    def get_initial_state(self, batch_size=None):
        # a fresh state starts a new sequence: its dropout masks, drawn before any loop
        self.start_sequence_masks(batch_size, self.A.shape[0] if self.built else None)
        return [ops.zeros((batch_size, self.units), dtype=self.compute_dtype)]

    def get_config(self):
        config = {
            "units": self.units,
            "output_units": self.output_units,
            "activation": keras.activations.serialize(self.activation),
            "output_activation": keras.activations.serialize(self.output_activation),
            "use_bias": self.use_bias,
            **self.dropout_config(),
        }
        for w in _WEIGHTS:
            config[f"{w}_initializer"] = keras.initializers.serialize(
                getattr(self, f"{w}_initializer"))
            config[f"{w}_regularizer"] = keras.regularizers.serialize(
                getattr(self, f"{w}_regularizer"))
        return {**super().get_config(), **config}


_CELL_ARGS = (
    "units", "output_units", "activation", "output_activation", "use_bias",
    *[f"{w}_initializer" for w in _WEIGHTS], *[f"{w}_regularizer" for w in _WEIGHTS],
    "dropout", "recurrent_dropout", "seed",
)


@keras.saving.register_keras_serializable(package="rnnzoo")
class ABCSimpleRNN(CellRNN):
    """The explicit A/B/C simple RNN over a whole sequence.

    A thin ``keras.layers.RNN`` wrapper over :class:`ABCSimpleRNNCell` (see
    :class:`rnnzoo.layers.base.CellRNN`):
    ``initial_state``, ``mask``, ``go_backwards``, ``stateful``, ``unroll`` and
    ``Bidirectional`` behave exactly as for ``keras.layers.SimpleRNN``.

    ``h_t = activation(x_t·A + h_{t-1}·C + b_h)``,
    ``y_t = output_activation(h_t·B + b_y)``; the weights are the attributes
    ``A`` ``(input_dim, units)``, ``C`` ``(units, units)``, ``B``
    ``(units, output_units)``, ``b_h`` and ``b_y``. The output is ``y``
    (the last step, or every step with ``return_sequences=True``); the state
    list is ``[h]``, so ``return_state=True`` returns ``[y, h]``.

    Args:
        units: hidden units.
        output_units: width of ``y``; None (default) means no ``B``: ``y = h``.
        activation, output_activation, use_bias: see :class:`ABCSimpleRNNCell`.
        A_initializer, C_initializer, B_initializer, b_h_initializer,
            b_y_initializer, A_regularizer, C_regularizer, B_regularizer,
            b_h_regularizer, b_y_regularizer: per-weight initializers and
            regularizers, see :class:`ABCSimpleRNNCell`.
        dropout, recurrent_dropout, seed: dropout of the inputs and of
            ``h_{t-1}``, as in ``SimpleRNN``.
        return_sequences, return_state, go_backwards, stateful, unroll: as in
            ``keras.layers.RNN``.
        **kwargs: other ``keras.layers.RNN`` / ``Layer`` arguments.

    Example:

    ```python
    layer = ABCSimpleRNN(64, output_units=10, return_sequences=True, return_state=True)
    y, h = layer(np.zeros((8, 20, 3), "float32"))   # (8, 20, 10), (8, 64)
    ```
    """

    cell_class = ABCSimpleRNNCell
    cell_name = "abc_simple_rnn_cell"
    cell_arguments = _CELL_ARGS
    cell_attributes = _WEIGHTS

    def __init__(
        self,
        units: int,
        output_units: int | None = None,
        activation="tanh",
        output_activation=None,
        use_bias: bool = True,
        A_initializer="glorot_uniform",
        C_initializer="orthogonal",
        B_initializer="glorot_uniform",
        b_h_initializer="zeros",
        b_y_initializer="zeros",
        A_regularizer=None,
        C_regularizer=None,
        B_regularizer=None,
        b_h_regularizer=None,
        b_y_regularizer=None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: int | None = None,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        **kwargs,
    ):
        super().__init__(locals())  # CellRNN builds the cell from the arguments by name

    def call(self, sequences, initial_state=None, mask=None, training=False):
        cell = self.cell
        # The masks of this sequence are drawn before the loop, as Keras does for its cells.
        cell.make_dropout_masks(sequences[:, 0, :])
        # With B, the loop carries h only; y = h·B + b_y for all steps is one matmul after it.
        # (Projecting x·A for all steps before the loop, too, measured slower on CPU.)
        cell._defer_outputs = cell.output_units is not None
        try:
            result = super().call(sequences, mask=mask, training=training,
                                  initial_state=initial_state)
        finally:
            cell._defer_outputs = False
            cell.clear_dropout_masks()
        if cell.output_units is None:
            return result
        output, states = (result[0], list(result[1:])) if self.return_state else (result, [])
        output = self._project(output, mask)
        return (output, *states) if self.return_state else output

    def _project(self, h, mask):
        """The outputs ``y`` from the loop's ``h`` (the last step, or every step).

        Keras' loop gives a masked step the previous output (zeros before the first
        kept step) or, with ``zero_output_for_mask``, zeros: reproduced in y-space.
        """
        y = self.cell.project_outputs(h)
        if mask is None:
            return y
        m = ops.cast(mask, "bool")
        if self.go_backwards:
            m = ops.flip(m, axis=1)
        if self.return_sequences:
            keep = m if self.zero_output_for_mask else ops.cumsum(ops.cast(m, "int32"), 1) > 0
        else:
            keep = m[:, -1] if self.zero_output_for_mask else ops.any(m, axis=1)
        return ops.where(ops.expand_dims(keep, -1), y, ops.zeros_like(y))
