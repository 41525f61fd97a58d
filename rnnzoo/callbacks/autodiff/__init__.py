"""Differentiation for the gradient monitor, one small adapter per Keras backend.

Everything :class:`~rnnzoo.callbacks.GradientMonitor` needs from the backend to
*differentiate* sits behind the same five functions; the rest of the monitor
(which layers to trace, what a probe step computes, which norms to report) is
written with ``keras.ops`` and is the same on every backend:

- :func:`value_and_gradients` runs ``forward(probes)`` and differentiates the
  loss it returns with respect to the given variables and to every probe the
  pass asked ``probes`` for (the per-step ``eps_t`` of
  :mod:`~rnnzoo.callbacks.tracing`);
- :func:`run_steps` runs a step function over time (a loop the backend can
  differentiate and compile);
- :func:`compile` turns a whole pass into one compiled function;
- :func:`densify` turns a sparse gradient dense;
- :func:`zero_probes` is a probe source for a pass that is not differentiated
  (its probes are plain zeros).

The adapters: :mod:`~rnnzoo.callbacks.autodiff.tensorflow_tape`
(``tf.GradientTape``, ``tf.function``), :mod:`~rnnzoo.callbacks.autodiff.jax_grad`
(``jax.value_and_grad`` over Keras' ``StatelessScope``, ``jax.jit``) and
:mod:`~rnnzoo.callbacks.autodiff.torch_autograd` (``torch.autograd.grad``,
eager). The one for ``keras.backend.backend()`` is imported on first use, so
TensorFlow users never import JAX or PyTorch.

Example:

```python
def forward(probes):
    with Tracer(probes, layers) as tracer:
        y_pred = model(x, training=False)
    return model.compute_loss(x=x, y=y, y_pred=y_pred)

loss, weight_grads, probe_grads = value_and_gradients(
    forward, model.trainable_variables, state=model_state(model))
probe_grads["rnn_1"]          # dL/dh_t, (batch, T, units)
```
"""

from __future__ import annotations

import importlib
from typing import Any, Callable

import keras

__all__ = [
    "ADAPTERS",
    "ProbeSource",
    "adapter",
    "compile",
    "densify",
    "model_state",
    "run_steps",
    "value_and_gradients",
    "zero_probes",
]

#: The adapter module of each Keras backend, under ``rnnzoo.callbacks.autodiff``.
ADAPTERS = {"tensorflow": "tensorflow_tape", "jax": "jax_grad", "torch": "torch_autograd"}


def adapter(backend: str | None = None):
    """The adapter module for ``backend`` (default: ``keras.backend.backend()``).

    Raises:
        ValueError: for a backend without an adapter (e.g. ``"numpy"``, which
            cannot differentiate).
    """
    backend = backend or keras.backend.backend()
    module = _LOADED.get(backend)
    if module is None:
        if backend not in ADAPTERS:
            raise ValueError(
                "The gradient monitor needs a backend that differentiates: one of "
                f"{sorted(ADAPTERS)}. Received: KERAS_BACKEND={backend!r}"
            )
        module = _LOADED[backend] = importlib.import_module(f"{__name__}.{ADAPTERS[backend]}")
    return module


_LOADED: dict = {}  # backend name -> adapter module, imported once (never inside a traced pass)


class ProbeSource:
    """Hands out the probe tensors ``eps`` of a pass, and remembers them by layer name.

    Each adapter subclasses it: ``new`` returns zeros its backend differentiates
    with respect to. This base class returns plain zeros (a pass that is not
    differentiated, see :func:`zero_probes`).

    Attributes:
        created: ``{name: [eps, ...]}``, every probe handed out, in call order
            (a layer called twice in one pass has two).
    """

    def __init__(self):
        self.created: dict[str, list] = {}

    def new(self, name: str, like, steps):
        """A probe of shape ``(batch, steps, *like.shape[1:])`` in ``like``'s dtype.

        Args:
            name: the traced layer's name.
            like: a per-step tensor ``(batch, ...)`` (the cell's first state).
            steps: the number of time steps (an int, or a scalar tensor on
                TensorFlow inside a compiled function).
        """
        eps = self.make(name, like, steps)
        self.created.setdefault(name, []).append(eps)
        return eps

    def make(self, name: str, like, steps):
        """The zeros themselves; adapters override this to make them differentiable."""
        shape = keras.ops.shape(like)
        return keras.ops.zeros((shape[0], steps, *shape[1:]), like.dtype)

    def last(self) -> dict:
        """``{name: eps}`` of every layer's last call."""
        return {name: probes[-1] for name, probes in self.created.items()}


def zero_probes() -> ProbeSource:
    """A probe source for a forward pass that is not differentiated: plain zeros."""
    return ProbeSource()


def model_state(model) -> list:
    """Every variable a forward pass and a loss computation of ``model`` may read.

    The trainable and non-trainable variables and the metrics' variables, each
    once: what a stateless backend (JAX) must be handed as values.
    """
    seen, state = set(), []
    for v in [*model.trainable_variables, *model.non_trainable_variables,
              *model.metrics_variables]:
        if id(v) not in seen:
            seen.add(id(v))
            state.append(v)
    return state


def value_and_gradients(forward: Callable[[ProbeSource], Any], variables: list, *,
                        state: list) -> tuple[Any, list, dict]:
    """``forward(probes)``'s loss and its gradients, on the current backend.

    Args:
        forward: runs the model and returns the scalar loss; it asks
            ``probes.new(...)`` for every probe it adds to a state.
        variables: the variables to differentiate with respect to.
        state: every variable ``forward`` may read or update (see
            :func:`model_state`); updates made during the pass are dropped on
            stateless backends, kept on TensorFlow and PyTorch (the caller
            restores what it must).

    Returns:
        ``(loss, [d loss / d variable] (None or zeros where it does not
        depend on it), {name: d loss / d eps of the layer's last call}
        (zeros where it does not depend on it))``.
    """
    return adapter().value_and_gradients(forward, variables, state=state)


def run_steps(step: Callable, steps, states) -> tuple[Any, Any, Any]:
    """Runs ``output, states = step(i, states, previous_output)`` for ``i = 0 .. steps - 1``.

    The first step runs outside the loop (``previous_output`` is ``None``
    there) and gives the shapes of the outputs and states.

    Returns:
        ``(last_output, outputs, final_states)`` with ``outputs`` of shape
        ``(batch, steps, ...)`` in step order.
    """
    return adapter().run_steps(step, steps, states)


def compile(fn: Callable, state: list) -> Callable:  # noqa: A001 - the verb is the point
    """``fn(*args)`` as one compiled function that reads the current values of ``state``.

    Compiled on the first call per input signature (TensorFlow, JAX); on
    PyTorch ``fn`` itself (eager).
    """
    return adapter().compile(fn, state)


def densify(gradient):
    """A dense tensor for a gradient that may be sparse (``tf.IndexedSlices``)."""
    return adapter().densify(gradient)
