"""Tracing Keras models into TFLite-ready ``tf.function`` signatures.

Everything here runs in the caller's process (it needs the live Keras model);
the conversion itself runs in :mod:`rnnzoo._export.worker`.

Three facts shape the traced graphs:

- The batch size is fixed to 1: with a ``None`` batch Keras' RNN loop becomes
  TensorList ops that need the Flex delegate; with batch 1 it is a built-in
  ``WHILE``.
- Weights become constants (``keras.StatelessScope``), so the converter never
  sees resource variables (read inside a ``WHILE`` body they are not frozen
  and the file fails at run time).
- Tracing happens on the CPU with cuDNN off, so no cuDNN kernel is embedded.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any, Callable

import keras
import numpy as np
import tensorflow as tf

__all__ = [
    "SignaturePlan",
    "sequence_plan",
    "streaming_plan",
    "generative_plan",
    "recurrent_layers",
    "tracing_mode",
    "safe_name",
]


def safe_name(name: str) -> str:
    """A signature-friendly tensor name."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", str(name).split(":")[0])
    return name if name and not name[0].isdigit() else f"t_{name}"


def recurrent_layers(model) -> list:
    """Every ``keras.layers.RNN`` inside ``model`` (Bidirectional halves included)."""
    return [layer for layer in model._flatten_layers() if isinstance(layer, keras.layers.RNN)]


@contextlib.contextmanager
def tracing_mode(models, *, unroll: bool = False, dynamic_time: bool = False):
    """CPU device, cuDNN off and (optionally) unrolled RNN loops, restored after.

    With a dynamic time axis, the Clockwork RNN's chunked fast path (an
    ``ops.scan`` over a number of chunks computed from the length) does not
    trace at batch 1 with an unknown length; its cell's generic step loop is
    used instead (same results, checked by the verification).
    """
    saved = []
    seen = set()
    for model in models:
        for layer in model._flatten_layers():
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            if hasattr(layer, "use_cudnn"):
                saved.append((layer, "use_cudnn", layer.use_cudnn))
                layer.use_cudnn = False
            if unroll and isinstance(layer, keras.layers.RNN):
                saved.append((layer, "unroll", layer.unroll))
                layer.unroll = True
            cell = getattr(layer, "cell", None)
            if dynamic_time and getattr(cell, "prefix_schedule", False) is True:
                saved.append((cell, "prefix_schedule", True))
                cell.prefix_schedule = False
    try:
        with tf.device("/CPU:0"):
            yield
    finally:
        for layer, attr, value in reversed(saved):
            setattr(layer, attr, value)


def _constants(models) -> list:
    mapping, seen = [], set()
    for model in models:
        for v in model.variables:
            if id(v) in seen:
                continue
            seen.add(id(v))
            mapping.append((v, tf.constant(np.asarray(keras.ops.convert_to_numpy(v.value)))))
    return mapping


class SignaturePlan:
    """The signatures of one export and how to run their Keras reference.

    Attributes:
        functions: ``{signature: tf.function}`` with a full input signature.
        inputs: ``{signature: [(name, shape, dtype)]}``.
        outputs: ``{signature: [name]}``.
        metadata: JSON-friendly facts the runtime needs (state names, ...).
        reference: ``{signature: callable(**numpy inputs) -> {name: numpy}}``,
            the same computation in Keras (eager), for verification.
    """

    def __init__(self):
        self.functions: dict[str, Any] = {}
        self.inputs: dict[str, list] = {}
        self.outputs: dict[str, list] = {}
        self.metadata: dict[str, Any] = {}
        self.reference: dict[str, Callable] = {}

    def add(self, name: str, fn: Callable, specs: list[tf.TensorSpec], output_names: list[str],
            models: list, *, unroll: bool = False) -> None:
        constants = _constants(models)

        def traced(*args):
            with keras.StatelessScope(state_mapping=constants):
                outs = fn(*args)
            return dict(zip(output_names, outs))

        function = tf.function(traced, input_signature=specs, autograph=False)
        dynamic_time = any(len(s.shape) >= 2 and s.shape[1] is None for s in specs)
        with tracing_mode(models, unroll=unroll, dynamic_time=dynamic_time):
            function.get_concrete_function()
        self.functions[name] = function
        self.inputs[name] = [(s.name, tuple(s.shape.as_list()), s.dtype.name) for s in specs]
        self.outputs[name] = list(output_names)

        def reference(**feed):
            args = [tf.convert_to_tensor(feed[s.name], dtype=s.dtype) for s in specs]
            with tf.device("/CPU:0"):
                outs = fn(*args)
            return {k: np.asarray(keras.ops.convert_to_numpy(v)) for k, v in zip(output_names, outs)}

        self.reference[name] = reference


