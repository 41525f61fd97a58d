"""Running the TFLite converter in a child process and explaining its failures.

The caller saves the traced signatures as a SavedModel (weights are
constants), writes a job file and starts :mod:`rnnzoo.export.worker` by path
in a fresh Python process, so a converter crash (int8 calibration of
``WHILE``-loop graphs segfaults in TensorFlow 2.21) becomes an
:class:`~rnnzoo.export.report.ExportError` instead of killing the caller. A
model that needs a non-built-in op fails with the layer and the op named.

Under another Keras backend (JAX, PyTorch) the whole export runs in a child
process on the TensorFlow backend: :func:`run_on_tensorflow` starts it on a
job that names the model saved as ``.keras`` (see
:func:`rnnzoo.export.tflite.to_tflite`).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys

import tensorflow as tf

from rnnzoo import _io
from rnnzoo.export import worker
from rnnzoo.export.report import ExportError
from rnnzoo.layers import walk

__all__ = ["convert", "save_signatures", "explain_converter_error", "run_on_tensorflow"]

# Test hook: a signal number the converter child process sends itself.
_TEST_CRASH_SIGNAL: int | None = None

_LOC = re.compile(r'fused\["(\w+):", "([^"@]+)@')
_NOT_BUILTIN = re.compile(r"'tf\.(\w+)' op is neither a custom op nor a flex op")


def save_signatures(plan, directory: str) -> None:
    """Saves the plan's traced signatures as a SavedModel the child process converts."""
    signatures = {name: fn.get_concrete_function() for name, fn in plan.functions.items()}
    tf.saved_model.save(tf.Module(), directory, signatures=signatures)


def _layer_names(models) -> set[str]:
    return {layer.name for model in models for layer in walk.iter_layers(model)}


def explain_converter_error(text: str, models) -> str:
    """Turns the converter's message into "layer X uses the TensorFlow op Y" (``''`` if it cannot).

    Args:
        text: the converter's error text.
        models: the Keras models whose layers the traced graph ran.
    """
    names = _layer_names(models)
    top = {m.name for m in models}
    found = []
    for op, node in _LOC.findall(text):
        if f"'tf.{op}'" not in text or op in [o for o, _ in found]:
            continue
        layer = None
        for segment in node.split("/"):
            candidate = segment
            while candidate and candidate not in names:
                stripped = re.sub(r"_\d+$", "", candidate)
                if stripped == candidate:
                    break
                candidate = stripped
            if candidate in names and candidate not in top:
                layer = candidate
        found.append((op, layer))
    if not found:
        ops = sorted(set(_NOT_BUILTIN.findall(text)))
        found = [(op, None) for op in ops]
    if not found:
        return ""
    parts = [
        f"layer '{layer}' uses the TensorFlow op '{op}'" if layer else f"the TensorFlow op '{op}'"
        for op, layer in found
    ]
    return (
        "; ".join(parts) + ", which has no TFLite built-in kernel. rnnzoo exports built-in ops "
        "only (the Flex delegate is not part of the LiteRT interpreter): replace that layer "
        "or that op."
    )


def _crash_error(returncode: int, stderr: str, quantize) -> ExportError:
    sig = -returncode
    try:
        name = signal.Signals(sig).name
    except ValueError:
        name = f"signal {sig}"
    tail = "\n".join(stderr.strip().splitlines()[-5:])
    hint = (
        " int8 calibration of WHILE-loop RNN graphs is a known converter crash; rnnzoo "
        "unrolls the loop for int8 when `sequence_length` is fixed."
        if quantize == "int8" else ""
    )
    return ExportError(
        f"The TFLite converter crashed (its process was killed by {name}) while converting "
        f"with quantize={quantize!r}; nothing was written.{hint}"
        + (f"\nLast converter output:\n{tail}" if tail else "")
    )


def convert(plan, output: str, workdir: str, *, quantize: str | None,
            representative: str | None, models, timeout: float | None) -> None:
    """Converts the plan's signatures into the flatbuffer ``output``, built-in ops only.

    Args:
        plan: the traced :class:`~rnnzoo.export.tracing.SignaturePlan`.
        output: where the child process writes the ``.tflite`` bytes.
        workdir: a private scratch folder (SavedModel, job and result files).
        quantize: the quantization.
        representative: the calibration ``.npz`` (int8), or ``None``.
        models: the Keras models behind the plan (to name a failing layer).
        timeout: seconds allowed to the converter process (``None``: no limit).

    Raises:
        ExportError: the converter failed, crashed or ran out of time.
    """
    saved = os.path.join(workdir, "saved_model")
    save_signatures(plan, saved)
    job = {
        "saved_model": saved,
        "signature_keys": list(plan.functions),
        "quantize": quantize,
        "output": output,
        "result": os.path.join(workdir, "result.json"),
        "representative_data": representative,
        "test_crash_signal": _TEST_CRASH_SIGNAL,
    }
    job_path = _io.atomic_write_json(os.path.join(workdir, "job.json"), job)
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env["CUDA_VISIBLE_DEVICES"] = "-1"  # convert on the CPU
    try:
        proc = subprocess.run(
            # the worker file by path: the child imports TensorFlow only, not Keras or rnnzoo
            [sys.executable, os.path.abspath(worker.__file__), job_path],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        raise ExportError(
            f"The TFLite converter did not finish within {timeout:g} s and was stopped."
        ) from exc
    if proc.returncode < 0:
        raise _crash_error(proc.returncode, proc.stderr, quantize)
    result = {}
    if os.path.exists(job["result"]):
        with open(job["result"], encoding="utf-8") as f:
            result = json.load(f)
    if not result.get("ok"):
        error = result.get("error") or proc.stderr[-2000:]
        explained = explain_converter_error(error, models)
        if explained:
            raise ExportError(f"Cannot export with built-in ops only: {explained}")
        status = result.get("error_type", f"exit status {proc.returncode}")
        raise ExportError(f"The TFLite converter failed ({status}):\n{error[-3000:]}")


def run_on_tensorflow(job_path: str, timeout: float | None) -> subprocess.CompletedProcess:
    """Runs the child export of ``rnnzoo.export.tflite`` on ``job_path`` on TensorFlow.

    The child imports this checkout's ``rnnzoo`` (its folder goes first on
    ``PYTHONPATH``) and writes its result where the job says.

    Raises:
        ExportError: the child ran out of ``timeout`` seconds.
    """
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, KERAS_BACKEND="tensorflow", CUDA_VISIBLE_DEVICES="-1")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    code = ("import sys; from rnnzoo.export.tflite import child_main; "
            "sys.exit(child_main(sys.argv[1:]))")
    try:
        return subprocess.run([sys.executable, "-c", code, job_path], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise ExportError(
            f"The export on the TensorFlow backend did not finish within {timeout:g} s and was "
            "stopped."
        ) from exc
