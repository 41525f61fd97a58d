"""Export rnnzoo models to verified ``.tflite`` files that use built-in ops only.

Phones and microcontrollers have no Flex delegate and no TensorFlow, so every
file written here runs on the plain LiteRT interpreter
(``ai_edge_litert.interpreter.Interpreter``):

- built-in ops only, always: a model that needs anything else fails with an
  :class:`ExportError` naming the layer and the op, and no file is left behind;
- the converter runs in a child process, so a converter crash (int8
  calibration of ``WHILE``-loop graphs segfaults in TensorFlow 2.21) is
  reported as an :class:`ExportError` instead of killing the caller;
- ``verify=True`` runs the file on the interpreter and compares it with Keras
  (max abs error, and the task metric for dynamic-range and int8 files);
- ``streaming=True`` writes a one-step model with explicit state tensors;
- generative models (``model.inference_models()``) are written as an
  ``encoder`` and a ``decoder_step`` signature of one file, which
  :mod:`rnnzoo.litert_runtime` decodes with numpy and the interpreter only.

Each file gets a JSON sidecar ``<file>.tflite.json`` (signatures, state names,
vocabulary) that :mod:`rnnzoo.litert_runtime` reads.

The package, one job per module:

- :mod:`~rnnzoo.export.tflite`: :func:`to_tflite`, the stages in order;
- :mod:`~rnnzoo.export.options`: the arguments, checked once;
- :mod:`~rnnzoo.export.examples`: test and calibration examples;
- :mod:`~rnnzoo.export.tracing`: whole-sequence and generative signatures;
- :mod:`~rnnzoo.export.streaming`: the one-step signature with explicit states;
- :mod:`~rnnzoo.export.fused_lstm` and :mod:`~rnnzoo.export.rewire`: fused
  LSTM ops, and substituting layers with ``keras.models.clone_model``;
- :mod:`~rnnzoo.export.quantize`: int8 length, unrolling and calibration;
- :mod:`~rnnzoo.export.converter` and :mod:`~rnnzoo.export.worker`: the
  converter in a child process that imports TensorFlow only;
- :mod:`~rnnzoo.export.verify`: the file against Keras;
- :mod:`~rnnzoo.export.report`: :class:`ExportReport`, :class:`ExportError`.

Example:

```python
model = rnnzoo.build("classification")
report = rnnzoo.export.to_tflite(model, "classifier.tflite", quantize="dynamic")
report.ops          # {'FULLY_CONNECTED': 2, 'WHILE': 1, ...}: no Flex op
```
"""

from rnnzoo.export.report import QUANTIZATIONS, ExportError, ExportReport
from rnnzoo.export.tflite import to_tflite

__all__ = ["to_tflite", "ExportError", "ExportReport", "QUANTIZATIONS"]
