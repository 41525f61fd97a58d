"""What an export returns or raises: :class:`ExportReport`, :class:`ExportError` and the limits.

The tolerances here are the promises the README makes about a verified file;
:mod:`rnnzoo.export.verify` checks them and :class:`ExportReport` records what
was measured against them.
"""

from __future__ import annotations

import dataclasses

__all__ = [
    "ExportError",
    "ExportReport",
    "QUANTIZATIONS",
    "TOLERANCES",
    "STREAMING_TOLERANCE",
    "METRIC_TOLERANCE_POINTS",
]

QUANTIZATIONS = (None, "dynamic", "float16", "int8")
#: max abs error allowed between the interpreter and Keras, per quantization
TOLERANCES = {None: 1e-4, "float16": 1e-3}
#: streaming (step by step) against the whole-sequence Keras model
STREAMING_TOLERANCE = 1e-5
#: the most the task metric may drop for dynamic-range and int8 files, in points
METRIC_TOLERANCE_POINTS = 1.0


class ExportError(RuntimeError):
    """The model could not be exported (or the file failed verification).

    Args:
        message: what went wrong and what to do.
        report: the :class:`ExportReport` so far, when verification failed.

    Attributes:
        report: the :class:`ExportReport` so far, when verification failed.
    """

    def __init__(self, message: str, report: "ExportReport | None" = None):
        super().__init__(message)
        self.report = report


@dataclasses.dataclass
class ExportReport:
    """What :func:`rnnzoo.export.to_tflite` wrote and measured.

    Attributes:
        path: the ``.tflite`` file.
        task: the zoo task the model belongs to (``None`` for other models).
        kind: ``"sequence"``, ``"streaming"`` or ``"generative"``.
        quantize: the quantization.
        sequence_length: the fixed sequence length, or ``None`` (dynamic).
        signatures: ``{signature: {"inputs": [...], "outputs": [...]}}``.
        ops: ``{op name: count}`` over every subgraph.
        size_bytes: the file size.
        max_abs_error: ``{signature or check: error}`` against Keras.
        tolerance: the max abs error allowed (``None``: checked by the metric).
        metric: ``{"name", "keras", "tflite", "drop_points", "examples"}``.
        generation: ``{"examples", "identical"}`` for generative models.
        verified: whether every check ran and passed.
        seconds: ``{"trace", "convert", "verify"}``.

    Example:

    >>> report = rnnzoo.export.to_tflite(model, "m.tflite", verbose=False)
    >>> report.verified, report.to_dict()["kind"]
    (True, 'sequence')
    """

    path: str
    task: str | None
    kind: str
    quantize: str | None
    sequence_length: int | None
    signatures: dict
    ops: dict
    size_bytes: int
    max_abs_error: dict = dataclasses.field(default_factory=dict)
    tolerance: float | None = None
    metric: dict | None = None
    generation: dict | None = None
    verified: bool = False
    seconds: dict = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict:
        """The report as plain data (what ``rnnzoo export --json`` prints)."""
        return dataclasses.asdict(self)

    def __str__(self) -> str:
        lines = [
            f"exported {self.path} ({self.size_bytes / 1024:.1f} KiB, {self.kind}, "
            f"quantize={self.quantize}, task={self.task})",
        ]
        for sig, io in self.signatures.items():
            lines.append(f"  signature {sig}: {io['inputs']} -> {io['outputs']}")
        lines.append("  ops: " + ", ".join(f"{k}x{v}" for k, v in self.ops.items()))
        for key, err in self.max_abs_error.items():
            tol = f" (tolerance {self.tolerance:g})" if self.tolerance is not None else ""
            lines.append(f"  max abs error vs Keras [{key}]: {err:.3g}{tol}")
        if self.metric:
            m = self.metric
            lines.append(
                f"  {m['name']} on {m['examples']} test examples: Keras {m['keras']:.4f}, "
                f"TFLite {m['tflite']:.4f}, drop {m['drop_points']:.2f} points "
                f"(allowed {METRIC_TOLERANCE_POINTS:g})"
            )
        if self.generation:
            g = self.generation
            lines.append(
                f"  greedy decoding: {g['identical']}/{g['examples']} outputs identical to Keras"
            )
        lines.append(f"  verified: {self.verified}")
        return "\n".join(lines)
