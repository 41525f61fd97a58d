"""The ``rnnzoo`` command: parse the line, then import and run one command's module.

```
rnnzoo list                                   # registered tasks
rnnzoo info classification                    # a task's spec
rnnzoo train classification --epochs 3 --cell lstm --out runs/cls
rnnzoo train classification --strategy multiworker --backup-dir /shared/ckpt   # with TF_CONFIG
rnnzoo tune classification --tuner hyperband --max-trials 10   # keras-tuner search
rnnzoo weights list                           # the published pretrained weights
rnnzoo export classification --out cls.tflite # a verified TFLite file
rnnzoo demo                                   # every task, end to end, offline
```

User mistakes (an unknown task, a bad option, a path that cannot be written)
print one line to stderr and exit with status 2; no traceback.

Layout: :mod:`~rnnzoo.cli.parser` declares every command and flag (argparse
only: ``rnnzoo --help`` imports no Keras); each command runs in its own module
(:mod:`~rnnzoo.cli.listing`, :mod:`~rnnzoo.cli.info`, :mod:`~rnnzoo.cli.train`,
:mod:`~rnnzoo.cli.tune`, :mod:`~rnnzoo.cli.demo`, :mod:`~rnnzoo.cli.weights`,
:mod:`~rnnzoo.cli.export`), which imports what it needs at the top and is
imported here only when its command runs; :mod:`~rnnzoo.cli.common` holds what
they share. ``rnnzoo list`` reads :mod:`~rnnzoo.cli.task_index`, so it imports
no Keras either. Register a new command in :data:`rnnzoo.cli.parser.COMMANDS`.

TensorFlow's start-up log lines (absl's preamble, oneDNN, CUDA drivers, CPU
features) are hidden unless ``TF_CPP_MIN_LOG_LEVEL=0``; any other line the
import prints still reaches stderr.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import tempfile
from typing import Sequence

from rnnzoo.cli.parser import COMMANDS, UserError, build_parser

__all__ = ["main", "build_parser", "UserError", "COMMANDS", "USER_MISTAKES"]

#: Exceptions that mean the user asked for something impossible: one line, exit status 2.
#: A command module adds its own in a module-level ``USER_ERRORS`` tuple.
USER_MISTAKES: tuple[type[BaseException], ...] = (
    UserError, ValueError, FileNotFoundError, FileExistsError, NotADirectoryError,
    IsADirectoryError, PermissionError,
)
# TensorFlow's start-up lines, printed by its C++ libraries while they load (before
# TF_CPP_MIN_LOG_LEVEL is read): absl's preamble, oneDNN, CUDA drivers, CPU features and
# the CUDA plugin factories.
_START_UP_NOISE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|[IWE]\d{4} [\d:.]+\s+\d+ (port|cudart_stub|cpu_feature_guard|cuda_dnn|cuda_fft|cuda_blas)"
    r"\.cc:\d+\]"
    r"|To enable the following instructions:.*rebuild TensorFlow)"
)


def _wants_tensorflow_logs() -> bool:
    return os.environ.get("TF_CPP_MIN_LOG_LEVEL", "").strip() == "0"


def _import_quietly(name: str):
    """Imports ``name`` with TensorFlow's start-up lines removed from stderr."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if _wants_tensorflow_logs():
        return importlib.import_module(name)
    try:
        from absl import logging as absl_logging

        absl_logging.set_verbosity(absl_logging.ERROR)
    except ImportError:
        pass
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            return importlib.import_module(name)
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            lines = captured.read().decode("utf-8", "replace").splitlines()
            kept = [line for line in lines if not _START_UP_NOISE.match(line)]
            if kept:
                print("\n".join(kept), file=sys.stderr, flush=True)


def _fail(command: str, exc: BaseException, status: int) -> int:
    message = " ".join(str(exc).split()) or type(exc).__name__
    print(f"rnnzoo {command}: error: {message}", file=sys.stderr)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rnnzoo`` console script.

    Args:
        argv: the arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit status: 0 on success, 2 for a user mistake (one line on
        stderr), 1 when ``weights verify`` or ``export`` finds a problem or the
        system fails (one line), 130 on Ctrl-C.

    Example:

    >>> from rnnzoo.cli import main
    >>> main(["info", "classification"])
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        print(sys.modules[__name__.rpartition(".")[0]].__version__)
        return 0
    if not args.command:
        parser.error(f"a command is required, one of {[c.name for c in COMMANDS]}")
    command = next(c for c in COMMANDS if c.name == args.command)
    try:
        module = _import_quietly(f"{__name__}.{command.module}")
        mistakes = USER_MISTAKES + tuple(getattr(module, "USER_ERRORS", ()))
        try:
            return getattr(module, command.function)(args) or 0
        except mistakes as exc:
            return _fail(args.command, exc, 2)
        except OSError as exc:  # the system, not the user: a full disk, a lost mount
            return _fail(args.command, exc, 1)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
