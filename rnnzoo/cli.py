"""The ``rnnzoo`` command.

```
rnnzoo list                                   # registered tasks
rnnzoo info classification                    # a task's spec
rnnzoo train classification --epochs 3 --cell lstm --out runs/cls
rnnzoo train classification --strategy multiworker --backup-dir /shared/ckpt   # with TF_CONFIG
rnnzoo tune classification --tuner hyperband --max-trials 10   # keras-tuner search
rnnzoo demo                                   # every task, end to end, offline
```

User mistakes (an unknown task, a bad option) print one line to stderr and exit
with status 2; no traceback.

Each command is a pair of functions: ``_add_<name>(subparsers)`` declares its
arguments and ``_cmd_<name>(args)`` runs it. Register new commands in
``_COMMANDS`` at the end of the file.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import sys
import time
from typing import Any, Callable, Sequence

__all__ = ["main"]


class UserError(Exception):
    """A mistake in the command line: printed as one line, exit status 2."""


def _quiet_tensorflow() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _parse_value(text: str) -> Any:
    """Parses ``KEY=VALUE`` values: Python literals when they parse, else strings."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        lowered = text.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        if lowered in ("none", "null"):
            return None
        return text


def _parse_pairs(pairs: Sequence[str] | None, flag: str) -> dict[str, Any]:
    result = {}
    for pair in pairs or ():
        if "=" not in pair:
            raise UserError(f"{flag} expects KEY=VALUE. Received: {pair!r}")
        key, value = pair.split("=", 1)
        result[key.strip().replace("-", "_")] = _parse_value(value)
    return result


def _add_recurrent_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("model options (validated by the task)")
    group.add_argument("--cell", help="lstm, gru, simple, abc, clockwork or feedforward")
    group.add_argument("--units", type=int)
    group.add_argument("--depth", type=int)
    group.add_argument("--bidirectional", action=argparse.BooleanOptionalAction, default=None)
    group.add_argument("--dropout", type=float)
    group.add_argument("--learning-rate", type=float)
    group.add_argument(
        "--set", nargs="*", metavar="KEY=VALUE", default=[],
        help="any other task option, e.g. --set num_classes=5 vocab_size=20000",
    )


def _model_overrides(args: argparse.Namespace) -> dict[str, Any]:
    overrides = {}
    for key in ("cell", "units", "depth", "bidirectional", "dropout", "learning_rate"):
        value = getattr(args, key, None)
        if value is not None:
            overrides[key] = value
    overrides.update(_parse_pairs(getattr(args, "set", None), "--set"))
    return overrides


# --------------------------------------------------------------------------- list


def _add_list(subparsers) -> None:
    p = subparsers.add_parser("list", help="list the registered tasks")
    p.add_argument("--json", action="store_true", help="print JSON")


def _cmd_list(args: argparse.Namespace) -> int:
    import rnnzoo

    rows = [rnnzoo.registry.get(name) for name in rnnzoo.list_models()]
    if args.json:
        print(json.dumps([{"name": s.name, "pattern": s.pattern} for s in rows], indent=2))
        return 0
    width = max(len(s.name) for s in rows)
    for spec in rows:
        print(f"{spec.name:<{width}}  {spec.pattern:<12}  {spec.outputs}")
    return 0


# --------------------------------------------------------------------------- info


def _add_info(subparsers) -> None:
    p = subparsers.add_parser("info", help="show a task's specification")
    p.add_argument("task")
    p.add_argument("--json", action="store_true", help="print JSON")


def _cmd_info(args: argparse.Namespace) -> int:
    import rnnzoo

    info = rnnzoo.describe(args.task)
    if args.json:
        print(json.dumps(info, indent=2, default=str))
        return 0
    print(f"{info['name']}  ({info['pattern']})")
    print(f"  {info['description']}")
    print(f"  inputs:  {info['inputs']}")
    print(f"  outputs: {info['outputs']}")
    print(f"  metrics: {', '.join(info['metrics'])}")
    print(f"  data:    {', '.join(f'{k}: {v}' for k, v in info['datasets'].items())}")
    print(f"  tuning objective: {info['objective']['name']} ({info['objective']['direction']})")
    print("  options:")
    for name, opt in info["options"].items():
        print(f"    {name:<16} default={opt['default']!r:<10} {opt['allowed']}")
        if opt["help"]:
            print(f"    {'':<16} {opt['help']}")
    return 0


