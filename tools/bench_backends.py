"""Training throughput of the zoo on every installed Keras backend, with and without jit_compile.

For each installed backend (TensorFlow, JAX, PyTorch) a child process (Keras
picks its backend once per process) trains, for every configuration:

- each zoo task's default model (``rnnzoo.build(task)``) on its built-in data;
- plain Keras ``LSTM``, ``GRU`` and ``SimpleRNN`` (128 units, 50 steps of 32
  features, ``Dense(10)`` head, Adam, sparse cross-entropy);

each compiled with its loss and optimizer only, with ``jit_compile=True``
and ``jit_compile=False`` (TensorFlow: XLA or a ``tf.function`` graph; JAX:
``jax.jit`` or op-by-op eager; PyTorch: ``torch.compile`` or eager), and
reports training samples/s (a warm-up fit first, so compilation is not
counted). The children run in turns, ``--rounds``
times, so that a neighbour's load on a shared machine hits every backend
alike; the table gives each median and its ratio to TensorFlow without
jit_compile (rnnzoo's default on a CPU: Keras' ``jit_compile="auto"`` means
no XLA on CPU-only TensorFlow, ``jax.jit`` on JAX).

Usage:

```
TF_CPP_MIN_LOG_LEVEL=3 python tools/bench_backends.py                        # everything
TF_CPP_MIN_LOG_LEVEL=3 python tools/bench_backends.py --rounds 1 --steps 3 \\
    --models classification LSTM                                             # quick
```
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

BACKENDS = ("tensorflow", "jax", "torch")
PLAIN = ("LSTM", "GRU", "SimpleRNN")
BATCH = 32


def _tasks():
    import rnnzoo

    return list(rnnzoo.list_models())


# --------------------------------------------------------------------------- child


def _plain(name: str):
    import keras
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH * 8, 50, 32)).astype("float32")
    y = rng.integers(0, 10, BATCH * 8).astype("int32")

    def build(jit):
        inputs = keras.Input((50, 32))
        h = getattr(keras.layers, name)(128)(inputs)
        model = keras.Model(inputs, keras.layers.Dense(10)(h))
        model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      jit_compile=jit)
        return model

    return build, x, y


def _zoo(task: str):
    import keras
    import numpy as np

    import rnnzoo

    batches = []
    for batch in rnnzoo.data.load(task, "train", BATCH).take(8):
        batches.append(keras.tree.map_structure(np.asarray, batch))
    x, y = (keras.tree.map_structure(lambda *a: np.concatenate(a), *[b[i] for b in batches])
            for i in (0, 1))

    def build(jit):
        model = rnnzoo.build(task)
        model.compile(optimizer=model.optimizer, loss=model.loss,
                      metrics=None, jit_compile=jit)
        return model

    return build, x, y


def _samples_per_second(build, x, y, jit: bool, steps: int) -> float:
    import keras

    keras.utils.set_random_seed(0)
    model = build(jit)
    n = keras.tree.flatten(x)[0].shape[0]
    model.fit(x, y, batch_size=BATCH, epochs=1, steps_per_epoch=2, verbose=0, shuffle=False)
    start = time.perf_counter()
    done = 0
    while done < steps:
        take = min(steps - done, n // BATCH)
        model.fit(x, y, batch_size=BATCH, epochs=1, steps_per_epoch=take, verbose=0,
                  shuffle=False)
        done += take
    return steps * BATCH / (time.perf_counter() - start)


def child(models: list[str], steps: int) -> dict:
    """One round on this process's backend: ``{model: {"jit": s/s, "no_jit": s/s}}``."""
    import keras

    out = {}
    for name in models:
        build, x, y = _plain(name) if name in PLAIN else _zoo(name)
        out[name] = {}
        for jit in (True, False):
            key = "jit" if jit else "no_jit"
            try:
                out[name][key] = _samples_per_second(build, x, y, jit, steps)
            except Exception as exc:  # noqa: BLE001 - a configuration a backend cannot run
                out[name][key] = f"{type(exc).__name__}: {str(exc)[:120]}"
            keras.backend.clear_session()
    return out


# --------------------------------------------------------------------------- parent


def installed() -> list[str]:
    return [b for b in BACKENDS if importlib.util.find_spec(b) is not None]


def _run_child(backend: str, models: list[str], steps: int) -> dict:
    env = dict(os.environ, KERAS_BACKEND=backend, CUDA_VISIBLE_DEVICES="")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    proc = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--child", "--models", *models,
         "--steps", str(steps)], capture_output=True, text=True, env=env, timeout=7200)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode or not lines:
        raise RuntimeError(f"{backend} child failed:\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1])


def _fmt(value) -> str:
    return f"{value:9.0f}" if isinstance(value, float) else f"{'failed':>9}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=8, help="timed batches per configuration")
    parser.add_argument("--models", nargs="*", default=None,
                        help=f"tasks and/or {', '.join(PLAIN)} (default: all)")
    parser.add_argument("--backends", nargs="*", default=None)
    parser.add_argument("--json", default=None, help="also write the raw results here")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    models = args.models or [*_tasks(), *PLAIN]
    if args.child:
        print(json.dumps(child(models, args.steps)), flush=True)
        return 0
    backends = args.backends or installed()
    rounds: dict[str, list[dict]] = {b: [] for b in backends}
    for r in range(args.rounds):
        for backend in backends:
            rounds[backend].append(_run_child(backend, models, args.steps))
            print(f"round {r + 1}/{args.rounds}: {backend} done", file=sys.stderr, flush=True)

    def median(backend, model, key):
        values = [rd[model][key] for rd in rounds[backend]
                  if isinstance(rd[model][key], float)]
        return statistics.median(values) if values else None

    print(f"# training samples/s, batch {BATCH}, median of {args.rounds} round(s) of "
          f"{args.steps} batches; {platform.machine()}, {os.cpu_count()} CPU(s), "
          f"load {os.getloadavg()[0]:.1f}")
    columns = [(b, k) for b in backends for k in ("no_jit", "jit")]
    head = " | ".join(f"{b} {'jit' if k == 'jit' else 'no jit'}" for b, k in columns)
    print(f"| model | {head} |")
    print("|---|" + "---|" * len(columns))
    table = {}
    for model in models:
        base = median("tensorflow", model, "no_jit") if "tensorflow" in backends else None
        cells = []
        for b, k in columns:
            value = median(b, model, k)
            table.setdefault(model, {})[f"{b}/{k}"] = value
            if value is None:
                cells.append("failed")
            elif base:
                cells.append(f"{value:.0f} ({value / base:.2f}x)")
            else:
                cells.append(f"{value:.0f}")
        print(f"| {model} | " + " | ".join(cells) + " |")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"rounds": rounds, "median": table}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
