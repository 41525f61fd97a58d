"""The monitor's TensorFlow half: the gradient tape, the compiled pass, the step loop.

Everything :class:`~rnnzoo.callbacks.GradientMonitor` needs from TensorFlow
to *differentiate* lives here, behind five small functions, so that the rest
of the monitor (which layers to trace, what a probe step computes, which
norms to report) is written with ``keras.ops`` and stays the same when other
backends get their own version of this module:

- :func:`tape` records the forward pass; :func:`gradients` differentiates it;
- :func:`watched_zeros` makes the probe ``eps`` (zeros the tape watches);
- :func:`run_steps` runs a step function over time (a ``tf.while_loop``: a
  Python loop when eager, a graph loop inside ``tf.function``);
- :func:`compile` turns the whole pass into a ``tf.function``;
- :func:`densify` turns sparse gradients (``tf.IndexedSlices``) dense.

Example:

```python
with tape() as t:
    eps = watched_zeros(t, h0, steps)
    loss = ...
grads = gradients(t, loss, [*model.trainable_weights, eps])
```
"""

from __future__ import annotations

from typing import Any, Callable

import keras
import tensorflow as tf

__all__ = ["tape", "gradients", "watched_zeros", "run_steps", "compile", "densify"]


def tape():
    """A context manager that records operations for :func:`gradients`."""
    return tf.GradientTape()


def gradients(recorder, target, sources: list) -> list:
    """``d target / d source`` for every source (``None`` where it does not depend on it)."""
    return recorder.gradient(target, sources)


def watched_zeros(recorder, like, steps):
    """Zeros of shape ``(batch, steps, *like.shape[1:])`` in ``like``'s dtype, watched.

    Args:
        recorder: the :func:`tape` recording the pass.
        like: a per-step tensor ``(batch, ...)`` (the first state of a cell).
        steps: the number of time steps (an int or a scalar tensor).
    """
    shape = tf.shape(like)
    eps = tf.zeros(tf.concat([shape[:1], [steps], shape[1:]], axis=0), like.dtype)
    recorder.watch(eps)
    return eps


def run_steps(step: Callable, steps, states) -> tuple[Any, Any, Any]:
    """Runs ``output, states = step(i, states, previous_output)`` for ``i = 0 .. steps - 1``.

    The first step runs outside the loop (``previous_output`` is ``None``
    there) and gives the shapes of the outputs and states.

    Args:
        step: the step function; ``i`` is a Python int for the first step and
            a scalar tensor after it.
        steps: the number of steps (an int or a scalar tensor), at least 1.
        states: the initial states (a list of tensors, possibly nested).

    Returns:
        ``(last_output, outputs, final_states)`` with ``outputs`` of shape
        ``(batch, steps, ...)`` in step order.
    """
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


def compile(fn: Callable) -> Callable:  # noqa: A001 - the verb is the point
    """``fn`` as a compiled graph function (traced on the first call per input signature)."""
    return tf.function(fn)


def densify(gradient):
    """A dense tensor for a gradient that may be sparse (``tf.IndexedSlices``)."""
    return tf.convert_to_tensor(gradient) if isinstance(gradient, tf.IndexedSlices) else gradient