# --------------------------------------------------------------------------- train


def _add_train(subparsers) -> None:
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
    _add_recurrent_flags(p)


def _train_strategy(args: argparse.Namespace):
    """The tf.distribute strategy of ``train --strategy`` (None: Keras' default)."""
    if not getattr(args, "strategy", None):
        return None
    from rnnzoo import distribute

    strategy = distribute.get_strategy(args.strategy)
    info = distribute.cluster_spec()
    print(f"strategy: {args.strategy}, {strategy.num_replicas_in_sync} replica(s), "
          f"worker {info['task_id']} of {info['num_workers']}", flush=True)
    return strategy


def _train_callbacks(args: argparse.Namespace) -> list:
    if not getattr(args, "backup_dir", None):
        return []
    from rnnzoo import distribute

    return [distribute.BackupAndRestore(args.backup_dir)]


def _check_positive(name: str, value: int) -> None:
    if value < 1:
        raise UserError(f"--{name} must be a positive integer. Received: {value}")


def _cmd_train(args: argparse.Namespace) -> int:
    _check_positive("epochs", args.epochs)
    _check_positive("batch-size", args.batch_size)
    import keras

    import rnnzoo

    spec = rnnzoo.registry.get(args.task)
    overrides = _model_overrides(args)
    spec.resolve(overrides)  # fail fast, before loading data
    data_kwargs = _parse_pairs(args.data, "--data")
    out = args.out or os.path.join("runs", args.task)
    strategy = _train_strategy(args)  # before any other TensorFlow work (multi-worker needs it)
    keras.utils.set_random_seed(args.seed)
    train = rnnzoo.data.load(args.task, "train", args.batch_size, source=args.source, **data_kwargs)
    val = rnnzoo.data.load(args.task, "validation", args.batch_size, source=args.source,
                           **data_kwargs)
    test = rnnzoo.data.load(args.task, "test", args.batch_size, source=args.source, **data_kwargs)
    # a loader may name the build options its ids need (e.g. the vocabularies of TFDS text)
    overrides = {**getattr(train, "rnnzoo_build_options", {}), **overrides}
    model = rnnzoo.build(args.task, strategy=strategy, **overrides)
    start = time.perf_counter()
    from rnnzoo import distribute

    history = distribute.fit(model, train, validation_data=val, epochs=args.epochs,
                             verbose=args.verbose, callbacks=_train_callbacks(args),
                             strategy=strategy)
    train_seconds = time.perf_counter() - start
    results = distribute.evaluate(model, test, strategy=strategy)
    os.makedirs(out, exist_ok=True)
    model_path = os.path.join(out, f"{args.task}.keras")
    metrics_path = os.path.join(out, f"{args.task}_metrics.json")
    _atomic_save_model(model, model_path)
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
        "versions": {"rnnzoo": rnnzoo.__version__, "keras": keras.__version__},
    }
    _atomic_write_text(metrics_path, json.dumps(record, indent=2, default=str))
    print(f"test: {', '.join(f'{k}={v:.4f}' for k, v in record['test'].items())}")
    print(f"wrote {model_path} and {metrics_path}")
    return 0


