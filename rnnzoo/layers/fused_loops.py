"""The LSTM, GRU and SimpleRNN recurrences over projected inputs, with hand-written gradients.

Keras' own loop computes ``x_t·W`` inside every step and lets automatic
differentiation run the loop backwards, op by op. The functions here take the
whole sequence, time-major:

- the input projection ``x·W + b`` is one matrix product over all steps,
  before the loop;
- a step multiplies only ``h_{t-1}·U`` and does the gate arithmetic (the four
  LSTM gates through one ``sigmoid``: the candidate block of ``W``, ``b`` and
  ``U`` is doubled and ``tanh(a) = 2·sigmoid(2a) - 1``);
- in training the backward pass is written out (``keras.ops.custom_gradient``):
  one ``dz_t·Uᵀ`` per step from the saved gate values, then the weight
  gradients as matrix products over all steps at once (``Hᵀ·dZ``), instead of
  one small product per step.

Everything is ``keras.ops``, so the same code runs on TensorFlow and JAX. A
``mask`` (float ``(steps, batch, 1)``, 1 = kept) keeps the state of masked
steps, as ``keras.layers.RNN`` does. The functions return the state sequences
(``h_t`` after every step, masked steps repeating the previous state);
:mod:`rnnzoo.layers.fast_rnn` turns them into the layers' outputs.
"""

from __future__ import annotations

from keras import ops

__all__ = ["lstm_sequence", "gru_sequence", "simple_rnn_sequence"]



def _upstream(args, outputs):
    """The output gradients as a tuple (TensorFlow passes them apart, JAX as one tuple).

    An output that nothing used may come as None: it is a zero gradient.
    """
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = args[0]
    return tuple(ops.zeros_like(o) if d is None else d for d, o in zip(args, outputs))


def _project(x, kernel, bias):
    """``x·kernel + bias`` over every step: one 2-D matrix product.

    (A 3-D product is a batched one, whose weight gradient sums per-step products.)
    """
    z = ops.matmul(ops.reshape(x, (-1, x.shape[-1])), kernel)
    z = ops.reshape(z, (ops.shape(x)[0], ops.shape(x)[1], kernel.shape[-1]))
    return z if bias is None else z + bias


def _previous(seq, first):
    """``seq`` shifted one step later in time, ``first`` in front: the states before each step."""
    return ops.concatenate([ops.expand_dims(first, 0), seq[:-1]], axis=0)


def _outer_sum(a, b):
    """``sum_t a_tᵀ·b_t`` for ``a (T, B, m)``, ``b (T, B, n)``: one matrix product."""
    return ops.matmul(ops.transpose(ops.reshape(a, (-1, a.shape[-1]))),
                      ops.reshape(b, (-1, b.shape[-1])))


def _keep(mask, new, old):
    return new if mask is None else ops.where(mask > 0, new, old)


def _scan(step, init, xs, mask, reverse=False):
    """The steps of ``step`` over ``xs``: ``(last state, states stacked over time)``.

    ``step(state, x_t, m_t) -> state`` (tuples of ``(batch, n)`` tensors;
    ``m_t`` is ``(batch, 1)`` or None). keras.ops.scan on TensorFlow takes one
    input tensor of unknown length and needs each step's output shaped like the
    carry, so the mask travels as the last column of ``xs`` and the steps
    output their state. (Unrolling several steps per iteration measured no
    faster on TensorFlow and slower under XLA.)
    """
    if mask is not None:
        xs = ops.concatenate([xs, ops.cast(mask, xs.dtype)], axis=-1)
        width = xs.shape[-1] - 1

        def body(carry, inputs):
            state = step(carry, inputs[:, :width], inputs[:, width:])
            return state, state
    else:
        def body(carry, inputs):
            state = step(carry, inputs, None)
            return state, state

    return ops.scan(body, tuple(init), xs, reverse=reverse)


# --------------------------------------------------------------------------- LSTM


def _lstm_scale(units, dtype):
    """``[1, 1, 2, 1]`` per gate block: the candidate's pre-activation is doubled."""
    ones = ops.ones((units,), dtype=dtype)
    return ops.concatenate([ones, ones, 2 * ones, ones])


def _lstm_step(u, keep_gates):
    def step(carry, z_t, m_t):
        h, c = carry[0], carry[1]
        s = ops.sigmoid(z_t + ops.matmul(h, u))
        i, f, g, o = ops.split(s, 4, axis=-1)
        c_new = f * c + i * (2 * g - 1)
        tanh_c = ops.tanh(c_new)
        h_new = o * tanh_c
        out = (_keep(m_t, h_new, h), _keep(m_t, c_new, c))
        # what the backward pass reads: the gates and tanh(c_t)
        return out + (ops.concatenate([s, tanh_c], axis=-1),) if keep_gates else out

    return step


