"""The fast path of the Clockwork RNN: the recurrence in chunks aligned to the clock.

With the default power-of-two periods the modules active at any step are a
prefix of the fast-to-slow order, of length ``1 + trailing_zeros(t)``.
:func:`chunked_recurrence` runs the recurrence in chunks of ``L`` steps
aligned to the clock (``L`` a power of two, at most 8): inside a chunk the
active prefix of every step but the first is known when the graph is built,
so each step multiplies ``x_t`` and ``h`` only by the columns of its active
modules (``(input_dim + units) × active_units`` instead of ``× units``); the
chunk's first step uses the full matrices with the active units selected.
Masks (any pattern) and per-sample clocks are handled by gathering every
sample's kept steps into clock-aligned slots before the loop and gathering
the results back after it. :class:`~rnnzoo.layers.ClockworkRNN` calls it from
its ``call``; other periods use the cell's per-step loop.

:func:`static_recurrence` is the common case's faster schedule: a fresh clock
(every sample at ``t = 0``, no ``initial_state``, not stateful) and no mask.
Then every step's active modules are known when the graph is built: the input
projection of all steps is one matrix product before the loop, a loop
iteration runs a chunk of up to ``2^(g-1)`` steps (the hyperperiod, or the
sequence rounded up to a power of two) in which each step multiplies ``h``
by the columns of its active modules only and selects nothing, and a
sequence of at most one chunk runs without a loop iteration's overhead per
step.
"""

from __future__ import annotations

import itertools

from keras import ops

__all__ = ["chunked_recurrence", "static_recurrence"]

_MAX_CHUNK = 8
STATIC_CHUNK = 16  # steps per loop iteration of static_recurrence (tools/bench_speed.py)


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


def chunked_recurrence(cell, z, initial_state, mask=None, recurrent_mask=None, *,
                       go_backwards=False, return_sequences=False, zero_output_for_mask=False):
    """The Clockwork recurrence over a sequence, in clock-aligned chunks.

    For a :class:`~rnnzoo.layers.ClockworkRNNCell` with power-of-two periods
    (``cell.prefix_schedule``); see the module docstring.

    Args:
        cell: the built cell (its weights, periods, activation and clock).
        z: the inputs ``(batch, steps, features)``, dropout already applied.
        initial_state: ``[h (batch, units), t (batch, 1)]`` in the compute dtype.
        mask: boolean ``(batch, steps)`` or None.
        recurrent_mask: the recurrent dropout mask ``(batch, units)`` to apply
            to ``h`` at every step, or None.
        go_backwards, return_sequences, zero_output_for_mask: as in
            ``keras.layers.RNN``.

    Returns:
        ``(last_output, outputs, [h, t])`` as ``keras.layers.RNN``'s loop returns
        them (``outputs`` is ``last_output[:, None]`` without ``return_sequences``).
    """
    rec_mask = recurrent_mask
    g, k, units = cell.num_modules, cell.module_size, cell.units
    h0, t0 = initial_state
    chunk = min(_MAX_CHUNK, 2 ** (g - 1))
    static_steps = z.shape[1]
    if static_steps is not None:  # no longer than the sequence needs
        chunk = min(chunk, 1 << max(0, static_steps - 1).bit_length())
    steps = ops.shape(z)[1]
    features = z.shape[-1]
    if go_backwards:
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
    keep_all = return_sequences

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
        keep_last = m[:, -1] if zero_output_for_mask else n_kept > 0
        last = ops.where(ops.expand_dims(keep_last, -1), last, ops.zeros_like(last))
    if not return_sequences:
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
        keep = m if zero_output_for_mask else kept_so_far > 0
        outputs = ops.where(ops.expand_dims(keep, -1), outputs, ops.zeros_like(outputs))
    return last, outputs, [h_last, t_last]


def _active_width(t: int, g: int, k: int) -> int:
    """Units updated at clock ``t`` with periods ``1, 2, ..., 2^(g-1)``: a prefix."""
    return g * k if t == 0 else min(1 + _trailing_zeros(t), g) * k


