"""The export itself: :func:`to_tflite` runs the stages and writes the file and its sidecar.

Stages, each in its own module: check the arguments (:mod:`~rnnzoo.export.options`),
gather examples (:mod:`~rnnzoo.export.examples`), trace the signatures
(:mod:`~rnnzoo.export.tracing`, :mod:`~rnnzoo.export.streaming`), calibrate
for int8 (:mod:`~rnnzoo.export.quantize`), convert in a child process
(:mod:`~rnnzoo.export.converter`), verify against Keras
(:mod:`~rnnzoo.export.verify`). Everything happens in a private scratch
folder; only a file that passed every check is published, together with its
sidecar, through :func:`rnnzoo._io.atomic_paths` (the sidecar first, the
``.tflite`` last).

Every backend: the TFLite converter traces TensorFlow graphs, so under JAX or
PyTorch :func:`to_tflite` saves the model as ``.keras`` (with the examples it
was given) in a private folder and runs the same export in a child process on
the TensorFlow backend (:func:`child_main`), which loads the file, converts
and verifies against Keras exactly as on TensorFlow, and hands back its report.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import shutil
import tempfile
import time
from typing import Any

import keras
import numpy as np

from rnnzoo import _io
from rnnzoo.export import converter, tracing
from rnnzoo.export import examples as ex
from rnnzoo.export import quantize as int8
from rnnzoo.export.options import ExportOptions, infer_task
from rnnzoo.export.report import ExportError, ExportReport
from rnnzoo.export.streaming import streaming_plan
from rnnzoo.export.verify import verify_file
from rnnzoo.litert_runtime import list_ops

__all__ = ["to_tflite"]


def to_tflite(
    model,
    path: str | os.PathLike,
    *,
    quantize: str | None = None,
    representative_data: Any = None,
    sequence_length: int | None = None,
    streaming: bool = False,
    verify: bool = True,
    task: str | None = None,
    test_data: Any = None,
    verify_examples: int = 256,
    calibration_examples: int = 64,
    max_length: int = 20,
    fused_lstm: bool = False,
    timeout: float = 900.0,
    verbose: bool = True,
) -> ExportReport:
    """Writes ``model`` as a ``.tflite`` file with TFLite built-in ops only, and checks it.

    The batch size is fixed to 1 (what a device runs; a ``None`` batch would
    need Flex ops). The sequence length stays dynamic unless
    ``sequence_length`` is given; int8 needs a fixed length, because rnnzoo
    unrolls the recurrent loop for it (int8 calibration of ``WHILE`` loops
    crashes the converter).

    Args:
        model: a Keras model: any zoo model (``rnnzoo.build(...)``), a
            generative zoo model (it has ``inference_models()``), or any
            functional model.
        path: the output file. Written atomically, only if every check passes.
        quantize: ``None`` (float32), ``"dynamic"`` (int8 weights),
            ``"float16"`` (float16 weights) or ``"int8"`` (int8 weights and
            activations, calibrated on ``representative_data``; float inputs
            and outputs).
        representative_data: calibration inputs for int8: a ``tf.data.Dataset``
            or iterable of ``(x, y)`` or ``x`` batches. Default: the task's
            built-in train split.
        sequence_length: a fixed time length, or ``None`` for dynamic.
        streaming: write a ``step`` signature instead: one time step plus every
            recurrent state in, outputs plus new states out (state names such
            as ``rnn_1_h``, ``rnn_1_c``, ``rnn_1_t`` for the Clockwork counter).
        verify: run the file on the LiteRT interpreter and compare with Keras:
            max abs error <= 1e-4 (float32) or 1e-3 (float16); streaming
            <= 1e-5 against the whole-sequence model; dynamic and int8 files:
            the task metric on the test split drops by at most 1 point;
            generative models: identical greedy outputs.
        task: the zoo task (default: read from the model's name).
        test_data: ``(x, y)`` batches for verification (default: the task's
            built-in test split, or random inputs for a non-zoo model).
        verify_examples: the most test examples used.
        calibration_examples: the most examples used for int8 calibration.
        max_length: generated tokens per example when checking generation.
        fused_lstm: write each Keras LSTM layer (forward, default activations,
            no ``return_state``) as one fused ``UNIDIRECTIONAL_SEQUENCE_LSTM``
            op (what TFLite Micro and the int8 LSTM kernels expect) instead of
            a ``WHILE`` loop. Padding must be at the end (right padding), as
            in every rnnzoo dataset. Whole-sequence exports only.
        timeout: seconds allowed to the converter process.
        verbose: print the report.

    Returns:
        The :class:`ExportReport` (sizes, errors, metric deltas, op list).

    Raises:
        ValueError: for a bad argument (named).
        ExportError: a layer needs a non-built-in op (naming the layer and the
            op), the converter crashed, or verification failed. No file is
            left behind.

    Example:

    >>> model = rnnzoo.build("classification", cell="gru")
    >>> report = rnnzoo.export.to_tflite(model, "gru.tflite", quantize="float16")
    >>> "WHILE" in report.ops
    True
    """
    options = ExportOptions.create(
        path, quantize=quantize, representative_data=representative_data,
        sequence_length=sequence_length, streaming=streaming, verify=verify, task=task,
        test_data=test_data, verify_examples=verify_examples,
        calibration_examples=calibration_examples, max_length=max_length,
        fused_lstm=fused_lstm, timeout=timeout, verbose=verbose,
    )
    options = dataclasses.replace(options, task=options.task or infer_task(model))
    if keras.backend.backend() == "tensorflow":
        report = _export(model, options)
    else:
        report = _export_on_tensorflow(model, options)
    if options.verbose:
        print(report)
    return report


def _is_generative(model) -> bool:
    return callable(getattr(model, "inference_models", None))


def _test_examples(model, options: ExportOptions, generative: bool) -> list | None:
    """Verification examples (and, for int8, the data that fixes the length)."""
    if not (options.verify or options.int8):
        return None
    examples = ex.task_examples(options.task, "test", options.verify_examples, options.test_data)
    if not generative and options.test_data is None and not ex.fits_model(model, examples or []):
        # not a zoo model, or built with options the built-in data does not fit
        examples = ex.random_examples(model, options.sequence_length,
                                      min(8, options.verify_examples))
    return examples


def _trace(model, options: ExportOptions, generative: bool) -> tracing.SignaturePlan:
    unroll = options.int8 and not options.streaming and int8.needs_unroll(model)
    if generative:
        return tracing.generative_plan(model, sequence_length=options.sequence_length,
                                       unroll=unroll)
    if options.streaming:
        return streaming_plan(model)
    return tracing.sequence_plan(model, sequence_length=options.sequence_length, unroll=unroll,
                                 fused=options.fused_lstm)


def _sidecar(plan, options: ExportOptions, report: ExportReport) -> str:
    """The ``<file>.tflite.json`` text :mod:`rnnzoo.litert_runtime` reads."""
    metadata = {
        "rnnzoo_export": 1,
        "task": options.task,
        "quantize": options.quantize,
        "sequence_length": options.sequence_length,
        "signatures": report.signatures,
        **plan.metadata,
    }
    return _io.dumps_json(metadata, indent=1, default=str)


def _export(model, options: ExportOptions) -> ExportReport:
    generative = _is_generative(model)
    times = {}
    start = time.perf_counter()
    examples = _test_examples(model, options, generative)
    if options.int8 and not options.streaming:
        length = int8.fixed_length(model, examples, options.sequence_length, generative)
        options = dataclasses.replace(options, sequence_length=length)
    plan = _trace(model, options, generative)
    times["trace"] = time.perf_counter() - start

    with tempfile.TemporaryDirectory(prefix="rnnzoo_export_") as workdir:
        flatbuffer = os.path.join(workdir, "model.tflite")
        calibration = None
        if options.int8:
            calib = int8.representative_examples(options.representative_data, options.task,
                                                 options.calibration_examples, model, generative)
            calibration = int8.write_calibration(
                os.path.join(workdir, "calibration.npz"),
                int8.calibration_samples(plan, calib, options.sequence_length))
        t0 = time.perf_counter()
        converter.convert(plan, flatbuffer, workdir, quantize=options.quantize,
                          representative=calibration, models=tracing.plan_models(model),
                          timeout=options.timeout)
        times["convert"] = time.perf_counter() - t0
        ops = list_ops(flatbuffer)
        foreign = [op for op in ops if op.startswith("CUSTOM:") or op.startswith("Flex")]
        if foreign:
            raise ExportError(f"The converted file uses non-built-in ops {foreign}.")
        report = ExportReport(
            path=options.path, task=options.task, kind=plan.metadata["kind"],
            quantize=options.quantize, sequence_length=options.sequence_length,
            signatures={k: {"inputs": [n for n, _, _ in plan.inputs[k]],
                            "outputs": plan.outputs[k]} for k in plan.functions},
            ops=ops, size_bytes=os.path.getsize(flatbuffer), seconds=times,
        )
        sidecar = _sidecar(plan, options, report)
        if options.verify:
            _io.atomic_write_text(flatbuffer + ".json", sidecar)  # the runtime reads it there
            t0 = time.perf_counter()
            problems = verify_file(model, plan, flatbuffer, examples, options, report)
            times["verify"] = time.perf_counter() - t0
            if problems:
                raise ExportError(
                    f"The exported file failed verification against Keras: {'; '.join(problems)}."
                    " Nothing was written.", report,
                )
            report.verified = True
        with _io.atomic_paths([options.path, options.path + ".json"]) as (tmp, tmp_json):
            shutil.copyfile(flatbuffer, tmp)
            with open(tmp_json, "w", encoding="utf-8") as f:
                f.write(sidecar)
    report.seconds = {k: round(v, 3) for k, v in times.items()}
    return report


# --------------------------------------------------------------------------- other backends

_DATA_FIELDS = ("representative_data", "test_data")
_PLAIN_ERRORS = {"ValueError": ValueError, "TypeError": TypeError}


def _examples_for_child(options: ExportOptions) -> dict:
    """The user's data as numpy examples the child can read (enough for every check)."""
    limits = {"representative_data": options.calibration_examples,
              "test_data": options.verify_examples}
    out = {}
    for name in _DATA_FIELDS:
        value = getattr(options, name)
        if value is None:
            continue
        if isinstance(value, np.ndarray) or (
                isinstance(value, list) and value and isinstance(value[0], np.ndarray)):
            value = [value]  # one batch (quantize.representative_examples reads it so too)
        out[name] = [x if y is None else (x, y) for x, y in ex.unbatch(value, limits[name])]
    return out


def _export_on_tensorflow(model, options: ExportOptions) -> ExportReport:
    """:func:`_export` in a child process on the TensorFlow backend, from the saved model."""
    with tempfile.TemporaryDirectory(prefix="rnnzoo_export_") as workdir:
        model_path = os.path.join(workdir, "model.keras")
        model.save(model_path)
        data_path = os.path.join(workdir, "examples.pickle")
        with open(data_path, "wb") as f:
            pickle.dump(_examples_for_child(options), f)
        fields = {k: v for k, v in dataclasses.asdict(options).items() if k not in _DATA_FIELDS}
        job = {"model": model_path, "options": {**fields, "verbose": False},
               "examples": data_path, "result": os.path.join(workdir, "result.json")}
        job_path = _io.atomic_write_json(os.path.join(workdir, "job.json"), job)
        timeout = None if options.timeout is None else options.timeout + 600
        proc = converter.run_on_tensorflow(job_path, timeout)
        result = {}
        if os.path.exists(job["result"]):
            with open(job["result"], encoding="utf-8") as f:
                result = json.load(f)
    if not result:
        raise ExportError(
            f"The export on the TensorFlow backend failed (exit status {proc.returncode}):\n"
            f"{proc.stderr[-3000:]}")
    report = ExportReport(**result["report"]) if result.get("report") else None
    if result.get("ok"):
        return report
    kind = result.get("error_type")
    if kind in _PLAIN_ERRORS:  # a bad argument: the same exception as on TensorFlow
        raise _PLAIN_ERRORS[kind](result["message"])
    if kind == "ExportError":
        raise ExportError(result["message"], report)
    raise ExportError(f"The export on the TensorFlow backend failed ({kind}: {result['message']})")


def child_main(argv: list[str]) -> int:
    """The child of :func:`_export_on_tensorflow`: loads the model, exports, writes the result.

    Run by :func:`rnnzoo.export.converter.run_on_tensorflow` under
    ``KERAS_BACKEND=tensorflow``; ``argv`` is ``[JOB.json]``.
    """
    with open(argv[0], encoding="utf-8") as f:
        job = json.load(f)
    with open(job["examples"], "rb") as f:
        examples = pickle.load(f)  # written by the parent, in its private folder
    try:
        model = keras.saving.load_model(job["model"], safe_mode=True)
        options = ExportOptions.create(**{**job["options"], **examples})
        report = _export(model, options)
        result = {"ok": True, "report": report.to_dict()}
    except Exception as exc:  # noqa: BLE001 - every failure goes back to the parent
        report = getattr(exc, "report", None)
        result = {"ok": False, "error_type": type(exc).__name__, "message": str(exc),
                  "report": report.to_dict() if report is not None else None}
    _io.atomic_write_json(job["result"], result, default=str)
    return 0 if result["ok"] else 3
