"""Padding of variable-length series for layers that do not read Keras masks.

Recurrent layers read the mask of a ``keras.layers.Masking`` layer by
themselves. A convolution does not: it mixes neighbouring steps, padding
included, and drops the mask. The two layers here let a convolutional branch
see a padded batch exactly as it would see each series alone:

- :class:`PaddingMask` computes the mask once, from the raw input (a step is
  padding when every channel equals ``mask_value``, as ``Masking`` decides);
- :class:`ZeroMasked` sets the padded steps of a tensor to zero (what a
  ``padding="same"`` convolution reads beyond the end of a series) and hands on
  no Keras mask.

Pass the mask explicitly to the layers that accept one
(``BatchNormalization``, ``GlobalAveragePooling1D``).

Example:

```python
mask = PaddingMask(0.0)(inputs)                       # (batch, time) bool
x = ZeroMasked()(x, mask=mask)
x = keras.layers.Conv1D(64, 8, padding="same")(x)
x = keras.layers.GlobalAveragePooling1D()(x, mask=mask)   # mean over real steps
```
"""

from __future__ import annotations

import keras
from keras import ops

from rnnzoo import _validation as v

__all__ = ["PaddingMask", "ZeroMasked"]


@keras.saving.register_keras_serializable(package="rnnzoo")
class PaddingMask(keras.layers.Layer):
    """``(batch, time, channels)`` -> ``(batch, time)`` bool: True on real steps.

    Args:
        mask_value: the padding value; a step is padding when every channel equals it.
        **kwargs: ``keras.layers.Layer`` arguments.
    """

    def __init__(self, mask_value: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = v.check_float("mask_value", mask_value)

    def call(self, inputs):
        return ops.any(ops.not_equal(inputs, self.mask_value), axis=-1)

    def compute_output_spec(self, inputs):
        return keras.KerasTensor(inputs.shape[:-1], dtype="bool")

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}


@keras.saving.register_keras_serializable(package="rnnzoo")
class ZeroMasked(keras.layers.Layer):
    """Zeroes the masked steps of ``(batch, time, channels)``; the output carries no mask.

    With no mask the input passes unchanged.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return inputs
        return inputs * ops.expand_dims(ops.cast(mask, inputs.dtype), -1)

    def compute_mask(self, inputs, mask=None):
        return None
