"""Walking a model's layers with Keras' public attributes only.

Keras keeps a layer's sub-layers in private bookkeeping; its public face is
``Model.layers`` for models, ``forward_layer``/``backward_layer`` for
``Bidirectional``, ``layer`` for wrappers such as ``TimeDistributed`` and
``cell`` for ``RNN``. Other layers that hold sub-layers (rnnzoo's own, a
user's) hold them as public attributes, which are read too.

```python
[layer.name for layer in iter_layers(model)]        # every layer, depth first
recurrent_layers(model)                              # every keras.layers.RNN
```
"""

from __future__ import annotations

from typing import Iterator

import keras

__all__ = ["children", "iter_layers", "recurrent_layers"]


def children(layer) -> list:
    """The direct sub-layers of ``layer``, in a stable order."""
    if isinstance(layer, keras.Model):
        return list(layer.layers)
    if isinstance(layer, keras.layers.Bidirectional):
        return [layer.forward_layer, layer.backward_layer]
    if isinstance(layer, keras.layers.Wrapper):
        return [layer.layer]
    if isinstance(layer, keras.layers.RNN):
        return [layer.cell] if isinstance(layer.cell, keras.layers.Layer) else []
    found = []
    for name, value in vars(layer).items():
        if name.startswith("_"):
            continue
        values = value if isinstance(value, (list, tuple)) else [value]
        found += [item for item in values if isinstance(item, keras.layers.Layer)]
    return found


def iter_layers(model, *, include_self: bool = True) -> Iterator:
    """Every layer inside ``model`` (nested models, wrappers and cells too), depth first, once."""
    seen: set[int] = set()

    def visit(layer, emit):
        if id(layer) in seen:
            return
        seen.add(id(layer))
        if emit:
            yield layer
        for sub in children(layer):
            yield from visit(sub, True)

    yield from visit(model, include_self)


def recurrent_layers(model) -> list:
    """Every ``keras.layers.RNN`` inside ``model`` (both halves of a ``Bidirectional``)."""
    return [layer for layer in iter_layers(model) if isinstance(layer, keras.layers.RNN)]
