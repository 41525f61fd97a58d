"""What the ``rnnzoo`` commands share when they run: option parsing, checks before work, saving.

Every check a command can make before it loads data or trains runs first
(:func:`check_training_args`, :func:`check_output_dir`, :func:`check_output_file`),
so a mistake costs nothing and a finished model is never lost to a bad ``--out``.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import inspect
import math
import os
import sys
from typing import Any, Iterator, Sequence

from rnnzoo import _io, data, registry
from rnnzoo import _validation as v
from rnnzoo.cli.parser import UserError

__all__ = [
    "UserError",
    "check_output_dir",
    "check_output_file",
    "check_positive",
    "check_training_args",
    "finite_or_none",
    "format_metric",
    "load_split",
    "model_overrides",
    "out_of_memory_is_a_user_error",
    "parse_pairs",
    "save_model",
    "save_run",
    "version",
]


def version() -> str:
    """rnnzoo's version (the package root, already imported: this module lives inside it)."""
    return sys.modules["rnnzoo"].__version__


def _parse_value(text: str) -> Any:
    """Parses ``KEY=VALUE`` values: Python literals when they parse, else strings."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
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
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UserError(f"{flag} expects KEY=VALUE. Received: {pair!r}")
        result[key.strip().replace("-", "_")] = _parse_value(value)
    return result


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


def _nearest_existing(path: str) -> str:
    while not os.path.lexists(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return path


def check_output_dir(flag: str, path: str | os.PathLike, files: Sequence[str] = ()) -> str:
    """Checks, before any work, that the folder ``path`` can hold the command's outputs.

    Nothing is created: the folder may not exist yet, but then its nearest
    existing parent must be a writable folder.

    Args:
        flag: the flag or variable that named the folder, for the message (``--out``).
        path: the folder.
        files: the file names the command will write in it (none may be a folder).

    Returns:
        The absolute path of the folder.

    Raises:
        UserError: when ``path`` is a file, lies under a file, or cannot be written.
    """
    path = os.path.abspath(os.fspath(path))
    existing = _nearest_existing(path)
    if not os.path.isdir(existing):
        where = "is" if existing == path else f"lies under {existing}, which is"
        raise UserError(f"{flag} must be a folder: {path} {where} a file.")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UserError(f"{flag} {path} cannot be written: {existing} is not writable.")
    for name in files:
        if os.path.isdir(os.path.join(path, name)):
            raise UserError(f"{flag} {path} already holds a folder named {name}, which this "
                            "command writes as a file.")
    return path


def check_output_file(flag: str, path: str | os.PathLike) -> str:
    """Checks, before any work, that the file ``path`` can be written (its folder may not exist).

    Raises:
        UserError: when ``path`` is a folder, or its folder cannot be created or written.
    """
    path = os.path.abspath(os.fspath(path))
    if os.path.isdir(path):
        raise UserError(f"{flag} must be a file name: {path} is a folder.")
    check_output_dir(flag, os.path.dirname(path))
    return path


def _check_loader_options(args: argparse.Namespace, spec, data_kwargs: dict) -> None:
    if args.source not in spec.datasets:
        raise UserError(
            f"--source must be one of {sorted(spec.datasets)} for task '{spec.name}'. "
            f"Received: {args.source!r}.{v.suggest(args.source, spec.datasets)}"
        )
    params = inspect.signature(spec.datasets[args.source]).parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return
    allowed = sorted(n for n, p in params.items()
                     if p.kind is p.KEYWORD_ONLY or (p.kind is p.POSITIONAL_OR_KEYWORD
                                                     and n not in ("split", "batch_size")))
    for key in data_kwargs:
        if key not in allowed:
            raise UserError(
                f"Unknown --data option `{key}` for --source {args.source} of task "
                f"'{spec.name}'. Allowed: {allowed}.{v.suggest(key, allowed)}"
            )


def check_training_args(args: argparse.Namespace) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """Checks the flags of the training commands and the task options, before any data.

    Returns:
        ``(task spec, model overrides, data loader options)``.
    """
    check_positive("epochs", args.epochs)
    check_positive("batch-size", args.batch_size)
    v.check_seed("seed", args.seed)
    spec = registry.get(args.task)
    overrides = model_overrides(args)
    spec.resolve(overrides)  # fail fast, before loading data
    data_kwargs = parse_pairs(args.data, "--data")
    _check_loader_options(args, spec, data_kwargs)
    return spec, overrides, data_kwargs


def load_split(args: argparse.Namespace, split: str, data_kwargs: dict[str, Any]):
    """One split of the task's data as the training flags ask.

    Raises:
        UserError: when TensorFlow Datasets has not prepared the dataset.
    """
    try:
        return data.load(args.task, split, args.batch_size, source=args.source, **data_kwargs)
    except AssertionError as exc:  # TFDS: "Dataset x: could not find data in DIR ..."
        if args.source != "tfds":
            raise
        first = str(exc).split(". ")[0]
        raise UserError(
            f"--source tfds: {first}. Pass --data download=True to download and prepare it "
            "(needs network), or --data data_dir=DIR for a prepared copy."
        ) from None


@contextlib.contextmanager
def out_of_memory_is_a_user_error(hint: str) -> Iterator[None]:
    """Turns an allocation failure (a model or batch too large) into a one-line UserError."""
    errors: list[type[BaseException]] = [MemoryError]
    tf = sys.modules.get("tensorflow")
    if tf is not None:
        errors.append(tf.errors.ResourceExhaustedError)
    try:
        yield
    except tuple(errors) as exc:
        lines = str(exc).strip().splitlines() or [type(exc).__name__]
        first = lines[0]
        raise UserError(
            f"out of memory ({first[:160]}{'...' if len(first) > 160 else ''}); {hint}"
        ) from None


def format_metric(value: Any) -> str:
    """Four decimals for floats, ``str`` for anything else."""
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def finite_or_none(value: Any) -> Any:
    """``float(value)``, or ``None`` for NaN, infinities and a missing value (strict JSON)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


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
