"""Tracing Keras models into TFLite-ready ``tf.function`` signatures: whole-sequence, generative.

Everything here runs in the caller's process (it needs the live Keras model);
the conversion itself runs in :mod:`rnnzoo.export.worker`. The streaming
signature is built in :mod:`rnnzoo.export.streaming` on the same
:class:`SignaturePlan`.

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

from rnnzoo.export import fused_lstm
from rnnzoo.layers import walk

__all__ = [
    "SignaturePlan",
    "sequence_plan",
    "generative_plan",
    "tracing_mode",
    "input_specs",
    "output_names",
    "safe_name",
]


def safe_name(name: str) -> str:
    """A signature-friendly tensor name."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", str(name).split(":")[0])
    return name if name and not name[0].isdigit() else f"t_{name}"


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
        for layer in walk.iter_layers(model):
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
        for var in model.variables:
            if id(var) in seen:
                continue
            seen.add(id(var))
            mapping.append((var, tf.constant(np.asarray(keras.ops.convert_to_numpy(var.value)))))
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

    Example:

    >>> plan = sequence_plan(model, sequence_length=None, unroll=False)
    >>> plan.reference["serving_default"](tokens=x)["classifier"].shape
    (1, 2)
    """

    def __init__(self):
        self.functions: dict[str, Any] = {}
        self.inputs: dict[str, list] = {}
        self.outputs: dict[str, list] = {}
        self.metadata: dict[str, Any] = {}
        self.reference: dict[str, Callable] = {}

    def add(self, name: str, fn: Callable, specs: list[tf.TensorSpec], names: list[str],
            models: list, *, unroll: bool = False) -> None:
        """Traces ``fn(*tensors) -> [outputs]`` as signature ``name`` with weights as constants.

        Args:
            name: the signature key.
            fn: the computation; it returns one tensor per entry of ``names``.
            specs: its inputs (named ``TensorSpec``s, batch 1).
            names: its output names.
            models: the Keras models whose weights ``fn`` reads.
            unroll: unroll every recurrent loop (int8).
        """
        constants = _constants(models)

        def traced(*args):
            with keras.StatelessScope(state_mapping=constants):
                outs = fn(*args)
            return dict(zip(names, outs))

        function = tf.function(traced, input_signature=specs, autograph=False)
        dynamic_time = any(len(s.shape) >= 2 and s.shape[1] is None for s in specs)
        with tracing_mode(models, unroll=unroll, dynamic_time=dynamic_time):
            function.get_concrete_function()
        self.functions[name] = function
        self.inputs[name] = [(s.name, tuple(s.shape.as_list()), s.dtype.name) for s in specs]
        self.outputs[name] = list(names)

        def reference(**inputs):
            args = [tf.convert_to_tensor(inputs[s.name], dtype=s.dtype) for s in specs]
            with tf.device("/CPU:0"):
                outs = fn(*args)
            return {k: np.asarray(keras.ops.convert_to_numpy(o)) for k, o in zip(names, outs)}

        self.reference[name] = reference

    def add_main(self, kind: str, name: str, fn: Callable, specs: list[tf.TensorSpec],
                 names: list[str], models: list, *, unroll: bool = False,
                 data_inputs: int | None = None, data_outputs: int | None = None) -> None:
        """:meth:`add` for the signature the runtime calls, described in ``metadata``.

        Records ``kind``, ``signature`` (``name``), and the ``input_names`` and
        ``output_names`` that verification and quantization feed and compare.

        Args:
            kind: the plan's kind (``"sequence"``, ``"streaming"``).
            name, fn, specs, names, models, unroll: as in :meth:`add`.
            data_inputs, data_outputs: how many of ``specs`` and ``names`` are
                data (default: all); the rest are states, as in a streaming step.
        """
        self.add(name, fn, specs, names, models, unroll=unroll)
        self.metadata.update(
            kind=kind,
            signature=name,
            input_names=[s.name for s in specs[:data_inputs]],
            output_names=list(names[:data_outputs]),
        )


def input_specs(tensors, *, sequence_length: int | None, names=None) -> list[tf.TensorSpec]:
    """Batch-1 ``TensorSpec``s for Keras inputs (the time axis fixed to ``sequence_length``)."""
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


def output_names(model) -> list[str]:
    """Unique signature names for the model's outputs (its output names when it has them)."""
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
                  fused: bool = False) -> SignaturePlan:
    """One ``serving_default`` signature: the whole sequence in, the model's outputs out.

    Args:
        model: a Keras model.
        sequence_length: a fixed time length, or ``None`` (dynamic).
        unroll: unroll every recurrent loop (int8).
        fused: write every fusable LSTM layer (see
            :func:`rnnzoo.export.fused_lstm.fusable_lstm`) as one
            ``UNIDIRECTIONAL_SEQUENCE_LSTM`` op instead of a ``WHILE`` loop.

    Returns:
        The plan; ``metadata["fused_lstm_layers"]`` names the fused layers.
    """
    plan = SignaturePlan()
    specs = input_specs(model.inputs, sequence_length=sequence_length)
    names = output_names(model)
    runner, fused_layers = (fused_lstm.with_fused_lstms(model) if fused else (model, []))

    def fn(*args):
        x = args[0] if len(args) == 1 else list(args)
        return keras.tree.flatten(runner(x, training=False))

    plan.add_main("sequence", "serving_default", fn, specs, names, [model], unroll=unroll)
    done = [layer.name for layer in fused_layers if layer.fused]  # known once traced
    plan.metadata["fused_lstm_layers"] = done
    if done:
        # UNIDIRECTIONAL_SEQUENCE_LSTM keeps h and c in variable tensors across invocations.
        plan.metadata["reset_variables"] = True
    return plan


def generative_plan(model, *, sequence_length: int | None, unroll: bool) -> SignaturePlan:
    """``encoder`` (if any) and ``decoder_step`` signatures from ``model.inference_models()``.

    Args:
        model: a generative zoo model: ``inference_models()`` returns
            ``{"encoder", "decoder_step", "start_id", "end_id"}``.
        sequence_length: a fixed source length, or ``None`` (dynamic).
        unroll: unroll every recurrent loop (int8).

    Returns:
        The plan; its metadata holds the state names and shapes, the start and
        end ids and the vocabularies :mod:`rnnzoo.litert_runtime` decodes with.
    """
    parts = model.inference_models()
    encoder, step = parts.get("encoder"), parts["decoder_step"]
    n_states = len(step.inputs) - 1
    state_names = [f"state_{i}" for i in range(n_states)]
    plan = SignaturePlan()
    models = [m for m in (model, encoder, step) if m is not None]
    if encoder is not None:
        enc_specs = input_specs(encoder.inputs, sequence_length=sequence_length)
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
    state_specs = input_specs(step.inputs[1:], sequence_length=None, names=state_names)

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


def plan_models(model) -> list:
    """The Keras models whose layers a plan of ``model`` runs (for error messages)."""
    if callable(getattr(model, "inference_models", None)):
        parts = model.inference_models()
        return [model] + [m for m in (parts.get("encoder"), parts.get("decoder_step"))
                          if m is not None]
    return [model]