def _atomic_write_text(path: str, text: str) -> None:
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def _atomic_save_model(model, path: str) -> None:
    tmp = f"{path[:-len('.keras')]}.tmp-{os.getpid()}.keras"
    try:
        model.save(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


# --------------------------------------------------------------------------- demo


def _add_demo(subparsers) -> None:
    p = subparsers.add_parser(
        "demo", help="build, train briefly and evaluate every task on built-in data",
    )
    p.add_argument("--tasks", nargs="*", default=None, help="subset of tasks (default: all)")
    p.add_argument("--epochs", type=int, default=None, help="override every task's demo epochs")
    p.add_argument("--seed", type=int, default=0)


def _format_metric(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _cmd_demo(args: argparse.Namespace) -> int:
    import keras

    import rnnzoo

    tasks = args.tasks or rnnzoo.list_models()
    for task in tasks:
        rnnzoo.registry.get(task)
    if args.epochs is not None:
        _check_positive("epochs", args.epochs)
    rows = []
    total = time.perf_counter()
    for task in tasks:
        spec = rnnzoo.registry.get(task)
        demo = spec.demo
        keras.utils.set_random_seed(args.seed)
        data_kwargs = dict(demo.get("data", {}))
        eval_kwargs = dict(demo.get("eval_data", {}))
        batch_size = demo.get("batch_size", 64)
        print(f"== {task} ({spec.pattern}) ==", flush=True)
        start = time.perf_counter()
        train = rnnzoo.data.load(task, "train", batch_size, **data_kwargs)
        val = rnnzoo.data.load(task, "validation", batch_size, **eval_kwargs)
        test = rnnzoo.data.load(task, "test", batch_size, **eval_kwargs)
        model = rnnzoo.build(task, **demo.get("overrides", {}))
        epochs = args.epochs or demo.get("epochs", 2)
        model.fit(train, validation_data=val, epochs=epochs, verbose=2)
        results = model.evaluate(test, verbose=0, return_dict=True)
        report = demo["report"](model, test) if demo.get("report") else {}
        for line in report.get("examples", []):
            print(f"   {line}")
        metric = spec.metrics[0] if spec.metrics[0] in results else "loss"
        value = float(results[metric])
        if "metric" in report:  # the report measured the headline metric itself (e.g. BLEU)
            metric, value = report["metric"], float(report["value"])
        rows.append({
            "task": task,
            "cell": getattr(model, "rnnzoo_cell", None) or spec.resolve(demo.get("overrides", {}))
            .get("cell", "-"),
            "params": model.count_params(),
            "epochs": epochs,
            "metric": metric,
            "value": value,
            "baseline": report.get("baseline", "-"),
            "baseline_value": report.get("baseline_value", "-"),
            "seconds": time.perf_counter() - start,
        })
    print()
    header = ["task", "cell", "params", "epochs", "test metric", "value", "baseline", "value",
              "seconds"]
    table = [header] + [
        [r["task"], r["cell"], f"{r['params']:,}", str(r["epochs"]), r["metric"],
         _format_metric(r["value"]), str(r["baseline"]), _format_metric(r["baseline_value"]),
         f"{r['seconds']:.0f}"]
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for i, row in enumerate(table):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)))
        if i == 0:
            print("  ".join("-" * w for w in widths))
    print(f"\ndemo finished in {time.perf_counter() - total:.0f} s")
    return 0


# --------------------------------------------------------------------------- weights


def _add_weights(subparsers) -> None:
    p = subparsers.add_parser(
        "weights", help="list, fetch and verify the published pretrained weights",
        description="Published weights are cached under $RNNZOO_HOME/weights (default "
        "~/.keras/rnnzoo/weights). RNNZOO_WEIGHTS_MIRROR replaces the download base URL; "
        "RNNZOO_OFFLINE=1 forbids network access.",
    )
    sub = p.add_subparsers(dest="weights_command", metavar="ACTION", required=True)
    p_list = sub.add_parser("list", help="the published models: file, size, sha256, metrics")
    p_list.add_argument("--json", action="store_true", help="print the registry records as JSON")
    p_fetch = sub.add_parser(
        "fetch", help="put verified copies in the cache, or in --to DIR (for air-gapped machines)",
    )
    p_fetch.add_argument("tasks", nargs="*", metavar="TASK", help="default: every published task")
    p_fetch.add_argument("--to", default=None, metavar="DIR",
                         help="folder to fill (copy it to $RNNZOO_HOME/weights elsewhere)")
    p_verify = sub.add_parser(
        "verify", help="check the sha256 of the cached and bundled copies (exit 1 on mismatch)",
    )
    p_verify.add_argument("tasks", nargs="*", metavar="TASK")
    p_verify.add_argument("--cache", default=None, metavar="DIR", help="the cache folder to check")


