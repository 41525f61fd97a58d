"""MirroredStrategy over 2 logical CPU devices vs one device, on the default classification model.

Run by tests/test_distribute.py in its own process (logical devices must be
configured before TensorFlow starts). Prints one JSON line:
``{"replicas": int, "one_device": [...], "mirrored": [...], "mirrored_loop": [...]}``
with the per-epoch training losses of the same model, same initial weights and
same batches trained (1) on one device with model.fit, (2) under
MirroredStrategy with model.fit, (3) under MirroredStrategy with
rnnzoo.distribute.fit's own loop.
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from rnnzoo import distribute  # noqa: E402

distribute.split_cpu(2)

import keras  # noqa: E402

import rnnzoo  # noqa: E402

EPOCHS = 3


def data():
    kwargs = dict(num_examples=128, sequence_length=12, min_length=6, shuffle=False)
    return rnnzoo.data.load("classification", "train", 32, **kwargs)


def train(strategy, initial, engine):
    model = rnnzoo.build("classification", strategy=strategy, learning_rate=1e-2)
    model.set_weights(initial)
    history = distribute.fit(model, data(), epochs=EPOCHS, verbose=0, strategy=strategy,
                             engine=engine)
    return [float(v) for v in history.history["loss"]]


def main():
    keras.utils.set_random_seed(0)
    initial = rnnzoo.build("classification").get_weights()  # the default model
    mirrored = distribute.get_strategy("mirrored", devices=["/cpu:0", "/cpu:1"])
    result = {
        "replicas": mirrored.num_replicas_in_sync,
        "one_device": train(None, initial, "keras"),
        "mirrored": train(mirrored, initial, "keras"),
        "mirrored_loop": train(mirrored, initial, "loop"),
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    sys.exit(main())
