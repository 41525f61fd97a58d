"""Run rnnzoo ``.tflite`` files with numpy and the LiteRT interpreter only.

This module imports nothing but the standard library, numpy and
``ai_edge_litert``: no TensorFlow, no Keras, no other rnnzoo module, so the
file can be copied next to a ``.tflite`` file onto a device that has only
``pip install ai-edge-litert numpy``. Every file written by
:func:`rnnzoo.export.to_tflite` has a JSON sidecar (``<file>.tflite.json``)
describing its signatures, state tensors and (for generative models) the
vocabulary, which this module reads.

Example:

```python
from rnnzoo.litert_runtime import LiteRTModel

model = LiteRTModel("classifier.tflite")
probs = model.predict(tokens=token_ids[None, :])["classifier"]     # whole sequence

stream = LiteRTModel("classifier_stream.tflite").streamer()
for token in token_ids:                                        # one step per call
    out = stream.step(tokens=[[token]])

gen = LiteRTModel("translation.tflite")
print(gen.generate_text(source_ids=[[5, 8, 9, 2]], max_length=20))  # greedy, on device
```
"""

from __future__ import annotations

import json
import os
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

__all__ = ["LiteRTModel", "Streamer", "list_ops", "read_metadata", "greedy_decode"]

METADATA_SUFFIX = ".json"


def read_metadata(path: str) -> dict:
    """Returns the JSON sidecar of an exported file (``{}`` if there is none)."""
    sidecar = os.fspath(path) + METADATA_SUFFIX
    if not os.path.exists(sidecar):
        return {}
    with open(sidecar, encoding="utf-8") as f:
        return json.load(f)


def list_ops(model: str | bytes | bytearray) -> dict[str, int]:
    """Counts the operators of a ``.tflite`` file, over every subgraph.

    Built-in operators are named as in the TFLite schema (``"WHILE"``,
    ``"FULLY_CONNECTED"``, ``"UNIDIRECTIONAL_SEQUENCE_LSTM"``); custom
    operators (Flex ops included, e.g. ``"FlexTensorListReserve"``) by their
    custom code, prefixed with ``"CUSTOM:"``.

    Args:
        model: a path or the flatbuffer bytes.

    Returns:
        ``{op name: count}``, sorted by name.
    """
    from ai_edge_litert import schema_py_generated as schema

    if isinstance(model, (bytes, bytearray)):
        buf = bytearray(model)
    else:
        with open(model, "rb") as f:
            buf = bytearray(f.read())
    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    root = schema.Model.GetRootAs(buf, 0)
    codes = []
    for i in range(root.OperatorCodesLength()):
        code = root.OperatorCodes(i)
        builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        if builtin == schema.BuiltinOperator.CUSTOM:
            custom = code.CustomCode()
            custom = custom.decode() if isinstance(custom, bytes) else str(custom)
            codes.append(f"CUSTOM:{custom}")
        else:
            codes.append(names.get(builtin, f"BUILTIN_{builtin}"))
    counts: dict[str, int] = {}
    for s in range(root.SubgraphsLength()):
        sub = root.Subgraphs(s)
        for j in range(sub.OperatorsLength()):
            name = codes[sub.Operators(j).OpcodeIndex()]
            counts[name] = counts.get(name, 0) + 1
    return dict(sorted(counts.items()))


