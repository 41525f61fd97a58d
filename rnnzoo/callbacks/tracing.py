"""Tracing: the per-step probe of ``h_t`` inside every recurrent layer of a model.

:func:`recurrent_layers` finds every ``keras.layers.RNN`` of a model (Keras'
``SimpleRNN``/``LSTM``/``GRU``, rnnzoo's ABC and Clockwork RNNs, any other;
both halves of a ``Bidirectional``, inside stacks and nested models) and names
it by its path (``encoder/rnn_1``, ``rnn_1/backward``).

While a :class:`Tracer` is active, each traced layer runs its cell one time
step at a time (in place of the layer's own loop, through
:func:`rnnzoo._compat.replaced_rnn_loops`) and adds a zero tensor ``eps_t`` to
the cell's first state ``h_t`` after every step: to the state carried to step
``t + 1`` and to the output of step ``t`` when the cell outputs its state.
``dL/deps_t`` is then exactly the total derivative ``dL/dh_t``, through the
layer's output at ``t`` and through every later step. When a cell's output is
a different tensor from its state (the ABC RNN with ``output_units``:
``y_t = h_t B + b_y``) the output is recomputed from the probed state with the
cell's ``output_from_state(h)`` or ``project_outputs(h)``; a cell with neither
gets only the path through later steps measured. Masked (padded) steps carry
the state over unchanged, exactly as Keras' loop does.

The probes come from a :class:`~rnnzoo.callbacks.autodiff.ProbeSource`, which
makes them differentiable on the current backend; the step loop is the
backend's (:func:`rnnzoo.callbacks.autodiff.run_steps`).

Example:

```python
def forward(probes):
    with Tracer(probes, recurrent_layers(model)):
        y_pred = model(x, training=False)
    return model.compute_loss(x=x, y=y, y_pred=y_pred)

loss, _, probe_grads = autodiff.value_and_gradients(forward, [], state=autodiff.model_state(model))
probe_grads["rnn_1"]                                     # dL/dh_t, (batch, T, units)
```
"""

from __future__ import annotations

import inspect
from typing import Any

import keras
from keras import ops

from rnnzoo import _compat
from rnnzoo.callbacks import autodiff
from rnnzoo.layers.walk import children

__all__ = ["recurrent_layers", "Tracer"]


def recurrent_layers(model) -> list[tuple[str, keras.layers.RNN]]:
    """Every recurrent layer of ``model`` as ``(path name, layer)``, in model order.

    Args:
        model: a Keras model or layer.

    Returns:
        ``[(name, layer)]``: a ``Bidirectional`` layer ``b`` gives
        ``("b/forward", ...)`` and ``("b/backward", ...)``; a layer inside a
        nested model or wrapper is prefixed by that model's or wrapper's name.

    Example:

    >>> [name for name, _ in recurrent_layers(model)]
    ['rnn_1/forward', 'rnn_1/backward', 'rnn_2/forward', 'rnn_2/backward']
    """
    found: list[tuple[str, keras.layers.RNN]] = []
    seen: set[int] = set()

    def visit(layer, prefix):
        if id(layer) in seen:
            return
        seen.add(id(layer))
        if isinstance(layer, keras.layers.Bidirectional):
            for direction, sub in (("forward", layer.forward_layer),
                                   ("backward", layer.backward_layer)):
                seen.add(id(sub))
                found.append((f"{prefix}{layer.name}/{direction}", sub))
            return
        if isinstance(layer, keras.layers.RNN):
            found.append((f"{prefix}{layer.name}", layer))
            return
        sub_prefix = prefix if layer is model else f"{prefix}{layer.name}/"
        for sub in _sublayers(layer):
            visit(sub, sub_prefix)

    visit(model, "")
    return found


def _sublayers(layer) -> list:
    """:func:`rnnzoo.layers.walk.children`, plus what a user's layer keeps elsewhere.

    A custom layer often holds its sub-layers under private names (``self._rnn``)
    or in a dict; Keras' own classes are walked through their public attributes
    only.
    """
    found = children(layer)
    if type(layer).__module__.startswith("keras."):
        return found
    known = {id(sub) for sub in found}
    for name, value in vars(layer).items():
        if name.startswith("__"):
            continue
        if isinstance(value, dict):
            value = list(value.values())
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(item, keras.layers.Layer) and id(item) not in known:
                known.add(id(item))
                found.append(item)
    return found


