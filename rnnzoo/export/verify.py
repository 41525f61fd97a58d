"""Checking an exported file against Keras on the plain LiteRT interpreter (``verify=True``).

- Whole-sequence files: max abs error against the Keras model, <= 1e-4
  (float32) or 1e-3 (float16, scaled by the output size).
- Streaming files: the sequence fed one step per call against the
  whole-sequence Keras model, <= 1e-5 (float32).
- Generative files: greedy decoding with :func:`rnnzoo.litert_runtime.greedy_decode`
  against the same loop on the Keras reference (identical for float32), and
  one-step parity of the encoder and the decoder step.
- Dynamic-range and int8 files: the task metric (or BLEU) may drop by at most
  :data:`~rnnzoo.export.report.METRIC_TOLERANCE_POINTS` points.
"""

from __future__ import annotations

import keras
import numpy as np

from rnnzoo import registry
from rnnzoo.export import examples as ex
from rnnzoo.export.options import ExportOptions
from rnnzoo.export.report import (
    METRIC_TOLERANCE_POINTS,
    STREAMING_TOLERANCE,
    TOLERANCES,
    ExportError,
    ExportReport,
)
from rnnzoo.litert_runtime import LiteRTModel, greedy_decode
from rnnzoo.metrics import corpus_bleu

__all__ = ["verify_file"]


def verify_file(model, plan, path: str, examples: list, options: ExportOptions,
          report: ExportReport) -> list[str]:
    """Runs the file at ``path`` (its sidecar beside it) and compares it with Keras.

    Args:
        model: the exported Keras model.
        plan: the :class:`~rnnzoo.export.tracing.SignaturePlan` it was traced from.
        path: the ``.tflite`` file.
        examples: single ``(x, y)`` test examples.
        options: the export's options (quantization, fixed length, task, ...).
        report: filled in with the errors, tolerance, metric and generation checks.

    Returns:
        The problems found (empty: the file is verified).
    """
    runtime = LiteRTModel(path, num_threads=1)
    kind = plan.metadata["kind"]
    if kind == "sequence":
        return _sequence(model, plan, runtime, examples, options, report)
    if kind == "streaming":
        return _streaming(model, plan, runtime, examples, options, report)
    return _generative(plan, runtime, examples or [], options, report)


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
    metrics = registry.get(task).metrics
    name = metrics[0] if metrics else None
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
    results: list = [None] * len(feeds)
    groups: dict = {}
    for i, inputs in enumerate(feeds):
        key = tuple(inputs[n].shape for n in names)
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


def _sequence(model, plan, runtime, examples, options, report) -> list[str]:
    sig = "serving_default"
    names = plan.metadata["input_names"]
    outputs = plan.metadata["output_names"]
    feeds = [ex.feed(names, x, options.sequence_length) for x, _ in examples]
    refs = _keras_batched(model, feeds, names, outputs)
    err = 0.0
    keras_preds, tfl_preds, targets = [], [], []
    for inputs, ref, (_, y) in zip(feeds, refs, examples):
        got = runtime.run(sig, **inputs)
        err = max(err, _max_abs(got, ref, outputs))
        keras_preds.append(ref[outputs[0]])
        tfl_preds.append(got[outputs[0]])
        targets.append(y if isinstance(y, np.ndarray) else None)
    report.max_abs_error[sig] = err
    return _check_quality(options, err, keras_preds, tfl_preds, targets, report)


def _streaming(model, plan, runtime, examples, options, report) -> list[str]:
    names = plan.metadata["input_names"]
    outputs = plan.metadata["output_names"]
    state_names = plan.metadata["state_names"]
    err = 0.0
    keras_preds, tfl_preds, targets = [], [], []
    for x, y in examples:
        inputs = ex.feed(names, x)
        steps = ex.valid_length(model, inputs)
        inputs = {k: a[:, :steps] for k, a in inputs.items()}
        args = [inputs[n] for n in names]
        ref_out = model(args[0] if len(args) == 1 else args, training=False)
        ref = dict(zip(outputs, [np.asarray(o) for o in keras.tree.flatten(ref_out)]))
        states = runtime.initial_states(state_names)
        per_step = []
        for t in range(steps):
            out = runtime.run("step", **{k: a[:, t:t + 1] for k, a in inputs.items()}, **states)
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
    quantize = options.quantize
    tol = STREAMING_TOLERANCE if quantize is None else TOLERANCES.get(quantize)
    return _check_quality(options, err, keras_preds, tfl_preds, targets, report, tolerance=tol)


def _check_quality(options, err, keras_preds, tfl_preds, targets, report,
                   tolerance=None) -> list[str]:
    quantize, task = options.quantize, options.task
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


def _generative(plan, runtime, examples, options, report) -> list[str]:
    quantize, max_length = options.quantize, options.max_length
    meta = plan.metadata
    state_names = meta["state_names"]
    enc_names = meta.get("encoder_input_names")
    identical, total, err = 0, 0, 0.0
    keras_hyps, tfl_hyps, refs = [], [], []
    for x, y in examples:
        enc_feed, prefix = ex.generative_inputs(plan.inputs.get("encoder"), x)
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
        step = {"token_ids": np.array([[meta["start_id"]]], np.int32), **states}
        ref = plan.reference["decoder_step"](**step)
        got = runtime.run("decoder_step", **step)
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
        refs_tok = [[[str(t) for t in r]] for r in refs]
        k = corpus_bleu(refs_tok, [[str(t) for t in h] for h in keras_hyps])
        t = corpus_bleu(refs_tok, [[str(t) for t in h] for h in tfl_hyps])
        scale = 100.0 if k <= 1.0 and t <= 1.0 else 1.0
        report.metric = {"name": "bleu", "keras": float(k), "tflite": float(t),
                         "drop_points": float(scale * (k - t)), "examples": total}
        if report.metric["drop_points"] > METRIC_TOLERANCE_POINTS:
            problems.append(f"BLEU drops by {report.metric['drop_points']:.2f} points")
    return problems


def _reference_ids(y, meta) -> list[int] | None:
    if y is None:
        return None
    arrays = [np.asarray(a) for a in keras.tree.flatten(y)]
    if not arrays or arrays[0].ndim != 2 or not np.issubdtype(arrays[0].dtype, np.integer):
        return None
    ids = [int(t) for t in arrays[0][0]]
    if meta["end_id"] in ids:
        ids = ids[: ids.index(meta["end_id"])]
    return [t for t in ids if t > 3]


def _keras_greedy(plan, enc_feed, prefix, max_length) -> list[int]:
    """Greedy decoding on the plan's Keras reference: the loop the interpreter runs."""
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
