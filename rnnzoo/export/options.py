"""The arguments of one export, checked once and carried as one frozen object.

:func:`rnnzoo.export.to_tflite` keeps its keyword arguments (its public
signature); it turns them into an :class:`ExportOptions` first, so every
argument is validated before anything is traced or written, and the stages
below it (tracing, calibration, conversion, verification) take one object
instead of a dozen arguments.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from rnnzoo import _validation as v
from rnnzoo import registry
from rnnzoo.export.report import QUANTIZATIONS

__all__ = ["ExportOptions", "infer_task"]


def _check_flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"`{name}` must be True or False. {v.received(name, value)}")
    return value


@dataclasses.dataclass(frozen=True)
class ExportOptions:
    """Every option of :func:`rnnzoo.export.to_tflite` except the model (same meanings).

    Build it with :meth:`create`, which validates; derive a changed copy with
    ``dataclasses.replace`` (the task read from the model, the sequence
    length int8 takes from the data).
    """

    path: str
    quantize: str | None = None
    representative_data: Any = None
    sequence_length: int | None = None
    streaming: bool = False
    verify: bool = True
    task: str | None = None
    test_data: Any = None
    verify_examples: int = 256
    calibration_examples: int = 64
    max_length: int = 20
    fused_lstm: bool = False
    timeout: float | None = 900.0
    verbose: bool = True

    @classmethod
    def create(cls, path, **kwargs) -> "ExportOptions":
        """Checks every argument (a ``ValueError`` naming the first bad one) and returns them.

        Args:
            path: the output file (not a folder).
            **kwargs: the other fields.

        Returns:
            The validated options, ``path`` as a string.
        """
        options = cls(path=os.fspath(path), **kwargs)
        options.check()
        return options

    def check(self) -> None:
        """Raises a ``ValueError`` naming the first bad argument."""
        v.check_choice("quantize", self.quantize, QUANTIZATIONS)
        v.check_positive_int("sequence_length", self.sequence_length, allow_none=True)
        for name in ("streaming", "verify", "fused_lstm"):
            _check_flag(name, getattr(self, name))
        if self.fused_lstm and self.streaming:
            raise ValueError(
                "`fused_lstm` applies to whole-sequence exports (a streaming step has no loop to "
                "fuse). Received: fused_lstm=True, streaming=True"
            )
        for name in ("verify_examples", "calibration_examples", "max_length"):
            v.check_int(name, getattr(self, name), low=1)
        v.check_float("timeout", self.timeout, low=0, low_inclusive=False, allow_none=True)
        if self.task is not None:
            registry.get(self.task)  # an unknown task fails with a "Did you mean" hint
        if os.path.isdir(self.path):
            raise ValueError(
                f"`path` must be a file path, not a folder. {v.received('path', self.path)}"
            )

    @property
    def int8(self) -> bool:
        """Whether activations are quantized (calibration, a fixed length, unrolled loops)."""
        return self.quantize == "int8"


def infer_task(model) -> str | None:
    """The zoo task ``model`` belongs to (its ``rnnzoo_task`` or ``rnnzoo_<task>`` name)."""
    task = getattr(model, "rnnzoo_task", None)
    if task is None and isinstance(getattr(model, "name", None), str):
        if model.name.startswith("rnnzoo_"):
            task = model.name[len("rnnzoo_"):]
    return task if task in registry.list_models() else None