class Tracer:
    """Replaces the time loop of recurrent layers by a loop with probes, while active.

    Args:
        source: the :class:`~rnnzoo.callbacks.autodiff.ProbeSource` that makes
            the probes (:func:`~rnnzoo.callbacks.autodiff.zero_probes` for a
            pass that is not differentiated).
        layers: ``(name, layer)`` pairs, as :func:`recurrent_layers` gives them.

    Attributes:
        probes: ``{name: eps}``, one watched zero tensor of shape
            ``(batch, T, units)`` per layer called during the pass (``None``
            for a layer the pass did not call; a layer called twice keeps its
            last call). ``dL/deps[:, t]`` is ``dL/dh_t`` for input position ``t``.

    Example:

    >>> with Tracer(autodiff.zero_probes(), recurrent_layers(model)) as tracer:
    ...     y_pred = model(x, training=False)
    """

    def __init__(self, source: autodiff.ProbeSource, layers: list[tuple[str, keras.layers.RNN]]):
        self.source = source
        self.layers = list(layers)
        self.probes: dict[str, Any] = {name: None for name, _ in self.layers}
        self._active = None

    def __enter__(self):
        loops = [(layer, self._probe_loop(name, layer)) for name, layer in self.layers]
        # Layers with a faster loop of their own (ClockworkRNN's chunked schedule) run
        # Keras' per-step loop while traced: the probe needs every step.
        self._fast = [layer for _, layer in self.layers
                      if getattr(layer, "step_by_step", True) is False]
        for layer in self._fast:
            layer.step_by_step = True
        self._active = _compat.replaced_rnn_loops(loops)
        self._active.__enter__()
        return self

    def __exit__(self, *exc):
        active, self._active = self._active, None
        try:
            return active.__exit__(*exc)
        finally:
            for layer in self._fast:
                layer.step_by_step = False

    def _probe_loop(self, name: str, layer: keras.layers.RNN):
        source, probes = self.source, self.probes
        cell = layer.cell
        takes_training = isinstance(cell, keras.layers.Layer) and (
            "training" in inspect.signature(cell.call).parameters)
        # A cell whose step output is not its state, y_t = g(h_t), can say how g
        # is computed (rnnzoo's ABC cell: project_outputs), so that the probe also
        # reaches y_t; see the module docstring.
        readout = getattr(cell, "output_from_state", None) or getattr(
            cell, "project_outputs", None)

        def probe_loop(sequences, initial_state, mask, training=False):
            kwargs = {"training": training} if takes_training else {}
            states = list(initial_state) if keras.tree.is_nested(initial_state) else [
                initial_state]
            steps = ops.shape(keras.tree.flatten(sequences)[0])[1]
            eps = source.new(name, keras.tree.flatten(states)[0], steps)
            probes[name] = eps  # a layer called twice in one pass keeps its last call
            keep = None if mask is None else ops.cast(mask, "bool")

            def step(i, states, prev_output):
                t = steps - 1 - i if layer.go_backwards else i
                x_t = keras.tree.map_structure(lambda s: ops.take(s, t, axis=1), sequences)
                output, new_states = cell(x_t, states, **kwargs)
                if not keras.tree.is_nested(new_states):
                    new_states = [new_states]
                flat_new = list(keras.tree.flatten(new_states))
                output_is_h = output is flat_new[0]
                if keep is not None:
                    m = ops.take(keep, t, axis=1)
                    if prev_output is None:
                        prev_output = ops.zeros_like(output)
                    output = ops.where(_expand(m, output), output, prev_output)
                    flat_old = keras.tree.flatten(states)
                    flat_new = [ops.where(_expand(m, s), s, old)
                                for s, old in zip(flat_new, flat_old)]
                # The probe: h_t + eps_t is the state carried to step t + 1 and, when
                # the cell outputs its state, the output of step t; so dL/deps_t is
                # the total derivative dL/dh_t.
                eps_t = ops.take(eps, t, axis=1)
                flat_new[0] = flat_new[0] + eps_t
                if output_is_h:
                    output = output + eps_t
                elif readout is not None:
                    new_output = readout(flat_new[0])
                    output = new_output if keep is None else ops.where(
                        _expand(m, new_output), new_output, prev_output)
                return output, keras.tree.pack_sequence_as(states, flat_new)

            last_output, outputs, final_states = autodiff.run_steps(step, steps, states)
            if keep is not None and layer.zero_output_for_mask:
                keep_seq = ops.flip(keep, axis=1) if layer.go_backwards else keep
                last_output = ops.where(_expand(keep_seq[:, -1], last_output), last_output,
                                        ops.zeros_like(last_output))
                outputs = ops.where(_expand(keep_seq, outputs), outputs, ops.zeros_like(outputs))
            return last_output, outputs, final_states

        return probe_loop


def _expand(mask, x):
    """``mask`` with trailing axes added to broadcast against ``x`` in ``where``."""
    while len(mask.shape) < len(x.shape):
        mask = ops.expand_dims(mask, -1)
    return mask
