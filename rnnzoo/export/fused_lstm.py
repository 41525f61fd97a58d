"""Keras LSTM layers as TFLite's fused ``UNIDIRECTIONAL_SEQUENCE_LSTM`` op (``fused_lstm=True``).

TFLite Micro and the int8 LSTM kernels expect one fused op per LSTM layer
instead of a ``WHILE`` loop. :func:`with_fused_lstms` returns a copy of a
functional model (sharing every layer and weight, see
:mod:`rnnzoo.export.rewire`) in which each fusable LSTM is wrapped in a
:class:`FusedLSTM` layer that runs the converter's fusable composite; the
other layers run unchanged.
"""

from __future__ import annotations

import uuid

import keras
import tensorflow as tf

from rnnzoo.export import rewire

__all__ = ["fusable_lstm", "with_fused_lstms", "FusedLSTM"]


def fusable_lstm(layer) -> bool:
    """Whether ``layer`` maps onto TFLite's fused ``UNIDIRECTIONAL_SEQUENCE_LSTM``.

    Keras' own LSTM (or a subclass computing exactly it, marked
    ``keras_layer = keras.layers.LSTM``: rnnzoo's LSTM) with its default
    activations, a bias, forward in time, without ``return_state`` (the fused
    op does not return the final cell state).

    Args:
        layer: any Keras layer.

    Returns:
        True if the layer can be written as the fused op.
    """
    if getattr(type(layer), "keras_layer", type(layer)) is not keras.layers.LSTM:
        return False
    cell = layer.cell
    return (
        not layer.go_backwards
        and not layer.return_state
        and not layer.stateful
        and cell.use_bias
        and cell.activation is keras.activations.tanh
        and cell.recurrent_activation is keras.activations.sigmoid
    )


_LSTM_COMPOSITE = None


def _lstm_composite():
    """``standard_lstm`` tagged ``api_implements="lstm_*"``: the converter's Keras-LSTM fusion.

    TFLite's ``prepare_composite_functions`` pass replaces the body of any
    function whose ``api_implements`` attribute starts with ``lstm_`` by one
    ``UNIDIRECTIONAL_SEQUENCE_LSTM`` op, reading the arguments ``(inputs,
    init_h, init_c, kernel, recurrent_kernel, bias)`` (gate order i, f, c, o,
    as in Keras) and the ``time_major`` / ``go_backwards`` attributes. Keras 2
    tagged its LSTM this way; Keras 3 does not, so rnnzoo does it here. The
    body (used only if the converter does not fuse) is the same recurrence.
    """
    global _LSTM_COMPOSITE
    if _LSTM_COMPOSITE is None:

        def standard_lstm(inputs, init_h, init_c, kernel, recurrent_kernel, bias):
            def step(carry, x):
                h, c = carry
                z = tf.matmul(x, kernel) + tf.matmul(h, recurrent_kernel) + bias
                i, f, g, o = tf.split(z, 4, axis=1)
                c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
                h = tf.sigmoid(o) * tf.tanh(c)
                return h, c

            hs, cs = tf.scan(step, tf.transpose(inputs, [1, 0, 2]), initializer=(init_h, init_c))
            return hs[-1], tf.transpose(hs, [1, 0, 2]), hs[-1], cs[-1], tf.constant(0.0)

        _LSTM_COMPOSITE = tf.function(
            standard_lstm, autograph=False,
            experimental_attributes={
                "api_implements": f"lstm_{uuid.uuid4()}",
                "api_preferred_device": "CPU",
                "time_major": False,
                "go_backwards": False,
            },
        )
    return _LSTM_COMPOSITE


class FusedLSTM(keras.layers.Layer):
    """A Keras LSTM layer run as the fusable composite (same weights, same outputs).

    Right padding (as in every rnnzoo dataset) is handled around the op: the
    output at and after the last valid step is the last valid output, what
    Keras returns for masked steps. A call with an ``initial_state`` runs the
    LSTM itself (the composite starts from zeros).

    Args:
        lstm: a built layer for which :func:`fusable_lstm` is true.

    Attributes:
        fused: whether a call took the fused path (set while tracing).
    """

    def __init__(self, lstm: keras.layers.LSTM, **kwargs):
        super().__init__(name=lstm.name, dtype=lstm.dtype_policy, **kwargs)
        self.lstm = lstm
        self.fused = False
        self.built = True

    def call(self, inputs, mask=None, initial_state=None, training=None):
        if initial_state is not None:
            return self.lstm(inputs, mask=mask, initial_state=initial_state, training=training)
        self.fused = True
        cell = self.lstm.cell
        zeros = tf.zeros((tf.shape(inputs)[0], cell.units), dtype=inputs.dtype)
        _, seq, _, _, _ = _lstm_composite()(
            inputs, zeros, zeros, tf.convert_to_tensor(cell.kernel),
            tf.convert_to_tensor(cell.recurrent_kernel), tf.convert_to_tensor(cell.bias),
        )
        if mask is not None:
            # Right padding: earlier steps never see the padding, so the last valid step's
            # output is the layer's output.
            valid = tf.cast(mask, tf.int32)
            last_index = tf.maximum(tf.reduce_sum(valid, axis=1) - 1, 0)
            last = tf.gather(seq, last_index, axis=1, batch_dims=1)
        else:
            last = seq[:, -1]
        if not self.lstm.return_sequences:
            return last
        if mask is not None:
            seq = tf.where(tf.cast(mask, tf.bool)[:, :, None], seq, last[:, None, :])
        return seq

    def compute_output_spec(self, inputs, mask=None, initial_state=None, training=None):
        return self.lstm.compute_output_spec(inputs, initial_state=initial_state)

    def compute_mask(self, inputs, mask=None):
        return self.lstm.compute_mask(inputs, mask)


def with_fused_lstms(model) -> tuple[keras.Model, list[FusedLSTM]]:
    """A copy of ``model`` sharing its layers, each fusable LSTM wrapped in :class:`FusedLSTM`.

    Args:
        model: a functional or sequential Keras model.

    Returns:
        ``(copy, wrappers)``; after tracing, ``wrapper.fused`` tells which
        LSTM layers became the fused op.
    """
    wrappers: list[FusedLSTM] = []

    def substitute(layer):
        if fusable_lstm(layer):
            wrappers.append(FusedLSTM(layer))
            return wrappers[-1]
        return layer

    copy = rewire.replace_layers(model, substitute)
    return copy, wrappers
