"""The monitor's JAX adapter: ``jax.value_and_grad`` over Keras' ``StatelessScope``, ``jax.jit``.

See :mod:`rnnzoo.callbacks.autodiff` for the five functions every adapter
offers. JAX differentiates functions of arrays, not recorded passes, so the
pass becomes one: the variables' values and the probes are its arguments, and
a ``keras.StatelessScope`` maps every model variable to its value while the
model runs (as Keras' own JAX trainer does with ``stateless_call``; the scope
also collects the losses layers add, so ``model.compute_loss`` sees them, and
drops every update the pass makes, to metrics or states). The probes' shapes
are known only once the model has run, so a first, abstract pass
(``jax.eval_shape``: shapes only, no arithmetic) finds them. The step loop is
``jax.lax.scan``; a compiled pass is a ``jax.jit`` that takes the variables'
current values as arguments (so a later call sees the new weights).
"""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
import keras

from rnnzoo.callbacks.autodiff import ProbeSource

__all__ = ["value_and_gradients", "run_steps", "compile", "densify"]


class _GivenProbes(ProbeSource):
    """Hands out the probes the differentiated function received, in call order."""

    def __init__(self, given: dict):
        super().__init__()
        self.given = given

    def make(self, name, like, steps):
        return self.given[name][len(self.created.get(name, []))]


def _scope(state: list, values: list):
    return keras.StatelessScope(state_mapping=list(zip(state, values)), collect_losses=True)


def value_and_gradients(forward: Callable, variables: list, *, state: list):
    """See :func:`rnnzoo.callbacks.autodiff.value_and_gradients`."""
    state = list(state)
    index = {id(v): i for i, v in enumerate(state)}
    missing = [v.path for v in variables if id(v) not in index]
    if missing:
        raise ValueError(f"`variables` must be part of `state`. Missing: {missing}")
    current = [v.value for v in state]  # inside a compiled pass: its traced arguments

    def with_values(values):
        full = list(current)
        for v, value in zip(variables, values):
            full[index[id(v)]] = value
        return full

    def probe_shapes():
        with _scope(state, current):
            probes = ProbeSource()
            forward(probes)
        return probes.created

    shapes = jax.eval_shape(probe_shapes)
    zeros = {name: [jnp.zeros(s.shape, s.dtype) for s in specs]
             for name, specs in shapes.items()}

    def loss_of(values, eps):
        with _scope(state, with_values(values)):
            loss = forward(_GivenProbes(eps))
        return loss

    primal = [current[index[id(v)]] for v in variables]
    loss, (weight_grads, probe_grads) = jax.value_and_grad(loss_of, argnums=(0, 1))(
        primal, zeros)
    return loss, list(weight_grads), {name: grads[-1] for name, grads in probe_grads.items()}


def run_steps(step: Callable, steps, states) -> tuple[Any, Any, Any]:
    """See :func:`rnnzoo.callbacks.autodiff.run_steps` (``steps`` is a Python int under JAX)."""
    first, states_1 = step(0, states, None)
    flat_1 = [_strong(s) for s in keras.tree.flatten(states_1)]
    first = _strong(first)
    if steps == 1:
        return first, jnp.expand_dims(first, 1), states_1

    def body(carry, i):
        flat, prev = carry
        output, new_states = step(i, keras.tree.pack_sequence_as(states, flat), prev)
        flat_new = [_strong(n, o.dtype) for n, o in zip(keras.tree.flatten(new_states), flat)]
        output = _strong(output, prev.dtype)
        return (flat_new, output), output

    (flat, last), rest = jax.lax.scan(body, (flat_1, first), jnp.arange(1, steps))
    outputs = jnp.concatenate([first[None], rest], axis=0)
    outputs = jnp.moveaxis(outputs, 0, 1)
    return last, outputs, keras.tree.pack_sequence_as(states, flat)


def _strong(x, dtype=None):
    """``x`` as a strongly typed array (a scan's carry must keep one exact type)."""
    x = jnp.asarray(x)
    return jax.lax.convert_element_type(x, dtype or x.dtype)


def compile(fn: Callable, state: list) -> Callable:  # noqa: A001 - the verb is the point
    """``fn`` under ``jax.jit``, the current values of ``state`` passed in on every call."""
    state = list(state)

    def pure(values, *args):
        with _scope(state, values):
            return fn(*args)

    jitted = jax.jit(pure)

    def call(*args):
        return jitted([v.value for v in state], *args)

    return call


def densify(gradient):
    """JAX gradients are dense already."""
    return gradient