def _input_specs(tensors, *, sequence_length: int | None, names=None) -> list[tf.TensorSpec]:
    specs, used = [], set()
    for i, t in enumerate(tensors):
        shape = list(t.shape)
        shape[0] = 1
        if len(shape) >= 3 or (len(shape) == 2 and "int" in str(t.dtype)):
            if sequence_length is not None and shape[1] is None:
                shape[1] = sequence_length
        name = safe_name(names[i] if names else t.name)
        while name in used:
            name += "_"
        used.add(name)
        specs.append(tf.TensorSpec(shape, tf.as_dtype(str(t.dtype)), name=name))
    return specs


def _output_names(model) -> list[str]:
    names = list(getattr(model, "output_names", None) or [])
    n = len(keras.tree.flatten(model.outputs))
    if len(names) != n:
        names = [f"output_{i}" for i in range(n)]
    out, used = [], set()
    for name in names:
        name = safe_name(name)
        while name in used:
            name += "_"
        used.add(name)
        out.append(name)
    return out


def sequence_plan(model, *, sequence_length: int | None, unroll: bool,
                  fused_lstm: bool = False) -> SignaturePlan:
    """One ``serving_default`` signature: the whole sequence in, the model's outputs out.

    With ``fused_lstm=True`` every fusable LSTM layer (see :func:`fusable_lstm`)
    becomes one ``UNIDIRECTIONAL_SEQUENCE_LSTM`` op instead of a ``WHILE`` loop.
    """
    plan = SignaturePlan()
    specs = _input_specs(model.inputs, sequence_length=sequence_length)
    output_names = _output_names(model)
    fused = []

    def fn(*args):
        x = args[0] if len(args) == 1 else list(args)
        if not fused_lstm:
            return keras.tree.flatten(model(x, training=False))
        del fused[:]

        def call(op, *call_args, **kwargs):
            if fusable_lstm(op) and not kwargs.get("initial_state"):
                fused.append(op.name)
                return _fused_lstm_call(op, call_args[0], kwargs.get("mask"))
            if isinstance(op, keras.layers.Layer) and getattr(op, "_call_has_training_arg", False):
                kwargs["training"] = False
            return op(*call_args, **kwargs)

        return keras.tree.flatten(model._run_through_graph(x, operation_fn=lambda op: op,
                                                           call_fn=call))

    plan.add("serving_default", fn, specs, output_names, [model], unroll=unroll)
    plan.metadata.update(
        kind="sequence",
        signature="serving_default",
        input_names=[s.name for s in specs],
        output_names=output_names,
        fused_lstm_layers=list(fused),
    )
    if fused:
        # UNIDIRECTIONAL_SEQUENCE_LSTM keeps h and c in variable tensors across invocations.
        plan.metadata["reset_variables"] = True
    return plan


def fusable_lstm(layer) -> bool:
    """Whether ``layer`` maps onto TFLite's fused ``UNIDIRECTIONAL_SEQUENCE_LSTM``.

    Keras' own LSTM with its default activations, a bias, forward in time,
    without ``return_state`` (the fused op does not return the final cell state).
    """
    if type(layer) is not keras.layers.LSTM:
        return False
    cell = layer.cell
    return (
        not layer.go_backwards
        and not layer.return_state
        and not layer.stateful
        and cell.use_bias
        and cell.activation is keras.activations.tanh
        and cell.recurrent_activation is keras.activations.sigmoid
    )


def _lstm_composite():
    """``standard_lstm`` tagged ``api_implements="lstm_*"``: the converter's Keras-LSTM fusion.

    TFLite's ``prepare_composite_functions`` pass replaces the body of any
    function whose ``api_implements`` attribute starts with ``lstm_`` by one
    ``UNIDIRECTIONAL_SEQUENCE_LSTM`` op, reading the arguments ``(inputs,
    init_h, init_c, kernel, recurrent_kernel, bias)`` (gate order i, f, c, o,
    as in Keras) and the ``time_major`` / ``go_backwards`` attributes. Keras 2
    tagged its LSTM this way; Keras 3 does not, so rnnzoo does it here. The
    body (used only if the converter does not fuse) is the same recurrence.
    """
    global _LSTM_COMPOSITE
    if _LSTM_COMPOSITE is None:
        import uuid

        def standard_lstm(inputs, init_h, init_c, kernel, recurrent_kernel, bias):
            def step(carry, x):
                h, c = carry
                z = tf.matmul(x, kernel) + tf.matmul(h, recurrent_kernel) + bias
                i, f, g, o = tf.split(z, 4, axis=1)
                c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
                h = tf.sigmoid(o) * tf.tanh(c)
                return h, c

            hs, cs = tf.scan(step, tf.transpose(inputs, [1, 0, 2]), initializer=(init_h, init_c))
            return hs[-1], tf.transpose(hs, [1, 0, 2]), hs[-1], cs[-1], tf.constant(0.0)

        _LSTM_COMPOSITE = tf.function(
            standard_lstm, autograph=False,
            experimental_attributes={
                "api_implements": f"lstm_{uuid.uuid4()}",
                "api_preferred_device": "CPU",
                "time_major": False,
                "go_backwards": False,
            },
        )
    return _LSTM_COMPOSITE


