"""Export rnnzoo models to verified ``.tflite`` files that use built-in ops only.

Phones and microcontrollers have no Flex delegate and no TensorFlow, so every
file written here runs on the plain LiteRT interpreter
(``ai_edge_litert.interpreter.Interpreter``):

- built-in ops only, always: a model that needs anything else fails with an
  :class:`ExportError` naming the layer and the op, and no file is left behind;
- the converter runs in a child process, so a converter crash (int8
  calibration of ``WHILE``-loop graphs segfaults in TensorFlow 2.21) is
  reported as an :class:`ExportError` instead of killing the caller;
- ``verify=True`` runs the file on the interpreter and compares it with Keras
  (max abs error, and the task metric for dynamic-range and int8 files);
- ``streaming=True`` writes a one-step model with explicit state tensors;
- generative models (``model.inference_models()``) are written as an
  ``encoder`` and a ``decoder_step`` signature of one file, which
  :mod:`rnnzoo.litert_runtime` decodes with numpy and the interpreter only.

Each file gets a JSON sidecar ``<file>.tflite.json`` (signatures, state names,
vocabulary) that :mod:`rnnzoo.litert_runtime` reads.

Example:

```python
model = rnnzoo.build("classification")
report = rnnzoo.export.to_tflite(model, "classifier.tflite", quantize="dynamic")
report.ops          # {'FULLY_CONNECTED': 2, 'WHILE': 1, ...}: no Flex op
```
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any, Iterable

import numpy as np

__all__ = ["to_tflite", "ExportError", "ExportReport", "QUANTIZATIONS"]

QUANTIZATIONS = (None, "dynamic", "float16", "int8")
#: max abs error allowed between the interpreter and Keras, per quantization
TOLERANCES = {None: 1e-4, "float16": 1e-3}
#: streaming (step by step) against the whole-sequence Keras model
STREAMING_TOLERANCE = 1e-5
#: the most the task metric may drop for dynamic-range and int8 files, in points
METRIC_TOLERANCE_POINTS = 1.0

# Test hook: a signal number the converter child process sends itself.
_TEST_CRASH_SIGNAL: int | None = None


class ExportError(RuntimeError):
    """The model could not be exported (or the file failed verification).

    Attributes:
        report: the :class:`ExportReport` so far, when verification failed.
    """

    def __init__(self, message: str, report: "ExportReport | None" = None):
        super().__init__(message)
        self.report = report


@dataclasses.dataclass
class ExportReport:
    """What :func:`to_tflite` wrote and measured.

    Attributes:
        path: the ``.tflite`` file.
        task: the zoo task the model belongs to (``None`` for other models).
        kind: ``"sequence"``, ``"streaming"`` or ``"generative"``.
        quantize: the quantization.
        sequence_length: the fixed sequence length, or ``None`` (dynamic).
        signatures: ``{signature: {"inputs": [...], "outputs": [...]}}``.
        ops: ``{op name: count}`` over every subgraph.
        size_bytes: the file size.
        max_abs_error: ``{signature or check: error}`` against Keras.
        tolerance: the max abs error allowed (``None``: checked by the metric).
        metric: ``{"name", "keras", "tflite", "drop_points", "examples"}``.
        generation: ``{"examples", "identical"}`` for generative models.
        verified: whether every check ran and passed.
        seconds: ``{"trace", "convert", "verify"}``.
    """

    path: str
    task: str | None
    kind: str
    quantize: str | None
    sequence_length: int | None
    signatures: dict
    ops: dict
    size_bytes: int
    max_abs_error: dict = dataclasses.field(default_factory=dict)
    tolerance: float | None = None
    metric: dict | None = None
    generation: dict | None = None
    verified: bool = False
    seconds: dict = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def __str__(self) -> str:
        lines = [
            f"exported {self.path} ({self.size_bytes / 1024:.1f} KiB, {self.kind}, "
            f"quantize={self.quantize}, task={self.task})",
        ]
        for sig, io in self.signatures.items():
            lines.append(f"  signature {sig}: {io['inputs']} -> {io['outputs']}")
        lines.append("  ops: " + ", ".join(f"{k}x{v}" for k, v in self.ops.items()))
        for key, err in self.max_abs_error.items():
            tol = f" (tolerance {self.tolerance:g})" if self.tolerance is not None else ""
            lines.append(f"  max abs error vs Keras [{key}]: {err:.3g}{tol}")
        if self.metric:
            m = self.metric
            lines.append(
                f"  {m['name']} on {m['examples']} test examples: Keras {m['keras']:.4f}, "
                f"TFLite {m['tflite']:.4f}, drop {m['drop_points']:.2f} points "
                f"(allowed {METRIC_TOLERANCE_POINTS:g})"
            )
        if self.generation:
            g = self.generation
            lines.append(
                f"  greedy decoding: {g['identical']}/{g['examples']} outputs identical to Keras"
            )
        lines.append(f"  verified: {self.verified}")
        return "\n".join(lines)


# --------------------------------------------------------------------------- validation


def _check_args(quantize, sequence_length, streaming, verify, fused_lstm=False) -> None:
    if quantize not in QUANTIZATIONS:
        from rnnzoo.registry import suggest

        raise ValueError(
            f"`quantize` must be one of {list(QUANTIZATIONS)}. Received: quantize={quantize!r}."
            f"{suggest(quantize, [q for q in QUANTIZATIONS if q])}"
        )
    if sequence_length is not None and (
        not isinstance(sequence_length, (int, np.integer))
        or isinstance(sequence_length, bool)
        or sequence_length < 1
    ):
        raise ValueError(
            "`sequence_length` must be a positive integer or None. "
            f"Received: sequence_length={sequence_length!r}"
        )
    for name, value in (("streaming", streaming), ("verify", verify), ("fused_lstm", fused_lstm)):
        if not isinstance(value, bool):
            raise ValueError(f"`{name}` must be True or False. Received: {name}={value!r}")
    if fused_lstm and streaming:
        raise ValueError(
            "`fused_lstm` applies to whole-sequence exports (a streaming step has no loop to "
            "fuse). Received: fused_lstm=True, streaming=True"
        )


def _infer_task(model) -> str | None:
    from rnnzoo import registry

    task = getattr(model, "rnnzoo_task", None)
    if task is None and isinstance(getattr(model, "name", None), str):
        if model.name.startswith("rnnzoo_"):
            task = model.name[len("rnnzoo_"):]
    return task if task in registry.list_models() else None


# --------------------------------------------------------------------------- data


def _to_numpy(value):
    import keras

    return keras.tree.map_structure(lambda t: np.asarray(t), value)


def _unbatch(batches: Iterable, limit: int) -> list:
    """Splits ``(x, y)`` (or ``x``) batches into single examples (batch axis kept)."""
    import keras

    examples = []
    for batch in batches:
        batch = _to_numpy(batch)
        if isinstance(batch, tuple) and len(batch) in (2, 3):
            x, y = batch[0], batch[1]
        else:
            x, y = batch, None
        n = len(keras.tree.flatten(x)[0])
        for i in range(n):
            xi = keras.tree.map_structure(lambda a: a[i:i + 1], x)
            yi = None if y is None else keras.tree.map_structure(lambda a: a[i:i + 1], y)
            examples.append((xi, yi))
            if len(examples) >= limit:
                return examples
    return examples


def _task_examples(task, split, limit, data):
    """Single examples from ``data`` or the task's built-in split."""
    if data is None:
        if task is None:
            return None
        import rnnzoo

        data = rnnzoo.data.load(task, split, batch_size=min(64, limit))
    return _unbatch(data, limit)


