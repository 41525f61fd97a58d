"""The faster loop of rnnzoo's ``LSTM``, ``GRU`` and ``SimpleRNN``: Keras' weights and outputs.

:class:`rnnzoo.layers.LSTM`, :class:`rnnzoo.layers.GRU` and
:class:`rnnzoo.layers.SimpleRNN` (modules ``lstm``, ``gru``, ``simple_rnn``) are
subclasses of Keras' layers of the same names that keep everything but the
time loop: the same cell, the same variables under the same paths (the class
names are Keras', so weight files and automatic layer names are too: a Keras
``.keras`` or ``.weights.h5`` file loads into them and back, no conversion),
the same arguments and config. Their ``call`` (:class:`FastRNNMixin`) runs
:mod:`rnnzoo.layers.fused_loops`: the input projection of
all steps as one matrix product before the loop, only ``h·U`` and the gate
arithmetic inside it, and in training a hand-written backward pass whose
weight gradients are matrix products over all steps. Outputs, states and
gradients equal Keras' to float32 round-off (tests/layers/test_fast_rnn.py).

Supported on the fast path (TensorFlow and JAX): masks of any pattern,
``go_backwards``, ``initial_state``, ``return_sequences``, ``return_state``,
``stateful``, ``Bidirectional`` and input ``dropout`` (the same masks as
Keras' layer draws with the same seed). Everything else runs Keras' own loop
(``super().call``), with Keras' results: ``recurrent_dropout``, ``unroll``,
other activations, ``GRU(reset_after=False)``, ``implementation=1``, other
backends, and a GPU with ``use_cudnn`` not False (Keras' cuDNN kernel is
faster there). :meth:`FastRNNMixin.fast_path_blocker` says which applies.

Speed. On the 2-core CPU this was measured on (tools/bench_layers.py), the
fast loop is no faster than Keras' own: a small layer's time goes to the loop's
cost per step and per op (both executors), which hoisting does not reduce, and
under XLA Keras' loop is faster still. So the cell table keeps Keras' layers;
these classes are an opt-in (``register_cell`` or direct use) that keeps
Keras' weights, outputs and gradients.

Attribute ``step_by_step`` (default False): when True the layer runs Keras'
per-step loop (same outputs); the gradient monitor's probe sets it while it
traces every step, as for :class:`~rnnzoo.layers.ClockworkRNN`.

Example:

```python
layer = rnnzoo.layers.LSTM(64, return_sequences=True)
layer.set_weights(keras_lstm.get_weights())   # the same variables as keras.layers.LSTM
```
"""

from __future__ import annotations

import functools

import keras
from keras import ops

from rnnzoo.layers.base import finish_call, start_states

__all__ = ["FastRNNMixin", "gpu_available"]


@functools.lru_cache(maxsize=None)
def gpu_available() -> bool:
    """Whether Keras sees a GPU (where Keras' own layers use cuDNN)."""
    return any(d.lower().startswith("gpu") for d in keras.distribution.list_devices())


class FastRNNMixin:
    """The fast ``call`` shared by rnnzoo's ``LSTM``, ``GRU`` and ``SimpleRNN``.

    A subclass lists the Keras layer it reproduces right after this mixin
    among its bases, names it in ``keras_layer``, calls :meth:`_init_fast`
    at the end of its ``__init__`` and implements :meth:`_run` with
    :mod:`rnnzoo.layers.fused_loops`.
    """

    #: Keras' layer whose weights, config and outputs this layer has.
    keras_layer: type

    def _init_fast(self):
        self.step_by_step = False

    def fast_path_blocker(self) -> str | None:
        """Why the next call runs Keras' own loop, or None when it runs the fast one."""
        cell = self.cell
        if keras.config.backend() not in ("tensorflow", "jax"):
            return f"the {keras.config.backend()} backend"
        if self.step_by_step:
            return "step_by_step"
        if self.unroll:
            return "unroll"
        if cell.recurrent_dropout:
            return "recurrent_dropout"
        if getattr(cell, "implementation", 2) != 2:
            return "implementation=1"
        if getattr(cell, "activation", None) is not keras.activations.tanh or getattr(
                cell, "recurrent_activation", keras.activations.sigmoid) \
                is not keras.activations.sigmoid:
            return "activations other than tanh and sigmoid"
        if getattr(cell, "reset_after", True) is not True:
            return "reset_after=False"
        use_cudnn = getattr(self, "use_cudnn", False)
        if use_cudnn is True or (use_cudnn == "auto" and gpu_available()):
            return "cuDNN"
        return None

    def call(self, sequences, initial_state=None, mask=None, training=False):
        if self.fast_path_blocker() is not None:
            return super().call(sequences, initial_state=initial_state, mask=mask,
                                training=training)
        cell = self.cell
        states = start_states(self, sequences, initial_state)
        dtype = cell.compute_dtype
        x = ops.cast(sequences, dtype)
        if 0.0 < cell.dropout:
            # Drawn on every call, as keras.layers.RNN does: the seed advances alike.
            drop = keras.random.dropout(ops.ones_like(x[:, 0, :]), rate=cell.dropout,
                                        seed=cell.seed_generator)
            if training and cell.dropout < 1.0:
                x = x * ops.expand_dims(drop, 1)
        if keras.tree.is_nested(mask):
            mask = mask[0]
        x = ops.transpose(x, (1, 0, 2))  # time-major
        m = None
        if mask is not None:
            m = ops.expand_dims(ops.cast(ops.transpose(mask, (1, 0)), dtype), -1)
        if self.go_backwards:
            x = ops.flip(x, axis=0)
            m = None if m is None else ops.flip(m, axis=0)
        hs, final_states = self._run(x, states, m, hand_gradient=bool(training))
        last, outputs = self._outputs(hs, m)
        return finish_call(self, last, outputs, final_states)

    def _outputs(self, hs, m):
        """``(last_output, outputs)`` as Keras' loop gives them, from the state sequence.

        A masked step outputs zeros (``zero_output_for_mask``) or repeats the
        previous output, which is the state kept. Before the first kept step
        Keras' TensorFlow loop outputs zeros, its JAX loop the initial state.
        """
        if m is None:
            keep = None
        elif self.zero_output_for_mask:
            keep = m > 0
        elif keras.config.backend() == "jax":
            keep = None
        else:
            keep = ops.cumsum(m, axis=0) > 0
        last = hs[-1] if keep is None else ops.where(keep[-1], hs[-1], 0.0)
        if not self.return_sequences:
            return last, None
        outputs = hs if keep is None else ops.where(keep, hs, 0.0)
        return last, ops.transpose(outputs, (1, 0, 2))

    def _weights(self):
        dtype = self.cell.compute_dtype
        cell = self.cell
        bias = None if cell.bias is None else ops.cast(cell.bias, dtype)
        return ops.cast(cell.kernel, dtype), ops.cast(cell.recurrent_kernel, dtype), bias

    def _run(self, x, states, mask, hand_gradient):
        """``(state sequence (steps, batch, units), final states)`` of the loop."""
        raise NotImplementedError
