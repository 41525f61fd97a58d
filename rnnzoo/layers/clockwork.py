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

Speed. With the default power-of-two periods the modules active at any step
are a prefix of the fast-to-slow order, of length ``1 + trailing_zeros(t)``.
:class:`ClockworkRNN` runs the recurrence in chunks of ``L`` steps aligned to
the clock (``L`` a power of two, at most 8): inside a chunk the active prefix
of every step but the first is known when the graph is built, so each step
multiplies ``x_t`` and ``h`` only by the columns of its active modules
(``(input_dim + units) × active_units`` instead of ``× units``); the chunk's
first step uses the full matrices with the active units selected. Masks (any
pattern) and per-sample clocks are handled by gathering every sample's kept
steps into clock-aligned slots before the loop and gathering the results
back after it. Other periods use a per-step loop with the full matrix product and the
active units selected (correct, but not faster than a ``SimpleRNN``).
"""

from __future__ import annotations

import itertools
import math

import keras
from keras import ops
from keras.src.layers.rnn.dropout_rnn_cell import DropoutRNNCell

from rnnzoo import _validation as v

__all__ = ["ClockworkRNNCell", "ClockworkRNN", "default_num_modules"]

_MAX_CHUNK = 8
_MAX_EXACT_CLOCK = 2**24  # float32 holds every integer below this exactly


def default_num_modules(units: int) -> int:
    """The default number of modules ``g``: the largest of 8, 4, 2, 1 that divides ``units``.

    Args:
        units: hidden units.

    Returns:
        ``g`` (``ClockworkRNN(256)`` has 8 modules of 32 units, periods 1..128).
    """
    return next(g for g in (8, 4, 2, 1) if units % g == 0)


def _trailing_zeros(j: int) -> int:
    return (j & -j).bit_length() - 1


def _take_rows(x, index):
    """``x[b, index[b, i], :]`` for ``x`` ``(batch, n, units)`` and ``index`` ``(batch, m)``.

    One gather of whole rows (``take_along_axis`` would gather element by element).
    """
    batch, n = ops.shape(x)[0], ops.shape(x)[1]
    flat = ops.reshape(x, (-1, x.shape[-1]))
    rows = ops.expand_dims(ops.arange(batch, dtype="int32") * n, 1) + index
    return ops.take(flat, rows, axis=0)


def _unstack(x, num, axis):
    """``ops.unstack`` through split and squeeze (gradients: one concat, no slice grads)."""
    return [ops.squeeze(p, axis) for p in ops.split(x, num, axis=axis)]


def _resolve_periods(units, num_modules, periods):
    if not isinstance(units, int) or isinstance(units, bool) or units < 1:
        raise ValueError(f"`units` must be a positive integer. Received: units={units!r}")
    if num_modules is not None and (
        not isinstance(num_modules, int) or isinstance(num_modules, bool) or num_modules < 1
    ):
        raise ValueError(
            "`num_modules` must be a positive integer or None. "
            f"Received: num_modules={num_modules!r}"
        )
    if periods is not None:
        ok = isinstance(periods, (list, tuple)) and len(periods) > 0 and all(
            isinstance(p, int) and not isinstance(p, bool) and p > 0 for p in periods
        )
        if not ok or any(a >= b for a, b in zip(periods, periods[1:])):
            raise ValueError(
                "`periods` must be a non-empty, strictly increasing list of positive integers. "
                f"Received: periods={periods!r}"
            )
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
class ClockworkRNNCell(keras.layers.Layer, DropoutRNNCell):
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
        dropout: fraction of the inputs dropped (one mask per sequence).
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
        self.dropout = float(dropout)
        self.recurrent_dropout = float(recurrent_dropout)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        cycle = math.lcm(*periods)
        self.clock_cycle = cycle if cycle < _MAX_EXACT_CLOCK else None
        # Active modules always form a prefix: the chunked fast path of ClockworkRNN applies.
        self.prefix_schedule = periods == [2**i for i in range(num_modules)]
        self.state_size = [units, 1]
        self.output_size = units
        # Set by ClockworkRNN while it traces a per-step loop over projected inputs.
        self._projected_matrix = None

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(
                f"The last input dimension of {self.name} must be known. "
                f"Received: input_shape={input_shape}"
            )
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
        if self._projected_matrix is not None:
            z, matrix = inputs, self._projected_matrix
        else:
            dp_mask = self.get_dropout_mask(inputs)
            if training and dp_mask is not None:
                inputs = inputs * dp_mask
            z, matrix = self.project_inputs(inputs), self.recurrent_matrix()
        rec_mask = self.get_recurrent_dropout_mask(h_prev)
        h_in = h_prev * rec_mask if training and rec_mask is not None else h_prev
        candidate = z + ops.matmul(h_in, matrix)
        if self.activation is not None:
            candidate = self.activation(candidate)
        h = ops.where(self.active_units(t), candidate, h_prev)
        return h, [h, self.tick(t)]

    def get_initial_state(self, batch_size=None):
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
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        }
        return {**super().get_config(), **config}


_CELL_ARGS = (
    "units", "num_modules", "periods", "activation", "use_bias", "kernel_initializer",
    "recurrent_initializer", "bias_initializer", "kernel_regularizer", "recurrent_regularizer",
    "bias_regularizer", "dropout", "recurrent_dropout", "seed",
)
_CELL_ATTRS = _CELL_ARGS + (
    "module_size", "clock_cycle", "kernel", "bias", "recurrent_kernels", "recurrent_matrix",
)


@keras.saving.register_keras_serializable(package="rnnzoo")
class ClockworkRNN(keras.layers.RNN):
    """The Clockwork RNN over a whole sequence (Koutnik et al., 2014).

    A thin ``keras.layers.RNN`` wrapper over :class:`ClockworkRNNCell`:
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
        cell = ClockworkRNNCell(
            units,
            num_modules=num_modules,
            periods=periods,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seed,
            dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True),
            name="clockwork_rnn_cell",
        )
        super().__init__(
            cell,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            **kwargs,
        )
        self.input_spec = [keras.layers.InputSpec(ndim=3)]

    def __getattr__(self, name):
        # Cell arguments and weights (units, periods, kernel, ...) read through to the cell.
        if name in _CELL_ATTRS:
            return getattr(self.cell, name)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def call(self, sequences, initial_state=None, mask=None, training=False):
        if initial_state is not None:
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [
                initial_state]
            if len(states) == 1:  # just h: start the clock at 0
                states.append(ops.zeros((ops.shape(states[0])[0], 1), dtype=self.compute_dtype))
            if len(states) != 2:
                raise ValueError(
                    "`initial_state` of a ClockworkRNN must be [h] or [h, t]. "
                    f"Received: {len(states)} tensors"
                )
            initial_state = states
        return super().call(sequences, mask=mask, training=training, initial_state=initial_state)

    def inner_loop(self, sequences, initial_state, mask, training=False):
        cell = self.cell
        dp_mask = cell.get_dropout_mask(sequences[:, 0, :])
        if training and dp_mask is not None:
            sequences = sequences * ops.expand_dims(dp_mask, 1)
        rec_mask = cell.get_recurrent_dropout_mask(initial_state[0])
        rec_mask = rec_mask if training and rec_mask is not None else None
        if cell.prefix_schedule:
            return self._chunked_loop(sequences, initial_state, mask, rec_mask)
        z = cell.project_inputs(sequences)  # every step's input projection in one matmul
        cell._projected_matrix = cell.recurrent_matrix()
        try:
            return super().inner_loop(z, initial_state, mask, training)
        finally:
            cell._projected_matrix = None

    def _chunked_loop(self, z, initial_state, mask, rec_mask):
        """The fast loop for power-of-two periods (see the module docstring)."""
        cell = self.cell
        g, k, units = cell.num_modules, cell.module_size, cell.units
        h0, t0 = initial_state
        chunk = min(_MAX_CHUNK, 2 ** (g - 1))
        static_steps = z.shape[1]
        if static_steps is not None:  # no longer than the sequence needs
            chunk = min(chunk, 1 << max(0, static_steps - 1).bit_length())
        steps = ops.shape(z)[1]
        features = z.shape[-1]
        if self.go_backwards:
            z = ops.flip(z, axis=1)
            mask = None if mask is None else ops.flip(mask, axis=1)

        # Where each processed step goes: the kept steps of a sample, in order,
        # into slots whose index is congruent to the sample's clock modulo `chunk`.
        offset = ops.cast(ops.mod(t0[:, 0], float(chunk)), "int32")  # (batch,)
        n_chunks = (steps + 2 * chunk - 2) // chunk
        n_slots = n_chunks * chunk
        position = ops.arange(n_slots, dtype="int32")[None, :] - offset[:, None]  # (b, slots)
        time = ops.arange(steps, dtype="int32")[None, :]
        if mask is None:
            m = None
            n_kept = steps
            source = ops.clip(position, 0, steps - 1)
        else:
            m = ops.cast(mask, "bool")
            n_kept = ops.sum(ops.cast(m, "int32"), axis=1)
            order = ops.argsort(ops.where(m, time, time + steps), axis=1)  # kept steps first
            source = ops.take_along_axis(order, ops.clip(position, 0, steps - 1), axis=1)
        n_kept_col = n_kept if m is None else n_kept[:, None]
        valid = ops.logical_and(position >= 0, position < n_kept_col)  # (b, slots)
        # Without a mask, samples usually share their clock (fresh or stateful state):
        # then one slice of a padded copy places every sample, much cheaper (with its
        # gradient) than the per-row gather needed when the clocks differ.
        uniform = None
        if m is None and isinstance(steps, int):
            uniform = ops.all(ops.equal(offset, offset[0]))
            padded = ops.pad(z, [(0, 0), (chunk - 1, n_slots - steps), (0, 0)])
            z_slots = ops.cond(
                uniform,
                lambda: ops.slice(padded, [0, chunk - 1 - offset[0], 0],
                                  [ops.shape(z)[0], n_slots, features]),
                lambda: _take_rows(z, source),
            )
        else:
            z_slots = _take_rows(z, source)

        # Which modules are active at each chunk's first slot (the other slots are static).
        first_clock = ops.expand_dims(t0[:, 0] - ops.cast(offset, t0.dtype), 1) + ops.cast(
            ops.arange(n_chunks, dtype="int32") * chunk, t0.dtype)[None, :]  # (b, chunks)
        periods = ops.convert_to_tensor(cell.periods, dtype=t0.dtype)
        first_active = ops.equal(ops.mod(ops.expand_dims(first_clock, -1), periods), 0)
        first_active = ops.logical_and(
            ops.repeat(first_active, k, axis=2),
            ops.expand_dims(ops.reshape(valid, (-1, n_chunks, chunk))[:, :, 0], -1),
        )  # (b, chunks, units)

        matrix = cell.recurrent_matrix()
        # Slot j of a chunk updates the first widths[j] units (slot 0: any, selected by mask).
        widths = [units] + [min(1 + _trailing_zeros(j), g) * k for j in range(1, chunk)]
        slabs = {n: matrix[:, :n] for n in set(widths[1:])}
        kernel = ops.cast(cell.kernel, matrix.dtype)
        bias = None if cell.bias is None else ops.cast(cell.bias, matrix.dtype)
        kernels = {n: kernel[:, :n] for n in set(widths[1:])}
        biases = {n: bias[:n] for n in set(widths[1:])} if bias is not None else None
        activation = cell.activation or (lambda v: v)
        # One time-major tensor per chunk: every slot's input, the slots' valid flags and
        # the first slot's active units (one tensor: keras.ops.scan on TensorFlow fails
        # on several inputs of unknown length). The loop splits it (split's gradient is
        # a concat; slicing would give slow StridedSliceGrads).
        dtype = z_slots.dtype
        xs = ops.concatenate([
            ops.reshape(ops.transpose(ops.reshape(z_slots, (-1, n_chunks, chunk * features)),
                                      (1, 0, 2)), (n_chunks, -1, chunk * features)),
            ops.transpose(ops.cast(ops.reshape(valid, (-1, n_chunks, chunk))[:, :, 1:], dtype),
                          (1, 0, 2)),
            ops.transpose(ops.cast(first_active, dtype), (1, 0, 2)),
        ], axis=-1)  # (chunks, b, chunk·features + chunk - 1 + units)
        sizes = [features] * chunk + [1] * (chunk - 1) + [units]
        split_at = list(itertools.accumulate(sizes))[:-1]
        keep_all = self.return_sequences

        def chunk_step(carry, inputs):
            h = carry[-1]  # the carry is the previous chunk's outputs (or h); its last is h
            pieces = ops.split(inputs, split_at, axis=-1)
            z_c, valid_c = pieces[:chunk], [v > 0 for v in pieces[chunk:-1]]
            active_c = pieces[-1] > 0
            h_in = h if rec_mask is None else h * rec_mask
            pre = ops.matmul(z_c[0], kernel) + ops.matmul(h_in, matrix)
            h = ops.where(active_c, activation(pre if bias is None else pre + bias), h)
            outs = [h]
            for j in range(1, chunk):
                n = widths[j]
                h_in = h if rec_mask is None else h * rec_mask
                pre = ops.matmul(z_c[j], kernels[n]) + ops.matmul(h_in, slabs[n])
                new = activation(pre if bias is None else pre + biases[n])
                if n == units:
                    h = ops.where(valid_c[j - 1], new, h)
                else:
                    # split, not h[:, :n]: its gradient is a concat, a column slice's
                    # gradient (StridedSliceGrad) is many times slower on CPU
                    head, tail = ops.split(h, [n], axis=1)
                    h = ops.concatenate([ops.where(valid_c[j - 1], new, head), tail], axis=1)
                outs.append(h)
            # keras.ops.scan on TensorFlow needs the per-iteration output shaped like the carry.
            out = tuple(outs) if keep_all else (h,)
            return out, out

        init = (h0,) if not keep_all else tuple([ops.zeros_like(h0)] * (chunk - 1) + [h0])
        last_carry, ys = ops.scan(chunk_step, init, xs)
        h_last = last_carry[-1]
        t_last = cell.tick(t0, ops.expand_dims(n_kept, -1) if m is not None else n_kept)

        last = h_last
        if m is not None:
            keep_last = m[:, -1] if self.zero_output_for_mask else n_kept > 0
            last = ops.where(ops.expand_dims(keep_last, -1), last, ops.zeros_like(last))
        if not self.return_sequences:
            return last, ops.expand_dims(last, 1), [h_last, t_last]
        slots = ops.stack(ys, axis=1)  # (chunks, chunk, b, units)
        slots = ops.reshape(ops.transpose(slots, (2, 0, 1, 3)), (-1, n_slots, units))
        if m is None:
            slot_of_step = ops.expand_dims(offset, 1) + time
            if uniform is not None:
                outputs = ops.cond(
                    uniform,
                    lambda: ops.slice(slots, [0, offset[0], 0], [ops.shape(z)[0], steps, units]),
                    lambda: _take_rows(slots, slot_of_step),
                )
            else:
                outputs = _take_rows(slots, slot_of_step)
        else:
            # A masked step repeats the previous output (zeros before the first
            # kept step), or is zero with zero_output_for_mask.
            kept_so_far = ops.cumsum(ops.cast(m, "int32"), axis=1)
            slot_of_step = ops.clip(ops.expand_dims(offset, 1) + kept_so_far - 1, 0, n_slots - 1)
            outputs = _take_rows(slots, slot_of_step)
            keep = m if self.zero_output_for_mask else kept_so_far > 0
            outputs = ops.where(ops.expand_dims(keep, -1), outputs, ops.zeros_like(outputs))
        return last, outputs, [h_last, t_last]

    def get_config(self):
        config = {name: self.cell.get_config()[name] for name in _CELL_ARGS}
        base = super().get_config()
        del base["cell"]
        return {**base, **config}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

