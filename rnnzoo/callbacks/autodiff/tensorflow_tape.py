"""The monitor's TensorFlow adapter: ``tf.GradientTape``, ``tf.while_loop``, ``tf.function``.

See :mod:`rnnzoo.callbacks.autodiff` for the five functions every adapter
offers. Here the forward pass is recorded on a gradient tape that watches
every probe; the step loop is a ``tf.while_loop`` (a Python loop when eager,
a graph loop inside ``tf.function``); a compiled pass is a ``tf.function``.
"""

from __future__ import annotations

from typing import Any, Callable

import keras
import tensorflow as tf

from rnnzoo.callbacks.autodiff import ProbeSource

__all__ = ["value_and_gradients", "run_steps", "compile", "densify"]


class _TapeProbes(ProbeSource):
    """Zeros the tape watches, so ``d loss / d eps`` exists."""

    def __init__(self, tape: tf.GradientTape):
        super().__init__()
        self.tape = tape

    def make(self, name, like, steps):
        shape = tf.shape(like)
        eps = tf.zeros(tf.concat([shape[:1], [steps], shape[1:]], axis=0), like.dtype)
        self.tape.watch(eps)
        return eps


def value_and_gradients(forward: Callable, variables: list, *, state: list):
    """See :func:`rnnzoo.callbacks.autodiff.value_and_gradients` (``state`` is not needed here)."""
    del state  # TensorFlow reads variables as they are
    with tf.GradientTape() as tape:
        probes = _TapeProbes(tape)
        loss = forward(probes)
    last = probes.last()
    grads = tape.gradient(loss, [*variables, *last.values()])
    n = len(variables)
    probe_grads = {name: tf.zeros_like(eps) if g is None else g
                   for (name, eps), g in zip(last.items(), grads[n:])}
    return loss, list(grads[:n]), probe_grads


def run_steps(step: Callable, steps, states) -> tuple[Any, Any, Any]:
    """See :func:`rnnzoo.callbacks.autodiff.run_steps`."""
    output, states = step(0, states, None)
    outputs = tf.TensorArray(output.dtype, size=steps, element_shape=output.shape)
    outputs = outputs.write(0, output)

    def body(i, flat_states, prev_output, outputs):
        current = keras.tree.pack_sequence_as(states, flat_states)
        output, new_states = step(i, current, prev_output)
        return i + 1, keras.tree.flatten(new_states), output, outputs.write(i, output)

    _, flat_states, last_output, outputs = tf.while_loop(
        lambda i, *_: i < steps,
        body,
        (tf.constant(1), keras.tree.flatten(states), output, outputs),
    )
    final_states = keras.tree.pack_sequence_as(states, flat_states)
    rank = len(output.shape) + 1
    stacked = tf.transpose(outputs.stack(), [1, 0, *range(2, rank)])
    return last_output, stacked, final_states


def compile(fn: Callable, state: list) -> Callable:  # noqa: A001 - the verb is the point
    """``fn`` as a ``tf.function`` (it reads the variables themselves: ``state`` is not needed)."""
    del state
    return tf.function(fn)


def densify(gradient):
    """A dense tensor for a gradient that may be ``tf.IndexedSlices``."""
    return tf.convert_to_tensor(gradient) if isinstance(gradient, tf.IndexedSlices) else gradient