_LSTM_COMPOSITE = None


def _fused_lstm_call(layer, x, mask):
    """The LSTM layer as the fused composite; right padding handled around it."""
    from keras.src.backend.common.masking import get_keras_mask, set_keras_mask

    if mask is None:
        mask = get_keras_mask(x)
    cell = layer.cell
    units = cell.units
    zeros = tf.zeros((tf.shape(x)[0], units), dtype=x.dtype)
    _, seq, _, _, _ = _lstm_composite()(
        x, zeros, zeros, tf.convert_to_tensor(cell.kernel),
        tf.convert_to_tensor(cell.recurrent_kernel), tf.convert_to_tensor(cell.bias),
    )
    if mask is not None:
        # Right padding: the output at and after the last valid step is the last valid output
        # (what Keras returns for masked steps); earlier steps never see the padding.
        valid = tf.cast(mask, tf.int32)
        last_index = tf.maximum(tf.reduce_sum(valid, axis=1) - 1, 0)
        last = tf.gather(seq, last_index, axis=1, batch_dims=1)
    else:
        last = seq[:, -1]
    if not layer.return_sequences:
        return last
    if mask is not None:
        seq = tf.where(tf.cast(mask, tf.bool)[:, :, None], seq, last[:, None, :])
        set_keras_mask(seq, mask)
    return seq


# --------------------------------------------------------------------------- streaming


def _state_suffixes(layer) -> list[str]:
    n = len(keras.tree.flatten(layer.get_initial_state(1)))
    cls = type(layer).__name__.lower() + type(layer.cell).__name__.lower()
    if "lstm" in cls and n == 2:
        return ["h", "c"]
    if "clockwork" in cls and n == 2:
        return ["h", "t"]
    if n == 1:
        return ["h"]
    return [f"s{i}" for i in range(n)]


def _check_causal(model) -> None:
    for layer in model._flatten_layers():
        if isinstance(layer, keras.layers.Bidirectional):
            raise ValueError(
                f"`streaming` needs a causal model, but layer '{layer.name}' is Bidirectional "
                "(its backward half reads the future). Received: streaming=True. Export the "
                "whole-sequence model (streaming=False) or build the model with bidirectional=False."
            )
        if isinstance(layer, keras.layers.RNN) and layer.go_backwards:
            raise ValueError(
                f"`streaming` needs a causal model, but layer '{layer.name}' has "
                "go_backwards=True. Received: streaming=True."
            )