def _fits_model(model, examples) -> bool:
    """Whether the examples' arrays match the model's inputs (rank, kind, static sizes)."""
    import keras

    if not examples:
        return False
    arrays = [np.asarray(a) for a in keras.tree.flatten(examples[0][0])]
    if len(arrays) != len(model.inputs):
        return False
    for a, t in zip(arrays, model.inputs):
        if a.ndim != len(t.shape) or (a.dtype.kind in "iu") != ("int" in str(t.dtype)):
            return False
        if any(d is not None and d != s for d, s in zip(t.shape[1:], a.shape[1:])):
            return False
    return True


def _random_examples(model, sequence_length, n, seed=0):
    import keras

    rng = np.random.default_rng(seed)
    vocab = [layer.input_dim for layer in model._flatten_layers()
             if isinstance(layer, keras.layers.Embedding)]
    high = max(2, min(vocab)) if vocab else 2
    examples = []
    for _ in range(n):
        xs = []
        for t in model.inputs:
            shape = [1] + [d if d is not None else (sequence_length or 8) for d in t.shape[1:]]
            if "int" in str(t.dtype):
                xs.append(rng.integers(1, high, size=shape).astype(str(t.dtype)))
            else:
                xs.append(rng.normal(size=shape).astype(str(t.dtype)))
        examples.append((xs[0] if len(xs) == 1 else xs, None))
    return examples


