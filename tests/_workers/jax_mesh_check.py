"""keras.distribution on 2 JAX CPU devices vs one device, on a small classification model.

Run by tests/test_distribute.py in its own process, with ``KERAS_BACKEND=jax``
and ``XLA_FLAGS=--xla_force_host_platform_device_count=2`` (the devices must
exist before JAX starts). Prints one JSON line:
``{"devices": int, "losses": {engine: [...]}, "max_weight_diff": {engine: float},
"sharded": [variable paths split over the "model" axis]}`` for the same
initial weights and batches trained (1) on one device, (2) with
``DataParallel`` over both devices, (3) with ``ModelParallel`` (rnnzoo's
layout rules) on a 1 x 2 mesh.
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import jax  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

import rnnzoo  # noqa: E402
from rnnzoo import distribute  # noqa: E402

OPTIONS = dict(units=8, embedding_dim=8, learning_rate=1e-2)


def data():
    return rnnzoo.data.load("classification", "train", 16, num_examples=64, sequence_length=12,
                            min_length=6, shuffle=False)


def train(distribution, initial):
    def run():
        model = rnnzoo.build("classification", **OPTIONS)
        model.set_weights(initial)
        history = model.fit(data(), epochs=3, verbose=0)
        sharded = [v.path for v in model.variables
                   if not v.value.sharding.is_fully_replicated]
        return model.get_weights(), [float(x) for x in history.history["loss"]], sharded

    if distribution is None:
        return run()
    with distribution.scope():
        return run()


def main():
    keras.utils.set_random_seed(0)
    initial = rnnzoo.build("classification", **OPTIONS).get_weights()
    one = train(None, initial)
    runs = {
        "data-parallel": train(distribute.get_distribution("data-parallel"), initial),
        "model-parallel": train(distribute.get_distribution("model-parallel", model_devices=2),
                                initial),
    }
    result = {
        "devices": len(jax.devices()),
        "losses": {"one": one[1], **{k: r[1] for k, r in runs.items()}},
        "max_weight_diff": {k: max(float(np.max(np.abs(a - b))) for a, b in zip(one[0], r[0]))
                            for k, r in runs.items()},
        "sharded": {k: r[2] for k, r in runs.items()},
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    sys.exit(main())