def static_recurrence(cell, x, recurrent_mask=None, *, go_backwards=False,
                      return_sequences=False):
    """The Clockwork recurrence from a fresh state (``h = 0``, ``t = 0``), no mask, known length.

    See the module docstring. Gives exactly what :func:`chunked_recurrence`
    gives for a zero initial state and no mask.

    Args:
        cell: the built cell, with power-of-two periods (``cell.prefix_schedule``).
        x: the inputs ``(batch, steps, features)`` with a known ``steps``,
            dropout already applied.
        recurrent_mask: the recurrent dropout mask ``(batch, units)`` or None.
        go_backwards, return_sequences: as in ``keras.layers.RNN``.

    Returns:
        ``(last_output, outputs, [h, t])`` as :func:`chunked_recurrence`.
    """
    g, k, units = cell.num_modules, cell.module_size, cell.units
    steps, features = x.shape[1], x.shape[-1]
    chunk = min(STATIC_CHUNK, 2 ** (g - 1))
    n_full, rest = divmod(steps, chunk)
    batch = ops.shape(x)[0]
    matrix = cell.recurrent_matrix()
    dtype = matrix.dtype
    x = ops.cast(x, dtype)
    if go_backwards:
        x = ops.flip(x, axis=1)
    # The input part of every step's product, x_t·W + b, for the step's active columns
    # only: one product per slot of the chunk over all chunks, before the loop.
    kernel = ops.cast(cell.kernel, dtype)
    bias = None if cell.bias is None else ops.cast(cell.bias, dtype)

    def project(x2d, width):
        z = ops.matmul(x2d, kernel[:, :width])
        return z if bias is None else z + bias[:width]

    slabs = {m * k: matrix[:, :m * k] for m in range(1, g + 1)}
    activation = cell.activation or (lambda v: v)
    rec_mask = recurrent_mask

    def update(h, z_t, width, active=None):
        h_in = h if rec_mask is None else h * rec_mask
        new = activation(z_t + ops.matmul(h_in, slabs[width]))
        if active is not None:  # the chunk's first step: the prefix active at its clock
            return ops.where(active, new, h)
        if width == units:
            return new
        # split, not h[:, width:]: its gradient is a concat (see chunked_recurrence)
        return ops.concatenate([new, ops.split(h, [width], axis=1)[1]], axis=1)

    h = ops.zeros((batch, units), dtype)
    outputs = []
    if n_full:
        # A chunk's first step updates the prefix active at its clock (all modules at a
        # hyperperiod's start); the others, at clocks 1..chunk-1 past it, known prefixes.
        widths = [_active_width(j, g, k) for j in range(chunk)]
        select = n_full > 1 and chunk < 2 ** (g - 1)
        main = ops.reshape(x[:, :n_full * chunk], (batch * n_full, chunk, features))
        slots = ops.split(main, chunk, axis=1) if chunk > 1 else [main]
        xs = ops.concatenate([project(ops.reshape(s, (-1, features)), w)
                              for s, w in zip(slots, widths)], axis=-1)
        # the width spelled out, not -1: with an unknown batch TF could not infer it
        xs = ops.transpose(ops.reshape(xs, (batch, n_full, sum(widths))), (1, 0, 2))
        if select:
            clocks = [c * chunk for c in range(n_full)]
            active = ops.convert_to_tensor(
                [[1.0 if _active_width(t, g, k) > u else 0.0 for u in range(units)]
                 for t in clocks], dtype)
            xs = ops.concatenate([xs, ops.repeat(active[:, None, :], batch, axis=1)], axis=-1)
        split_at = list(itertools.accumulate(widths))
        split_at = split_at if select else split_at[:-1]
        keep_all = return_sequences

        def chunk_step(carry, inputs):
            h = carry[-1] if keep_all else carry
            pieces = ops.split(inputs, split_at, axis=-1) if split_at else [inputs]
            outs = []
            for j, width in enumerate(widths):
                h = update(h, pieces[j], width, pieces[-1] > 0 if select and j == 0 else None)
                outs.append(h)
            out = ops.stack(outs) if keep_all else h
            return out, out

        init = ops.zeros((chunk, batch, units), dtype) if keep_all else h
        last, ys = ops.scan(chunk_step, init, xs)
        h = last[-1] if keep_all else last
        if keep_all:
            outputs.append(ops.reshape(ys, (n_full * chunk, batch, units)))
    tail = []
    for j in range(rest):  # the last steps, unrolled: their clocks are known
        t = n_full * chunk + j
        width = _active_width(t, g, k)
        h = update(h, project(x[:, t], width), width)
        tail.append(h)
    t_last = cell.tick(ops.zeros((batch, 1), dtype), steps)
    if not return_sequences:
        return h, ops.expand_dims(h, 1), [h, t_last]
    if tail:
        outputs.append(ops.stack(tail))
    ys = outputs[0] if len(outputs) == 1 else ops.concatenate(outputs, axis=0)
    return h, ops.transpose(ys, (1, 0, 2)), [h, t_last]
