"""``rnnzoo tune TASK``: search a task's registered hyperparameter space with keras-tuner.

Writes the best model ``OUT/<task>_best.keras`` and ``OUT/<task>_best.json``
(every trial's score and hyperparameters), each atomically. Distributed
searches run the same command on the chief and on every worker.
"""

from __future__ import annotations

import argparse
import json
import os

import keras

from rnnzoo import tuning
from rnnzoo.cli.common import (
    UserError, check_output_dir, check_positive, check_training_args, finite_or_none,
    load_split, out_of_memory_is_a_user_error, save_run,
)

__all__ = ["run"]


def _search(args: argparse.Namespace, tuner, data_kwargs: dict) -> None:
    chief = os.environ.get("KERASTUNER_ORACLE_IP") and not tuning.is_distributed_worker()
    if chief:
        print(f"oracle serving on {os.environ['KERASTUNER_ORACLE_IP']}:"
              f"{os.environ['KERASTUNER_ORACLE_PORT']}", flush=True)
        tuner.search()  # serves trials to the workers until the search is done
        return
    train, val = (load_split(args, split, data_kwargs) for split in ("train", "validation"))
    # shuffle=False: the datasets are shuffled already (Keras warns otherwise on every trial)
    tuner.search(train, validation_data=val, epochs=args.epochs, verbose=args.verbose,
                 shuffle=False)


def run(args: argparse.Namespace) -> int:
    """Runs (or resumes) the search; the chief then saves and prints the best trial."""
    check_positive("max-trials", args.max_trials)
    spec, fixed, data_kwargs = check_training_args(args)
    out = check_output_dir("--out", args.out or os.path.join("runs", "tune", args.task),
                           files=[f"{args.task}_best.keras", f"{args.task}_best.json"])
    keras.utils.set_random_seed(args.seed)
    tuner = tuning.make_tuner(
        args.task, args.tuner, max_trials=args.max_trials, max_epochs=args.epochs,
        directory=os.path.join(out, "search"), project_name=args.task,
        overwrite=args.overwrite, seed=args.seed, **fixed,
    )
    with out_of_memory_is_a_user_error("fix smaller options with --units, --set ... or use a "
                                       "smaller --batch-size"):
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
        "best_score": finite_or_none(best.score),
        "best_configuration": config,
        "fixed": fixed,
        "trials": [
            {"trial_id": t.trial_id, "score": finite_or_none(t.score),
             "hyperparameters": dict(t.hyperparameters.values)}
            for t in sorted(trials, key=lambda t: t.trial_id)
        ],
    }
    model_path, json_path = save_run(out, model, f"{args.task}_best.keras", record,
                                     f"{args.task}_best.json")
    print(f"best trial {best.trial_id} of {len(trials)}: {metric}={best.score:.4f} ({direction})")
    print(f"best configuration: {json.dumps(config, default=str, allow_nan=False)}")
    print(f"rebuild it with: rnnzoo.build({args.task!r}, "
          f"{', '.join(f'{k}={v!r}' for k, v in config.items())})")
    print(f"wrote {model_path} and {json_path}")
    return 0
