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

Importing rnnzoo imports nothing heavy: the names below load on first use
(PEP 562), so ``import rnnzoo`` and the ``rnnzoo --help`` / ``rnnzoo list``
commands never import Keras or TensorFlow; ``rnnzoo.build``, ``rnnzoo.data``
and the other submodules import them when they are first touched. TensorFlow
Datasets, keras-tuner and the LiteRT interpreter load only when a function
that needs them is called.
"""

__version__ = "0.1.0"

import importlib

#: The submodules reachable as ``rnnzoo.<name>`` (imported on first access).
_SUBMODULES = frozenset({
    "callbacks", "catalogue", "data", "distribute", "export", "factory", "layers", "metrics", "registry",
    "tasks", "text", "tuning", "weights",
})
#: The public functions, by the module that defines them (imported on first access).
_FUNCTIONS = {"build": "rnnzoo.factory", "describe": "rnnzoo.registry",
              "list_models": "rnnzoo.registry", "presets": "rnnzoo.catalogue",
              "save_preset": "rnnzoo.catalogue"}

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


def __getattr__(name: str):
    """Imports a public function or submodule the first time it is asked for (PEP 562)."""
    if name in _FUNCTIONS:
        value = getattr(importlib.import_module(_FUNCTIONS[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | _SUBMODULES)