class LiteRTModel:
    """An exported rnnzoo file on the plain LiteRT interpreter.

    Args:
        path: the ``.tflite`` file.
        num_threads: interpreter threads (1 for the latency figures rnnzoo reports).

    Example:

    >>> m = LiteRTModel("model.tflite")
    >>> m.signatures
    {'serving_default': {'inputs': ['tokens'], 'outputs': ['classifier']}}
    """

    def __init__(self, path: str, num_threads: int = 1):
        from ai_edge_litert.interpreter import Interpreter

        if not isinstance(num_threads, int) or isinstance(num_threads, bool) or num_threads < 1:
            raise ValueError(
                f"`num_threads` must be a positive integer. Received: num_threads={num_threads!r}"
            )
        self.path = os.fspath(path)
        self.num_threads = num_threads
        self.metadata = read_metadata(self.path)
        self.interpreter = Interpreter(model_path=self.path, num_threads=num_threads)
        self.signatures = self.interpreter.get_signature_list()
        self._runners: dict[str, Any] = {}
        self._input_details: dict[str, dict] = {}

    def runner(self, signature: str):
        """The signature runner of ``signature`` (cached)."""
        if signature not in self.signatures:
            raise ValueError(
                f"`signature` must be one of {sorted(self.signatures)}. "
                f"Received: signature={signature!r}"
            )
        if signature not in self._runners:
            runner = self.interpreter.get_signature_runner(signature)
            self._runners[signature] = runner
            self._input_details[signature] = runner.get_input_details()
        return self._runners[signature]

    def run(self, signature: str, **inputs: Any) -> dict[str, np.ndarray]:
        """Runs one signature; inputs are cast to the dtypes the file expects."""
        runner = self.runner(signature)
        details = self._input_details[signature]
        missing = sorted(set(details) - set(inputs))
        if missing:
            raise ValueError(
                f"Signature '{signature}' needs inputs {sorted(details)}. Missing: {missing}"
            )
        feed = {k: np.asarray(v, dtype=details[k]["dtype"]) for k, v in inputs.items()}
        outputs = {k: np.array(v) for k, v in runner(**feed).items()}
        if self.metadata.get("reset_variables"):
            # Fused LSTM ops keep their states in variable tensors between calls:
            # zero them so that the next call starts a new sequence.
            self.interpreter.reset_all_variables()
        return outputs

    def predict(self, **inputs: Any) -> dict[str, np.ndarray]:
        """Runs the whole-sequence signature (``serving_default``)."""
        return self.run(self.metadata.get("signature", "serving_default"), **inputs)

    def streamer(self) -> "Streamer":
        """A :class:`Streamer` over the ``step`` signature of a streaming export."""
        return Streamer(self)

    def initial_states(self, names: Sequence[str]) -> dict[str, np.ndarray]:
        """The initial value of each state tensor (zeros unless the metadata says so)."""
        stored = self.metadata.get("initial_states", {})
        shapes = self.metadata.get("state_shapes", {})
        states = {}
        for name in names:
            if name in stored:
                states[name] = np.asarray(stored[name], dtype=np.float32)
            else:
                states[name] = np.zeros(shapes.get(name, ()), dtype=np.float32)
        return states

    def generate(
        self,
        encoder_inputs: Mapping[str, Any] | None = None,
        *,
        prefix: Sequence[int] | None = None,
        max_length: int = 20,
    ) -> list[int]:
        """Greedy decoding of a generative export (one example); see :func:`greedy_decode`."""
        return greedy_decode(self, encoder_inputs, prefix=prefix, max_length=max_length)

    def generate_text(self, encoder_inputs: Mapping[str, Any] | None = None, **kwargs) -> str:
        """:meth:`generate`, then the ids turned into text with the stored vocabulary."""
        ids = self.generate(encoder_inputs, **kwargs)
        vocab = self.metadata.get("target_vocabulary") or {}
        tokens = vocab.get("tokens")
        if not tokens:
            raise ValueError(f"{self.path} has no target vocabulary in its metadata.")
        special = {0, int(self.metadata.get("start_id", 1)), int(self.metadata.get("end_id", 2))}
        words = [tokens[i] for i in ids if i not in special and 0 <= i < len(tokens)]
        return ("" if vocab.get("level", "char") == "char" else " ").join(words)


class Streamer:
    """Feeds a sequence one time step per call, carrying the states.

    Args:
        model: a :class:`LiteRTModel` of a file exported with ``streaming=True``.
    """

    def __init__(self, model: LiteRTModel):
        if "step" not in model.signatures:
            raise ValueError(
                f"{model.path} has no 'step' signature: export it with streaming=True."
            )
        self.model = model
        self.state_names = list(model.metadata.get("state_names", []))
        self.states = model.initial_states(self.state_names)

    def reset(self) -> None:
        """Back to the initial states (a new sequence)."""
        self.states = self.model.initial_states(self.state_names)

    def step(self, **inputs: Any) -> dict[str, np.ndarray]:
        """One time step: inputs have a time axis of length 1; returns the outputs."""
        out = self.model.run("step", **inputs, **self.states)
        self.states = {name: out.pop(name) for name in self.state_names}
        return out


def greedy_decode(
    model: LiteRTModel,
    encoder_inputs: Mapping[str, Any] | None = None,
    *,
    prefix: Sequence[int] | None = None,
    max_length: int = 20,
) -> list[int]:
    """Greedy decoding with the ``encoder`` and ``decoder_step`` signatures.

    The same loop as ``rnnzoo.tasks.decoding.decode(method="greedy")``: the
    start token is fed first, then the ``prefix`` tokens (a prompt, outputs
    ignored), then the most likely token at each step until the end token or
    ``max_length`` tokens.

    Args:
        model: a :class:`LiteRTModel` of a generative export.
        encoder_inputs: the ``encoder`` signature's inputs (batch of one), or
            ``None`` for a model without encoder (text prediction).
        prefix: token ids forced after the start token.
        max_length: the most tokens generated (the end token included).

    Returns:
        The generated ids, without start and end tokens.
    """
    if not isinstance(max_length, (int, np.integer)) or max_length < 1:
        raise ValueError(f"`max_length` must be an integer >= 1. Received: max_length={max_length!r}")
    meta = model.metadata
    names = list(meta.get("state_names", []))
    token_name = meta.get("token_input", "token_ids")
    if "encoder" in model.signatures:
        if encoder_inputs is None:
            raise ValueError("`encoder_inputs` must be given: this model has an encoder.")
        out = model.run("encoder", **dict(encoder_inputs))
        states = {name: out[name] for name in names}
    else:
        states = model.initial_states(names)
    start, end = int(meta.get("start_id", 1)), int(meta.get("end_id", 2))

    def step(token: int) -> np.ndarray:
        nonlocal states
        out = model.run("decoder_step", **{token_name: np.array([[token]], np.int32)}, **states)
        states = {name: out[name] for name in names}
        return out[meta.get("probs_output", "probs")][0]

    token = start
    for forced in [int(t) for t in (prefix or [])]:
        step(token)
        token = forced
    ids: list[int] = []
    for _ in range(int(max_length)):
        token = int(np.argmax(step(token)))
        if token == end:
            break
        ids.append(token)
    return ids
