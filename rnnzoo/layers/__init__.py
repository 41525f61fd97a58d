"""Recurrent layers and the recurrent block.

Keras' built-in ``SimpleRNN``, ``LSTM``, ``GRU`` and ``Bidirectional`` are used
as they are; rnnzoo adds only the layers Keras lacks.
"""

from rnnzoo.layers.recurrent import available_cells, make_rnn_layer, recurrent_block, register_cell
from rnnzoo.layers.abc_rnn import ABCSimpleRNN, ABCSimpleRNNCell  # registers cell="abc"
from rnnzoo.layers.clockwork import ClockworkRNN, ClockworkRNNCell  # registers cell="clockwork"

__all__ = [
    "ABCSimpleRNN",
    "ABCSimpleRNNCell",
    "ClockworkRNN",
    "ClockworkRNNCell",
    "available_cells",
    "make_rnn_layer",
    "recurrent_block",
    "register_cell",
]
