"""The converter child process of :func:`rnnzoo.export.to_tflite` (its one job: convert).

The TFLite converter can crash its process (post-training int8 quantization
of WHILE-loop RNN graphs segfaults in TensorFlow 2.21), so rnnzoo runs it here,
in a separate Python process, and the caller survives whatever happens:

```
python -m rnnzoo.export.worker JOB.json
```

``JOB.json`` names a SavedModel directory whose signatures hold only constants
(the caller traced them), the signature keys, the quantization, an optional
``.npz`` of calibration samples and the output path. The result (``ok`` or
the converter's error text) is written to ``JOB.json``'s ``result`` path.

This module imports TensorFlow only, never Keras or the rest of rnnzoo:
:mod:`rnnzoo.export.converter` runs it by path (``python .../worker.py
JOB.json``), which does not import the ``rnnzoo`` package at all.
"""

from __future__ import annotations

import json
import os
import signal
import sys

# numpy and TensorFlow are imported inside the functions: in the child only after the
# ``__main__`` block below has taken this folder off sys.path, and never in the parent,
# which imports this module only to find its path.


def _representative_dataset(path: str, signature_keys: list[str]):
    import numpy as np

    data = np.load(path)
    # keys: "<signature>|<sample index>|<input name>"
    samples: dict[tuple[str, int], dict] = {}
    for key in data.files:
        sig, index, name = key.split("|", 2)
        samples.setdefault((sig, int(index)), {})[name] = data[key]
    ordered = sorted(samples.items(), key=lambda kv: (kv[0][0], kv[0][1]))

    def generator():
        for (sig, _), inputs in ordered:
            if len(signature_keys) == 1:
                yield inputs
            else:
                yield sig, inputs

    return generator


def convert(job: dict) -> bytes:
    """Runs the converter with built-in ops only; returns the flatbuffer."""
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_saved_model(
        job["saved_model"], signature_keys=job["signature_keys"]
    )
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    converter.allow_custom_ops = False
    quantize = job.get("quantize")
    if quantize in ("dynamic", "float16", "int8"):
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantize == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if quantize == "int8":
        converter.representative_dataset = _representative_dataset(
            job["representative_data"], job["signature_keys"]
        )
    return converter.convert()


def main(argv: list[str]) -> int:
    """Runs the job named by ``argv[0]``; returns the exit status (0: converted)."""
    if len(argv) != 1:
        print("usage: python -m rnnzoo.export.worker JOB.json", file=sys.stderr)
        return 2
    with open(argv[0], encoding="utf-8") as f:
        job = json.load(f)
    crash = job.get("test_crash_signal")
    if crash:  # test hook: behave like a converter that crashed
        os.kill(os.getpid(), int(crash))
    try:
        flatbuffer = convert(job)
    except Exception as exc:  # the converter's own error: report it to the parent
        result = {"ok": False, "error_type": type(exc).__name__, "error": str(exc)}
    else:
        with open(job["output"], "wb") as f:
            f.write(flatbuffer)
        result = {"ok": True, "bytes": len(flatbuffer)}
    with open(job["result"], "w", encoding="utf-8") as f:
        json.dump(result, f, allow_nan=False)
    return 0 if result["ok"] else 3


if __name__ == "__main__":
    # Run by path, Python puts this folder first on sys.path, where the sibling modules
    # (tracing.py, verify.py, ...) could shadow a package TensorFlow imports.
    _here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _here]
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    sys.exit(main(sys.argv[1:]))