def _cmd_weights(args: argparse.Namespace) -> int:
    from rnnzoo import weights

    records = weights.records()
    action = args.weights_command
    tasks = list(getattr(args, "tasks", None) or [])
    for task in tasks:
        weights.get_record(task)  # ValueError naming the published tasks
    if action == "list":
        if args.json:
            print(json.dumps(records, indent=2))
            return 0
        for task, rec in sorted(records.items()):
            primary = rec.get("primary_metric", "loss")
            value = rec.get("metrics", {}).get("test", {}).get(primary)
            print(f"{task:<22} {rec['file_name']:<34} {rec['size']:>10,} B  "
                  f"{rec['params']:>9,} params  {primary}={_format_metric(value)}  "
                  f"sha256={rec['sha256'][:16]}…")
        import rnnzoo

        for task in rnnzoo.list_models():
            if task not in records:
                print(f"{task:<22} (no published weights yet)")
        total = sum(rec["size"] for rec in records.values())
        print(f"{len(records)} models, {total:,} bytes in total; cache: {weights.cache_dir()}")
        return 0
    if action == "fetch":
        for task in tasks or sorted(records):
            try:
                path = weights.copy_to(task, args.to or weights.cache_dir())
            except weights.WeightsError as exc:
                raise UserError(str(exc)) from None
            print(f"{task}: {path}")
        return 0
    rows = weights.verify(tasks or None, cache=args.cache)
    bad = 0
    for row in rows:
        status = row["status"]
        bad += status == "mismatch"
        extra = (f" expected {row['expected']}, got {row['actual']}"
                 if status == "mismatch" else "")
        print(f"{row['task']:<22} {row['where']:<8} {status:<8} {row['file']}{extra}")
    return 1 if bad else 0


# --------------------------------------------------------------------------- tune


def _add_tune(subparsers) -> None:
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
    p.add_argument("--epochs", type=int, default=3,
                   help="epochs per trial (Hyperband: its max_epochs)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--source", default="builtin", help="builtin (offline) or tfds")
    p.add_argument(
        "--data", nargs="*", metavar="KEY=VALUE", default=[],
        help="data loader options, e.g. --data num_examples=2000",
    )
    p.add_argument("--out", default=None, help="output folder (default: runs/tune/<task>)")
    p.add_argument("--overwrite", action="store_true",
                   help="start a new search instead of resuming the one in OUT")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--verbose", type=int, default=1, choices=[0, 1, 2])
    _add_recurrent_flags(p)


def _cmd_tune(args: argparse.Namespace) -> int:
    _check_positive("max-trials", args.max_trials)
    _check_positive("epochs", args.epochs)
    _check_positive("batch-size", args.batch_size)
    import keras

    import rnnzoo
    from rnnzoo import tuning

    spec = rnnzoo.registry.get(args.task)
    fixed = _model_overrides(args)
    spec.resolve(fixed)  # fail fast, before loading data
    data_kwargs = _parse_pairs(args.data, "--data")
    out = args.out or os.path.join("runs", "tune", args.task)
    keras.utils.set_random_seed(args.seed)
    tuner = tuning.make_tuner(
        args.task, args.tuner, max_trials=args.max_trials, max_epochs=args.epochs,
        directory=os.path.join(out, "search"), project_name=args.task,
        overwrite=args.overwrite, seed=args.seed, **fixed,
    )
    chief = os.environ.get("KERASTUNER_ORACLE_IP") and not tuning.is_distributed_worker()
    if chief:
        print(f"oracle serving on {os.environ['KERASTUNER_ORACLE_IP']}:"
              f"{os.environ['KERASTUNER_ORACLE_PORT']}", flush=True)
        tuner.search()  # serves trials to the workers until the search is done
    else:
        train = rnnzoo.data.load(args.task, "train", args.batch_size, source=args.source,
                                 **data_kwargs)
        val = rnnzoo.data.load(args.task, "validation", args.batch_size, source=args.source,
                               **data_kwargs)
        tuner.search(train, validation_data=val, epochs=args.epochs, verbose=args.verbose)
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
    os.makedirs(out, exist_ok=True)
    model_path = os.path.join(out, f"{args.task}_best.keras")
    json_path = os.path.join(out, f"{args.task}_best.json")
    _atomic_save_model(model, model_path)
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
    _atomic_write_text(json_path, json.dumps(record, indent=2, default=str))
    print(f"best trial {best.trial_id} of {len(trials)}: {metric}={best.score:.4f} ({direction})")
    print(f"best configuration: {json.dumps(config, default=str)}")
    print(f"rebuild it with: rnnzoo.build({args.task!r}, "
          f"{', '.join(f'{k}={v!r}' for k, v in config.items())})")
    print(f"wrote {model_path} and {json_path}")
    return 0


