"""The Clockwork RNN (Koutnik, Greff, Gomez, Schmidhuber, "A Clockwork RNN", ICML 2014).

The hidden layer of ``units`` is split into ``g`` modules of ``k = units / g``
units, sorted fast to slow. Module ``i`` has the clock period ``T_i`` (default
``1, 2, 4, ..., 2^(g-1)``). At step ``t`` module ``i`` is *active* when
``t mod T_i == 0``: active modules compute
``h_i = activation(x_t·W_in_i + sum_{j >= i} h_j(t-1)·W_{j,i} + b_i)``,
inactive modules keep their previous values exactly. Each module receives
from itself and from every slower module, never from a faster one, so the
paper's recurrent matrix ``W_H`` (``h_t = f(W_H h_{t-1} + ...)``, modules
sorted by increasing period) is block upper-triangular. Only those
``g(g+1)/2`` blocks are stored, so the layer has
``k²·g(g+1)/2 + input_dim·units + units`` parameters.

The clock. The step counter ``t`` is part of the state (``[h, t]``); it
starts at ``0`` for a fresh state, so at the first step every module is
active. It counts the steps the layer has processed (in processing order, so
``go_backwards=True`` counts from the last input); masked steps do not tick
it. It is kept modulo the least common multiple of the periods (``2^(g-1)``
for the default ones), which never changes which modules are active and keeps
the float exact on endless streams. Because it is state, ``stateful=True``,
``initial_state``/``return_state`` and streaming one step at a time continue
the clock where it stopped.

Speed. With the default power-of-two periods :class:`ClockworkRNN` runs
schedules (:mod:`rnnzoo.layers.clockwork_schedule`) whose steps multiply only
by the columns of their active modules: from a fresh state without a mask
over a known length, a static schedule (nothing selected, the input
projection before the loop); otherwise (an initial state, stateful, a mask,
an unknown length) a chunked schedule that handles per-sample clocks and
masks. Other periods use a per-step loop with the full matrix product and
the active units selected (correct, but not faster than a ``SimpleRNN``).
"""

from __future__ import annotations

import math

import keras
from keras import ops

from rnnzoo import _validation as v
from rnnzoo.layers.base import CellRNN, finish_call, input_width, start_states
from rnnzoo.layers.clockwork_schedule import chunked_recurrence, static_recurrence
from rnnzoo.layers.dropout import DropoutMasks

__all__ = ["ClockworkRNNCell", "ClockworkRNN", "default_num_modules"]

_MAX_EXACT_CLOCK = 2**24  # float32 holds every integer below this exactly


def default_num_modules(units: int) -> int:
    """The default number of modules ``g``: the largest of 8, 4, 2, 1 that divides ``units``.

    Args:
        units: hidden units.

    Returns:
        ``g`` (``ClockworkRNN(256)`` has 8 modules of 32 units, periods 1..128).
    """
    return next(g for g in (8, 4, 2, 1) if units % g == 0)


def _resolve_periods(units, num_modules, periods):
    v.check_positive_int("units", units)
    v.check_positive_int("num_modules", num_modules, allow_none=True)
    if periods is not None:
        ok = isinstance(periods, (list, tuple)) and len(periods) > 0 and all(
            v.is_int(p) and p > 0 for p in periods)
        if not ok or any(a >= b for a, b in zip(periods, periods[1:])):
            raise ValueError("`periods` must be a non-empty, strictly increasing list of positive "
                             f"integers. {v.received('periods', periods)}")
        periods = [int(p) for p in periods]
        if num_modules is not None and num_modules != len(periods):
            raise ValueError(
                f"`num_modules` must equal len(periods). Received: num_modules={num_modules}, "
                f"periods={periods} ({len(periods)} periods)"
            )
        num_modules = len(periods)
    if num_modules is None:
        num_modules = default_num_modules(units)
    if units % num_modules:
        raise ValueError(
            f"`units` must be divisible by the number of modules. Received: units={units}, "
            f"num_modules={num_modules} (allowed: a num_modules or len(periods) that divides units)"
        )
    if periods is None:
        periods = [2**i for i in range(num_modules)]
    return num_modules, periods