def lstm_sequence(x, h0, c0, kernel, recurrent_kernel, bias=None, mask=None, *,
                  hand_gradient=True):
    """The LSTM (Keras' gate order i, f, c, o; sigmoid and tanh) over a sequence.

    Args:
        x: the inputs, time-major ``(steps, batch, features)``.
        h0, c0: the initial states ``(batch, units)``.
        kernel, recurrent_kernel, bias: Keras ``LSTMCell``'s weights as tensors.
        mask: float ``(steps, batch, 1)`` (1 = step kept) or None.
        hand_gradient: use the hand-written backward pass (training); otherwise
            automatic differentiation of the loop (cheaper forward pass).

    Returns:
        ``(h, c_last)``: the state sequence ``(steps, batch, units)`` and the
        last cell state ``(batch, units)``.
    """
    units = h0.shape[-1]
    scale = _lstm_scale(units, x.dtype)
    z = _project(x, kernel * scale, None if bias is None else bias * scale)
    u = recurrent_kernel * scale
    if not hand_gradient:
        (_, c_last), (hs, _) = _scan(_lstm_step(u, keep_gates=False), (h0, c0), z, mask)
        return hs, c_last
    if mask is None:
        return _lstm_core(units)(z, h0, c0, u)
    return _lstm_core(units, masked=True)(z, h0, c0, u, mask)


def _lstm_core(units, masked=False):
    @ops.custom_gradient
    def core(z, h0, c0, u, mask=None):
        init = (h0, c0, ops.zeros((ops.shape(h0)[0], 5 * units), dtype=z.dtype))
        (_, c_last, _), (hs, cs, saved) = _scan(_lstm_step(u, keep_gates=True), init, z, mask)

        def grad(*args, **kwargs):
            d_hs, d_c_last = _upstream(args, (hs, c_last))
            # per step: the gates, tanh(c_t), c_{t-1} and the gradient reaching h_t from outside
            xs = ops.concatenate([saved, _previous(cs, c0), d_hs], axis=-1)
            u_t = ops.transpose(u)

            def back(carry, inputs, m_t):
                dh = carry[0] + inputs[:, 6 * units:]
                dc = carry[1]
                s, tanh_c, c_prev = ops.split(inputs[:, :6 * units], [4 * units, 5 * units],
                                              axis=-1)
                i, f, g, o = ops.split(s, 4, axis=-1)
                dh_new = dh if m_t is None else dh * m_t
                dc_new = dc if m_t is None else dc * m_t
                dc_new = dc_new + dh_new * o * (1 - tanh_c * tanh_c)
                # d/ds of (i, f, g, o), then d/da = d/ds·s(1 - s) with a the scaled pre-activation
                ds = ops.concatenate([dc_new * (2 * g - 1), dc_new * c_prev, 2 * dc_new * i,
                                      dh_new * tanh_c], axis=-1)
                dz = ds * s * (1 - s)
                dh_prev = ops.matmul(dz, u_t)
                dc_prev = dc_new * f
                if m_t is not None:
                    dh_prev = dh_prev + (dh - dh_new)
                    dc_prev = dc_prev + dc * (1 - m_t)
                return (dh_prev, dc_prev, dz)

            init = (ops.zeros_like(h0), d_c_last, ops.zeros((ops.shape(h0)[0], 4 * units),
                                                           dtype=z.dtype))
            (dh0, dc0, _), (_, _, dz) = _scan(back, init, xs, mask, reverse=True)
            du = _outer_sum(_previous(hs, h0), dz)
            grads = (dz, dh0, dc0, du)
            return grads + (ops.zeros_like(mask),) if masked else grads

        return (hs, c_last), grad

    return core


# --------------------------------------------------------------------------- GRU


def _gru_step(u, recurrent_bias, units, keep_gates):
    def step(carry, z_t, m_t):
        h = carry[0]
        r = ops.matmul(h, u)
        if recurrent_bias is not None:
            r = r + recurrent_bias
        zr = ops.sigmoid(z_t[:, :2 * units] + r[:, :2 * units])
        update, reset = ops.split(zr, 2, axis=-1)
        r_h = r[:, 2 * units:]
        candidate = ops.tanh(z_t[:, 2 * units:] + reset * r_h)
        h_new = update * h + (1 - update) * candidate
        out = (_keep(m_t, h_new, h),)
        if keep_gates:
            out += (ops.concatenate([zr, candidate, r_h], axis=-1),)
        return out

    return step


def gru_sequence(x, h0, kernel, recurrent_kernel, input_bias=None, recurrent_bias=None,
                 mask=None, *, hand_gradient=True):
    """The GRU (Keras' ``reset_after=True``, gate order z, r, h; sigmoid and tanh).

    Args:
        x: the inputs, time-major ``(steps, batch, features)``.
        h0: the initial state ``(batch, units)``.
        kernel, recurrent_kernel: Keras ``GRUCell``'s weights as tensors.
        input_bias, recurrent_bias: the two rows of its ``bias`` (or None).
        mask, hand_gradient: see :func:`lstm_sequence`.

    Returns:
        The state sequence ``(steps, batch, units)``.
    """
    units = h0.shape[-1]
    z = _project(x, kernel, input_bias)
    if not hand_gradient:
        _, (hs,) = _scan(_gru_step(recurrent_kernel, recurrent_bias, units, keep_gates=False),
                         (h0,), z, mask)
        return hs
    bias = recurrent_bias if recurrent_bias is not None else ops.zeros((3 * units,), z.dtype)
    if mask is None:
        return _gru_core(units)(z, h0, recurrent_kernel, bias)[0]
    return _gru_core(units, masked=True)(z, h0, recurrent_kernel, bias, mask)[0]