def _fit_length(array: np.ndarray, length: int | None) -> np.ndarray:
    """Pads with zeros or truncates axis 1 to ``length``."""
    if length is None or array.ndim < 2 or array.shape[1] == length:
        return array
    if array.shape[1] > length:
        return array[:, :length]
    pad = [(0, 0)] * array.ndim
    pad[1] = (0, length - array.shape[1])
    return np.pad(array, pad)


def _feed(names, x, length=None) -> dict:
    import keras

    arrays = keras.tree.flatten(x)
    return {n: _fit_length(np.asarray(a), length) for n, a in zip(names, arrays)}


def _valid_length(model, feed: dict) -> int:
    """Steps before trailing padding (token 0, or an all-``mask_value`` step)."""
    import keras

    masking = [layer for layer in model._flatten_layers() if isinstance(layer, keras.layers.Masking)]
    lengths = []
    for a in feed.values():
        if a.ndim < 2:
            continue
        if np.issubdtype(a.dtype, np.integer) and a.ndim == 2:
            nonzero = np.nonzero(a[0])[0]
            lengths.append(int(nonzero[-1]) + 1 if len(nonzero) else 1)
        elif masking:
            value = masking[0].mask_value
            flat = a[0].reshape(a.shape[1], -1)
            keep = np.nonzero(np.any(flat != value, axis=-1))[0]
            lengths.append(int(keep[-1]) + 1 if len(keep) else 1)
        else:
            lengths.append(a.shape[1])
    return max(lengths) if lengths else 1


# --------------------------------------------------------------------------- conversion


_LOC = re.compile(r'fused\["(\w+):", "([^"@]+)@')
_NOT_BUILTIN = re.compile(r"'tf\.(\w+)' op is neither a custom op nor a flex op")


def _layer_names(models) -> set[str]:
    names = set()
    for model in models:
        for layer in model._flatten_layers():
            names.add(layer.name)
    return names


def _explain_converter_error(text: str, models) -> str:
    """Turns the converter's message into 'layer X uses op Y'."""
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


def _run_converter(saved_model: str, signature_keys: list[str], quantize, output: str,
                   workdir: str, representative: str | None, models, timeout: float) -> None:
    job = {
        "saved_model": saved_model,
        "signature_keys": signature_keys,
        "quantize": quantize,
        "output": output,
        "result": os.path.join(workdir, "result.json"),
        "representative_data": representative,
        "test_crash_signal": _TEST_CRASH_SIGNAL,
    }
    job_path = os.path.join(workdir, "job.json")
    with open(job_path, "w", encoding="utf-8") as f:
        json.dump(job, f)
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env["CUDA_VISIBLE_DEVICES"] = "-1"  # convert on the CPU
    try:
        proc = subprocess.run(
            # the worker file by path: the child imports TensorFlow only, not Keras or rnnzoo
            [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                          "_export", "worker.py"), job_path],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        raise ExportError(
            f"The TFLite converter did not finish within {timeout:g} s and was stopped."
        ) from exc
    if proc.returncode < 0:
        sig = -proc.returncode
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
        hint = (
            " int8 calibration of WHILE-loop RNN graphs is a known converter crash; rnnzoo "
            "unrolls the loop for int8 when `sequence_length` is fixed."
            if quantize == "int8" else ""
        )
        raise ExportError(
            f"The TFLite converter crashed (its process was killed by {name}) while converting "
            f"with quantize={quantize!r}; nothing was written.{hint}"
            + (f"\nLast converter output:\n{tail}" if tail else "")
        )
    result = {}
    if os.path.exists(job["result"]):
        with open(job["result"], encoding="utf-8") as f:
            result = json.load(f)
    if not result.get("ok"):
        error = result.get("error") or proc.stderr[-2000:]
        explained = _explain_converter_error(error, models)
        if explained:
            raise ExportError(f"Cannot export with built-in ops only: {explained}")
        raise ExportError(
            f"The TFLite converter failed ({result.get('error_type', 'exit status ' + str(proc.returncode))}):"
            f"\n{error[-3000:]}"
        )


