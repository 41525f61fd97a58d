"""The ``rnnzoo`` command line's declarations: its commands, their flags, one-line errors.

argparse and the standard library only, so building the parser (``rnnzoo
--help``) imports neither Keras nor the zoo. What a command does lives in its
own module (``rnnzoo.cli.<module>``), which :func:`rnnzoo.cli.main` imports only
when that command runs.

To add a command: write ``rnnzoo/cli/<module>.py`` with ``run(args) -> int``
(importing what it needs at the top), declare its arguments here in an
``add_<name>(subparsers)`` function, and append
``Command("<name>", add_<name>, "<module>")`` to :data:`COMMANDS`.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import Callable, NoReturn

__all__ = [
    "COMMANDS",
    "Command",
    "OneLineArgumentParser",
    "UserError",
    "add_recurrent_flags",
    "add_training_flags",
    "build_parser",
]


class UserError(Exception):
    """A mistake in the command line: printed as one line, exit status 2."""


class OneLineArgumentParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line on stderr (exit status 2), no usage dump."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {message} (see '{self.prog} --help')", file=sys.stderr)
        sys.exit(2)


@dataclasses.dataclass(frozen=True)
class Command:
    """One ``rnnzoo`` command.

    Attributes:
        name: what the user types (``rnnzoo <name>``).
        add_parser: ``add_parser(subparsers)`` declares the command's arguments.
        module: the module under ``rnnzoo.cli`` whose ``function`` runs it.
        function: the function of ``module`` called with the parsed arguments.
    """

    name: str
    add_parser: Callable[..., None]
    module: str
    function: str = "run"


# --------------------------------------------------------------------------- shared flags


def add_recurrent_flags(parser: argparse.ArgumentParser) -> None:
    """The model options every task shares, plus ``--set KEY=VALUE`` for the others."""
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


def add_training_flags(parser: argparse.ArgumentParser, *, out_default: str,
                       epochs_help: str | None = None) -> None:
    """The flags of the commands that fit a task's model on its data (``train``, ``tune``).

    ``--epochs``, ``--batch-size``, ``--source``, ``--data KEY=VALUE``,
    ``--out`` (default ``out_default``), ``--seed`` and ``--verbose``.
    """
    parser.add_argument("--epochs", type=int, default=3, help=epochs_help)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--source", default="builtin", help="builtin (offline) or tfds")
    parser.add_argument(
        "--data", nargs="*", metavar="KEY=VALUE", default=[],
        help="data loader options, e.g. --data num_examples=2000",
    )
    parser.add_argument("--out", default=None, help=f"output folder (default: {out_default})")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=1, choices=[0, 1, 2],
                        help="Keras verbosity: 1 shows a progress bar")


# --------------------------------------------------------------------------- the commands


def add_list(subparsers) -> None:
    """Declares ``rnnzoo list``."""
    p = subparsers.add_parser("list", help="list the registered tasks")
    p.add_argument("--json", action="store_true", help="print JSON")


def add_info(subparsers) -> None:
    """Declares ``rnnzoo info TASK``."""
    p = subparsers.add_parser("info", help="show a task's specification")
    p.add_argument("task")
    p.add_argument("--json", action="store_true", help="print JSON")


def add_train(subparsers) -> None:
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


def add_tune(subparsers) -> None:
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


def add_demo(subparsers) -> None:
    """Declares ``rnnzoo demo``."""
    p = subparsers.add_parser(
        "demo", help="build, train briefly and evaluate every task on built-in data",
    )
    p.add_argument("--tasks", nargs="*", default=None, help="subset of tasks (default: all)")
    p.add_argument("--epochs", type=int, default=None, help="override every task's demo epochs")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--real", nargs="?", const="japanese_vowels_lstm", default=None,
                   metavar="PRESET", help="train one real-data preset end to end and print it "
                   "beside its published baselines (default: japanese_vowels_lstm)")


def add_weights(subparsers) -> None:
    """Declares ``rnnzoo weights`` and its actions."""
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


def add_export(subparsers) -> None:
    """Declares ``rnnzoo export``."""
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
    p.add_argument("--verify-examples", type=int, default=256, metavar="N",
                   help="the most test examples the check runs (default 256)")
    p.add_argument("--weights", default=None, help="weights for a task model, e.g. pretrained")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    add_recurrent_flags(p)


#: Every command, in the order ``--help`` lists them.
def add_presets(subparsers) -> None:
    """Declares ``rnnzoo presets``."""
    p = subparsers.add_parser(
        "presets", help="list the presets: dataset, metric on the official test split, "
                        "baselines, size, licence",
        description="Build one with rnnzoo.build(preset=NAME); a folder written by "
                    "rnnzoo.save_preset or hf://owner/repo works too.",
    )
    p.add_argument("--task", default=None, help="only this task's presets")
    p.add_argument("--json", action="store_true", help="print the rows as JSON")


COMMANDS: list[Command] = [
    Command("list", add_list, "listing"),
    Command("info", add_info, "info"),
    Command("train", add_train, "train"),
    Command("tune", add_tune, "tune"),
    Command("demo", add_demo, "demo"),
    Command("weights", add_weights, "weights"),
    Command("export", add_export, "export"),
    Command("presets", add_presets, "presets"),
]


def build_parser() -> argparse.ArgumentParser:
    """The ``rnnzoo`` argument parser with every command of :data:`COMMANDS`.

    Returns:
        An ``ArgumentParser`` whose errors are one line; building it imports no Keras.
    """
    parser = OneLineArgumentParser(
        prog="rnnzoo", description="A Keras 3 model zoo of recurrent neural networks.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(subparsers)
    return parser
