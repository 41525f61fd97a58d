"""The ``rnnzoo`` command: one module per command, each importing the zoo only when it runs.

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

User mistakes (an unknown task, a bad option) print one line to stderr and exit
with status 2; no traceback.

Layout: :mod:`~rnnzoo.cli.common` (user errors, ``KEY=VALUE`` flags, model
options, atomic model saving), :mod:`~rnnzoo.cli.info` (``list``, ``info``),
:mod:`~rnnzoo.cli.train`, :mod:`~rnnzoo.cli.tune`, :mod:`~rnnzoo.cli.demo`,
:mod:`~rnnzoo.cli.weights`, :mod:`~rnnzoo.cli.export`. Each command module has
``add_parser(subparsers)``, which declares its arguments with argparse alone,
and ``run(args)``, which imports Keras and the zoo when it is called, so
building the parser (``rnnzoo --help``) stays instant. Register a new command
in ``COMMANDS`` below.
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable, Sequence

from rnnzoo.cli import demo, export, info, presets, train, tune, weights
from rnnzoo.cli.common import UserError, quiet_tensorflow, version

__all__ = ["main", "build_parser", "UserError", "COMMANDS"]

#: ``(name, add_parser, run)`` of every command, in the order ``--help`` lists them.
COMMANDS: list[tuple[str, Callable, Callable]] = [
    ("list", info.add_list, info.run_list),
    ("info", info.add_info, info.run_info),
    ("train", train.add_parser, train.run),
    ("tune", tune.add_parser, tune.run),
    ("demo", demo.add_parser, demo.run),
    ("weights", weights.add_parser, weights.run),
    ("export", export.add_parser, export.run),
    ("presets", presets.add_parser, presets.run),
]


def build_parser() -> argparse.ArgumentParser:
    """The ``rnnzoo`` argument parser with every command of :data:`COMMANDS`.

    Returns:
        An ``argparse.ArgumentParser``; building it imports no Keras.
    """
    parser = argparse.ArgumentParser(
        prog="rnnzoo", description="A Keras 3 model zoo of recurrent neural networks.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for _, add, _ in COMMANDS:
        add(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rnnzoo`` console script.

    Args:
        argv: the arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit status: 0 on success, 2 for a user mistake (one line on
        stderr), 1 when ``weights verify`` or ``export`` finds a problem, 130
        on Ctrl-C.

    Example:

    >>> from rnnzoo.cli import main
    >>> main(["info", "classification"])
    """
    quiet_tensorflow()
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        print(version())
        return 0
    if not args.command:
        parser.print_help()
        return 2
    run = {name: cmd for name, _, cmd in COMMANDS}[args.command]
    try:
        return run(args) or 0
    except (UserError, ValueError, FileNotFoundError) as exc:
        print(f"rnnzoo {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
