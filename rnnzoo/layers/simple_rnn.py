"""rnnzoo's ``SimpleRNN``: ``keras.layers.SimpleRNN`` with a faster loop, the same weights and outputs.

See :mod:`rnnzoo.layers.fast_rnn` for the fast path and when Keras' own loop runs
instead, and :func:`rnnzoo.layers.fused_loops.simple_rnn_sequence` for the recurrence.
"""

from __future__ import annotations

import keras

from rnnzoo.layers import fused_loops
from rnnzoo.layers.fast_rnn import FastRNNMixin

__all__ = ["SimpleRNN"]


@keras.saving.register_keras_serializable(package="rnnzoo")
class SimpleRNN(FastRNNMixin, keras.layers.SimpleRNN):
    """``keras.layers.SimpleRNN`` with a faster loop (see :mod:`rnnzoo.layers.fast_rnn`).

    Takes exactly ``keras.layers.SimpleRNN``'s arguments, has its weights and
    gives its outputs (activations other than ``tanh`` run Keras' loop).

    Example:

    >>> layer = rnnzoo.layers.SimpleRNN(32, return_sequences=True)
    """

    keras_layer = keras.layers.SimpleRNN

    def __init__(self, units, **kwargs):
        super().__init__(units, **kwargs)
        self._init_fast()

    def _run(self, x, states, mask, hand_gradient):
        kernel, recurrent_kernel, bias = self._weights()
        hs = fused_loops.simple_rnn_sequence(x, states[0], kernel, recurrent_kernel, bias, mask,
                                             hand_gradient=hand_gradient)
        return hs, [hs[-1]]