@keras.saving.register_keras_serializable(package="rnnzoo")
class ClockworkRNNCell(DropoutMasks, keras.layers.Layer):
    """One step of the Clockwork RNN (Koutnik et al., 2014).

    State list: ``[h, t]``: ``h`` of shape ``(batch, units)`` and the step
    counter ``t`` (float, shape ``(batch, 1)``, 0 for a fresh state, kept
    modulo the least common multiple of the periods). The step output is the
    new ``h``. See the module docstring for the clock and the connections.

    Weights: ``kernel`` ``(input_dim, units)`` (module ``i``'s input weights
    are its columns ``i·k:(i+1)·k``), ``bias`` ``(units,)`` and, per module
    ``i``, ``recurrent_kernels[i]`` of shape ``((g - i)·k, k)``: the
    connections from modules ``i..g-1`` (itself and every slower module) to
    module ``i``. :meth:`recurrent_matrix` assembles the full matrix.

    Args:
        units: hidden units; must be divisible by the number of modules.
        num_modules: ``g``; default: ``len(periods)`` if given, else the
            largest of 8, 4, 2, 1 dividing ``units``.
        periods: strictly increasing positive clock periods, one per module
            (fast to slow); default ``[1, 2, 4, ..., 2^(g-1)]``.
        activation: activation of the active modules (default ``"tanh"``).
        use_bias: whether the layer has ``bias``.
        kernel_initializer, recurrent_initializer, bias_initializer: as in
            ``SimpleRNN`` (each recurrent block gets its own draw).
        kernel_regularizer, recurrent_regularizer, bias_regularizer: as in
            ``SimpleRNN`` (the recurrent one applies to every block).
        dropout: fraction of the inputs dropped (one mask per sequence,
            training only; see :mod:`rnnzoo.layers.dropout`).
        recurrent_dropout: fraction of ``h_{t-1}`` dropped before the
            recurrent product.
        seed: seed of the dropout masks.
        **kwargs: ``keras.layers.Layer`` arguments.

    Example:

    ```python
    cell = ClockworkRNNCell(64, periods=[1, 3, 9, 27])
    h = keras.layers.RNN(cell)(np.zeros((2, 30, 5), "float32"))  # (2, 64)
    ```
    """

    def __init__(
        self,
        units: int,
        num_modules: int | None = None,
        periods: list[int] | None = None,
        activation="tanh",
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: int | None = None,
        **kwargs,
    ):
        num_modules, periods = _resolve_periods(units, num_modules, periods)
        v.check_rate("dropout", dropout)
        v.check_rate("recurrent_dropout", recurrent_dropout)
        super().__init__(**kwargs)
        self.units = units
        self.num_modules = num_modules
        self.periods = periods
        self.module_size = units // num_modules
        self.activation = keras.activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = keras.regularizers.get(recurrent_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.set_dropout(dropout, recurrent_dropout, seed)
        cycle = math.lcm(*periods)
        self.clock_cycle = cycle if cycle < _MAX_EXACT_CLOCK else None
        # Active modules always form a prefix: the chunked fast path of ClockworkRNN applies.
        self.prefix_schedule = periods == [2**i for i in range(num_modules)]
        self.state_size = [units, 1]
        self.output_size = units
        # Set by ClockworkRNN while it traces a per-step loop over projected inputs.
        self._projected_matrix = None

    def build(self, input_shape):
        input_dim = input_width(self, input_shape)
        g, k = self.num_modules, self.module_size
        self.kernel = self.add_weight(
            shape=(input_dim, self.units),
            name="kernel",
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )
        self.recurrent_kernels = [
            self.add_weight(
                shape=((g - i) * k, k),
                name=f"recurrent_kernel_{i}",
                initializer=self.recurrent_initializer,
                regularizer=self.recurrent_regularizer,
            )
            for i in range(g)
        ]
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(self.units,),
                name="bias",
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
            )
        else:
            self.bias = None

    def recurrent_matrix(self):
        """The full ``(units, units)`` recurrent matrix ``M`` with ``h_{t-1}·M``.

        Rows are source units, columns destination units; the block of
        module ``j`` to module ``i`` is zero when ``j < i`` (a faster module
        never feeds a slower one). ``M`` is the transpose of the paper's
        block upper-triangular ``W_H``.

        Returns:
            A tensor of the compute dtype.
        """
        k = self.module_size
        cols = []
        for i, w in enumerate(self.recurrent_kernels):
            w = ops.cast(w, self.compute_dtype)
            if i:
                w = ops.concatenate([ops.zeros((i * k, k), dtype=self.compute_dtype), w], axis=0)
            cols.append(w)
        return cols[0] if len(cols) == 1 else ops.concatenate(cols, axis=1)

    def project_inputs(self, inputs):
        """``inputs·kernel + bias`` for a step ``(batch, features)`` or a sequence."""
        z = ops.matmul(inputs, self.kernel)
        return z if self.bias is None else z + self.bias

    def active_units(self, t):
        """Boolean ``(batch, units)``: the units of the modules active at clock ``t`` (batch, 1)."""
        periods = ops.convert_to_tensor(self.periods, dtype=t.dtype)
        active = ops.equal(ops.mod(t, periods), 0)  # (batch, g)
        return ops.repeat(active, self.module_size, axis=1)

    def tick(self, t, steps=1):
        """The clock after ``steps`` more steps (kept modulo the clock cycle)."""
        t = t + ops.cast(steps, t.dtype)
        return t if self.clock_cycle is None else ops.mod(t, float(self.clock_cycle))

    def call(self, inputs, states, training=False):
        h_prev, t = states[0], states[1]
        input_mask, recurrent_mask = self.dropout_masks(inputs, training)
        if self._projected_matrix is not None:  # ClockworkRNN projected (and dropped) the inputs
            z, matrix = inputs, self._projected_matrix
        else:
            if input_mask is not None:
                inputs = inputs * input_mask
            z, matrix = self.project_inputs(inputs), self.recurrent_matrix()
        h_in = h_prev if recurrent_mask is None else h_prev * recurrent_mask
        candidate = z + ops.matmul(h_in, matrix)
        if self.activation is not None:
            candidate = self.activation(candidate)
        h = ops.where(self.active_units(t), candidate, h_prev)
        return h, [h, self.tick(t)]

    def get_initial_state(self, batch_size=None):
        # a fresh state starts a new sequence: its dropout masks, drawn before any loop
        self.start_sequence_masks(batch_size, self.kernel.shape[0] if self.built else None)
        return [
            ops.zeros((batch_size, self.units), dtype=self.compute_dtype),
            ops.zeros((batch_size, 1), dtype=self.compute_dtype),
        ]

    def get_config(self):
        config = {
            "units": self.units,
            "num_modules": self.num_modules,
            "periods": list(self.periods),
            "activation": keras.activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": keras.initializers.serialize(self.recurrent_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": keras.regularizers.serialize(self.recurrent_regularizer),
            "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
            **self.dropout_config(),
        }
        return {**super().get_config(), **config}


