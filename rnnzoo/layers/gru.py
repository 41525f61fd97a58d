"""rnnzoo's ``GRU``: ``keras.layers.GRU`` with a faster loop, the same weights and outputs.

See :mod:`rnnzoo.layers.fast_rnn` for the fast path and when Keras' own loop runs
instead, and :func:`rnnzoo.layers.fused_loops.gru_sequence` for the recurrence.
"""

from __future__ import annotations

import keras

from rnnzoo.layers import fused_loops
from rnnzoo.layers.fast_rnn import FastRNNMixin

__all__ = ["GRU"]


@keras.saving.register_keras_serializable(package="rnnzoo")
class GRU(FastRNNMixin, keras.layers.GRU):
    """``keras.layers.GRU`` with a faster loop (see :mod:`rnnzoo.layers.fast_rnn`).

    Takes exactly ``keras.layers.GRU``'s arguments, has its weights and gives
    its outputs (``reset_after=False`` runs Keras' loop).

    Example:

    >>> layer = rnnzoo.layers.GRU(32, return_sequences=True)
    """

    keras_layer = keras.layers.GRU

    def __init__(self, units, **kwargs):
        super().__init__(units, **kwargs)
        self._init_fast()

    def _run(self, x, states, mask, hand_gradient):
        kernel, recurrent_kernel, bias = self._weights()
        input_bias = recurrent_bias = None
        if bias is not None:
            input_bias, recurrent_bias = bias[0], bias[1]
        hs = fused_loops.gru_sequence(x, states[0], kernel, recurrent_kernel, input_bias,
                                      recurrent_bias, mask, hand_gradient=hand_gradient)
        return hs, [hs[-1]]
