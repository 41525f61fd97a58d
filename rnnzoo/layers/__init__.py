"""Recurrent layers and the recurrent block.

Keras' built-in ``SimpleRNN``, ``LSTM``, ``GRU`` and ``Bidirectional`` are used
as they are; rnnzoo adds only the layers Keras lacks.
"""

from rnnzoo.layers.recurrent import available_cells, make_rnn_layer, recurrent_block, register_cell

__all__ = ["available_cells", "make_rnn_layer", "recurrent_block", "register_cell"]
