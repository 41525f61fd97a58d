"""What every ``rnnzoo`` command shares: user errors, ``KEY=VALUE`` flags, model options, saving.

Imports only the standard library and rnnzoo's leaf helpers, so building the
parser (``rnnzoo --help``) stays instant.
"""

from __future__ import annotations

import argparse
import ast
import os
import sys
from typing import Any, Sequence

from rnnzoo import _io
from rnnzoo import _validation as v

__all__ = [
    "UserError",
    "add_recurrent_flags",
    "add_training_flags",
    "check_positive",
    "check_training_args",
    "format_metric",
    "load_split",
    "model_overrides",
    "parse_pairs",
    "quiet_tensorflow",
    "save_model",
    "save_run",
    "version",
]


class UserError(Exception):
    """A mistake in the command line: printed as one line, exit status 2."""


def quiet_tensorflow() -> None:
    """Hides TensorFlow's C++ log lines unless the user asked for them."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def version() -> str:
    """rnnzoo's version (the package root, already imported: this module lives inside it)."""
    return sys.modules["rnnzoo"].__version__


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


def parse_pairs(pairs: Sequence[str] | None, flag: str) -> dict[str, Any]:
    """``["a=1", "b-c=x"]`` -> ``{"a": 1, "b_c": "x"}``; a pair without ``=`` is a UserError."""
    result = {}
    for pair in pairs or ():
        if "=" not in pair:
            raise UserError(f"{flag} expects KEY=VALUE. Received: {pair!r}")
        key, value = pair.split("=", 1)
        result[key.strip().replace("-", "_")] = _parse_value(value)
    return result


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


def check_training_args(args: argparse.Namespace) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """Checks the flags of :func:`add_training_flags` and the task options, before any data.

    Returns:
        ``(task spec, model overrides, data loader options)``.
    """
    check_positive("epochs", args.epochs)
    check_positive("batch-size", args.batch_size)
    from rnnzoo import registry

    spec = registry.get(args.task)
    overrides = model_overrides(args)
    spec.resolve(overrides)  # fail fast, before loading data
    return spec, overrides, parse_pairs(args.data, "--data")


def load_split(args: argparse.Namespace, split: str, data_kwargs: dict[str, Any]):
    """One split of the task's data as the flags of :func:`add_training_flags` ask."""
    from rnnzoo import data

    return data.load(args.task, split, args.batch_size, source=args.source, **data_kwargs)


def model_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The task options given on the command line (the task validates them)."""
    overrides = {}
    for key in ("cell", "units", "depth", "bidirectional", "dropout", "learning_rate"):
        value = getattr(args, key, None)
        if value is not None:
            overrides[key] = value
    overrides.update(parse_pairs(getattr(args, "set", None), "--set"))
    return overrides


def check_positive(name: str, value: int) -> None:
    """A UserError unless the flag ``--name`` is a positive integer."""
    if not v.is_int(value) or value < 1:
        raise UserError(f"--{name} must be a positive integer. Received: {value}")


def format_metric(value: Any) -> str:
    """Four decimals for floats, ``str`` for anything else."""
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def save_model(model, path: str) -> None:
    """``model.save(path)`` atomically: a reader never sees a half-written ``.keras`` file."""
    with _io.atomic_path(path) as tmp:
        model.save(tmp)


def save_run(out: str, model, model_file: str, record: dict, record_file: str) -> tuple[str, str]:
    """Writes a command's model and its JSON record into the folder ``out``, each atomically.

    Returns:
        ``(model path, record path)``.
    """
    os.makedirs(out, exist_ok=True)
    model_path, record_path = os.path.join(out, model_file), os.path.join(out, record_file)
    save_model(model, model_path)
    _io.atomic_write_json(record_path, record, default=str)
    return model_path, record_path
