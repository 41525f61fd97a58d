"""Benchmark the TFLite export of every task's default model, in one run.

For each registered task's default model (``rnnzoo.build(task)``, random
weights: sizes and latencies do not depend on training), this script writes
the ``.tflite`` file for every quantization and measures:

- the file size;
- batch-1 latency per sequence on the LiteRT interpreter (1 thread): the
  ``serving_default`` signature on one built-in test example, or, for the
  generative tasks, the encoder plus ``--decode-steps`` decoder steps;
- streaming latency per step (the ``step`` signature, or ``decoder_step``);
- the same model's Keras latency, ``model(x)`` (eager, batch 1), per sequence
  and per step (the decoder step model for the generative tasks);
- the max abs error of the file against Keras on ``--examples`` test examples.

Run:

```
python tools/bench_tflite.py                       # every task -> tools/results/bench_tflite.{json,md}
python tools/bench_tflite.py --tasks classification --repeats 20
```

The JSON (``tools/results/bench_tflite.json``) is what ``tools/make_cards.py``
reads: ``{"tasks": {task: {"files": {quantization: {...}}, "streaming": {...},
"keras": {...}}}}``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUANTIZATIONS = [None, "dynamic", "float16", "int8"]
FUSED = "float32 fused-LSTM"


def _median_ms(fn, repeats: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000.0 * statistics.median(times)


def _example(task):
    import keras

    import rnnzoo

    x, _ = next(iter(rnnzoo.data.load(task, "test", batch_size=8)))
    return keras.tree.map_structure(lambda a: np.asarray(a)[:1], x)


def _sequence_bench(model, path, x, names, repeats):
    from rnnzoo.litert_runtime import LiteRTModel

    import keras

    runtime = LiteRTModel(path, num_threads=1)
    feed = dict(zip(names, [np.asarray(a) for a in keras.tree.flatten(x)]))
    ms = _median_ms(lambda: runtime.predict(**feed), repeats)
    got = runtime.predict(**feed)
    want = [np.asarray(o) for o in keras.tree.flatten(model(x, training=False))]
    err = max(float(np.max(np.abs(g - w))) for g, w in zip(got.values(), want))
    return ms, err


def _generative_bench(model, path, x, steps, repeats):
    from rnnzoo.export.examples import generative_inputs  # the same input mapping verify uses
    from rnnzoo.litert_runtime import LiteRTModel

    runtime = LiteRTModel(path, num_threads=1)
    meta = runtime.metadata
    names = meta["state_names"]
    specs = [(n, tuple(s), d) for n, s, d in _encoder_specs(runtime)]
    enc_feed, _ = generative_inputs(specs, x) if "encoder" in runtime.signatures else (None, None)

    def initial():
        if enc_feed is not None:
            out = runtime.run("encoder", **enc_feed)
            return {n: out[n] for n in names}
        return runtime.initial_states(names)

    token = np.array([[meta["start_id"]]], np.int32)
    states0 = initial()

    def step_once():
        runtime.run("decoder_step", token_ids=token, **states0)

    def sequence():
        states = initial()
        for _ in range(steps):
            out = runtime.run("decoder_step", token_ids=token, **states)
            states = {n: out[n] for n in names}

    return _median_ms(sequence, repeats), _median_ms(step_once, repeats * 5), enc_feed


def _encoder_specs(runtime):
    if "encoder" not in runtime.signatures:
        return []
    details = runtime.runner("encoder").get_input_details()
    return [(n, [None if d < 0 else int(d) for d in details[n]["shape_signature"]],
             np.dtype(details[n]["dtype"]).name) for n in details]


def _keras_generative_ms(model, enc_feed, steps, repeats, compiled=False):
    import tensorflow as tf

    parts = model.inference_models()
    encoder, step = parts.get("encoder"), parts["decoder_step"]
    state_inputs = step.inputs[1:]
    if compiled:
        enc_model = encoder
        encoder = (tf.function(lambda a: enc_model(a, training=False), reduce_retracing=True)
                   if enc_model is not None else None)
        step_model = parts["decoder_step"]
        step = tf.function(lambda a, training=False: step_model(a, training=False),
                           reduce_retracing=True)
    token = np.array([[parts.get("start_id", 1)]], np.int32)
    if encoder is not None:
        args = list(enc_feed.values())
        states0 = [np.asarray(s) for s in encoder(args[0] if len(args) == 1 else args)]
    else:
        states0 = [np.zeros([1, *[int(d) for d in t.shape[1:]]], np.float32)
                   for t in state_inputs]

    def sequence():
        states = ([np.asarray(s) for s in encoder(args[0] if len(args) == 1 else args)]
                  if encoder is not None else states0)
        for _ in range(steps):
            out = step([token, *states], training=False)
            states = [np.asarray(s) for s in out[1:]]

    def step_once():
        step([token, *states0], training=False)

    return _median_ms(sequence, max(3, repeats // 4)), _median_ms(step_once, repeats)


def bench_task(task: str, repeats: int, steps: int, workdir: str) -> dict:
    import keras

    import rnnzoo
    from rnnzoo import export
    from rnnzoo.export.examples import fit_length

    keras.utils.set_random_seed(0)
    model = rnnzoo.build(task)
    spec = rnnzoo.registry.get(task)
    generative = callable(getattr(model, "inference_models", None))
    x = _example(task)
    row = {
        "options": spec.resolve({}),
        "params": int(model.count_params()),
        "generative": generative,
        "files": {},
    }
    test = rnnzoo.data.load(task, "test", batch_size=32)
    from rnnzoo.export.fused_lstm import fusable_lstm

    variants = [(q, False) for q in QUANTIZATIONS]
    if not generative and any(fusable_lstm(layer) for layer in model.layers):
        variants.append((None, True))
    for q, fused in variants:
        label = FUSED if fused else (q or "float32")
        path = os.path.join(workdir, f"{task}_{label.replace(' ', '_')}.tflite")
        print(f"[{task}] {label} ...", flush=True)
        entry = {}
        try:
            report = export.to_tflite(
                model, path, quantize=q, verify=q in (None, "float16"), test_data=test,
                verify_examples=16, calibration_examples=32, verbose=False, fused_lstm=fused,
            )
        except Exception as exc:  # recorded in the table, the run goes on
            row["files"][label] = {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}
            continue
        entry.update(bytes=report.size_bytes, ops=sum(report.ops.values()),
                     while_loop="WHILE" in report.ops, sequence_length=report.sequence_length,
                     convert_seconds=report.seconds.get("convert"))
        if generative:
            ms_seq, ms_step, enc_feed = _generative_bench(model, path, x, steps, repeats)
            entry.update(ms_per_sequence=ms_seq, ms_per_step=ms_step,
                         max_abs_error=report.max_abs_error.get("encoder+decoder_step"))
            if q is None and not fused:
                k_seq, k_step = _keras_generative_ms(model, enc_feed, steps, repeats)
                c_seq, c_step = _keras_generative_ms(model, enc_feed, steps, repeats, True)
                row["keras"] = {"ms_per_sequence": k_seq, "ms_per_step": k_step,
                                "compiled_ms_per_sequence": c_seq, "compiled_ms_per_step": c_step}
        else:
            xs = x
            if report.sequence_length is not None:
                xs = keras.tree.map_structure(
                    lambda a: fit_length(np.asarray(a), report.sequence_length), x)
            names = report.signatures["serving_default"]["inputs"]
            ms, err = _sequence_bench(model, path, xs, names, repeats)
            entry.update(ms_per_sequence=ms, max_abs_error=err)
            if q is None and not fused:
                import tensorflow as tf

                compiled = tf.function(lambda inputs: model(inputs, training=False),
                                       reduce_retracing=True)
                row["keras"] = {
                    "ms_per_sequence": _median_ms(lambda: model(x, training=False), repeats),
                    "compiled_ms_per_sequence": _median_ms(lambda: compiled(x), repeats),
                }
        row["files"][label] = entry
    if not generative:
        print(f"[{task}] streaming ...", flush=True)
        path = os.path.join(workdir, f"{task}_stream.tflite")
        try:
            report = export.to_tflite(model, path, streaming=True, test_data=test,
                                      verify_examples=8, verbose=False)
            from rnnzoo.litert_runtime import LiteRTModel

            stream = LiteRTModel(path, num_threads=1).streamer()
            arrays = [np.asarray(a) for a in keras.tree.flatten(x)]
            names = report.signatures["step"]["inputs"][: len(arrays)]
            one = {n: a[:, :1] for n, a in zip(names, arrays)}
            row["streaming"] = {
                "bytes": report.size_bytes,
                "ms_per_step": _median_ms(lambda: stream.step(**one), repeats * 5),
                "max_abs_error": report.max_abs_error["step"],
                "states": report.signatures["step"]["inputs"][len(arrays):],
            }
        except Exception as exc:
            row["streaming"] = {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}
    else:
        f32 = row["files"].get("float32", {})
        row["streaming"] = {"bytes": f32.get("bytes"), "ms_per_step": f32.get("ms_per_step"),
                            "note": "decoder_step signature of the float32 file"}
    return row


def _fmt(value, spec=".2f"):
    return "-" if value is None else format(value, spec)


def markdown(results: dict) -> str:
    lines = [
        "| task | params | Keras eager ms/seq | Keras tf.function ms/seq | file | KiB "
        "| interpreter ms/seq | vs eager | vs tf.function | max abs err | stream ms/step "
        "(Keras eager) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for task, row in results["tasks"].items():
        k = row.get("keras", {})
        eager, compiled = k.get("ms_per_sequence"), k.get("compiled_ms_per_sequence")
        first = True
        for label, f in row["files"].items():
            if "error" in f:
                cells = [label, "-", "failed: " + f["error"][:60], "-", "-", "-"]
            else:
                ms = f.get("ms_per_sequence")
                cells = [label, _fmt(f["bytes"] / 1024, ".1f"), _fmt(ms),
                         _fmt(eager / ms if eager and ms else None, ".0f") + "x",
                         _fmt(compiled / ms if compiled and ms else None, ".1f") + "x",
                         _fmt(f.get("max_abs_error"), ".1e")]
            stream = None
            if label == "float32":
                stream = _fmt(row.get("streaming", {}).get("ms_per_step"), ".3f")
                if k.get("ms_per_step"):
                    stream += f" ({k['ms_per_step']:.1f})"
            lines.append("| " + " | ".join([
                task if first else "", f"{row['params']:,}" if first else "",
                _fmt(eager) if first else "", _fmt(compiled) if first else "", *cells,
                stream or "",
            ]) + " |")
            first = False
    return "\n".join(lines)


def _write(out: str, results: dict) -> str:
    os.makedirs(os.path.dirname(out), exist_ok=True)
    table = markdown(results)
    for suffix, text in ((".json", json.dumps(results, indent=2, default=str)), (".md", table + "\n")):
        tmp = f"{out}{suffix}.tmp-{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, out + suffix)
    return table


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", nargs="*", default=None)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--decode-steps", type=int, default=20,
                        help="decoder steps per generated sequence")
    parser.add_argument("--out", default=os.path.join(ROOT, "tools", "results", "bench_tflite"),
                        help="output path without extension (.json and .md are written)")
    args = parser.parse_args(argv)
    import keras
    import tensorflow as tf

    import rnnzoo

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tasks = args.tasks or rnnzoo.list_models()
    results = {
        "environment": {
            "python": sys.version.split()[0], "tensorflow": tf.__version__,
            "keras": keras.__version__, "rnnzoo": rnnzoo.__version__,
            "machine": platform.machine(), "processor": platform.processor(),
            "cpu_count": os.cpu_count(), "interpreter_threads": 1, "tf_threads": 1,
            "command": "python tools/bench_tflite.py " + " ".join(argv or sys.argv[1:]),
        },
        "tasks": {},
    }
    with tempfile.TemporaryDirectory() as workdir:
        for task in tasks:
            results["tasks"][task] = bench_task(task, args.repeats, args.decode_steps, workdir)
            _write(args.out, results)  # after each task: a late failure keeps the others
    table = _write(args.out, results)
    print(table)
    print(f"wrote {args.out}.json and {args.out}.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
