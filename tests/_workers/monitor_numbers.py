"""GradientMonitor's numbers for fixed models and batches, under whatever KERAS_BACKEND is set.

Run by tests/test_backends.py once per backend. The weights come from a
numpy generator (not the backend's initializers) and the batches from
rnnzoo's built-in data, so every backend measures the very same function.
Prints one JSON line ``{case: {"norms": {...}, "curves": {...}, "loss": float}}``.
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import rnnzoo  # noqa: E402
from rnnzoo.callbacks import GradientMonitor  # noqa: E402

CASES = {
    # masked token ids, a bidirectional two-layer stack: every traced path at once
    "lstm": dict(cell="lstm", units=6, embedding_dim=5, depth=2, bidirectional=True),
    "gru": dict(cell="gru", units=6, embedding_dim=5, depth=2, bidirectional=True),
    # 60 contracting steps: per-step norms down to about 1e-30
    "simple_long": dict(cell="simple", units=4, embedding_dim=3),
}


def _fixed_weights(model, seed):
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(scale=0.4, size=w.shape).astype(w.dtype)
                       for w in model.get_weights()])


def main():
    out = {}
    for i, (name, options) in enumerate(CASES.items()):
        long = name == "simple_long"
        data = dict(num_examples=16, sequence_length=60 if long else 12,
                    min_length=60 if long else 6, shuffle=False)
        x, y = next(iter(rnnzoo.data.load("classification", "train", 8, **data)))
        model = rnnzoo.build("classification", **options)
        model(np.asarray(x))
        _fixed_weights(model, i)
        if long:  # a contracting recurrence: 0.3 * identity
            cell = model.get_layer("rnn_1").cell
            cell.recurrent_kernel.assign(0.3 * np.eye(4, dtype="float32"))
        result = GradientMonitor(per_weight=True).measure(model, np.asarray(x), np.asarray(y),
                                                          compiled=True)
        out[name] = {"norms": result["norms"], "loss": result["loss"],
                     "curves": {k: v.tolist() for k, v in result["curves"].items()}}
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    sys.exit(main())
