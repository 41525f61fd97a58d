"""Training speed of a model from `rnnzoo.build` vs the same architecture written by hand.

Both models are the default classification model (Embedding with mask_zero,
LSTM(64), softmax over 4 classes, Adam with clipnorm=1.0) trained on the same
built-in data; runs are interleaved and the median epoch times compared, in one
process, so machine noise hits both alike. Ratio = hand-written time / rnnzoo
time (>= 0.95 is the goal: rnnzoo adds no overhead).

Usage: python tools/bench_build.py [--repeats 3] [--cell lstm]
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402

import rnnzoo  # noqa: E402


def hand_written(cell: str, units: int, vocab: int, classes: int) -> keras.Model:
    layer = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU,
             "simple": keras.layers.SimpleRNN}[cell]
    inputs = keras.Input((None,), dtype="int32")
    x = keras.layers.Embedding(vocab, 32, mask_zero=True)(inputs)
    x = layer(units)(x)
    outputs = keras.layers.Dense(classes, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(1e-3, clipnorm=1.0),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def epoch_time(model: keras.Model, ds) -> tuple[float, float]:
    """Wall seconds and CPU seconds (all threads) of one epoch."""
    wall, cpu = time.perf_counter(), time.process_time()
    model.fit(ds, epochs=1, verbose=0)
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cell", default="lstm", choices=["lstm", "gru", "simple"])
    parser.add_argument("--examples", type=int, default=4000)
    args = parser.parse_args()
    ds = rnnzoo.data.load("classification", "train", 64, num_examples=args.examples)
    keras.utils.set_random_seed(0)
    ours = rnnzoo.build("classification", cell=args.cell)
    theirs = hand_written(args.cell, 64, 32, 4)
    assert ours.count_params() == theirs.count_params()
    epoch_time(ours, ds), epoch_time(theirs, ds)  # warm-up: tracing and compilation
    t_ours, t_theirs = [], []
    for i in range(args.repeats):  # alternate which goes first
        pair = [(t_ours, ours), (t_theirs, theirs)]
        for times, model in (pair if i % 2 == 0 else pair[::-1]):
            times.append(epoch_time(model, ds))
    print(f"cell={args.cell}, {args.examples} examples/epoch, batch 64, {args.repeats} epochs each")
    for k, label in ((0, "wall"), (1, "CPU")):
        o = statistics.median(t[k] for t in t_ours)
        t = statistics.median(t[k] for t in t_theirs)
        print(f"{label:>4}: rnnzoo.build median epoch {o:.2f} s, hand-written {t:.2f} s, "
              f"speed ratio (hand / rnnzoo) = {t / o:.3f}  (goal >= 0.95)")


if __name__ == "__main__":
    main()