_CELL_ARGS = (
    "units", "num_modules", "periods", "activation", "use_bias", "kernel_initializer",
    "recurrent_initializer", "bias_initializer", "kernel_regularizer", "recurrent_regularizer",
    "bias_regularizer", "dropout", "recurrent_dropout", "seed",
)


@keras.saving.register_keras_serializable(package="rnnzoo")
class ClockworkRNN(CellRNN):
    """The Clockwork RNN over a whole sequence (Koutnik et al., 2014).

    A thin ``keras.layers.RNN`` wrapper over :class:`ClockworkRNNCell` (see
    :class:`rnnzoo.layers.base.CellRNN`):
    ``initial_state``, ``mask``, ``go_backwards``, ``stateful`` and
    ``Bidirectional`` behave as for Keras' own recurrent layers. The output is
    ``h`` (all modules); the state list is ``[h, t]`` with the step counter
    ``t`` (float, ``(batch, 1)``), so ``return_state=True`` returns
    ``[output, h, t]``. A fresh state has ``t = 0``: every module is active at
    the first step; the clock then counts processed, unmasked steps (modulo
    the periods' least common multiple) and continues across calls through
    the state. An ``initial_state`` of just ``[h]`` starts the clock at 0.
    See the module docstring for the clock, the connections and how the
    loop is made fast. ``unroll`` only affects periods other than the default
    powers of two (the fast path is already unrolled inside each chunk).

    Attribute ``step_by_step`` (default False): when True the layer runs Keras'
    own per-step loop over its cell even for power-of-two periods (same
    outputs, slower); tools that observe every step (the gradient monitor's
    probe) set it while they run.

    Args:
        units: hidden units; must be divisible by the number of modules.
        num_modules: ``g``; default: ``len(periods)`` if given, else the
            largest of 8, 4, 2, 1 dividing ``units``.
        periods: strictly increasing positive periods, fast to slow; default
            ``[1, 2, 4, ..., 2^(g-1)]``.
        activation, use_bias, kernel_initializer, recurrent_initializer,
            bias_initializer, kernel_regularizer, recurrent_regularizer,
            bias_regularizer, dropout, recurrent_dropout, seed: see
            :class:`ClockworkRNNCell`.
        return_sequences, return_state, go_backwards, stateful, unroll: as in
            ``keras.layers.RNN``.
        **kwargs: other ``keras.layers.RNN`` / ``Layer`` arguments.

    Example:

    ```python
    layer = ClockworkRNN(256, return_sequences=True)   # 8 modules, periods 1..128
    y = layer(np.zeros((4, 100, 16), "float32"))        # (4, 100, 256)
    ```
    """

    cell_class = ClockworkRNNCell
    cell_name = "clockwork_rnn_cell"
    cell_arguments = _CELL_ARGS
    cell_attributes = (
        "module_size", "clock_cycle", "kernel", "bias", "recurrent_kernels", "recurrent_matrix",
    )

    def __init__(
        self,
        units: int,
        num_modules: int | None = None,
        periods: list[int] | None = None,
        activation="tanh",
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
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
        self.step_by_step = False

    def call(self, sequences, initial_state=None, mask=None, training=False):
        cell = self.cell
        if initial_state is not None:
            initial_state = self._with_clock(initial_state)
        # This sequence's dropout masks, drawn before the loop as Keras does for its cells.
        cell.make_dropout_masks(sequences[:, 0, :])
        try:
            input_mask, recurrent_mask = cell.dropout_masks(sequences[:, 0, :], training)
            if input_mask is not None:
                sequences = sequences * ops.expand_dims(input_mask, 1)
            if cell.prefix_schedule and not self.step_by_step:
                if (initial_state is None and not self.stateful and mask is None
                        and sequences.shape[1] is not None):
                    return self._static_call(sequences, recurrent_mask)
                return self._chunked_call(sequences, initial_state, mask, recurrent_mask)
            # Other periods: Keras' per-step loop over every step's input projection
            # (one matmul), with the recurrent matrix assembled once.
            cell._projected_matrix = cell.recurrent_matrix()
            return super().call(cell.project_inputs(sequences), mask=mask, training=training,
                                initial_state=initial_state)
        finally:
            cell._projected_matrix = None
            cell.clear_dropout_masks()

    def _with_clock(self, initial_state):
        states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [
            initial_state]
        if len(states) == 1:  # just h: start the clock at 0
            states.append(ops.zeros((ops.shape(states[0])[0], 1), dtype=self.compute_dtype))
        if len(states) != 2:
            raise ValueError(
                "`initial_state` of a ClockworkRNN must be [h] or [h, t]. "
                f"Received: {len(states)} tensors"
            )
        return states

    def _static_call(self, sequences, recurrent_mask):
        """``keras.layers.RNN.call`` from a fresh state without a mask: the static schedule."""
        start_states(self, sequences, None)  # Keras' checks (unroll over an unknown length)
        last, outputs, states = static_recurrence(
            self.cell, sequences, recurrent_mask, go_backwards=self.go_backwards,
            return_sequences=self.return_sequences)
        return finish_call(self, last, outputs, states)

    def _chunked_call(self, sequences, initial_state, mask, recurrent_mask):
        """``keras.layers.RNN.call`` with the chunked schedule as its loop."""
        states = start_states(self, sequences, initial_state)
        last, outputs, states = chunked_recurrence(
            self.cell, sequences, states, mask, recurrent_mask,
            go_backwards=self.go_backwards, return_sequences=self.return_sequences,
            zero_output_for_mask=self.zero_output_for_mask)
        return finish_call(self, last, outputs, states)
