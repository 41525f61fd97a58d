"""Recurrent layers, the cell table and the recurrent block.

Keras' built-in ``SimpleRNN``, ``LSTM``, ``GRU`` and ``Bidirectional`` are the
reference; rnnzoo adds the layers Keras lacks and a faster loop for Keras' own,
one family per module:

- :mod:`~rnnzoo.layers.abc_rnn`: the explicit A/B/C simple RNN (cell + RNN wrapper);
- :mod:`~rnnzoo.layers.base`: the RNN-wrapper plumbing the A/B/C and Clockwork layers share;
- :mod:`~rnnzoo.layers.clockwork`: the Clockwork RNN (cell + RNN wrapper), and
  :mod:`~rnnzoo.layers.clockwork_schedule`, its fast chunked loop;
- :mod:`~rnnzoo.layers.lstm`, :mod:`~rnnzoo.layers.gru`, :mod:`~rnnzoo.layers.simple_rnn`:
  Keras' ``LSTM``, ``GRU`` and ``SimpleRNN`` with a faster loop (same names, weights and
  outputs; :mod:`~rnnzoo.layers.fast_rnn`, :mod:`~rnnzoo.layers.fused_loops`);
- :mod:`~rnnzoo.layers.dropout`: one dropout mask per sequence for these cells
  (public ``keras.random`` only);
- :mod:`~rnnzoo.layers.feedforward`: the no-recurrence baseline with the same interface;
- :mod:`~rnnzoo.layers.recurrent`: the cell table (``cell=`` in every task) and the
  recurrent block (depth, Bidirectional);
- :mod:`~rnnzoo.layers.walk`: walking a model's layers with public Keras attributes.
"""

from rnnzoo.layers.abc_rnn import ABCSimpleRNN, ABCSimpleRNNCell
from rnnzoo.layers.clockwork import ClockworkRNN, ClockworkRNNCell
from rnnzoo.layers.feedforward import FeedForward
from rnnzoo.layers.gru import GRU
from rnnzoo.layers.lstm import LSTM
from rnnzoo.layers.recurrent import (
    CellSpec,
    available_cells,
    get_cell,
    layer_width,
    make_rnn_layer,
    recurrent_block,
    recurrent_cells,
    register_cell,
    state_sizes,
    unregister_cell,
)
from rnnzoo.layers.simple_rnn import SimpleRNN
from rnnzoo.layers.walk import iter_layers, recurrent_layers

__all__ = [
    "ABCSimpleRNN",
    "ABCSimpleRNNCell",
    "CellSpec",
    "ClockworkRNN",
    "ClockworkRNNCell",
    "FeedForward",
    "GRU",
    "LSTM",
    "SimpleRNN",
    "available_cells",
    "get_cell",
    "iter_layers",
    "layer_width",
    "make_rnn_layer",
    "recurrent_block",
    "recurrent_cells",
    "recurrent_layers",
    "register_cell",
    "state_sizes",
    "unregister_cell",
]
