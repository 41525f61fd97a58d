"""The no-recurrence baseline as a layer: ``cell="feedforward"`` in every task.

:class:`FeedForward` has the interface of a Keras recurrent layer
(``return_sequences``, ``return_state``, ``dropout``, ``go_backwards``,
``initial_state``, masks) but no recurrence: every time step goes through the
same ``Dense(units, tanh)`` on its own. With ``return_sequences=False`` the
per-step outputs are averaged over the unmasked steps (masked mean pooling),
so a many-to-one model sees a bag of steps, not their order. That makes it
the honest baseline for the recurrent cells: the same width and depth, no
memory.

Its state is what it must carry from one step to the next to produce its
output: nothing when it returns sequences, the running sum and count of the
pooling otherwise. :meth:`FeedForward.step` computes one step from that
state, as a cell does, so streaming export and step-by-step decoding treat it
like any recurrent layer.

Example:

```python
layer = FeedForward(16)                    # (batch, time, features) -> (batch, 16)
y = layer(np.zeros((2, 7, 3), "float32"))
```
"""

from __future__ import annotations

import keras
from keras import ops

from rnnzoo import _validation as v

__all__ = ["FeedForward"]


@keras.saving.register_keras_serializable(package="rnnzoo")
class FeedForward(keras.layers.Layer):
    """Per-step ``Dense`` with the recurrent-layer interface; masked mean when many-to-one.

    Args:
        units: output width.
        activation: activation of the per-step ``Dense`` (default ``"tanh"``, as
            the recurrent cells).
        return_sequences: return every step's output ``(batch, time, units)``;
            otherwise their masked mean ``(batch, units)``.
        return_state: also return the state (``[]`` with ``return_sequences``,
            else ``[sum (batch, units), count (batch, 1)]`` of the pooling).
        dropout: dropout rate on the inputs (training only).
        go_backwards: return the sequence reversed (the output of each step is
            unchanged: nothing depends on the order).
        seed: seed of the dropout.
        **kwargs: ``keras.layers.Layer`` arguments.
    """

    def __init__(self, units: int, activation="tanh", return_sequences: bool = False,
                 return_state: bool = False, dropout: float = 0.0, go_backwards: bool = False,
                 seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.units = v.check_positive_int("units", units)
        self.activation = keras.activations.get(activation)
        self.return_sequences = v.check_bool("return_sequences", return_sequences)
        self.return_state = v.check_bool("return_state", return_state)
        self.dropout = v.check_rate("dropout", dropout)
        self.go_backwards = v.check_bool("go_backwards", go_backwards)
        self.seed = v.check_seed("seed", seed)
        self.dense = keras.layers.Dense(units, activation=activation, name="dense")
        self.dropout_layer = keras.layers.Dropout(self.dropout, seed=seed) if self.dropout else None
        self.supports_masking = True

    @property
    def state_size(self) -> list[int]:
        """The sizes of the state, in ``return_state`` order."""
        return [] if self.return_sequences else [self.units, 1]

    def build(self, input_shape):
        self.dense.build(tuple(input_shape[:-2]) + (input_shape[-1],))

    def get_initial_state(self, batch_size):
        """The state before the first step (zeros), a list like ``RNN.get_initial_state``."""
        return [ops.zeros((batch_size, size), dtype=self.compute_dtype)
                for size in self.state_size]

    def step(self, inputs, states, training=False):
        """One time step ``(batch, features)``: returns ``(output, new_states)``."""
        if self.dropout_layer is not None:
            inputs = self.dropout_layer(inputs, training=training)
        y = self.dense(inputs)
        if self.return_sequences:
            return y, []
        total, count = states[0] + y, states[1] + 1.0
        return ops.divide_no_nan(total, count), [total, count]

    def call(self, inputs, mask=None, initial_state=None, training=None):
        x = inputs
        if self.dropout_layer is not None:
            x = self.dropout_layer(x, training=training)
        y = self.dense(x)
        if self.return_sequences:
            if self.go_backwards:
                y = ops.flip(y, axis=1)
            return [y] if self.return_state else y
        weight = ops.ones_like(y[:, :, :1]) if mask is None else ops.expand_dims(
            ops.cast(mask, y.dtype), -1)
        total = ops.sum(y * weight, axis=1)
        count = ops.sum(weight, axis=1)
        if initial_state is not None:
            total = total + initial_state[0]
            count = count + initial_state[1]
        mean = ops.divide_no_nan(total, count)
        return [mean, total, count] if self.return_state else mean

    def compute_mask(self, inputs, mask=None):
        if not self.return_sequences or mask is None:
            return [None] * (1 + len(self.state_size)) if self.return_state else None
        if self.go_backwards:
            mask = ops.flip(mask, axis=1)
        return [mask] if self.return_state else mask

    def get_config(self):
        config = {
            "units": self.units,
            "activation": keras.activations.serialize(self.activation),
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "dropout": self.dropout,
            "go_backwards": self.go_backwards,
            "seed": self.seed,
        }
        return {**super().get_config(), **config}
