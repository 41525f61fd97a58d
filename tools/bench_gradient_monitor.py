"""Overhead of ``GradientMonitor`` on the default classification model.

Trains ``rnnzoo.build("classification")`` on
``rnnzoo.data.load("classification", "train", 64)`` (the built-in data, 8000
examples, 125 batches per epoch) for a few epochs without a callback and with
``GradientMonitor()`` at its default settings (weight-gradient norms every 50
batches, the BPTT trace at every epoch end, a 32-example probe), alternating
the two so both see the same machine load. Prints every epoch's wall time and
process CPU time (all threads) and the ratios, over all epochs (the first one
includes the monitor's one-time setup: probe batch and compiling its gradient
function) and over the later, steady-state epochs; and, less noisy, the time
spent inside the monitor's own hooks as a share of a baseline epoch.

Usage:

```bash
python tools/bench_gradient_monitor.py            # 3 epochs, 2 alternating repeats
python tools/bench_gradient_monitor.py --epochs 2 --repeats 1
```
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402

import rnnzoo  # noqa: E402
from rnnzoo.callbacks import GradientMonitor  # noqa: E402


class _Start(keras.callbacks.Callback):
    """Placed first: starts the clocks before any other callback's epoch hook."""

    def __init__(self, timer):
        super().__init__()
        self.timer = timer

    def on_epoch_begin(self, epoch, logs=None):
        self.timer.start = (time.perf_counter(), time.process_time())


class _Stop(keras.callbacks.Callback):
    """Placed last: stops the clocks after every other callback's epoch hook."""

    def __init__(self):
        super().__init__()
        self.start = (0.0, 0.0)
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def on_epoch_end(self, epoch, logs=None):
        self.wall.append(time.perf_counter() - self.start[0])
        self.cpu.append(time.process_time() - self.start[1])


class _TimedMonitor(GradientMonitor):
    """GradientMonitor() that also adds up the time spent in its own hooks, per epoch."""

    def __init__(self):
        super().__init__()
        self.inside_wall: list[float] = []
        self.inside_cpu: list[float] = []
        self._pending = [0.0, 0.0]

    def _timed(self, hook, *args):
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return hook(*args)
        finally:
            self._pending[0] += time.perf_counter() - wall
            self._pending[1] += time.process_time() - cpu

    def on_train_begin(self, logs=None):
        self._timed(super().on_train_begin, logs)

    def on_train_batch_end(self, batch, logs=None):
        self._timed(super().on_train_batch_end, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._timed(super().on_epoch_end, epoch, logs)
        self.inside_wall.append(self._pending[0])
        self.inside_cpu.append(self._pending[1])
        self._pending = [0.0, 0.0]


def run(monitored: bool, epochs: int, seed: int = 0) -> _Stop:
    keras.utils.set_random_seed(seed)
    keras.backend.clear_session()
    model = rnnzoo.build("classification")
    data = rnnzoo.data.load("classification", "train", 64)
    stop = _Stop()
    monitor = _TimedMonitor() if monitored else None
    callbacks = [_Start(stop), *([monitor] if monitored else []), stop]
    model.fit(data, epochs=epochs, verbose=0, callbacks=callbacks)
    stop.monitor = monitor
    return stop


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)
    runs = {False: [], True: []}
    for _ in range(args.repeats):
        for monitored in (False, True):
            runs[monitored].append(run(monitored, args.epochs))
    out = {}
    for clock in ("wall", "cpu"):
        base = [getattr(r, clock) for r in runs[False]]
        mon = [getattr(r, clock) for r in runs[True]]
        all_b = statistics.mean(t for ts in base for t in ts)
        all_m = statistics.mean(t for ts in mon for t in ts)
        rounded = {name: [[round(t, 2) for t in ts] for ts in runs_]
                   for name, runs_ in (("without monitor", base), ("with GradientMonitor()", mon))}
        for name, times in rounded.items():
            print(f"{clock} epoch times (s) {name}: {times}")
        line = f"{clock}: mean epoch ratio, all epochs {all_m / all_b:.3f}"
        out[f"{clock}_all"] = all_m / all_b
        if args.epochs > 1:
            st_b = statistics.mean(t for ts in base for t in ts[1:])
            st_m = statistics.mean(t for ts in mon for t in ts[1:])
            line += f"; epochs 2+ {st_m / st_b:.3f}"
            out[f"{clock}_steady"] = st_m / st_b
        print(line)
        # Less noisy: the time spent inside the monitor's own hooks, against the
        # baseline epoch time of the same clock.
        inside = [getattr(r.monitor, f"inside_{clock}") for r in runs[True]]
        first = statistics.mean(ts[0] for ts in inside)
        base_epoch = statistics.mean(t for ts in base for t in ts)
        line = (f"{clock}: inside the monitor, epoch 1 (with setup and compiling) {first:.3f} s"
                f" = {100 * first / base_epoch:.1f}% of a baseline epoch")
        out[f"{clock}_inside_first"] = first / base_epoch
        if args.epochs > 1:
            later = statistics.mean(t for ts in inside for t in ts[1:])
            line += f"; epochs 2+ {later:.3f} s = {100 * later / base_epoch:.1f}%"
            out[f"{clock}_inside_steady"] = later / base_epoch
        print(line)
    return out


if __name__ == "__main__":
    main()
