"""Padding of variable-length series for layers that do not read Keras masks.

Recurrent layers read the mask of a ``keras.layers.Masking`` layer by
themselves. A convolution does not: it mixes neighbouring steps, padding
included, and drops the mask. The two layers here let a convolutional branch
see a padded batch exactly as it would see each series alone:

- :class:`PaddingMask` computes the mask once, from the raw input (a step is
  padding when every channel equals ``mask_value``, as ``Masking`` decides);
- :class:`ZeroMasked` sets the padded steps of a tensor to zero (what a
  ``padding="same"`` convolution reads beyond the end of a series) and hands on
  no Keras mask;
- :class:`LastStep` picks the last real step of each series (the persistence
  forecast a residual forecaster adds its correction to).

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

__all__ = ["PaddingMask", "ZeroMasked", "LastStep"]


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


@keras.saving.register_keras_serializable(package="rnnzoo")
class LastStep(keras.layers.Layer):
    """The first ``channels`` features of the last real step, repeated ``horizon`` times.

    ``(batch, time, features)`` -> ``(batch, channels)``, or ``(batch, horizon,
    channels)`` if ``horizon > 1``. With ``sequences=True`` every step is its
    own last step: ``(batch, time, channels)`` (or ``(batch, time, horizon,
    channels)``). With a Keras mask the last unmasked step is taken; the output
    carries no mask.

    Args:
        channels: how many leading features to keep.
        horizon: how many times to repeat them (one per forecast step).
        sequences: one value per time step instead of the last one.
        **kwargs: ``keras.layers.Layer`` arguments.
    """

    def __init__(self, channels: int, horizon: int = 1, sequences: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.channels = v.check_positive_int("channels", channels)
        self.horizon = v.check_positive_int("horizon", horizon)
        self.sequences = v.check_bool("sequences", sequences)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        x = inputs[..., : self.channels]
        if not self.sequences:
            if mask is None:
                x = x[:, -1]
            else:
                steps = ops.sum(ops.cast(mask, "int32"), axis=1)
                last = ops.maximum(steps - 1, 0)  # a series of padding only: its first step
                x = ops.take_along_axis(x, ops.reshape(last, (-1, 1, 1)), axis=1)[:, 0]
        if self.horizon > 1:
            x = ops.repeat(ops.expand_dims(x, -2), self.horizon, axis=-2)
        return x

    def compute_output_spec(self, inputs, mask=None):
        shape = list(inputs.shape[:-1]) + [self.channels]
        if not self.sequences:
            shape.pop(1)
        if self.horizon > 1:
            shape.insert(len(shape) - 1, self.horizon)
        return keras.KerasTensor(tuple(shape), dtype=inputs.dtype)

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        return {**super().get_config(), "channels": self.channels, "horizon": self.horizon,
                "sequences": self.sequences}
