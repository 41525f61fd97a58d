"""Training and inference throughput of rnnzoo's custom recurrent layers against Keras' own.

Measures ``ABCSimpleRNN``, ``ClockworkRNN``, Keras' ``SimpleRNN``, ``LSTM`` and
``GRU`` and rnnzoo's ``LSTM``/``GRU``/``SimpleRNN`` (Keras' layers with the
hoisted projection and hand-written backward pass, :mod:`rnnzoo.layers.fast_rnn`)
at equal ``units`` in one run, each as ``Input(steps, features) -> layer ->
Dense(1)`` trained with Adam on MSE, and prints samples/s and the ratio to
``keras.layers.SimpleRNN`` of the same width. The models are timed in turns,
several rounds, keeping each model's best round, so a neighbour's load on a
shared CPU hits every model alike; the load average is printed with the table.

Usage:

```
TF_CPP_MIN_LOG_LEVEL=3 python tools/bench_layers.py               # units 128 and 256
TF_CPP_MIN_LOG_LEVEL=3 python tools/bench_layers.py --units 64 --rounds 2 --batches 2  # quick
```
"""

from __future__ import annotations

import argparse
import os
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _layers(units: int):
    import keras

    from rnnzoo import layers
    from rnnzoo.layers import ABCSimpleRNN, ClockworkRNN
    from rnnzoo.layers.clockwork import default_num_modules

    g = default_num_modules(units)
    return {
        "SimpleRNN": lambda: keras.layers.SimpleRNN(units),
        "ABCSimpleRNN": lambda: ABCSimpleRNN(units),
        f"ClockworkRNN(g={g})": lambda: ClockworkRNN(units),
        "LSTM": lambda: keras.layers.LSTM(units),
        "GRU": lambda: keras.layers.GRU(units),
        "rnnzoo SimpleRNN": lambda: layers.SimpleRNN(units),
        "rnnzoo LSTM": lambda: layers.LSTM(units),
        "rnnzoo GRU": lambda: layers.GRU(units),
    }


def _model(make_layer, steps: int, features: int):
    import keras

    inputs = keras.Input((steps, features))
    model = keras.Model(inputs, keras.layers.Dense(1)(make_layer()(inputs)))
    model.compile(optimizer="adam", loss="mse")
    return model


def run(units_list, batch: int, steps: int, features: int, batches: int, rounds: int):
    """Times every layer; returns rows ``(units, name, {(phase, clock): samples/s})``."""
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch * batches, steps, features)).astype("float32")
    y = rng.standard_normal((batch * batches, 1)).astype("float32")
    # Batches as tensors, trained with train_on_batch: fit()'s per-epoch set-up would
    # otherwise weigh as much as the layers on a few batches.
    data = [(tf.constant(x[i:i + batch]), tf.constant(y[i:i + batch]))
            for i in range(0, len(x), batch)]
    xb = tf.constant(x[:batch])
    rows = []
    for units in units_list:
        models = {name: _model(make, steps, features) for name, make in _layers(units).items()}
        predict = {}
        for name, model in models.items():  # trace and warm up
            model.train_on_batch(*data[0])
            predict[name] = tf.function(lambda v, m=model: m(v, training=False))
            predict[name](xb)
        # best (wall, cpu) seconds per model and phase
        best = {(name, phase, clock): float("inf") for name in models
                for phase in ("train", "infer") for clock in ("wall", "cpu")}

        def timed(name, phase, fn):
            wall, cpu = time.perf_counter(), time.process_time()
            fn()
            for clock, spent in (("wall", time.perf_counter() - wall),
                                 ("cpu", time.process_time() - cpu)):
                best[(name, phase, clock)] = min(best[(name, phase, clock)], spent)

        for _ in range(rounds):
            for name, model in models.items():
                timed(name, "train", lambda m=model: [m.train_on_batch(*xy) for xy in data])
                timed(name, "infer", lambda f=predict[name]: [
                    f(xb).numpy() for _ in range(3 * batches)])
        n = batch * batches
        for name in models:
            rows.append((units, name, {
                key[1:]: n * (3 if key[1] == "infer" else 1) / best[key]
                for key in best if key[0] == name}))
    return rows


def table(rows) -> str:
    """A Markdown table: samples/s (wall clock) and ratios to SimpleRNN of the same width.

    Ratios are given on the wall clock and on the process CPU time (all
    threads), the steadier of the two when other processes share the CPU.
    """
    base = {units: rates for units, name, rates in rows if name == "SimpleRNN"}
    lines = [
        "| units | layer | train samples/s | train × SimpleRNN (wall / CPU time) "
        "| inference samples/s | inference × SimpleRNN (wall / CPU time) |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for units, name, rates in rows:
        ratio = {key: rates[key] / base[units][key] for key in rates}
        lines.append(
            f"| {units} | {name} | {rates[('train', 'wall')]:,.0f} "
            f"| {ratio[('train', 'wall')]:.2f}× / {ratio[('train', 'cpu')]:.2f}× "
            f"| {rates[('infer', 'wall')]:,.0f} "
            f"| {ratio[('infer', 'wall')]:.2f}× / {ratio[('infer', 'cpu')]:.2f}× |"
        )
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--units", type=int, nargs="+", default=[128, 256])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=100, help="sequence length")
    parser.add_argument("--features", type=int, default=32, help="input features per step")
    parser.add_argument("--batches", type=int, default=6, help="batches per timed round")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds (best kept)")
    args = parser.parse_args(argv)

    import keras
    import tensorflow as tf

    load_before = os.getloadavg()
    rows = run(args.units, args.batch, args.steps, args.features, args.batches, args.rounds)
    load_after = os.getloadavg()
    print(
        f"batch {args.batch}, sequence length {args.steps}, {args.features} input features, "
        f"best of {args.rounds} rounds of {args.batches} training batches "
        f"and {3 * args.batches} inference batches; "
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}, "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores visible, "
        f"load average {load_before[0]:.1f} before / {load_after[0]:.1f} after"
    )
    print(table(rows))


if __name__ == "__main__":
    main()
