"""``rnnzoo train TASK``: train a task's model on its data, evaluate it, save model and metrics.

Writes ``OUT/<task>.keras`` and ``OUT/<task>_metrics.json``, each atomically.
``--strategy`` and ``--backup-dir`` train on several devices or machines with
:mod:`rnnzoo.distribute`.
"""

from __future__ import annotations

import argparse
import os
import time

from rnnzoo.cli.common import (
    add_recurrent_flags, check_positive, model_overrides, parse_pairs, save_model, version,
)

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> None:
    """Declares ``rnnzoo train``."""
    p = subparsers.add_parser(
        "train", help="train a task's model on its data and save it",
        description="Train a task's model, evaluate it on the test split, and write "
        "OUT/<task>.keras and OUT/<task>_metrics.json.",
    )
    p.add_argument("task")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--source", default="builtin", help="builtin (offline) or tfds")
    p.add_argument(
        "--data", nargs="*", metavar="KEY=VALUE", default=[],
        help="data loader options, e.g. --data num_examples=2000",
    )
    p.add_argument("--out", default=None, help="output folder (default: runs/<task>)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--verbose", type=int, default=1, choices=[0, 1, 2],
                   help="Keras verbosity: 1 shows a progress bar")
    p.add_argument(
        "--strategy", default=None, choices=["default", "mirrored", "multiworker", "tpu"],
        help="tf.distribute strategy: mirrored (all local GPUs), multiworker (reads TF_CONFIG; "
        "run the same command on every worker), tpu; --batch-size is the global batch",
    )
    p.add_argument(
        "--backup-dir", default=None,
        help="checkpoint every epoch here (keras BackupAndRestore) and resume from it after "
        "a failure; with several workers it must be storage all of them can read",
    )
    add_recurrent_flags(p)


def _strategy(args: argparse.Namespace):
    """The tf.distribute strategy of ``train --strategy`` (None: Keras' default)."""
    if not getattr(args, "strategy", None):
        return None
    from rnnzoo import distribute

    strategy = distribute.get_strategy(args.strategy)
    info = distribute.cluster_spec()
    print(f"strategy: {args.strategy}, {strategy.num_replicas_in_sync} replica(s), "
          f"worker {info['task_id']} of {info['num_workers']}", flush=True)
    return strategy


def _callbacks(args: argparse.Namespace) -> list:
    if not getattr(args, "backup_dir", None):
        return []
    from rnnzoo import distribute

    return [distribute.BackupAndRestore(args.backup_dir)]


def run(args: argparse.Namespace) -> int:
    """Trains, evaluates on the test split, writes the model and its metrics."""
    check_positive("epochs", args.epochs)
    check_positive("batch-size", args.batch_size)
    import keras

    from rnnzoo import _io, data, distribute, registry
    from rnnzoo.factory import build

    spec = registry.get(args.task)
    overrides = model_overrides(args)
    spec.resolve(overrides)  # fail fast, before loading data
    data_kwargs = parse_pairs(args.data, "--data")
    out = args.out or os.path.join("runs", args.task)
    strategy = _strategy(args)  # before any other TensorFlow work (multi-worker needs it)
    keras.utils.set_random_seed(args.seed)
    train = data.load(args.task, "train", args.batch_size, source=args.source, **data_kwargs)
    val = data.load(args.task, "validation", args.batch_size, source=args.source, **data_kwargs)
    test = data.load(args.task, "test", args.batch_size, source=args.source, **data_kwargs)
    # a loader may name the build options its ids need (e.g. the vocabularies of TFDS text)
    overrides = {**getattr(train, "rnnzoo_build_options", {}), **overrides}
    model = build(args.task, strategy=strategy, **overrides)
    start = time.perf_counter()
    history = distribute.fit(model, train, validation_data=val, epochs=args.epochs,
                             verbose=args.verbose, callbacks=_callbacks(args),
                             strategy=strategy)
    train_seconds = time.perf_counter() - start
    results = distribute.evaluate(model, test, strategy=strategy)
    os.makedirs(out, exist_ok=True)
    model_path = os.path.join(out, f"{args.task}.keras")
    metrics_path = os.path.join(out, f"{args.task}_metrics.json")
    save_model(model, model_path)
    record = {
        "task": args.task,
        "options": spec.resolve(overrides),
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "source": args.source,
        "seed": args.seed,
        "strategy": args.strategy or "default",
        "params": int(model.count_params()),
        "train_seconds": round(train_seconds, 2),
        "history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
        "test": {k: float(v) for k, v in results.items()},
        "versions": {"rnnzoo": version(), "keras": keras.__version__},
    }
    _io.atomic_write_json(metrics_path, record, default=str)
    print(f"test: {', '.join(f'{k}={v:.4f}' for k, v in record['test'].items())}")
    print(f"wrote {model_path} and {metrics_path}")
    return 0
