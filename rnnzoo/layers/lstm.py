"""rnnzoo's ``LSTM``: ``keras.layers.LSTM`` with a faster loop, the same weights and outputs.

See :mod:`rnnzoo.layers.fast_rnn` for the fast path and when Keras' own loop runs
instead, and :func:`rnnzoo.layers.fused_loops.lstm_sequence` for the recurrence.
"""

from __future__ import annotations

import keras

from rnnzoo.layers import fused_loops
from rnnzoo.layers.fast_rnn import FastRNNMixin

__all__ = ["LSTM"]


@keras.saving.register_keras_serializable(package="rnnzoo")
class LSTM(FastRNNMixin, keras.layers.LSTM):
    """``keras.layers.LSTM`` with a faster loop (see :mod:`rnnzoo.layers.fast_rnn`).

    Takes exactly ``keras.layers.LSTM``'s arguments, has its weights and gives
    its outputs.

    Example:

    >>> layer = rnnzoo.layers.LSTM(32, return_sequences=True)
    """

    keras_layer = keras.layers.LSTM

    def __init__(self, units, **kwargs):
        super().__init__(units, **kwargs)
        self._init_fast()

    def _run(self, x, states, mask, hand_gradient):
        kernel, recurrent_kernel, bias = self._weights()
        hs, c_last = fused_loops.lstm_sequence(x, states[0], states[1], kernel, recurrent_kernel,
                                           bias, mask, hand_gradient=hand_gradient)
        return hs, [hs[-1], c_last]