def streaming_plan(model) -> SignaturePlan:
    """One ``step`` signature: one time step and every state in, outputs and new states out.

    Recurrent layers run their cell once; ``GlobalAveragePooling1D`` (the
    feed-forward baseline's pooling) keeps a running sum and count; every other
    layer runs unchanged on a length-1 sequence. The result is verified against
    the whole-sequence model by the caller.
    """
    _check_causal(model)
    # States, in a fixed order: (layer, [names], [initial numpy values]).
    state_layers = []
    for layer in model._flatten_layers():
        if isinstance(layer, keras.layers.RNN):
            init = [np.asarray(keras.ops.convert_to_numpy(s), np.float32)
                    for s in keras.tree.flatten(layer.get_initial_state(1))]
            names = [f"{safe_name(layer.name)}_{s}" for s in _state_suffixes(layer)]
            state_layers.append((layer, names, init))
        elif isinstance(layer, keras.layers.GlobalAveragePooling1D):
            width = int(keras.tree.flatten(layer.input)[0].shape[-1])
            names = [f"{safe_name(layer.name)}_sum", f"{safe_name(layer.name)}_count"]
            state_layers.append((layer, names, [np.zeros((1, width), np.float32),
                                                np.zeros((1, 1), np.float32)]))
        elif isinstance(layer, keras.Model) and layer is not model and recurrent_layers(layer):
            raise ValueError(
                f"`streaming` does not support recurrent layers inside the nested model "
                f"'{layer.name}'. Received: streaming=True."
            )
    x_specs = _input_specs(model.inputs, sequence_length=None)
    x_specs = [tf.TensorSpec([1, 1, *s.shape.as_list()[2:]], s.dtype, name=s.name) for s in x_specs]
    state_names = [n for _, names, _ in state_layers for n in names]
    state_specs = [tf.TensorSpec(v.shape, tf.float32, name=n)
                   for _, names, init in state_layers for n, v in zip(names, init)]
    output_names = _output_names(model)
    by_layer = {id(layer): (names, len(names)) for layer, names, _ in state_layers}
    offsets, pos = {}, 0
    for layer, names, _ in state_layers:
        offsets[id(layer)] = pos
        pos += len(names)

    def fn(*args):
        xs = list(args[: len(x_specs)])
        states = list(args[len(x_specs):])
        new_states = list(states)

        def call(op, *call_args, **kwargs):
            if id(op) in by_layer:
                start = offsets[id(op)]
                count = by_layer[id(op)][1]
                current = states[start:start + count]
                x = call_args[0]
                if isinstance(op, keras.layers.RNN):
                    y, new = op.cell(x[:, 0], current, training=False)
                    new = keras.tree.flatten(new)
                    new_states[start:start + count] = new
                    y = y[:, None] if op.return_sequences else y
                    return [y, *new] if op.return_state else y
                total = current[0] + x[:, 0]
                n = current[1] + 1.0
                new_states[start:start + count] = [total, n]
                return total / n
            if isinstance(op, keras.layers.Layer) and getattr(op, "_call_has_training_arg", False):
                kwargs["training"] = False
            return op(*call_args, **kwargs)

        inputs = xs[0] if len(xs) == 1 else xs
        outputs = model._run_through_graph(inputs, operation_fn=lambda op: op, call_fn=call)
        return [*keras.tree.flatten(outputs), *new_states]

    clash = set(output_names) & set(state_names)
    if clash:
        output_names = [f"{n}_output" if n in clash else n for n in output_names]
    plan = SignaturePlan()
    plan.add("step", fn, [*x_specs, *state_specs], [*output_names, *state_names], [model])
    plan.metadata.update(
        kind="streaming",
        signature="step",
        input_names=[s.name for s in x_specs],
        output_names=output_names,
        state_names=state_names,
        state_shapes={n: list(v.shape) for _, names, init in state_layers
                      for n, v in zip(names, init)},
        initial_states={n: v.tolist() for _, names, init in state_layers
                        for n, v in zip(names, init) if np.any(v != 0)},
    )
    return plan


# --------------------------------------------------------------------------- generative


def generative_plan(model, *, sequence_length: int | None, unroll: bool) -> SignaturePlan:
    """``encoder`` (if any) and ``decoder_step`` signatures from ``model.inference_models()``."""
    parts = model.inference_models()
    encoder, step = parts.get("encoder"), parts["decoder_step"]
    n_states = len(step.inputs) - 1
    state_names = [f"state_{i}" for i in range(n_states)]
    plan = SignaturePlan()
    models = [m for m in (model, encoder, step) if m is not None]
    if encoder is not None:
        enc_specs = _input_specs(encoder.inputs, sequence_length=sequence_length)
        enc_outputs = keras.tree.flatten(encoder.outputs)
        if len(enc_outputs) != n_states:
            raise ValueError(
                f"`inference_models()` of {type(model).__name__} is inconsistent: the encoder "
                f"returns {len(enc_outputs)} states, the decoder step takes {n_states}."
            )

        def encode(*args):
            x = args[0] if len(args) == 1 else list(args)
            return keras.tree.flatten(encoder(x, training=False))

        plan.add("encoder", encode, enc_specs, state_names, models, unroll=unroll)
        plan.metadata["encoder_input_names"] = [s.name for s in enc_specs]
    token_spec = tf.TensorSpec((1, 1), tf.int32, name="token_ids")
    state_specs = _input_specs(step.inputs[1:], sequence_length=None, names=state_names)

    def decode_step(*args):
        return keras.tree.flatten(step([args[0], *args[1:]], training=False))

    plan.add("decoder_step", decode_step, [token_spec, *state_specs],
             ["probs", *state_names], models, unroll=unroll)
    plan.metadata.update(
        kind="generative",
        signature="decoder_step",
        token_input="token_ids",
        probs_output="probs",
        state_names=state_names,
        state_shapes={s.name: [1 if d is None else d for d in s.shape.as_list()]
                      for s in state_specs},
        start_id=int(parts.get("start_id", 1)),
        end_id=int(parts.get("end_id", 2)),
    )
    for attr, key in (("vocabulary", "target_vocabulary"),
                      ("target_vocabulary", "target_vocabulary"),
                      ("source_vocabulary", "source_vocabulary")):
        vocab = getattr(model, attr, None)
        if vocab is not None and hasattr(vocab, "get_config"):
            plan.metadata[key] = vocab.get_config()
    return plan