def _save_signatures(plan, directory: str) -> None:
    import tensorflow as tf

    signatures = {name: fn.get_concrete_function() for name, fn in plan.functions.items()}
    tf.saved_model.save(tf.Module(), directory, signatures=signatures)


# --------------------------------------------------------------------------- verification


def _max_abs(a: dict, b: dict, names) -> float:
    err = 0.0
    for n in names:
        x = np.asarray(a[n], np.float64)
        y = np.asarray(b[n], np.float64)
        if x.shape != y.shape:
            raise ExportError(f"Output '{n}' has shape {x.shape} in TFLite and {y.shape} in Keras.")
        err = max(err, float(np.max(np.abs(x - y))) if x.size else 0.0)
    return err


def _metric(task: str | None, preds: list, targets: list) -> dict | None:
    """The task's first metric on the collected predictions, when it is computable here."""
    if task is None or not targets or targets[0] is None:
        return None
    from rnnzoo import registry

    name = registry.get(task).metrics[0] if registry.get(task).metrics else None
    y = np.concatenate([np.asarray(t).reshape(len(np.asarray(t)), -1) for t in targets])
    p = np.concatenate([np.asarray(q) for q in preds])
    if name in ("accuracy", "sparse_categorical_accuracy"):
        if p.ndim == 2 and y.shape[1] == 1:
            value = float(np.mean(np.argmax(p, -1) == y[:, 0]))
        elif p.ndim == 3:
            labels = y.reshape(p.shape[:2])
            value = float(np.mean(np.argmax(p, -1) == labels))
        else:
            return None
        return {"name": name, "value": value, "higher_is_better": True}
    if name in ("mae", "mean_absolute_error", "mse", "mean_squared_error", "rmse",
                "root_mean_squared_error"):
        diff = p.reshape(len(p), -1) - y.reshape(len(y), -1).astype(np.float64)
        if name in ("mae", "mean_absolute_error"):
            value = float(np.mean(np.abs(diff)))
        elif name in ("mse", "mean_squared_error"):
            value = float(np.mean(diff ** 2))
        else:
            value = float(np.sqrt(np.mean(diff ** 2)))
        return {"name": name, "value": value, "higher_is_better": False}
    return None


def _compare_metric(keras_m: dict, tfl_m: dict, examples: int) -> dict:
    if keras_m["higher_is_better"]:
        drop = 100.0 * (keras_m["value"] - tfl_m["value"])
    else:  # error metrics: the relative increase, in percent of the Keras error
        scale = max(abs(keras_m["value"]), 1e-12)
        drop = 100.0 * (tfl_m["value"] - keras_m["value"]) / scale
    return {"name": keras_m["name"], "keras": keras_m["value"], "tflite": tfl_m["value"],
            "drop_points": float(drop), "examples": examples}


def _keras_batched(model, feeds: list[dict], names, outputs, chunk: int = 64) -> list[dict]:
    """The Keras model on every example, batched where the shapes agree."""
    import keras

    results: list = [None] * len(feeds)
    groups: dict = {}
    for i, feed in enumerate(feeds):
        key = tuple(feed[n].shape for n in names)
        groups.setdefault(key, []).append(i)
    for index in groups.values():
        for start in range(0, len(index), chunk):
            part = index[start:start + chunk]
            args = [np.concatenate([feeds[i][n] for i in part]) for n in names]
            out = model.predict_on_batch(args[0] if len(args) == 1 else args)
            out = [np.asarray(o) for o in keras.tree.flatten(out)]
            for j, i in enumerate(part):
                results[i] = {k: o[j:j + 1] for k, o in zip(outputs, out)}
    return results


def _verify_sequence(model, plan, runtime, examples, quantize, length, task, report):
    sig = "serving_default"
    names = plan.metadata["input_names"]
    outputs = plan.metadata["output_names"]
    feeds = [_feed(names, x, length) for x, _ in examples]
    refs = _keras_batched(model, feeds, names, outputs)
    err = 0.0
    keras_preds, tfl_preds, targets = [], [], []
    for feed, ref, (_, y) in zip(feeds, refs, examples):
        got = runtime.run(sig, **feed)
        err = max(err, _max_abs(got, ref, outputs))
        keras_preds.append(ref[outputs[0]])
        tfl_preds.append(got[outputs[0]])
        targets.append(y if isinstance(y, np.ndarray) else None)
    report.max_abs_error[sig] = err
    return _check_quality(quantize, err, keras_preds, tfl_preds, targets, task, report)


