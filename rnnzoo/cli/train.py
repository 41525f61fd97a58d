"""``rnnzoo train TASK``: train a task's model on its data, evaluate it, save model and metrics.

Writes ``OUT/<task>.keras`` and ``OUT/<task>_metrics.json``, each atomically.
``--strategy`` (TensorFlow) or ``--distribute`` (JAX), and ``--backup-dir``,
train on several devices or machines with :mod:`rnnzoo.distribute`.
"""

from __future__ import annotations

import argparse
import os
import time

from rnnzoo.cli.common import (
    UserError, add_recurrent_flags, add_training_flags, check_training_args, load_split, save_run,
    version,
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
    add_training_flags(p, out_default="runs/<task>")
    p.add_argument(
        "--strategy", default=None, choices=["default", "mirrored", "multiworker", "tpu"],
        help="tf.distribute strategy: mirrored (all local GPUs), multiworker (reads TF_CONFIG; "
        "run the same command on every worker), tpu; --batch-size is the global batch",
    )
    p.add_argument(
        "--distribute", default=None, choices=["data-parallel", "model-parallel"],
        help="keras.distribution on the JAX backend: data-parallel over every device of every "
        "process (--coordinator/--num-processes/--process-id, or KERAS_DISTRIBUTION_* "
        "variables, join several processes); --batch-size is the global batch",
    )
    p.add_argument("--coordinator", default=None, metavar="HOST:PORT",
                   help="with --distribute: the address of process 0")
    p.add_argument("--num-processes", type=int, default=None,
                   help="with --distribute: the number of processes")
    p.add_argument("--process-id", type=int, default=None,
                   help="with --distribute: this process's index, 0 .. N-1")
    p.add_argument(
        "--backup-dir", default=None,
        help="checkpoint every epoch here (keras BackupAndRestore) and resume from it after "
        "a failure; with several workers it must be storage all of them can read",
    )
    add_recurrent_flags(p)


def _strategy(args: argparse.Namespace):
    """The tf.distribute strategy of ``train --strategy`` (None: Keras' default).

    ``--distribute`` instead sets Keras' distribution (JAX) and returns None.
    """
    from rnnzoo import distribute

    if getattr(args, "distribute", None):
        if getattr(args, "strategy", None):
            raise UserError("--strategy (tf.distribute) and --distribute (keras.distribution) "
                            "exclude each other: give one.")
        try:
            print(distribute.setup(args.distribute, coordinator=args.coordinator,
                                   num_processes=args.num_processes,
                                   process_id=args.process_id), flush=True)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        return None
    if not getattr(args, "strategy", None):
        return None

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
    spec, overrides, data_kwargs = check_training_args(args)
    import keras

    from rnnzoo import distribute
    from rnnzoo.factory import build

    out = args.out or os.path.join("runs", args.task)
    strategy = _strategy(args)  # before any other TensorFlow work (multi-worker needs it)
    keras.utils.set_random_seed(args.seed)
    train, val, test = (load_split(args, split, data_kwargs)
                        for split in ("train", "validation", "test"))
    # a loader may name the build options its ids need (e.g. the vocabularies of TFDS text)
    overrides = {**getattr(train, "rnnzoo_build_options", {}), **overrides}
    model = build(args.task, strategy=strategy, **overrides)
    start = time.perf_counter()
    history = distribute.fit(model, train, validation_data=val, epochs=args.epochs,
                             verbose=args.verbose, callbacks=_callbacks(args),
                             strategy=strategy)
    train_seconds = time.perf_counter() - start
    results = distribute.evaluate(model, test, strategy=strategy)
    record = {
        "task": args.task,
        "options": spec.resolve(overrides),
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "source": args.source,
        "seed": args.seed,
        "strategy": args.strategy or "default",
        "distribute": args.distribute,
        "params": int(model.count_params()),
        "train_seconds": round(train_seconds, 2),
        "history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
        "test": {k: float(v) for k, v in results.items()},
        "versions": {"rnnzoo": version(), "keras": keras.__version__},
    }
    model_path, metrics_path = save_run(out, model, f"{args.task}.keras", record,
                                        f"{args.task}_metrics.json")
    print(f"test: {', '.join(f'{k}={v:.4f}' for k, v in record['test'].items())}")
    print(f"wrote {model_path} and {metrics_path}")
    return 0
