"""``rnnzoo export TASK_OR_MODEL_FILE --out F.tflite``: a verified, built-ins-only TFLite file.

Exports a freshly built task model (or one with ``--weights``) or a saved
``.keras`` file through :func:`rnnzoo.export.to_tflite`; an export that fails
its checks exits with status 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from rnnzoo.cli.common import UserError, add_recurrent_flags, model_overrides

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> None:
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
    p.add_argument("--weights", default=None, help="weights for a task model, e.g. pretrained")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    add_recurrent_flags(p)


def run(args: argparse.Namespace) -> int:
    """Loads or builds the model, exports it and prints the report."""
    from rnnzoo import export
    from rnnzoo.factory import build

    overrides = model_overrides(args)
    if os.path.isfile(args.model) or args.model.endswith(".keras"):
        if not os.path.isfile(args.model):
            raise FileNotFoundError(f"No such model file: {args.model}")
        if overrides or args.weights:
            raise UserError("model options and --weights apply to a task, not a .keras file")
        import keras

        model = keras.saving.load_model(args.model, safe_mode=True)
    else:
        model = build(args.model, weights=args.weights, **overrides)
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