def _verify_streaming(model, plan, runtime, examples, quantize, task, report):
    names = plan.metadata["input_names"]
    outputs = plan.metadata["output_names"]
    state_names = plan.metadata["state_names"]
    err = 0.0
    keras_preds, tfl_preds, targets = [], [], []
    for x, y in examples:
        feed = _feed(names, x)
        steps = _valid_length(model, feed)
        feed = {k: v[:, :steps] for k, v in feed.items()}
        args = [feed[n] for n in names]
        ref_out = model(args[0] if len(args) == 1 else args, training=False)
        ref = dict(zip(outputs, [np.asarray(o) for o in _flatten(ref_out)]))
        states = runtime.initial_states(state_names)
        per_step = []
        for t in range(steps):
            out = runtime.run("step", **{k: v[:, t:t + 1] for k, v in feed.items()}, **states)
            states = {n: out[n] for n in state_names}
            per_step.append(out)
        got = {}
        for n in outputs:
            if ref[n].ndim >= 3 and ref[n].shape[1] == steps:  # a sequence output
                got[n] = np.concatenate([o[n] for o in per_step], axis=1)
            else:
                got[n] = per_step[-1][n]
        err = max(err, _max_abs(got, ref, outputs))
        keras_preds.append(ref[outputs[0]])
        tfl_preds.append(got[outputs[0]])
        targets.append(y if isinstance(y, np.ndarray) and ref[outputs[0]].ndim == 2 else None)
    report.max_abs_error["step"] = err
    tol = STREAMING_TOLERANCE if quantize is None else TOLERANCES.get(quantize)
    return _check_quality(quantize, err, keras_preds, tfl_preds, targets, task, report,
                          tolerance=tol)


def _flatten(value):
    import keras

    return keras.tree.flatten(value)


def _check_quality(quantize, err, keras_preds, tfl_preds, targets, task, report,
                   tolerance=None) -> list[str]:
    problems = []
    tol = tolerance if tolerance is not None else TOLERANCES.get(quantize)
    if tol is not None and quantize == "float16" and keras_preds:
        # float16 weights have a relative precision: outputs far from 1 in size (a
        # regression in its own units) get the tolerance times their largest size
        scale = max(float(np.max(np.abs(p))) for p in keras_preds)
        tol = tol * max(1.0, scale)
    report.tolerance = tol
    if tol is not None and not err <= tol:
        problems.append(f"max abs error {err:.3g} exceeds the tolerance {tol:g}")
    if quantize in ("dynamic", "int8"):
        k = _metric(task, keras_preds, targets)
        t = _metric(task, tfl_preds, targets)
        if k is None or t is None:
            report.metric = None
        else:
            report.metric = _compare_metric(k, t, len(targets))
            if report.metric["drop_points"] > METRIC_TOLERANCE_POINTS:
                problems.append(
                    f"{k['name']} drops by {report.metric['drop_points']:.2f} points "
                    f"(Keras {k['value']:.4f}, TFLite {t['value']:.4f}; allowed "
                    f"{METRIC_TOLERANCE_POINTS:g})"
                )
    return problems


