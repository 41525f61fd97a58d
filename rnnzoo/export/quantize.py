"""What int8 (``quantize="int8"``) needs: a fixed length, unrolled loops and calibration samples.

int8 calibration of ``WHILE``-loop graphs crashes the TensorFlow 2.21
converter, so rnnzoo unrolls every recurrent loop for int8, which needs a
fixed sequence length (the data's padded length unless ``sequence_length``
is given). The converter calibrates on samples of every signature's inputs,
taken from ``representative_data`` or the task's built-in train split and
stored as one ``.npz`` that :mod:`rnnzoo.export.worker` reads back.
"""

from __future__ import annotations

import keras
import numpy as np

from rnnzoo import _io
from rnnzoo.export import examples as ex
from rnnzoo.layers import walk

__all__ = [
    "fixed_length",
    "needs_unroll",
    "representative_examples",
    "calibration_samples",
    "write_calibration",
]


def _timed_inputs(model, generative: bool) -> list:
    """The model inputs (the encoder's, for a generative model) with a dynamic time axis."""
    if generative:
        encoder = model.inference_models().get("encoder")
        tensors = encoder.inputs if encoder is not None else []
    else:
        tensors = model.inputs
    return [t for t in tensors if len(t.shape) >= 2 and t.shape[1] is None]


def fixed_length(model, examples, sequence_length: int | None, generative: bool) -> int | None:
    """The time length an int8 file is traced at.

    Args:
        model: the model being exported.
        examples: single ``(x, y)`` examples of its data (or ``None``).
        sequence_length: the user's fixed length, or ``None``.
        generative: whether ``model`` is a generative zoo model.

    Returns:
        ``sequence_length`` if given; else the padded length of the first
        time-major input in the data; ``None`` when no input has a dynamic
        time axis.

    Raises:
        ValueError: a length is needed and the data does not give one.
    """
    timed = _timed_inputs(model, generative)
    if sequence_length is not None or not timed:
        return sequence_length
    arrays = [np.asarray(a) for a in keras.tree.flatten(examples[0][0])] if examples else []
    for t in timed:  # the data's padded length of the first time-major input
        match = [a for a in arrays if a.ndim == len(t.shape)
                 and (a.dtype.kind in "iu") == ("int" in str(t.dtype))]
        if match:
            return int(match[0].shape[1])
    raise ValueError(
        "`sequence_length` must be given for quantize='int8' (int8 unrolls the "
        "recurrent loop, which needs a fixed length). Received: sequence_length=None"
    )


def needs_unroll(model) -> bool:
    """Whether an int8 export of ``model`` unrolls loops (it has recurrent layers)."""
    return bool(walk.recurrent_layers(model))


def representative_examples(representative_data, task: str | None, limit: int, model,
                            generative: bool) -> list:
    """At most ``limit`` single calibration examples.

    Args:
        representative_data: the user's data (an array, a list of arrays, a
            dataset or iterable of ``(x, y)`` or ``x`` batches), or ``None``.
        task: the zoo task, whose built-in train split is the default.
        limit: the most examples.
        model: the model being exported.
        generative: whether ``model`` is a generative zoo model.

    Raises:
        ValueError: no data is given and the task's data cannot feed the model.
    """
    if representative_data is not None:
        if isinstance(representative_data, np.ndarray) or (
            isinstance(representative_data, list)
            and representative_data and isinstance(representative_data[0], np.ndarray)
        ):
            representative_data = [representative_data]
        return ex.unbatch(representative_data, limit)
    examples = ex.task_examples(task, "train", limit)
    if examples is None or (not generative and not ex.fits_model(model, examples)):
        raise ValueError(
            "`representative_data` must be given for quantize='int8' when the task's built-in "
            "data cannot calibrate the model (not a zoo model, or built with options the "
            "built-in data does not fit). Received: representative_data=None"
        )
    return examples


def _step_samples(plan, x, i: int, samples: dict) -> None:
    """Streaming: the inputs of every step of one example, states carried by the Keras reference."""
    meta = plan.metadata
    inputs = ex.feed(meta["input_names"], x)
    states = {n: np.zeros(meta["state_shapes"][n], np.float32) for n in meta["state_names"]}
    for n, value in meta.get("initial_states", {}).items():
        states[n] = np.asarray(value, np.float32)
    steps = inputs[meta["input_names"][0]].shape[1]
    for t in range(steps):
        step = {k: a[:, t:t + 1] for k, a in inputs.items()}
        for name, value in {**step, **states}.items():
            samples[f"step|{i * 1000 + t}|{name}"] = value
        out = plan.reference["step"](**step, **states)
        states = {n: out[n] for n in meta["state_names"]}


def _generative_samples(plan, x, i: int, samples: dict) -> None:
    """Generative: the encoder inputs and eight greedy decoder steps of one example."""
    meta = plan.metadata
    names = meta["state_names"]
    enc_feed, _ = ex.generative_inputs(plan.inputs.get("encoder"), x)
    if enc_feed is not None:
        fixed = {name: shape[1] for name, shape, _ in plan.inputs["encoder"] if len(shape) >= 2}
        enc_feed = {k: ex.fit_length(a, fixed.get(k)) for k, a in enc_feed.items()}
        for name, value in enc_feed.items():
            samples[f"encoder|{i}|{name}"] = value
        out = plan.reference["encoder"](**enc_feed)
        states = {n: out[n] for n in names}
    else:
        states = {n: np.zeros(meta["state_shapes"][n], np.float32) for n in names}
    token = meta["start_id"]
    for t in range(8):
        step = {"token_ids": np.array([[token]], np.int32), **states}
        for name, value in step.items():
            samples[f"decoder_step|{i * 100 + t}|{name}"] = value
        out = plan.reference["decoder_step"](**step)
        states = {n: out[n] for n in names}
        token = int(np.argmax(out["probs"][0]))


def calibration_samples(plan, examples, length: int | None) -> dict[str, np.ndarray]:
    """``{"<signature>|<i>|<input>": array}`` samples of every signature for int8 calibration."""
    samples: dict[str, np.ndarray] = {}
    kind = plan.metadata["kind"]
    for i, (x, _) in enumerate(examples):
        if kind == "sequence":
            for name, value in ex.feed(plan.metadata["input_names"], x, length).items():
                samples[f"serving_default|{i}|{name}"] = value
        elif kind == "streaming":
            _step_samples(plan, x, i, samples)
        else:
            _generative_samples(plan, x, i, samples)
    return samples


def write_calibration(path: str, samples: dict[str, np.ndarray]) -> str:
    """Writes the samples as the ``.npz`` file the converter process reads; returns ``path``."""
    with _io.atomic_path(path) as tmp:
        np.savez(tmp, **samples)
    return path
