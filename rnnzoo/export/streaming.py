"""The streaming signature (``streaming=True``): one time step and every state in and out.

A layer that carries something from one step to the next is run one step at a
time, generically:

- a ``keras.layers.RNN`` steps its ``cell`` (states ``<layer>_h``, ``<layer>_c``
  for an LSTM, ``<layer>_h``, ``<layer>_t`` for the Clockwork RNN's clock
  counter, ``<layer>_h`` for one state);
- any other layer with ``step(x_t, states, training=False) -> (y_t, new_states)``,
  ``get_initial_state(batch)`` and ``state_size`` is stepped through those
  (``return_sequences`` and ``return_state`` read as on an RNN, default
  False): :class:`rnnzoo.layers.FeedForward` carries the running sum and
  count of its pooling;
- every other layer runs unchanged on a length-1 sequence.

A layer may name its states with a ``state_names`` attribute (on the layer or
its cell); otherwise they are named as above, or ``<layer>_s0``, ``_s1``, ...
The model is rewired with :mod:`rnnzoo.export.rewire` (public Keras API), and
the result is verified against the whole-sequence model by the caller.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from rnnzoo.export import rewire
from rnnzoo.export.tracing import SignaturePlan, input_specs, output_names, safe_name
from rnnzoo.layers import walk

__all__ = ["streaming_plan", "steppable", "StepLayer"]


def steppable(layer) -> bool:
    """Whether ``layer`` carries state across time steps that streaming can step."""
    if isinstance(layer, keras.layers.RNN):
        return True
    return (callable(getattr(layer, "step", None))
            and callable(getattr(layer, "get_initial_state", None))
            and hasattr(layer, "state_size"))


class _States:
    """The state tensors of one step, shared by the :class:`StepLayer` s of one plan."""

    def __init__(self):
        self.current: list = []
        self.new: list = []

    def start(self, states) -> None:
        self.current = list(states)
        self.new = list(states)


class StepLayer(keras.layers.Layer):
    """One time step of a stateful layer, reading and writing its slice of the states.

    Args:
        layer: a layer for which :func:`steppable` is true.
        states: the plan's shared states.
        offset: where this layer's states start in them.
        count: how many states it has.
    """

    def __init__(self, layer, states: _States, offset: int, count: int, **kwargs):
        super().__init__(name=layer.name, dtype=layer.dtype_policy, **kwargs)
        self.layer = layer
        self.states = states
        self.offset = offset
        self.count = count
        self.built = True

    def call(self, inputs, mask=None, training=None, initial_state=None):
        start, stop = self.offset, self.offset + self.count
        current = self.states.current[start:stop]
        x_t = inputs[:, 0]
        if isinstance(self.layer, keras.layers.RNN):
            y, new = self.layer.cell(x_t, current, training=False)
        else:
            y, new = self.layer.step(x_t, current, training=False)
        new = keras.tree.flatten(new)
        self.states.new[start:stop] = new
        y = y[:, None] if getattr(self.layer, "return_sequences", False) else y
        return [y, *new] if getattr(self.layer, "return_state", False) else y

    def compute_output_spec(self, inputs, mask=None, training=None, initial_state=None):
        return self.layer.compute_output_spec(inputs)

    def compute_mask(self, inputs, mask=None):
        return self.layer.compute_mask(inputs, mask)


def _state_suffixes(layer, n: int) -> list[str]:
    cell = getattr(layer, "cell", None)
    named = getattr(layer, "state_names", None) or getattr(cell, "state_names", None)
    if named is not None and len(named) == n:
        return [str(s) for s in named]
    cls = type(layer).__name__.lower() + type(cell).__name__.lower()
    if "lstm" in cls and n == 2:
        return ["h", "c"]
    if "clockwork" in cls and n == 2:
        return ["h", "t"]
    if n == 1:
        return ["h"]
    return [f"s{i}" for i in range(n)]


def _check_streamable(model) -> None:
    for layer in walk.iter_layers(model):
        if isinstance(layer, keras.layers.Bidirectional):
            raise ValueError(
                f"`streaming` needs a causal model, but layer '{layer.name}' is Bidirectional "
                "(its backward half reads the future). Received: streaming=True. Export the "
                "whole-sequence model (streaming=False) or build the model with "
                "bidirectional=False."
            )
        if isinstance(layer, keras.layers.RNN) and layer.go_backwards:
            raise ValueError(
                f"`streaming` needs a causal model, but layer '{layer.name}' has "
                "go_backwards=True. Received: streaming=True."
            )
    for layer in getattr(model, "layers", []):
        if not steppable(layer) and walk.recurrent_layers(layer):
            where = "the nested model" if isinstance(layer, keras.Model) else "the layer"
            raise ValueError(
                f"`streaming` does not support recurrent layers inside {where} "
                f"'{layer.name}'. Received: streaming=True."
            )


def streaming_plan(model) -> SignaturePlan:
    """One ``step`` signature: one time step and every state in, outputs and new states out.

    Args:
        model: a causal functional or sequential Keras model.

    Returns:
        The plan; its metadata holds the state names, shapes and non-zero
        initial values that :class:`rnnzoo.litert_runtime.Streamer` starts from.

    Raises:
        ValueError: the model reads the future (Bidirectional, ``go_backwards``)
            or hides a recurrent layer where it cannot be stepped.
    """
    _check_streamable(model)
    # States, in a fixed order: (layer, [names], [initial numpy values]).
    stateful = []
    for layer in model.layers:
        if steppable(layer):
            init = [np.asarray(keras.ops.convert_to_numpy(s), np.float32)
                    for s in keras.tree.flatten(layer.get_initial_state(1))]
            names = [f"{safe_name(layer.name)}_{s}" for s in _state_suffixes(layer, len(init))]
            stateful.append((layer, names, init))
    states = _States()
    wrappers, offset = {}, 0
    for layer, names, _ in stateful:
        wrappers[id(layer)] = StepLayer(layer, states, offset, len(names))
        offset += len(names)
    step_model = rewire.replace_layers(model, lambda layer: wrappers.get(id(layer), layer),
                                        time_steps=1)

    x_specs = input_specs(model.inputs, sequence_length=None)
    x_specs = [tf.TensorSpec([1, 1, *s.shape.as_list()[2:]], s.dtype, name=s.name) for s in x_specs]
    state_names = [n for _, names, _ in stateful for n in names]
    state_specs = [tf.TensorSpec(value.shape, tf.float32, name=name)
                   for _, names, init in stateful for name, value in zip(names, init)]

    def fn(*args):
        xs = list(args[: len(x_specs)])
        states.start(args[len(x_specs):])
        outputs = step_model(keras.tree.pack_sequence_as(step_model.input, xs), training=False)
        return [*keras.tree.flatten(outputs), *states.new]

    outputs = output_names(model)
    clash = set(outputs) & set(state_names)
    if clash:
        outputs = [f"{n}_output" if n in clash else n for n in outputs]
    plan = SignaturePlan()
    plan.add_main("streaming", "step", fn, [*x_specs, *state_specs], [*outputs, *state_names],
                  [model], data_inputs=len(x_specs), data_outputs=len(outputs))
    plan.metadata.update(
        state_names=state_names,
        state_shapes={n: list(v.shape) for _, names, init in stateful
                      for n, v in zip(names, init)},
        initial_states={n: v.tolist() for _, names, init in stateful
                        for n, v in zip(names, init) if np.any(v != 0)},
    )
    return plan