# --------------------------------------------------------------------------- export


def _add_export(subparsers) -> None:
    p = subparsers.add_parser(
        "export", help="export a task's model or a .keras file to a verified .tflite file",
        description="Write a .tflite file with TFLite built-in ops only (no Flex delegate), run "
        "it on the LiteRT interpreter and compare it with Keras. TASK_OR_MODEL_FILE is a "
        "registered task (a freshly built model, or --weights) or a saved .keras file.",
    )
    p.add_argument("model", metavar="TASK_OR_MODEL_FILE")
    p.add_argument("--out", required=True, help="the .tflite file to write")
    p.add_argument("--quantize", default=None, choices=["dynamic", "float16", "int8"],
                   help="post-training quantization (default: float32)")
    p.add_argument("--streaming", action="store_true",
                   help="one time step per call, with explicit state inputs and outputs")
    p.add_argument("--sequence-length", type=int, default=None,
                   help="fix the time length (default: dynamic; int8 fixes it)")
    p.add_argument("--fused-lstm", action="store_true",
                   help="LSTM layers as fused UNIDIRECTIONAL_SEQUENCE_LSTM ops (no WHILE loop)")
    p.add_argument("--no-verify", dest="verify", action="store_false",
                   help="skip running the file against Keras")
    p.add_argument("--weights", default=None, help="weights for a task model, e.g. pretrained")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    _add_recurrent_flags(p)


def _cmd_export(args: argparse.Namespace) -> int:
    import rnnzoo
    from rnnzoo import export

    overrides = _model_overrides(args)
    if os.path.isfile(args.model) or args.model.endswith(".keras"):
        if not os.path.isfile(args.model):
            raise FileNotFoundError(f"No such model file: {args.model}")
        if overrides or args.weights:
            raise UserError("model options and --weights apply to a task, not a .keras file")
        import keras

        model = keras.saving.load_model(args.model, safe_mode=True)
    else:
        model = rnnzoo.build(args.model, weights=args.weights, **overrides)
    try:
        report = export.to_tflite(
            model, args.out, quantize=args.quantize, streaming=args.streaming,
            sequence_length=args.sequence_length, verify=args.verify, verbose=not args.json,
            fused_lstm=args.fused_lstm,
        )
    except export.ExportError as exc:
        print(f"rnnzoo export: error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, default=str))
    return 0


# --------------------------------------------------------------------------- main

# (name, add_parser, run). Later modules add their commands here.
_COMMANDS: list[tuple[str, Callable, Callable]] = [
    ("list", _add_list, _cmd_list),
    ("info", _add_info, _cmd_info),
    ("train", _add_train, _cmd_train),
    ("tune", _add_tune, _cmd_tune),
    ("demo", _add_demo, _cmd_demo),
    ("weights", _add_weights, _cmd_weights),
    ("export", _add_export, _cmd_export),
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rnnzoo", description="A Keras 3 model zoo of recurrent neural networks.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for _, add, _ in _COMMANDS:
        add(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rnnzoo`` console script."""
    _quiet_tensorflow()
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from rnnzoo import __version__

        print(__version__)
        return 0
    if not args.command:
        parser.print_help()
        return 2
    run = {name: cmd for name, _, cmd in _COMMANDS}[args.command]
    try:
        return run(args) or 0
    except (UserError, ValueError, FileNotFoundError) as exc:
        print(f"rnnzoo {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
