"""``rnnzoo export TASK_OR_MODEL_FILE --out F.tflite``: a verified, built-ins-only TFLite file.

Exports a freshly built task model (or one with ``--weights``) or a saved
``.keras`` file through :func:`rnnzoo.export.to_tflite`; an export that fails
its checks exits with status 1.
"""

from __future__ import annotations

import argparse
import os
import sys

from rnnzoo import _io, export, weights
from rnnzoo.cli.common import UserError, check_output_file, model_overrides
from rnnzoo.factory import build

__all__ = ["run", "USER_ERRORS"]

#: Published weights that cannot be fetched are reported in one line.
USER_ERRORS = (weights.WeightsError,)


def run(args: argparse.Namespace) -> int:
    """Loads or builds the model, exports it and prints the report."""
    overrides = model_overrides(args)
    check_output_file("--out", args.out)
    if os.path.isfile(args.model) or args.model.endswith(".keras"):
        if overrides or args.weights:
            raise UserError("model options and --weights apply to a task, not a .keras file")
        model = weights.load_model_file(args.model, "TASK_OR_MODEL_FILE", compile=True)
    else:
        model = build(args.model, weights=args.weights, **overrides)
    try:
        report = export.to_tflite(
            model, args.out, quantize=args.quantize, streaming=args.streaming,
            sequence_length=args.sequence_length, verify=args.verify, verbose=not args.json,
            fused_lstm=args.fused_lstm, verify_examples=args.verify_examples,
        )
    except export.ExportError as exc:
        print(f"rnnzoo export: error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(_io.dumps_json(report.to_dict(), default=str))
    return 0
