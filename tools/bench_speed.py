"""rnnzoo's speed in one table: its models against the same networks in plain Keras.

One run measures, as ratios within the run (variants timed in turns, several
rounds, medians of wall-clock rates; the ratio of CPU-time rates beside them,
which neighbours on shared cores disturb less):

- **tasks**: training samples/s of every task's default model
  (``rnnzoo.build(task)``, on its built-in data's batches) against the same
  network in plain Keras: the same layers (the zoo's defaults are Keras' own
  recurrent layers) compiled with Keras' defaults (``"adam"``, no gradient
  clipping, ``jit_compile="auto"``) and the same loss and metrics;
- **clockwork**: ``ClockworkRNN(256)`` (8 modules) against Keras'
  ``SimpleRNN(256)``, training and inference (batch 64, 100 steps, 32 features);
- **peak**: ``LSTM(256)`` training at batch 128 (100 steps, 32 features) in
  GFLOP/s (matrix products only: ``3 × 2·B·T·(F + U)·4U`` per batch, forward
  and backward), against the best numpy GEMM rate on the shapes of those
  products, measured in the same run (Keras' LSTM, which the zoo's ``"lstm"``
  cell is, and the opt-in :class:`rnnzoo.layers.LSTM`);
- **generation**: the rows of ``tools/bench_generation.py`` (``rows(quick)``),
  when that file exists.

Usage:

```
TF_CPP_MIN_LOG_LEVEL=3 python tools/bench_speed.py            # -> tools/results/bench_speed.json
TF_CPP_MIN_LOG_LEVEL=3 python tools/bench_speed.py --quick    # a short smoke run
KERAS_BACKEND=jax python tools/bench_speed.py --out tools/results/bench_speed_jax.json
```
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

def _interleaved(variants: dict, rounds: int, cpu: dict | None = None) -> dict:
    """``{name: [rate per round]}``: each variant's ``fn() -> units done`` timed in turns.

    Rates are per second of wall-clock time; ``cpu``, if given, receives the
    same per second of this process's CPU time (all threads), which other
    processes sharing the cores disturb less.
    """
    rates = {name: [] for name in variants}
    for _ in range(rounds):
        for name, fn in variants.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            done = fn()
            rates[name].append(done / (time.perf_counter() - start))
            if cpu is not None:
                cpu.setdefault(name, []).append(done / (time.process_time() - start_cpu))
    return rates


def _row(section, what, rates, cpu, name, base, unit, baseline_is, scale=1.0):
    """A table row: medians of ``rates[name]`` against ``rates[base]`` (wall and CPU time)."""
    rate = statistics.median(rates[name]) * scale
    base_rate = statistics.median(rates[base]) * scale
    cpu_ratio = statistics.median(cpu[name]) / statistics.median(cpu[base])
    return {"section": section, "what": what, "rnnzoo": rate, "baseline": base_rate,
            "ratio": rate / base_rate, "ratio_cpu_time": cpu_ratio, "unit": unit,
            "baseline_is": baseline_is}


def _trainer(model, batches):
    """A function training ``model`` on ``batches`` once; returns the samples seen."""
    def run():
        for x, y in batches:
            model.train_on_batch(x, y)
        return sum(len(y) for _, y in batches)

    return run


def _batches(task: str, n: int):
    import keras
    import numpy as np

    import rnnzoo

    data = rnnzoo.data.load(task, "train")
    out = []
    for x, y in data.take(n):
        out.append(keras.tree.map_structure(
            lambda a: keras.ops.convert_to_tensor(np.asarray(a)), (x, y)))
    return out


def _plain_keras_twin(task: str, model):
    """The task's default network compiled with Keras' defaults (same loss and metrics)."""
    import keras

    import rnnzoo

    twin = rnnzoo.build(task)
    config = model.get_compile_config()
    metrics = [keras.saving.deserialize_keras_object(m) for m in config.get("metrics") or []]
    twin.compile(optimizer="adam", loss=keras.saving.deserialize_keras_object(config["loss"]),
                 metrics=metrics or None)
    return twin


def _with_xla(model):
    """``model`` compiled again as it was, with ``jit_compile=True``."""
    import keras

    config = model.get_compile_config()
    model.compile(
        optimizer=keras.optimizers.deserialize(config["optimizer"]),
        loss=keras.saving.deserialize_keras_object(config["loss"]),
        metrics=[keras.saving.deserialize_keras_object(m) for m in config.get("metrics") or []]
        or None,
        jit_compile=True)
    return model


def task_rows(quick: bool, rounds: int, xla: bool = False) -> list[dict]:
    """Every task's default model against its plain-Keras twin (training samples/s).

    With ``xla``, also the default model compiled with ``jit_compile=True``.
    """
    import rnnzoo

    rows = []
    for task in rnnzoo.list_models():
        batches = _batches(task, 2 if quick else 4)
        zoo = rnnzoo.build(task)
        twin = _plain_keras_twin(task, zoo)
        variants = {"rnnzoo": _trainer(zoo, batches), "keras": _trainer(twin, batches)}
        if xla:
            variants["rnnzoo xla"] = _trainer(_with_xla(rnnzoo.build(task)), batches)
        for fn in variants.values():  # trace and warm up
            fn()
        cpu = {}
        rates = _interleaved(variants, rounds, cpu)
        for name in variants:
            if name != "keras":
                what = f"{task} default model, training" + (
                    ", jit_compile=True" if "xla" in name else "")
                rows.append(_row("tasks", what, rates, cpu, name, "keras", "samples/s",
                                 "same network, Keras' compile defaults"))
    return rows


def _sequence_model(layer, steps, features, compile_train=True):
    import keras

    inputs = keras.Input((steps, features))
    model = keras.Model(inputs, keras.layers.Dense(1)(layer(inputs)))
    if compile_train:
        model.compile(optimizer="adam", loss="mse")
    return model


def _data(batch, steps, features, n):
    import keras
    import numpy as np

    rng = np.random.default_rng(0)
    return [(keras.ops.convert_to_tensor(rng.standard_normal((batch, steps, features))
                                         .astype("float32")),
             keras.ops.convert_to_tensor(rng.standard_normal((batch, 1)).astype("float32")))
            for _ in range(n)]


def clockwork_rows(quick: bool, rounds: int, units: int = 256) -> list[dict]:
    """ClockworkRNN(units) against Keras' SimpleRNN(units): training and inference samples/s."""
    import keras

    from rnnzoo.layers import ClockworkRNN

    steps, features, batch = 100, 32, 64
    data = _data(batch, steps, features, 2 if quick else 4)
    models = {"clockwork": _sequence_model(ClockworkRNN(units), steps, features),
              "simple": _sequence_model(keras.layers.SimpleRNN(units), steps, features)}
    variants = {}
    for name, model in models.items():
        variants[f"{name} train"] = _trainer(model, data)

        def infer(model=model):
            for x, _ in data:
                model.predict_on_batch(x)
            return batch * len(data)

        variants[f"{name} infer"] = infer
    for fn in variants.values():
        fn()
    cpu = {}
    rates = _interleaved(variants, rounds, cpu)
    rows = []
    for phase in ("train", "infer"):
        rows.append(_row("clockwork", f"ClockworkRNN({units}, g=8) vs SimpleRNN({units}), "
                         f"{'training' if phase == 'train' else 'inference'}", rates, cpu,
                         f"clockwork {phase}", f"simple {phase}", "samples/s",
                         "keras.layers.SimpleRNN"))
    return rows


