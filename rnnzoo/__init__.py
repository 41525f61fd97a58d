"""rnnzoo: a Keras 3 model zoo of recurrent neural networks.

```python
import rnnzoo
rnnzoo.list_models()
model = rnnzoo.build("classification", cell="gru", depth=2, bidirectional=True)
ds = rnnzoo.data.load("classification", split="train", batch_size=64)
model.fit(ds, epochs=3)
```

The package reads top-down (arrows point one way; ``tests/test_layering.py``
keeps them so):

- :mod:`rnnzoo.cli` → :mod:`rnnzoo.factory` (``build``) → :mod:`rnnzoo.tasks`
  (one module per task) → :mod:`rnnzoo.layers` and :mod:`rnnzoo.data` →
  :mod:`rnnzoo.registry` and :mod:`rnnzoo._validation` (leaves);
- beside the tasks: :mod:`rnnzoo.weights`, :mod:`rnnzoo.export`,
  :mod:`rnnzoo.callbacks`, :mod:`rnnzoo.tuning`, :mod:`rnnzoo.distribute`;
- :mod:`rnnzoo._io` writes every file atomically; :mod:`rnnzoo._compat` is the
  only home of anything Keras does not offer publicly.

Importing rnnzoo does not import TensorFlow Datasets, keras-tuner or the LiteRT
interpreter; those load when a function that needs them is called.
"""

__version__ = "0.1.0"

from rnnzoo import registry  # noqa: E402
from rnnzoo.factory import build  # noqa: E402  (imports rnnzoo.tasks: registers every task)
from rnnzoo.registry import describe, list_models  # noqa: E402
from rnnzoo import callbacks, data, layers, text  # noqa: E402
from rnnzoo import export  # noqa: E402  (rnnzoo.export.to_tflite; LiteRT loads lazily)
from rnnzoo import weights  # noqa: E402  (rnnzoo.weights.fetch; standard library only)
from rnnzoo import distribute, tuning  # noqa: E402  (tf.distribute fit; keras-tuner loads lazily)
from rnnzoo.catalogue import presets, save_preset  # noqa: E402  (the presets catalogue)

__all__ = [
    "build",
    "describe",
    "list_models",
    "presets",
    "save_preset",
    "__version__",
    # submodules
    "callbacks",
    "data",
    "distribute",
    "export",
    "layers",
    "registry",
    "text",
    "tuning",
    "weights",
]
