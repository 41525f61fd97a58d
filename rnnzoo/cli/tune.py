"""``rnnzoo tune TASK``: search a task's registered hyperparameter space with keras-tuner.

Writes the best model ``OUT/<task>_best.keras`` and ``OUT/<task>_best.json``
(every trial's score and hyperparameters), each atomically. Distributed
searches run the same command on the chief and on every worker.
"""

from __future__ import annotations

import argparse
import json
import os

from rnnzoo.cli.common import (
    UserError, add_recurrent_flags, add_training_flags, check_positive, check_training_args,
    load_split, save_run,
)

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> None:
    """Declares ``rnnzoo tune``."""
    p = subparsers.add_parser(
        "tune", help="search a task's hyperparameters with keras-tuner",
        description="Search the task's registered search space with keras-tuner on its data, "
        "print the best configuration and write OUT/<task>_best.keras and OUT/<task>_best.json. "
        "Options given as flags (--cell, --units, --set KEY=VALUE, ...) are fixed, not searched. "
        "Distributed: run the same command on the chief (KERASTUNER_TUNER_ID=chief) and on every "
        "worker (KERASTUNER_TUNER_ID=tuner0, tuner1, ...) with KERASTUNER_ORACLE_IP and "
        "KERASTUNER_ORACLE_PORT set and one shared OUT.",
    )
    p.add_argument("task")
    p.add_argument("--tuner", default="random", choices=["random", "bayesian", "hyperband"])
    p.add_argument("--max-trials", type=int, default=10, help="the most trials to run")
    add_training_flags(p, out_default="runs/tune/<task>",
                       epochs_help="epochs per trial (Hyperband: its max_epochs)")
    p.add_argument("--overwrite", action="store_true",
                   help="start a new search instead of resuming the one in OUT")
    add_recurrent_flags(p)


def _search(args: argparse.Namespace, tuner, data_kwargs: dict) -> None:
    from rnnzoo import tuning

    chief = os.environ.get("KERASTUNER_ORACLE_IP") and not tuning.is_distributed_worker()
    if chief:
        print(f"oracle serving on {os.environ['KERASTUNER_ORACLE_IP']}:"
              f"{os.environ['KERASTUNER_ORACLE_PORT']}", flush=True)
        tuner.search()  # serves trials to the workers until the search is done
        return
    train, val = (load_split(args, split, data_kwargs) for split in ("train", "validation"))
    tuner.search(train, validation_data=val, epochs=args.epochs, verbose=args.verbose)


def run(args: argparse.Namespace) -> int:
    """Runs (or resumes) the search; the chief then saves and prints the best trial."""
    check_positive("max-trials", args.max_trials)
    spec, fixed, data_kwargs = check_training_args(args)
    import keras

    from rnnzoo import tuning

    out = args.out or os.path.join("runs", "tune", args.task)
    keras.utils.set_random_seed(args.seed)
    tuner = tuning.make_tuner(
        args.task, args.tuner, max_trials=args.max_trials, max_epochs=args.epochs,
        directory=os.path.join(out, "search"), project_name=args.task,
        overwrite=args.overwrite, seed=args.seed, **fixed,
    )
    _search(args, tuner, data_kwargs)
    if tuning.is_distributed_worker():
        print(f"{os.environ['KERASTUNER_TUNER_ID']} ran trials: "
              f"{' '.join(tuner.trials_run) or '-'}", flush=True)
        return 0
    metric, direction = spec.objective
    trials = [t for t in tuner.oracle.trials.values() if t.score is not None]
    if not trials:
        raise UserError(f"no trial of the search in {out} completed; see the log above")
    best = tuner.oracle.get_best_trials(1)[0]
    config = {k: v for k, v in best.hyperparameters.values.items() if not k.startswith("tuner/")}
    config.update(fixed)
    model = tuner.get_best_models(1)[0]
    record = {
        "task": args.task,
        "tuner": args.tuner,
        "objective": {"name": metric, "direction": direction},
        "best_trial": best.trial_id,
        "best_score": float(best.score),
        "best_configuration": config,
        "fixed": fixed,
        "trials": [
            {"trial_id": t.trial_id, "score": float(t.score),
             "hyperparameters": dict(t.hyperparameters.values)}
            for t in sorted(trials, key=lambda t: t.trial_id)
        ],
    }
    model_path, json_path = save_run(out, model, f"{args.task}_best.keras", record,
                                     f"{args.task}_best.json")
    print(f"best trial {best.trial_id} of {len(trials)}: {metric}={best.score:.4f} ({direction})")
    print(f"best configuration: {json.dumps(config, default=str)}")
    print(f"rebuild it with: rnnzoo.build({args.task!r}, "
          f"{', '.join(f'{k}={v!r}' for k, v in config.items())})")
    print(f"wrote {model_path} and {json_path}")
    return 0