def _gemm_rate(shapes, seconds=0.2) -> float:
    """numpy's best float32 GEMM rate (GFLOP/s) over ``shapes`` ``(m, k, n)``.

    Measured with numpy's default threads and, when threadpoolctl is
    installed, with one thread too (a BLAS using both cores can collapse when
    other processes share them); the best of all counts.
    """
    import numpy as np

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # the default threads only
        threadpool_limits = None
    limits = [None, 1] if threadpool_limits is not None else [None]
    best = 0.0
    for limit in limits:
        for m, k, n in shapes:
            a = np.random.default_rng(0).random((m, k), dtype="float32")
            b = np.random.default_rng(1).random((k, n), dtype="float32")
            with threadpool_limits(limit) if limit else _nothing():
                a @ b
                start, reps = time.perf_counter(), 0
                while time.perf_counter() - start < seconds:
                    a @ b
                    reps += 1
                best = max(best, 2 * m * k * n * reps / (time.perf_counter() - start) / 1e9)
    return best


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def peak_rows(quick: bool, rounds: int, units: int = 256, batch: int = 128) -> list[dict]:
    """LSTM(units) training at ``batch`` as a fraction of numpy's GEMM rate on its shapes."""
    import keras

    from rnnzoo.layers import LSTM

    steps, features = 100, 32
    data = _data(batch, steps, features, 1 if quick else 2)
    flops_per_sample = 3 * 2 * steps * (features + units) * 4 * units
    models = {"rnnzoo": _sequence_model(LSTM(units), steps, features),
              "keras": _sequence_model(keras.layers.LSTM(units), steps, features)}
    # The products of one training step: h·U per step and its two gradients, the
    # input projection over the sequence and its weight gradient.
    shapes = [(batch, units, 4 * units), (batch, 4 * units, units),
              (units, batch * steps, 4 * units), (batch * steps, features, 4 * units)]
    variants = {name: _trainer(m, data) for name, m in models.items()}
    for fn in variants.values():
        fn()
    timed, gemm = {name: [] for name in variants}, []
    for _ in range(rounds):  # the GEMM rounds between the LSTM rounds: the same load
        for name, rate in _interleaved(variants, 1).items():
            timed[name] += rate
        gemm.append(_gemm_rate(shapes, 0.05 if quick else 0.2))
    peak = max(gemm)
    rows = []
    for name in ("keras", "rnnzoo"):
        rate = statistics.median(timed[name]) * flops_per_sample / 1e9
        rows.append({"section": "peak",
                     "what": f"{'rnnzoo' if name == 'rnnzoo' else 'keras'}.layers.LSTM({units}) "
                             f"training, batch {batch}: share of numpy's GEMM peak",
                     "rnnzoo": rate, "baseline": peak, "ratio": rate / peak,
                     "ratio_cpu_time": None, "unit": "GFLOP/s",
                     "baseline_is": f"numpy GEMM, best of {rounds} rounds on the LSTM's shapes "
                                    f"(median {statistics.median(gemm):.1f})"})
    return rows


