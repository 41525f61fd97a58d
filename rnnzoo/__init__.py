"""rnnzoo: a Keras 3 model zoo of recurrent neural networks.

```python
import rnnzoo
rnnzoo.list_models()
model = rnnzoo.build("classification", cell="gru", depth=2, bidirectional=True)
ds = rnnzoo.data.load("classification", split="train", batch_size=64)
model.fit(ds, epochs=3)
```

Importing rnnzoo does not import TensorFlow Datasets, keras-tuner or the LiteRT
interpreter; those load when a function that needs them is called.
"""

__version__ = "0.1.0"

from rnnzoo import data, layers, registry  # noqa: E402
from rnnzoo.registry import build, describe, list_models  # noqa: E402
from rnnzoo import callbacks  # noqa: E402  (rnnzoo.callbacks.GradientMonitor)
from rnnzoo import text  # noqa: E402  (rnnzoo.text.build_vocabulary)
from rnnzoo import export  # noqa: E402  (rnnzoo.export.to_tflite; LiteRT loads lazily)
from rnnzoo import weights  # noqa: E402  (rnnzoo.weights.fetch; standard library only)
from rnnzoo import distribute, tuning  # noqa: E402  (tf.distribute fit; keras-tuner loads lazily)

__all__ = [
    "build",
    "describe",
    "list_models",
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
