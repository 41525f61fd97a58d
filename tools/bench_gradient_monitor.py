"""Overhead of ``GradientMonitor`` on the default classification model.

Trains ``rnnzoo.build("classification")`` on
``rnnzoo.data.load("classification", "train", 64)`` (the built-in data, 8000
examples, 125 batches per epoch) for a few epochs without a callback and with
``GradientMonitor()`` at its default settings, alternating the two so both see
the same machine load, and prints the epoch times and their ratio. Every
epoch counts, the first one too (it includes the monitor's one-time
compilation and probe setup).

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


class _EpochTimer(keras.callbacks.Callback):
    """Wall time of every epoch, end hooks of earlier callbacks included."""

    def __init__(self):
        super().__init__()
        self.times: list[float] = []
        self._start = 0.0

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self._start)


def run(monitored: bool, epochs: int, seed: int = 0) -> list[float]:
    keras.utils.set_random_seed(seed)
    keras.backend.clear_session()
    model = rnnzoo.build("classification")
    data = rnnzoo.data.load("classification", "train", 64)
    timer = _EpochTimer()
    # The timer's on_epoch_begin runs first and its on_epoch_end last, so the
    # monitor's epoch-end measurement is inside the timed interval.
    callbacks = [GradientMonitor(), timer] if monitored else [timer]
    callbacks.insert(0, _Start(timer))
    model.fit(data, epochs=epochs, verbose=0, callbacks=callbacks)
    return timer.times


class _Start(keras.callbacks.Callback):
    def __init__(self, timer):
        super().__init__()
        self.timer = timer

    def on_epoch_begin(self, epoch, logs=None):
        self.timer._start = time.perf_counter()


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)
    base, mon = [], []
    for _ in range(args.repeats):
        base += run(False, args.epochs)
        mon += run(True, args.epochs)
    b, m = statistics.mean(base), statistics.mean(mon)
    print(f"epoch times without monitor (s): {[round(t, 2) for t in base]}")
    print(f"epoch times with GradientMonitor() (s): {[round(t, 2) for t in mon]}")
    print(f"mean epoch time: {b:.2f} s without, {m:.2f} s with; ratio {m / b:.3f} "
          f"(overhead {100 * (m / b - 1):+.1f}%)")
    return {"base": base, "monitored": mon, "ratio": m / b}


if __name__ == "__main__":
    main()