def generation_rows(quick: bool) -> tuple[list[dict], str | None]:
    """The rows of tools/bench_generation.py, or a note saying why there are none."""
    path = os.path.join(ROOT, "tools", "bench_generation.py")
    if not os.path.exists(path):
        return [], "tools/bench_generation.py does not exist: no generation section"
    spec = importlib.util.spec_from_file_location("bench_generation", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rows = [{"section": "generation", **row} for row in module.rows(quick)]
    return rows, None


def table(rows: list[dict]) -> str:
    """A Markdown table of the rows."""
    lines = ["| section | what | rnnzoo | baseline | ratio | ratio (CPU time) | unit |",
             "|---|---|---:|---:|---:|---:|---|"]
    for r in rows:
        cpu = r.get("ratio_cpu_time")
        lines.append(f"| {r['section']} | {r['what']} | {r['rnnzoo']:,.1f} | "
                     f"{r['baseline']:,.1f} | {r['ratio']:.2f}x | "
                     f"{'' if cpu is None else f'{cpu:.2f}x'} | {r['unit']} |")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--rounds", type=int, default=None, help="timed rounds (default 5, quick 2)")
    parser.add_argument("--xla", action="store_true",
                        help="tasks: also time each default model with jit_compile=True")
    parser.add_argument("--sections", nargs="+", default=["tasks", "clockwork", "peak",
                                                          "generation"])
    parser.add_argument("--out", default=os.path.join(ROOT, "tools", "results",
                                                      "bench_speed.json"))
    args = parser.parse_args(argv)
    rounds = args.rounds or (2 if args.quick else 5)

    import keras

    from rnnzoo import _io

    load_before = os.getloadavg()
    rows, notes = [], []
    if "tasks" in args.sections:
        rows += task_rows(args.quick, rounds, args.xla)
    if "clockwork" in args.sections:
        rows += clockwork_rows(args.quick, rounds)
    if "peak" in args.sections:
        rows += peak_rows(args.quick, rounds)
    if "generation" in args.sections:
        extra, note = generation_rows(args.quick)
        rows += extra
        notes += [note] if note else []
    machine = (f"Keras {keras.__version__} on {keras.config.backend()}, "
               f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores "
               f"visible, load average {load_before[0]:.1f} before / {os.getloadavg()[0]:.1f} "
               f"after; medians of {rounds} interleaved rounds")
    print(machine)
    print(table(rows))
    for note in notes:
        print(f"note: {note}")
    _io.atomic_write_json(args.out, {"machine": machine, "quick": args.quick, "rounds": rounds,
                                     "rows": rows, "notes": notes})
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
