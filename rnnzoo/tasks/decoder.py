"""The token decoder the generative tasks share, and the pieces around it.

:class:`DecoderStack` owns the layers of a token decoder (embedding, ``depth``
layers of any cell from :mod:`rnnzoo.layers.recurrent`, optional attention,
the softmax) and applies them to whole sequences (teacher forcing) or, through
:func:`step_model`, one token at a time (generation and export). Around it:
:func:`merge_bidirectional_states` (an encoder's two directions as one
decoder state), the loss and metric every generative task compiles with
(:func:`masked_loss`, :func:`token_accuracy`) and the vocabulary options
(:func:`vocabulary_option`, :func:`resolve_vocab_size`).

Example:

```python
decoder = DecoderStack(vocab_size, cell="gru", width=64, depth=1, dropout=0.0,
                       embedding_dim=32)
probs, states = decoder(target_in, encoder_states)         # (B, T, V), teacher forcing
step = step_model(decoder, encoder_states, with_memory=False, name="decoder_step")
```
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import keras

from rnnzoo.layers.recurrent import get_cell, make_rnn_layer, state_sizes
from rnnzoo.metrics import MaskedAccuracy
from rnnzoo.registry import Option
from rnnzoo.text import Vocabulary, as_vocabulary

__all__ = [
    "ATTENTIONS",
    "CONDITIONS",
    "DecoderNames",
    "DecoderStack",
    "step_model",
    "state_specs",
    "merge_bidirectional_states",
    "masked_loss",
    "token_accuracy",
    "vocabulary_option",
    "resolve_vocab_size",
]

ATTENTIONS = ("none", "bahdanau", "luong")
# How the decoder gets its condition (encoder summary, image projection):
# "state": it initialises the recurrent states (a non-recurrent cell, which has none,
# reads it at every step instead); "every_step": it is also read at every step;
# None: there is no condition (a language model).
CONDITIONS = ("state", "every_step", None)


@dataclasses.dataclass(frozen=True)
class DecoderNames:
    """The names of a decoder's layers (published weight files depend on them).

    Attributes:
        embedding: the token embedding.
        rnn: prefix of the recurrent layers (``f"{rnn}_{i + 1}"``).
        output: the softmax.
    """

    embedding: str = "decoder_embedding"
    rnn: str = "decoder_rnn"
    output: str = "decoder_output"


class DecoderStack:
    """The layers of a token decoder and the function that applies them.

    Not a layer itself: it creates named Keras layers that become part of the
    graphs (training model and step model) built from them, or of the model
    that assigns them to its attributes.

    Args:
        vocab_size: softmax width.
        cell: a cell of :func:`rnnzoo.layers.recurrent.available_cells`.
        width: hidden units of each decoder layer.
        depth: stacked decoder layers.
        dropout: input dropout of every layer (and before the softmax with
            ``output_dropout``).
        embedding_dim: token embedding width.
        attention: ``"none"``, ``"bahdanau"`` or ``"luong"``.
        condition: one of :data:`CONDITIONS`.
        mask_zero: whether the embedding masks padding (id 0).
        output_dropout: a ``Dropout`` before the softmax (when ``dropout``).
        names: the layer names.
    """

    def __init__(self, vocab_size: int, *, cell: str, width: int, depth: int, dropout: float,
                 embedding_dim: int, attention: str = "none", condition: str | None = "state",
                 mask_zero: bool = True, output_dropout: bool = True,
                 names: DecoderNames = DecoderNames()):
        self.cell = cell
        self.width = width
        self.recurrent = get_cell(cell).recurrent
        # a decoder without recurrence has no state to carry its condition: it reads it
        self.feed_condition = condition == "every_step" or (
            condition == "state" and not self.recurrent)
        self.embedding = keras.layers.Embedding(
            vocab_size, embedding_dim, mask_zero=mask_zero, name=names.embedding
        )
        self.layers = [
            make_rnn_layer(cell, width, return_sequences=True, return_state=True,
                           dropout=dropout, name=f"{names.rnn}_{i + 1}")
            for i in range(depth)
        ]
        self.dropout = (
            keras.layers.Dropout(dropout, name="decoder_dropout")
            if dropout and output_dropout else None
        )
        self.attention_name = attention
        self.attention = None
        if attention == "luong":
            self.attention = keras.layers.Attention(name="attention")
        elif attention == "bahdanau":
            self.attention = keras.layers.AdditiveAttention(name="attention")
        if self.feed_condition:
            self.concat_condition = keras.layers.Concatenate(name="decoder_condition")
        if self.attention is not None:
            self.concat_context = keras.layers.Concatenate(name="attention_concat")
            self.combine = keras.layers.Dense(width, activation="tanh", name="attention_combine")
        self.output = keras.layers.Dense(vocab_size, activation="softmax", name=names.output)

    def num_states(self) -> list[int]:
        """How many state tensors each layer takes (0 for a non-recurrent cell)."""
        return [len(state_sizes(layer)) for layer in self.layers]

    def __call__(self, tokens, states: Sequence = (), memory=None, memory_mask=None,
                 training=None):
        """Applies the decoder to ``tokens`` (B, T); returns ``(probs (B, T, V), new_states)``.

        ``states`` are the recurrent states (empty: the layers' zero states),
        followed, when ``feed_condition``, by the condition (B, D) read at every
        step (the encoder summary or the image projection), which comes back
        unchanged at the end of ``new_states``.
        """
        states = list(states)
        condition = None
        if self.feed_condition:
            states, condition = states[:-1], states[-1]
        y = self.embedding(tokens)
        if condition is not None:
            # broadcast the (B, D) condition over time: (B, 1, D) + (B, T, 1) zeros
            repeated = keras.ops.expand_dims(condition, 1) + keras.ops.zeros_like(y[:, :, :1])
            y = self.concat_condition([y, repeated])
        new_states = []
        i = 0
        for layer, n in zip(self.layers, self.num_states()):
            out = layer(y, initial_state=list(states[i:i + n]) or None, training=training)
            y, layer_states = out[0], list(out[1:])
            new_states += layer_states
            i += n
        if self.attention is not None:
            mask = keras.ops.cast(memory_mask, "bool")
            context = self.attention([y, memory], mask=[None, mask])
            y = self.combine(self.concat_context([y, context]))
        if self.dropout is not None:
            y = self.dropout(y, training=training)
        if condition is not None:
            new_states.append(condition)
        return self.output(y), new_states


def state_specs(decoder: DecoderStack) -> list:
    """Symbolic ``(None, size)`` float32 stand-ins for a decoder's own (zero) initial states."""
    return [keras.KerasTensor((None, size), dtype="float32")
            for layer in decoder.layers for size in state_sizes(layer)]


def step_model(decoder: DecoderStack, initial_states: Sequence, *, with_memory: bool,
               name: str) -> keras.Model:
    """The one-step decoder: ``[token (B, 1), *states] -> [probs (B, V), *new_states]``.

    ``initial_states`` are symbolic tensors whose shapes and dtypes define the
    state inputs: the outputs of the encoder inference model, in the order
    ``[*recurrent states, condition (if the decoder reads one), memory, memory
    mask (with attention)]``, or :func:`state_specs` for a decoder without
    encoder. The condition and memory are returned unchanged.
    """
    token = keras.Input((1,), dtype="int32", name="token")
    state_inputs = [
        keras.Input(tuple(s.shape[1:]), dtype=s.dtype, name=f"state_{i}")
        for i, s in enumerate(initial_states)
    ]
    states, memory, memory_mask = state_inputs, None, None
    if with_memory:
        states, memory, memory_mask = state_inputs[:-2], state_inputs[-2], state_inputs[-1]
    probs, new_states = decoder(token, states, memory, memory_mask)
    probs = keras.ops.squeeze(probs, axis=1)
    if decoder.feed_condition:  # returned unchanged: an output must not be an input
        new_states[-1] = keras.layers.Identity(name="condition_out")(new_states[-1])
    outputs = [probs, *new_states]
    if with_memory:
        outputs += [keras.layers.Identity(name="memory_out")(memory),
                    keras.layers.Identity(name="memory_mask_out")(memory_mask)]
    return keras.Model([token, *state_inputs], outputs, name=name)


def merge_bidirectional_states(layer: keras.layers.Bidirectional, states: Sequence,
                               units: int, name: str) -> list:
    """A ``Bidirectional`` encoder layer's final states as one decoder state list.

    Forward and backward states of width ``units`` are concatenated (the
    decoder is ``2 * units`` wide); other states (a Clockwork RNN's step
    counter) are the forward direction's.

    Args:
        layer: the ``Bidirectional`` layer.
        states: its ``return_state`` outputs: forward states, then backward.
        units: the width of one direction.
        name: prefix of the ``Concatenate`` layers (``f"{name}_{k}"``).

    Returns:
        One tensor per forward state.
    """
    sizes = state_sizes(layer)
    forward, backward = states[:len(sizes)], states[len(sizes):]
    return [
        keras.layers.Concatenate(name=f"{name}_{k}")([f, b]) if size == units else f
        for k, (f, b, size) in enumerate(zip(forward, backward, sizes))
    ]


def token_accuracy() -> keras.metrics.Metric:
    """Next-token accuracy on non-padding targets."""
    return MaskedAccuracy(name="token_accuracy")


def masked_loss() -> keras.losses.Loss:
    """Sparse cross-entropy that ignores padding targets (id 0)."""
    return keras.losses.SparseCategoricalCrossentropy(ignore_class=0, name="masked_crossentropy")


def vocabulary_option(name: str, help: str, types: tuple = (Vocabulary, list, dict)) -> Option:
    """An option holding a :class:`rnnzoo.text.Vocabulary` (or a token list / config dict)."""
    return Option(name, None, types, allow_none=True,
                  validator=lambda value: as_vocabulary(value, name), help=help)


def resolve_vocab_size(vocabulary, vocab_size, name: str) -> int:
    """``vocab_size`` (None: the vocabulary's size); never smaller than the vocabulary."""
    if vocab_size is None:
        return len(vocabulary)
    if vocab_size < len(vocabulary):
        raise ValueError(
            f"`{name}` must be at least the vocabulary size {len(vocabulary)} (ids beyond it "
            f"are unused). Received: {name}={vocab_size}"
        )
    return int(vocab_size)
