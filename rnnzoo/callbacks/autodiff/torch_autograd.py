"""The monitor's PyTorch adapter: ``torch.autograd.grad``, an eager step loop.

See :mod:`rnnzoo.callbacks.autodiff` for the five functions every adapter
offers. Keras variables on PyTorch hold ``torch.nn.Parameter`` values, so
autograd records the forward pass as it runs; the probes are zeros with
``requires_grad``; the step loop is a Python loop; "compiled" passes run
eagerly (``torch.compile`` of a whole traced pass is not worth its start-up
cost for a measurement taken every few dozen batches).
"""

from __future__ import annotations

from typing import Any, Callable

import keras
import torch

from rnnzoo.callbacks.autodiff import ProbeSource

__all__ = ["value_and_gradients", "run_steps", "compile", "densify"]


class _GradProbes(ProbeSource):
    """Zeros that autograd tracks."""

    def make(self, name, like, steps):
        return torch.zeros((like.shape[0], int(steps), *like.shape[1:]), dtype=like.dtype,
                           device=like.device, requires_grad=True)


def value_and_gradients(forward: Callable, variables: list, *, state: list):
    """See :func:`rnnzoo.callbacks.autodiff.value_and_gradients` (``state`` is not needed here)."""
    del state
    with torch.enable_grad():
        probes = _GradProbes()
        loss = forward(probes)
        last = probes.last()
        sources = [v.value for v in variables] + list(last.values())
        grads = torch.autograd.grad(loss, sources, allow_unused=True) if sources else ()
    n = len(variables)
    probe_grads = {name: torch.zeros_like(eps) if g is None else g
                   for (name, eps), g in zip(last.items(), grads[n:])}
    return loss.detach(), list(grads[:n]), probe_grads


def run_steps(step: Callable, steps, states) -> tuple[Any, Any, Any]:
    """See :func:`rnnzoo.callbacks.autodiff.run_steps`."""
    output, states = step(0, states, None)
    outputs = [output]
    for i in range(1, int(steps)):
        output, states = step(i, states, output)
        outputs.append(output)
    return output, torch.stack(outputs, dim=1), states


def compile(fn: Callable, state: list) -> Callable:  # noqa: A001 - the verb is the point
    """``fn`` itself: the pass runs eagerly on PyTorch."""
    del state
    return fn


def densify(gradient):
    """A dense tensor for a gradient that may be sparse."""
    if gradient is not None and getattr(gradient, "is_sparse", False):
        return gradient.to_dense()
    return keras.ops.convert_to_tensor(gradient) if gradient is not None else gradient