def _gru_core(units, masked=False):
    @ops.custom_gradient
    def core(z, h0, u, recurrent_bias, mask=None):
        init = (h0, ops.zeros((ops.shape(h0)[0], 4 * units), dtype=z.dtype))
        _, (hs, saved) = _scan(_gru_step(u, recurrent_bias, units, keep_gates=True), init, z,
                                  mask)

        def grad(*args, **kwargs):
            (d_hs,) = _upstream(args, (hs,))
            xs = ops.concatenate([saved, _previous(hs, h0), d_hs], axis=-1)
            u_t = ops.transpose(u)

            def back(carry, inputs, m_t):
                dh = carry[0] + inputs[:, 5 * units:]
                update, reset, candidate, r_h, h_prev = ops.split(inputs[:, :5 * units], 5,
                                                                  axis=-1)
                dh_new = dh if m_t is None else dh * m_t
                d_cand = dh_new * (1 - update) * (1 - candidate * candidate)
                d_update = dh_new * (h_prev - candidate) * update * (1 - update)
                d_reset = d_cand * r_h * reset * (1 - reset)
                # gradients of x·W + b_in (z, r, h) and of h·U + b_rec (z, r, h)
                d_zr = ops.concatenate([d_update, d_reset], axis=-1)
                d_rec = ops.concatenate([d_zr, d_cand * reset], axis=-1)
                dh_prev = ops.matmul(d_rec, u_t) + dh_new * update
                if m_t is not None:
                    dh_prev = dh_prev + dh * (1 - m_t)
                out = (dh_prev, ops.concatenate([d_rec, d_cand], axis=-1))
                return out

            init = (ops.zeros_like(h0), ops.zeros((ops.shape(h0)[0], 4 * units), dtype=z.dtype))
            (dh0, _), (_, d_all) = _scan(back, init, xs, mask, reverse=True)
            d_rec, d_cand = d_all[..., :3 * units], d_all[..., 3 * units:]
            dz = ops.concatenate([d_rec[..., :2 * units], d_cand], axis=-1)
            du = _outer_sum(_previous(hs, h0), d_rec)
            d_bias = ops.sum(ops.reshape(d_rec, (-1, 3 * units)), axis=0)
            grads = (dz, dh0, du, d_bias)
            return grads + (ops.zeros_like(mask),) if masked else grads

        return (hs,), grad

    return core


# --------------------------------------------------------------------------- SimpleRNN


def _simple_step(u):
    def step(carry, z_t, m_t):
        h = carry[0]
        h_new = ops.tanh(z_t + ops.matmul(h, u))
        out = (_keep(m_t, h_new, h),)
        return out

    return step


def simple_rnn_sequence(x, h0, kernel, recurrent_kernel, bias=None, mask=None, *,
                        hand_gradient=True):
    """The SimpleRNN with ``tanh`` over a sequence.

    Args:
        x: the inputs, time-major ``(steps, batch, features)``.
        h0: the initial state ``(batch, units)``.
        kernel, recurrent_kernel, bias: Keras ``SimpleRNNCell``'s weights as tensors.
        mask, hand_gradient: see :func:`lstm_sequence`.

    Returns:
        The state sequence ``(steps, batch, units)``.
    """
    z = _project(x, kernel, bias)
    if not hand_gradient:
        _, (hs,) = _scan(_simple_step(recurrent_kernel), (h0,), z, mask)
        return hs
    if mask is None:
        return _simple_core()(z, h0, recurrent_kernel)[0]
    return _simple_core(masked=True)(z, h0, recurrent_kernel, mask)[0]


def _simple_core(masked=False):
    @ops.custom_gradient
    def core(z, h0, u, mask=None):
        _, (hs,) = _scan(_simple_step(u), (h0,), z, mask)

        def grad(*args, **kwargs):
            (d_hs,) = _upstream(args, (hs,))
            units = d_hs.shape[-1]
            xs = ops.concatenate([hs, d_hs], axis=-1)
            u_t = ops.transpose(u)

            def back(carry, inputs, m_t):
                h, d_h = inputs[:, :units], inputs[:, units:]
                dh = carry[0] + d_h
                dh_new = dh if m_t is None else dh * m_t
                da = dh_new * (1 - h * h)
                dh_prev = ops.matmul(da, u_t)
                if m_t is not None:
                    dh_prev = dh_prev + dh * (1 - m_t)
                out = (dh_prev, da)
                return out

            init = (ops.zeros_like(h0), ops.zeros_like(h0))
            (dh0, _), (_, da) = _scan(back, init, xs, mask, reverse=True)
            grads = (da, dh0, _outer_sum(_previous(hs, h0), da))
            return grads + (ops.zeros_like(mask),) if masked else grads

        return (hs,), grad

    return core