def _verify_generative(model, plan, runtime, examples, quantize, task, report, max_length):
    from rnnzoo.litert_runtime import greedy_decode

    meta = plan.metadata
    state_names = meta["state_names"]
    enc_names = meta.get("encoder_input_names")
    identical, total, err = 0, 0, 0.0
    keras_hyps, tfl_hyps, refs = [], [], []
    for x, y in examples:
        enc_feed, prefix = _generative_inputs(plan, x)
        keras_ids = _keras_greedy(plan, enc_feed, prefix, max_length)
        tfl_ids = greedy_decode(runtime, enc_feed, prefix=prefix, max_length=max_length)
        total += 1
        identical += int(keras_ids == tfl_ids)
        keras_hyps.append(keras_ids)
        tfl_hyps.append(tfl_ids)
        refs.append(_reference_ids(y, meta))
        # one-step parity on the first decoder step
        if enc_names:
            ref = plan.reference["encoder"](**enc_feed)
            got = runtime.run("encoder", **enc_feed)
            err = max(err, _max_abs(got, ref, state_names))
            states = {n: ref[n] for n in state_names}
        else:
            states = runtime.initial_states(state_names)
        step_feed = {"token_ids": np.array([[meta["start_id"]]], np.int32), **states}
        ref = plan.reference["decoder_step"](**step_feed)
        got = runtime.run("decoder_step", **step_feed)
        err = max(err, _max_abs(got, ref, ["probs", *state_names]))
    report.max_abs_error["encoder+decoder_step"] = err
    report.generation = {"examples": total, "identical": identical}
    problems = []
    tol = TOLERANCES.get(quantize)
    report.tolerance = tol
    if tol is not None:
        if not err <= tol:
            problems.append(f"max abs error {err:.3g} exceeds the tolerance {tol:g}")
        if quantize is None and identical != total:
            problems.append(f"greedy outputs differ from Keras on {total - identical}/{total}")
    if quantize in ("dynamic", "int8") and refs and all(r is not None for r in refs):
        from rnnzoo.metrics import corpus_bleu

        refs_tok = [[[str(t) for t in r]] for r in refs]
        k = corpus_bleu(refs_tok, [[str(t) for t in h] for h in keras_hyps])
        t = corpus_bleu(refs_tok, [[str(t) for t in h] for h in tfl_hyps])
        scale = 100.0 if k <= 1.0 and t <= 1.0 else 1.0
        report.metric = {"name": "bleu", "keras": float(k), "tflite": float(t),
                         "drop_points": float(scale * (k - t)), "examples": total}
        if report.metric["drop_points"] > METRIC_TOLERANCE_POINTS:
            problems.append(f"BLEU drops by {report.metric['drop_points']:.2f} points")
    return problems


