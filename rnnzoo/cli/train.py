"""``rnnzoo train TASK``: train a task's model on its data, evaluate it, save model and metrics.

Writes ``OUT/<task>.keras`` and ``OUT/<task>_metrics.json``, each atomically.
``--strategy`` (TensorFlow) or ``--distribute`` (JAX), and ``--backup-dir``,
train on several devices or machines with :mod:`rnnzoo.distribute`; a run resumed from ``--backup-dir`` reports every
epoch of the whole run once (those before the interruption come from the backup).
Every flag and path is checked before any data is loaded.
"""

from __future__ import annotations

import argparse
import os
import time

import keras

from rnnzoo import distribute
from rnnzoo.distribute.backup import METADATA_FILE, WEIGHTS_FILE
from rnnzoo.cli.common import (
    UserError, check_output_dir, check_training_args, finite_or_none, format_metric, load_split,
    out_of_memory_is_a_user_error, save_run, version,
)
from rnnzoo.factory import build

__all__ = ["run"]

_TOO_BIG = "use a smaller model (--units, --depth, --set ...) or a smaller --batch-size"


def _strategy(args: argparse.Namespace):
    """The tf.distribute strategy of ``train --strategy`` (None: Keras' default).

    ``--distribute`` instead sets Keras' distribution (JAX) and returns None.
    """
    if args.distribute:
        if args.strategy:
            raise UserError("--strategy (tf.distribute) and --distribute (keras.distribution) "
                            "exclude each other: give one.")
        if args.num_processes and args.batch_size % args.num_processes:
            raise UserError(f"--batch-size must be divisible by --num-processes (the global "
                            f"batch is split evenly). Received: --batch-size {args.batch_size}, "
                            f"--num-processes {args.num_processes}")
        try:
            print(distribute.setup(args.distribute, coordinator=args.coordinator,
                                   num_processes=args.num_processes,
                                   process_id=args.process_id), flush=True)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        return None
    if not args.strategy:
        return None
    strategy = distribute.get_strategy(args.strategy)
    info = distribute.cluster_spec()
    print(f"strategy: {args.strategy}, {strategy.num_replicas_in_sync} replica(s), "
          f"worker {info['task_id']} of {info['num_workers']}", flush=True)
    return strategy


def run(args: argparse.Namespace) -> int:
    """Trains, evaluates on the test split, writes the model and its metrics."""
    spec, overrides, data_kwargs = check_training_args(args)
    model_file, metrics_file = f"{args.task}.keras", f"{args.task}_metrics.json"
    out = check_output_dir("--out", args.out or os.path.join("runs", args.task),
                           files=[model_file, metrics_file])
    if args.backup_dir:
        check_output_dir("--backup-dir", args.backup_dir,
                         files=[WEIGHTS_FILE, METADATA_FILE])
    strategy = _strategy(args)  # before any other TensorFlow work (multi-worker needs it)
    keras.utils.set_random_seed(args.seed)
    train, val, test = (load_split(args, split, data_kwargs)
                        for split in ("train", "validation", "test"))
    # a loader may name the build options its ids need (e.g. the vocabularies of TFDS text)
    overrides = {**getattr(train, "rnnzoo_build_options", {}), **overrides}
    backup = distribute.BackupAndRestore(args.backup_dir) if args.backup_dir else None
    with out_of_memory_is_a_user_error(_TOO_BIG):
        model = build(args.task, strategy=strategy, **overrides)
        start = time.perf_counter()
        history = distribute.fit(model, train, validation_data=val, epochs=args.epochs,
                                 verbose=args.verbose, callbacks=[backup] if backup else [],
                                 strategy=strategy)
        train_seconds = time.perf_counter() - start
        results = distribute.evaluate(model, test, strategy=strategy)
    epochs = backup.history if backup is not None else history.history
    record = {
        "task": args.task,
        "options": spec.resolve(overrides),
        "epochs": args.epochs,
        "resumed_at_epoch": backup.restored_epochs if backup is not None else 0,
        "batch_size": args.batch_size,
        "source": args.source,
        "seed": args.seed,
        "strategy": args.strategy or "default",
        "distribute": args.distribute,
        "params": int(model.count_params()),
        "train_seconds": round(train_seconds, 2),
        # every epoch of the run once (a resumed run's earlier epochs come from the backup);
        # null where training diverged (NaN or infinity): the file stays strict JSON
        "history": {k: [finite_or_none(x) for x in vs] for k, vs in epochs.items()},
        "test": {k: finite_or_none(x) for k, x in results.items()},
        "versions": {"rnnzoo": version(), "keras": keras.__version__},
    }
    model_path, metrics_path = save_run(out, model, model_file, record, metrics_file)
    print(f"test: {', '.join(f'{k}={format_metric(x)}' for k, x in record['test'].items())}")
    print(f"wrote {model_path} and {metrics_path}")
    return 0
