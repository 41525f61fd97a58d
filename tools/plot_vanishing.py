"""Vanishing gradients, measured: SimpleRNN, ABC, LSTM, GRU and Clockwork RNN on T = 100.

Trains the classification model of every recurrent cell rnnzoo has (the
same embedding, width, optimizer and data) on "recall the first symbol" with
sequences of exactly ``--length`` steps (the built-in classification problem,
without padding: the label is the marker at step 1, the loss is read after
step T), with a :class:`rnnzoo.callbacks.GradientMonitor` on a fixed probe
batch. Writes one figure of ``log10 ||dL/dh_t||`` over time steps for every
cell (at initialization and after the last epoch) and prints a markdown table of
retention ratios ``||dL/dh_1|| / ||dL/dh_T||`` and test accuracies.

Usage:

```bash
python tools/plot_vanishing.py                       # writes docs/vanishing_gradients.png
python tools/plot_vanishing.py --epochs 3 --examples 2000 --out /tmp/v.png
```
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import rnnzoo  # noqa: E402
from rnnzoo.callbacks import GradientMonitor  # noqa: E402
from rnnzoo.callbacks.measure import log10  # noqa: E402
from rnnzoo.callbacks.report import matplotlib_classes, save_figure  # noqa: E402
from rnnzoo.data.classification import generate  # noqa: E402
from rnnzoo.layers.recurrent import available_cells  # noqa: E402

ORDER = ["simple", "abc", "lstm", "gru", "clockwork"]
LABELS = {"simple": "SimpleRNN", "abc": "ABCSimpleRNN", "lstm": "LSTM", "gru": "GRU",
          "clockwork": "ClockworkRNN"}
COLORS = {"simple": "tab:red", "abc": "tab:orange", "lstm": "tab:blue", "gru": "tab:green",
          "clockwork": "tab:purple"}


def train_one(cell, data, args, gain=None):
    (x_train, y_train), (x_test, y_test), (x_probe, y_probe) = data
    keras.utils.set_random_seed(args.seed)
    keras.backend.clear_session()
    model = rnnzoo.build("classification", cell=cell, units=args.units, embedding_dim=16,
                         learning_rate=args.learning_rate)
    if gain is not None:
        # The textbook setting: a contracting recurrent matrix. Keras' default
        # orthogonal recurrent kernel has every singular value 1; scaled by
        # `gain` < 1, the gradient shrinks at least by `gain` per step.
        kernel = model.get_layer("rnn_1").cell.recurrent_kernel
        kernel.assign(kernel * gain)
    monitor = GradientMonitor(probe=(x_probe, y_probe), vanish_threshold=None,
                              every_n_batches=10**9)
    initial = monitor.measure(model, x_probe, y_probe)["curves"]
    start = time.perf_counter()
    model.fit(x_train, y_train, epochs=args.epochs, batch_size=64, verbose=0,
              callbacks=[monitor])
    seconds = time.perf_counter() - start
    accuracy = model.evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"]
    (layer,) = monitor.history  # one recurrent layer: "rnn_1"
    curves = monitor.history[layer]
    return {
        "cell": cell if gain is None else f"{cell}@{gain:g}",
        "first_curve": initial[layer],
        "last_curve": curves[-1],
        "retention_first": initial[layer][0] / initial[layer][-1],
        "retention_last": curves[-1][0] / curves[-1][-1],
        "accuracy": float(accuracy),
        "seconds": seconds,
    }


def plot(results, path, args):
    figure_cls, canvas_cls = matplotlib_classes()
    fig = figure_cls(figsize=(11, 4.2), dpi=120)
    canvas_cls(fig)
    axes = fig.subplots(1, 2, sharey=True)
    for ax, key, title in ((axes[0], "first_curve", "at initialization"),
                           (axes[1], "last_curve", f"after epoch {args.epochs}")):
        for r in results:
            # Gradients below float32's range are exactly 0: the line stops there.
            curve = log10(r[key])
            ratio = r[key][0] / r[key][-1]
            text = f"{ratio:.1e}" if ratio > 0 else "0: underflow"
            ax.plot(np.arange(1, len(curve) + 1), curve, color=COLORS[r["cell"]],
                    linestyle="--" if "@" in r["cell"] else "-",
                    label=f"{LABELS[r['cell']]} (ratio {text})")
        ax.set_title(f"||dL/dh_t|| through time, {title}", fontsize=10)
        ax.set_xlabel("time step t (the label is at t = 1, the loss after t = T)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    axes[0].set_ylabel("log10 ||dL/dh_t||")
    fig.suptitle(f'Backpropagation through time on "recall the first symbol", T = {args.length}'
                 f", {args.units} units", fontsize=11)
    fig.tight_layout()
    return save_figure(fig, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=100)
    parser.add_argument("--examples", type=int, default=4000)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--units", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cells", nargs="*", default=None)
    parser.add_argument("--contracting-gain", type=float, default=0.5,
                        help="also train a SimpleRNN whose orthogonal recurrent kernel is "
                             "scaled by this gain (0: skip)")
    parser.add_argument("--out", default=os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs",
        "vanishing_gradients.png"))
    args = parser.parse_args(argv)
    cells = args.cells or [c for c in ORDER if c in available_cells()]
    opts = dict(sequence_length=args.length, min_length=args.length)
    train = generate(args.examples, seed=1, **opts)
    test = generate(1000, seed=2, **opts)
    probe = generate(64, seed=3, **opts)
    data = (train, test, probe)
    results = []
    runs = [(cell, None) for cell in cells]
    if args.contracting_gain and "simple" in cells:
        runs.insert(1, ("simple", args.contracting_gain))
    for cell, gain in runs:
        r = train_one(cell, data, args, gain)
        if gain is not None:
            key = r["cell"]
            LABELS[key] = f"SimpleRNN, recurrent kernel x{gain:g}"
            COLORS[key] = "tab:brown"
        cell = r["cell"]
        print(f"{LABELS[cell]:>13}: retention {r['retention_first']:.2e} -> "
              f"{r['retention_last']:.2e}, test accuracy {r['accuracy']:.3f} "
              f"({r['seconds']:.0f} s)", flush=True)
        results.append(r)
    path = plot(results, args.out, args)
    chance = 1 / 4
    print(f"\nwrote {path}\n")
    print(f"| layer | ||dL/dh_1|| / ||dL/dh_T|| at initialization | after {args.epochs} epochs "
          f"| test accuracy (chance {chance:.2f}) |")
    print("|---|---|---|---|")
    def fmt(ratio):
        return f"{ratio:.1e}" if ratio > 0 else "0 (below float32 range)"

    for r in results:
        print(f"| {LABELS[r['cell']]} | {fmt(r['retention_first'])} | {fmt(r['retention_last'])} "
              f"| {r['accuracy']:.3f} |")
    return results


if __name__ == "__main__":
    main()