def _generative_inputs(plan, x):
    """The encoder inputs (or a prompt prefix) of one generative test example."""
    import keras

    meta = plan.metadata
    arrays = [np.asarray(a) for a in keras.tree.flatten(x)]
    enc_names = meta.get("encoder_input_names")
    if enc_names:
        specs = plan.inputs["encoder"]
        feed = {}
        for name, shape, dtype in specs:
            match = next((a for a in arrays if a.ndim == len(shape)
                          and str(a.dtype).startswith(dtype[:3])
                          and all(s is None or s == d for s, d in zip(shape[1:], a.shape[1:]))),
                         None)
            if match is None:
                match = next(a for a in arrays if a.ndim == len(shape))
            fixed = shape[1] if len(shape) >= 2 and match.ndim == 2 else None
            feed[name] = _fit_length(match.astype(dtype), fixed)
        return feed, None
    tokens = arrays[0].reshape(-1)
    tokens = [int(t) for t in tokens if t > 3]  # drop padding and reserved ids
    return None, tokens[: max(1, min(5, len(tokens) // 2))]


def _reference_ids(y, meta):
    if y is None:
        return None
    import keras

    arrays = [np.asarray(a) for a in keras.tree.flatten(y)]
    if not arrays or arrays[0].ndim != 2 or not np.issubdtype(arrays[0].dtype, np.integer):
        return None
    ids = [int(t) for t in arrays[0][0]]
    if meta["end_id"] in ids:
        ids = ids[: ids.index(meta["end_id"])]
    return [t for t in ids if t > 3]


def _keras_greedy(plan, enc_feed, prefix, max_length):
    meta = plan.metadata
    names = meta["state_names"]
    if enc_feed is not None:
        out = plan.reference["encoder"](**enc_feed)
        states = {n: out[n] for n in names}
    else:
        states = {n: np.zeros(meta["state_shapes"][n], np.float32) for n in names}

    def step(token):
        nonlocal states
        out = plan.reference["decoder_step"](token_ids=np.array([[token]], np.int32), **states)
        states = {n: out[n] for n in names}
        return out["probs"][0]

    token = meta["start_id"]
    for forced in prefix or []:
        step(token)
        token = forced
    ids = []
    for _ in range(max_length):
        token = int(np.argmax(step(token)))
        if token == meta["end_id"]:
            break
        ids.append(token)
    return ids


# --------------------------------------------------------------------------- calibration


def _calibration_samples(plan, examples, length) -> dict[str, np.ndarray]:
    """``{"<signature>|<i>|<input>": array}`` samples for int8 calibration."""
    samples = {}
    meta = plan.metadata
    kind = meta["kind"]
    for i, (x, _) in enumerate(examples):
        if kind == "sequence":
            for name, value in _feed(meta["input_names"], x, length).items():
                samples[f"serving_default|{i}|{name}"] = value
        elif kind == "streaming":
            feed = _feed(meta["input_names"], x)
            states = {n: np.zeros(meta["state_shapes"][n], np.float32)
                      for n in meta["state_names"]}
            for n, v in meta.get("initial_states", {}).items():
                states[n] = np.asarray(v, np.float32)
            steps = feed[meta["input_names"][0]].shape[1]
            for t in range(steps):
                step_feed = {k: v[:, t:t + 1] for k, v in feed.items()}
                for name, value in {**step_feed, **states}.items():
                    samples[f"step|{i * 1000 + t}|{name}"] = value
                out = plan.reference["step"](**step_feed, **states)
                states = {n: out[n] for n in meta["state_names"]}
        else:
            enc_feed, prefix = _generative_inputs(plan, x)
            names = meta["state_names"]
            if enc_feed is not None:
                fixed = {name: shape[1] for name, shape, _ in plan.inputs["encoder"]
                         if len(shape) >= 2}
                enc_feed = {k: _fit_length(v, fixed.get(k)) for k, v in enc_feed.items()}
                for name, value in enc_feed.items():
                    samples[f"encoder|{i}|{name}"] = value
                out = plan.reference["encoder"](**enc_feed)
                states = {n: out[n] for n in names}
            else:
                states = {n: np.zeros(meta["state_shapes"][n], np.float32) for n in names}
            token = meta["start_id"]
            for t in range(8):
                feed = {"token_ids": np.array([[token]], np.int32), **states}
                for name, value in feed.items():
                    samples[f"decoder_step|{i * 100 + t}|{name}"] = value
                out = plan.reference["decoder_step"](**feed)
                states = {n: out[n] for n in names}
                token = int(np.argmax(out["probs"][0]))
    return samples


def _representative_examples(representative_data, task, limit, model, generative):
    if representative_data is not None:
        if isinstance(representative_data, np.ndarray) or (
            isinstance(representative_data, (list, tuple))
            and representative_data and isinstance(representative_data[0], np.ndarray)
            and not isinstance(representative_data, tuple)
        ):
            representative_data = [representative_data]
        return _unbatch(representative_data, limit)
    examples = _task_examples(task, "train", limit, None)
    if examples is None or (not generative and not _fits_model(model, examples)):
        raise ValueError(
            "`representative_data` must be given for quantize='int8' when the task's built-in "
            "data cannot calibrate the model (not a zoo model, or built with options the "
            "built-in data does not fit). Received: representative_data=None"
        )
    return examples


# --------------------------------------------------------------------------- public


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
    _check_args(quantize, sequence_length, streaming, verify, fused_lstm)
    for name, value, low in (("verify_examples", verify_examples, 1),
                             ("calibration_examples", calibration_examples, 1),
                             ("max_length", max_length, 1)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
            raise ValueError(f"`{name}` must be an integer >= {low}. Received: {name}={value!r}")
    if task is not None:
        from rnnzoo import registry

        registry.get(task)
    path = os.fspath(path)
    if os.path.isdir(path):
        raise ValueError(f"`path` must be a file path, not a folder. Received: path={path!r}")
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)

    from rnnzoo._export import tracing
    from rnnzoo.litert_runtime import LiteRTModel, list_ops

    task = task or _infer_task(model)
    generative = callable(getattr(model, "inference_models", None))
    times = {}
    start = time.perf_counter()

    # Data: verification examples and (int8) the length and calibration set.
    examples = None
    if verify or quantize == "int8":
        examples = _task_examples(task, "test", verify_examples, test_data)
        if not generative and test_data is None and not _fits_model(model, examples or []):
            # not a zoo model, or built with options the built-in data does not fit
            examples = _random_examples(model, sequence_length, min(8, verify_examples))
    unroll = False
    if quantize == "int8" and not streaming:
        if generative:
            encoder = model.inference_models().get("encoder")
            timed = [t for t in (encoder.inputs if encoder is not None else [])
                     if len(t.shape) >= 2 and t.shape[1] is None]
        else:
            timed = [t for t in model.inputs if len(t.shape) >= 2 and t.shape[1] is None]
        if sequence_length is None and timed:
            arrays = [np.asarray(a) for a in _flatten(examples[0][0])] if examples else []
            for t in timed:  # the data's padded length of the first time-major input
                match = [a for a in arrays if a.ndim == len(t.shape)
                         and (a.dtype.kind in "iu") == ("int" in str(t.dtype))]
                if match:
                    sequence_length = int(match[0].shape[1])
                    break
            if sequence_length is None:
                raise ValueError(
                    "`sequence_length` must be given for quantize='int8' (int8 unrolls the "
                    "recurrent loop, which needs a fixed length). Received: sequence_length=None"
                )
        unroll = bool(tracing.recurrent_layers(model))

    if generative:
        plan = tracing.generative_plan(model, sequence_length=sequence_length, unroll=unroll)
        models = [model] + [m for m in _plan_models(model) if m is not None]
    elif streaming:
        plan = tracing.streaming_plan(model)
        models = [model]
    else:
        plan = tracing.sequence_plan(model, sequence_length=sequence_length, unroll=unroll,
                                     fused_lstm=fused_lstm)
        models = [model]
    times["trace"] = time.perf_counter() - start

    tmp_path = os.path.join(folder, f".{os.path.basename(path)}.tmp-{os.getpid()}")
    try:
        with tempfile.TemporaryDirectory(prefix="rnnzoo_export_") as workdir:
            saved = os.path.join(workdir, "saved_model")
            _save_signatures(plan, saved)
            representative = None
            if quantize == "int8":
                calib = _representative_examples(representative_data, task, calibration_examples,
                                                 model, generative)
                representative = os.path.join(workdir, "calibration.npz")
                np.savez(representative, **_calibration_samples(plan, calib, sequence_length))
            t0 = time.perf_counter()
            _run_converter(saved, list(plan.functions), quantize, tmp_path, workdir,
                           representative, models, timeout)
            times["convert"] = time.perf_counter() - t0
        ops = list_ops(tmp_path)
        foreign = [op for op in ops if op.startswith("CUSTOM:") or op.startswith("Flex")]
        if foreign:
            raise ExportError(f"The converted file uses non-built-in ops {foreign}.")
        report = ExportReport(
            path=path, task=task, kind=plan.metadata["kind"], quantize=quantize,
            sequence_length=sequence_length,
            signatures={k: {"inputs": [n for n, _, _ in plan.inputs[k]],
                            "outputs": plan.outputs[k]} for k in plan.functions},
            ops=ops, size_bytes=os.path.getsize(tmp_path), seconds=times,
        )
        metadata = {
            "rnnzoo_export": 1,
            "task": task,
            "quantize": quantize,
            "sequence_length": sequence_length,
            "signatures": report.signatures,
            **plan.metadata,
        }
        _write_json(tmp_path + ".json", metadata)
        if verify:
            t0 = time.perf_counter()
            runtime = LiteRTModel(tmp_path, num_threads=1)
            kind = plan.metadata["kind"]
            if kind == "sequence":
                problems = _verify_sequence(model, plan, runtime, examples, quantize,
                                            sequence_length, task, report)
            elif kind == "streaming":
                problems = _verify_streaming(model, plan, runtime, examples, quantize, task,
                                             report)
            else:
                problems = _verify_generative(model, plan, runtime, examples or [], quantize,
                                              task, report, max_length)
            times["verify"] = time.perf_counter() - t0
            if problems:
                raise ExportError(
                    f"The exported file failed verification against Keras: {'; '.join(problems)}."
                    " Nothing was written.", report,
                )
            report.verified = True
        os.replace(tmp_path + ".json", path + ".json")
        os.replace(tmp_path, path)
    finally:
        for leftover in (tmp_path, tmp_path + ".json"):
            if os.path.exists(leftover):
                os.remove(leftover)
    report.seconds = {k: round(v, 3) for k, v in times.items()}
    if verbose:
        print(report)
    return report


def _plan_models(model) -> list:
    """The Keras models behind a generative model's signatures."""
    parts = model.inference_models()
    return [parts.get("encoder"), parts.get("decoder_step")]


def _write_json(path: str, data: dict) -> None:
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, default=str)
    os.replace(tmp, path)
