"""Benchmark generation: the compiled decoding loop against a per-token predict_on_batch loop.

The model is the published character language model
(``rnnzoo.build("text_prediction", weights="pretrained")``). Both sides run the
same one-step decoder model (``model.inference_models()["decoder_step"]``):

- **rnnzoo**: ``rnnzoo.tasks.decoding.decode`` -- the whole generation is one
  compiled ``keras.ops.while_loop`` (what ``model.generate`` runs);
- **baseline**: a Python loop calling the step model's ``predict_on_batch``
  once per token, with the argmax (greedy) or the beam bookkeeping (beam
  search) in numpy -- what ``generate`` did before.

Both stop only after ``steps`` tokens (``end_id`` is the padding id, which the
model never predicts), so a "step" is one token of every sequence of the batch.
The first call of each compiled loop (the compilation) is left out and reported
apart. Variants are interleaved and repeated; the table shows medians and the
ratio rnnzoo / baseline measured in the same run.

Run:

```
python tools/bench_generation.py            # 200 steps, 5 repeats
python tools/bench_generation.py --quick    # 60 steps, 3 repeats
```

``rows(quick)`` returns the rows (``what``, ``rnnzoo``, ``baseline``, ``ratio``,
``unit``) for ``tools/bench_speed.py``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

# (label, batch, method, beam width)
CASES = [("greedy, batch 1", 1, "greedy", 1), ("greedy, batch 32", 32, "greedy", 1),
         ("beam-8, batch 1", 1, "beam", 8)]


def _zero_states(step, rows: int) -> list:
    return [np.zeros((rows, int(t.shape[-1])), np.float32) for t in step.inputs[1:]]


def _baseline(step, batch: int, width: int, steps: int) -> None:
    """The per-token loop: one predict_on_batch per token, numpy argmax / beam bookkeeping."""
    rows = batch * width
    states = _zero_states(step, rows)
    tokens = np.ones((rows, 1), np.int32)  # <start>
    scores = np.full((batch, width), -np.inf)
    scores[:, 0] = 0.0
    for _ in range(steps):
        out = step.predict_on_batch([tokens, *states])
        log_probs = np.log(np.maximum(np.asarray(out[0], np.float64), 1e-12))
        states = list(out[1:])
        if width == 1:
            tokens = np.argmax(log_probs, axis=-1).astype(np.int32)[:, None]
            continue
        vocab = log_probs.shape[-1]
        flat = (scores[:, :, None] + log_probs.reshape(batch, width, vocab)).reshape(batch, -1)
        order = np.argsort(-flat, axis=-1, kind="stable")[:, :width]
        scores = np.take_along_axis(flat, order, axis=-1)
        gather = (np.arange(batch)[:, None] * width + order // vocab).reshape(-1)
        states = [np.asarray(s)[gather] for s in states]
        tokens = (order % vocab).reshape(-1, 1).astype(np.int32)


def _compiled(model, batch: int, method: str, width: int, steps: int) -> int:
    from rnnzoo.tasks import decoding
    from rnnzoo.text import PAD_ID

    step = model.inference_models()["decoder_step"]
    ids = decoding.decode(model._step_fn(), _zero_states(step, batch), batch_size=batch,
                          method=method, beam_width=width, end_id=PAD_ID, max_length=steps)
    return min(len(seq) for seq in ids)


def measure(steps: int = 200, repeats: int = 5) -> list[dict]:
    """Steps per second of every case, rnnzoo and baseline interleaved ``repeats`` times."""
    import keras

    import rnnzoo

    model = rnnzoo.build("text_prediction", weights="pretrained")
    step = model.inference_models()["decoder_step"]
    results = []
    for label, batch, method, width in CASES:
        start = time.perf_counter()
        done = _compiled(model, batch, method, width, steps)  # compiles
        compile_s = time.perf_counter() - start
        if done < steps:
            raise RuntimeError(f"{label}: a sequence stopped after {done} of {steps} steps")
        _baseline(step, batch, width, 3)  # predict_on_batch's own first-call tracing
        ours, theirs = [], []
        for _ in range(repeats):
            start = time.perf_counter()
            _compiled(model, batch, method, width, steps)
            ours.append(steps / (time.perf_counter() - start))
            start = time.perf_counter()
            _baseline(step, batch, width, steps)
            theirs.append(steps / (time.perf_counter() - start))
        mine, base = statistics.median(ours), statistics.median(theirs)
        results.append({
            "what": f"generate steps/s, char LM ({model.cell.upper()} {model.units}), {label}",
            "rnnzoo": round(mine, 1), "baseline": round(base, 1),
            "ratio": round(mine / base, 2), "unit": "steps/s",
            "compile_s": round(compile_s, 2), "backend": keras.backend.backend(),
        })
    return results


def rows(quick: bool = False) -> list[dict]:
    """The benchmark's rows for ``tools/bench_speed.py`` (``quick``: fewer steps and repeats)."""
    return measure(steps=60 if quick else 200, repeats=3 if quick else 5)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="60 steps, 3 repeats")
    parser.add_argument("--steps", type=int, default=None, help="tokens per sequence")
    parser.add_argument("--repeats", type=int, default=None, help="interleaved repeats")
    args = parser.parse_args(argv)
    steps = args.steps or (60 if args.quick else 200)
    repeats = args.repeats or (3 if args.quick else 5)
    table = measure(steps=steps, repeats=repeats)
    backend = table[0]["backend"] if table else "?"
    print(f"# generation: compiled loop vs per-token predict_on_batch ({steps} steps, median of "
          f"{repeats}; backend {backend}; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs)\n")
    print("| what | rnnzoo | baseline | ratio | unit | first call (compile) |")
    print("|---|---:|---:|---:|---|---:|")
    for row in table:
        print(f"| {row['what']} | {row['rnnzoo']:,.0f} | {row['baseline']:,.0f} | "
              f"{row['ratio']:.1f}x | {row['unit']} | {row['compile_s']:.1f} s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
