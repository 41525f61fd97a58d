"""The ``translation`` task: an encoder-decoder (seq2seq) with optional attention.

Sutskever et al. (2014): a recurrent encoder reads the source sentence and its
final states initialise a recurrent decoder, trained with teacher forcing to
predict the next target token. With ``attention="luong"`` (dot product,
``keras.layers.Attention``) or ``"bahdanau"`` (additive,
``keras.layers.AdditiveAttention``) every decoder output also attends over the
encoder outputs, and ``Dense(tanh)`` of [decoder output, context] feeds the
softmax (Luong et al. 2015's attentional hidden state; with the additive score
this is the Keras form of Bahdanau et al. 2015).

Variants:

* ``depth``: encoder and decoder both have ``depth`` layers; layer ``i`` of the
  decoder starts from the final states of layer ``i`` of the encoder.
* ``bidirectional=True``: each encoder layer is a ``Bidirectional`` wrapper;
  its forward and backward final states are concatenated, so the decoder is
  ``2 * units`` wide.
* a non-recurrent cell (``cell="feedforward"``): the encoder is a per-step
  stack followed by masked average pooling (the "summary"); the decoder
  predicts each token from the previous token's embedding concatenated with
  that summary through a per-step stack, i.e. a bigram model conditioned on a
  bag of source words (plus attention if asked for). ``bidirectional`` has no
  effect there (nothing runs in time), as in
  :func:`rnnzoo.layers.recurrent.make_rnn_layer`.

The model is a functional ``keras.Model`` subclass that carries both
vocabularies; :meth:`Seq2Seq.generate` turns raw sentences into translations
(greedy, beam search or sampling, see :mod:`rnnzoo.tasks.decoding`) and
:meth:`Seq2Seq.make_dataset` turns the user's ``(source, target)`` strings into
training batches.
"""

from __future__ import annotations

import keras
import numpy as np

from rnnzoo import _validation as v, registry
from rnnzoo.data import translation as data
from rnnzoo.layers.recurrent import get_cell, layer_width, make_rnn_layer
from rnnzoo.registry import Option
from rnnzoo.tasks.common import compile_model, recurrent_options, recurrent_search_space
from rnnzoo.tasks.decoder import (
    ATTENTIONS,
    DecoderStack,
    masked_loss,
    merge_bidirectional_states,
    resolve_vocab_size,
    step_model,
    token_accuracy,
    vocabulary_option,
)
from rnnzoo.tasks.decoding import METHODS
from rnnzoo.tasks.generation import (
    GenerativeMixin,
    bleu,
    check_texts,
    most_frequent_bleu,
    to_dataset,
)
from rnnzoo.text import as_vocabulary

__all__ = ["Seq2Seq", "build_translation", "evaluate_generation", "ATTENTIONS", "METHODS"]


# --------------------------------------------------------------------------- the model


@keras.saving.register_keras_serializable(package="rnnzoo")
class Seq2Seq(GenerativeMixin, keras.Model):
    """Encoder-decoder translation model that carries its vocabularies.

    Training inputs are ``{"source": (B, S) ids, "target_in": (B, T) ids}``
    (``target_in`` starts with ``<start>``); the output is the next-token
    distribution ``(B, T, target_vocab_size)``. :meth:`generate` takes a source
    sentence or a list of them and returns their translations;
    :meth:`inference_models` gives ``encoder: source ids (B, S) int32 ->
    [*states]`` (with attention the last two states are the encoder outputs
    (B, S, width) and the float source mask (B, S)) and the one-step decoder.

    Args:
        source_vocabulary, target_vocabulary: :class:`rnnzoo.text.Vocabulary`.
        cell: a cell of :func:`rnnzoo.layers.recurrent.available_cells`.
        units: hidden units per encoder layer (per direction).
        depth: layers of the encoder and of the decoder.
        bidirectional: bidirectional encoder (decoder width ``2 * units``).
        dropout: input dropout of the recurrent layers and before the softmax.
        attention: ``"none"``, ``"bahdanau"`` or ``"luong"``.
        embedding_dim: token embedding width (both languages).
        source_vocab_size, target_vocab_size: embedding / softmax sizes
            (``None``: the vocabularies' sizes).
        max_output_length: default ``max_length`` of :meth:`generate`.

    Example:

    >>> model = rnnzoo.build("translation", attention="luong")
    >>> model.fit(model.make_dataset([("the cat", "le chat")] * 64), epochs=1)
    >>> model.generate(["the cat"], method="beam", beam_width=3)
    """

    def __init__(self, source_vocabulary, target_vocabulary, *, cell: str = "lstm",
                 units: int = 64, depth: int = 1, bidirectional: bool = False,
                 dropout: float = 0.0, attention: str = "luong", embedding_dim: int = 64,
                 source_vocab_size: int | None = None, target_vocab_size: int | None = None,
                 max_output_length: int = 50, name: str = "rnnzoo_translation", **kwargs):
        source_vocabulary = as_vocabulary(source_vocabulary, "source_vocabulary")
        target_vocabulary = as_vocabulary(target_vocabulary, "target_vocabulary")
        if attention not in ATTENTIONS:
            raise ValueError(
                f"`attention` must be one of {list(ATTENTIONS)}. Received: attention={attention!r}"
            )
        src_size = resolve_vocab_size(source_vocabulary, source_vocab_size, "source_vocab_size")
        tgt_size = resolve_vocab_size(target_vocabulary, target_vocab_size, "target_vocab_size")

        # ---- layers
        src_embedding = keras.layers.Embedding(src_size, embedding_dim, mask_zero=True,
                                               name="encoder_embedding")
        enc_layers = [
            make_rnn_layer(cell, units, return_sequences=True, return_state=True,
                           dropout=dropout, bidirectional=bidirectional,
                           name=f"encoder_rnn_{i + 1}")
            for i in range(depth)
        ]
        # without recurrence there is no final state: the masked mean of the encoder
        # outputs is the summary the decoder reads at every step
        pool = (None if get_cell(cell).recurrent
                else keras.layers.GlobalAveragePooling1D(name="encoder_pool"))
        decoder = DecoderStack(tgt_size, cell=cell, width=layer_width(cell, units, bidirectional),
                               depth=depth, dropout=dropout, embedding_dim=embedding_dim,
                               attention=attention)

        def encode(source):
            x = src_embedding(source)
            states = []
            for i, layer in enumerate(enc_layers):
                out = layer(x)
                x, layer_states = out[0], list(out[1:])
                if isinstance(layer, keras.layers.Bidirectional):
                    layer_states = merge_bidirectional_states(
                        layer, layer_states, units, name=f"encoder_state_{i + 1}")
                states += layer_states
            if pool is not None:
                states = [pool(x)]
            mask = keras.ops.cast(keras.ops.not_equal(source, 0), "float32")
            return states, x, mask

        # ---- the training graph
        source = keras.Input((None,), dtype="int32", name="source")
        target_in = keras.Input((None,), dtype="int32", name="target_in")
        states, memory, memory_mask = encode(source)
        probs, _ = decoder(target_in, states, memory, memory_mask)
        super().__init__({"source": source, "target_in": target_in}, probs, name=name, **kwargs)

        # ---- config and helpers (after super().__init__, as KerasHub does)
        self._keep_config(
            source_vocabulary=source_vocabulary, target_vocabulary=target_vocabulary,
            cell=cell, units=units, depth=depth, bidirectional=bidirectional, dropout=dropout,
            attention=attention, embedding_dim=embedding_dim,
            source_vocab_size=source_vocab_size, target_vocab_size=target_vocab_size,
            max_output_length=max_output_length,
        )
        self.rnnzoo_cell = cell
        self._encode_fn = encode
        self._decoder_stack = decoder

    # ------------------------------------------------------------------ generation hooks
    def _build_inference_models(self):
        source = keras.Input((None,), dtype="int32", name="source")
        states, memory, memory_mask = self._encode_fn(source)
        with_memory = self.attention != "none"
        outputs = list(states) + ([memory, memory_mask] if with_memory else [])
        encoder = keras.Model(source, outputs, name=f"{self.name}_encoder")
        step = step_model(self._decoder_stack, outputs, with_memory=with_memory,
                          name=f"{self.name}_decoder_step")
        return encoder, step

    def _generation_inputs(self, inputs):
        return check_texts("inputs", inputs, vocabulary=self.source_vocabulary)

    def _encoder_input(self, chunk):
        length = max(1, max(len(self.source_vocabulary.tokenize(t)) for t in chunk))
        return self.source_vocabulary.encode_batch(chunk, max_length=length)

    def _output_vocabulary(self):
        return self.target_vocabulary

    def make_dataset(self, pairs, batch_size: int = 64, *, shuffle: bool = True, seed: int = 0,
                     max_source_length: int | None = None, max_target_length: int | None = None):
        """Turns raw ``(source, target)`` sentence pairs into training batches.

        Args:
            pairs: a list of ``(source, target)`` strings.
            batch_size: examples per batch.
            shuffle: shuffle every epoch.
            seed: shuffle seed.
            max_source_length, max_target_length: truncation (``None``: the longest).

        Returns:
            A ``tf.data.Dataset`` of ``({"source", "target_in"}, target_out)`` for ``fit``.

        Raises:
            ValueError: if ``pairs`` is empty, an item is not a pair of strings,
                a source or target has no token, or an option is bad.

        Example:

        >>> ds = model.make_dataset([("hello", "bonjour"), ("cat", "chat")], batch_size=2)
        """
        v.check_int("max_source_length", max_source_length, low=1, allow_none=True)
        v.check_int("max_target_length", max_target_length, low=1, allow_none=True)
        inputs, targets = data.encode_pairs(
            pairs, self.source_vocabulary, self.target_vocabulary,
            max_source_length=max_source_length, max_target_length=max_target_length,
        )
        for i, (source, target) in enumerate(pairs):  # well-formed: encode_pairs checked them
            for side, text, vocabulary in (("source", source, self.source_vocabulary),
                                           ("target", target, self.target_vocabulary)):
                if not vocabulary.tokenize(text):
                    raise ValueError(f"`pairs` must hold non-empty sentences. Received: an empty "
                                     f"{side} in pairs[{i}]={tuple(pairs[i])!r}")
        return to_dataset(inputs, targets, batch_size=batch_size, shuffle=shuffle, seed=seed)


# --------------------------------------------------------------------------- evaluation


def evaluate_generation(model: Seq2Seq, pairs, *, method: str = "greedy",
                        beam_width: int = 4, max_length: int | None = None) -> dict:
    """Translates ``pairs``' sources and scores them against their targets.

    Args:
        model: a translation model.
        pairs: ``(source, target)`` strings.
        method, beam_width, max_length: as in :meth:`Seq2Seq.generate`.

    Returns:
        ``{"bleu": corpus BLEU-4 (0..1), "exact_match": fraction of translations
        equal to the reference, "hypotheses": [...]}``. Tokens are the target
        vocabulary's tokens.

    Raises:
        ValueError: when ``pairs`` is empty (there is nothing to score).
    """
    pairs = list(pairs)
    if not pairs:
        raise ValueError("`pairs` must be a non-empty list of (source, target) strings. "
                         "Received: pairs=[]")
    hyps = model.generate([s for s, _ in pairs], method=method, beam_width=beam_width,
                          max_length=max_length)
    tok = model.target_vocabulary.tokenize
    exact = np.mean([tok(h) == tok(t) for h, (_, t) in zip(hyps, pairs)])
    return {"bleu": bleu(model.target_vocabulary, [[t] for _, t in pairs], hyps),
            "exact_match": float(exact), "hypotheses": hyps}


def _demo_report(model, test_ds) -> dict:
    """BLEU and exact match of greedy translations vs. the most frequent target sentence."""
    demo = registry.get("translation").demo
    kwargs = dict(demo.get("eval_data", {}))
    n = kwargs.pop("num_examples", data.BUILTIN["num_examples"]["test"])
    pairs = data.generate_pairs(
        n, seed=kwargs.pop("seed", data.BUILTIN["seed"]) * 10 + 2, **kwargs
    )
    scores = evaluate_generation(model, pairs)
    train = data.generate_pairs(data.BUILTIN["num_examples"]["train"],
                                seed=data.BUILTIN["seed"] * 10)
    # baseline: always answer the most frequent training target (no sentence repeats
    # often, so this is near zero) -- a model that ignores its input
    _, baseline = most_frequent_bleu(model.target_vocabulary, [[t] for _, t in pairs],
                                     [[t] for _, t in train])
    examples = [f"{s} -> {h} ({t})" for (s, t), h in zip(pairs[:3], scores["hypotheses"][:3])]
    examples.append(f"test BLEU {scores['bleu']:.3f}, exact match {scores['exact_match']:.3f} "
                    f"(baseline BLEU {baseline:.3f})")
    return {"baseline": "most frequent target (BLEU)", "baseline_value": float(baseline),
            "metric": "BLEU (greedy)", "value": float(scores["bleu"]),
            "examples": examples, "bleu": scores["bleu"], "exact_match": scores["exact_match"]}


# --------------------------------------------------------------------------- registration


@registry.register(
    "translation",
    pattern="many-to-many",
    description=(
        "Sequence-to-sequence translation (Sutskever et al. 2014): a recurrent encoder's "
        "final states initialise a recurrent decoder trained with teacher forcing; optional "
        "Luong (dot) or Bahdanau (additive) attention over the encoder outputs. The model "
        "carries its source and target vocabularies and generates text with greedy, beam "
        "or sampled decoding."
    ),
    inputs='{"source": int ids (batch, source_time), "target_in": int ids (batch, target_time)}, '
           "0 = padding, target_in starts with <start>",
    outputs="next-token probabilities (batch, target_time, target_vocab_size)",
    options=[
        *recurrent_options(cell="lstm", units=64, learning_rate=5e-3),
        Option("attention", "luong", str, choices=ATTENTIONS,
               help="attention over the encoder outputs: none, bahdanau (additive), luong (dot)"),
        vocabulary_option("source_vocabulary",
                          "rnnzoo.text.Vocabulary of the source language (default: built-in)"),
        vocabulary_option("target_vocabulary",
                          "rnnzoo.text.Vocabulary of the target language (default: built-in)"),
        Option("source_vocab_size", None, int, low=5, allow_none=True,
               help="encoder embedding size (default: len(source_vocabulary))"),
        Option("target_vocab_size", None, int, low=5, allow_none=True,
               help="softmax size (default: len(target_vocabulary))"),
        Option("embedding_dim", 64, int, low=1, help="token embedding width"),
        Option("max_output_length", 50, int, low=1, help="default max_length of generate()"),
    ],
    metrics=["token_accuracy"],
    datasets={"builtin": data.load_builtin, "tfds": data.load_tfds},
    tfds_name="ted_hrlr_translate",
    search_space=recurrent_search_space(
        attention={"type": "choice", "values": list(ATTENTIONS)},
    ),
    objective=("val_loss", "min"),
    demo={"epochs": 8, "data": {"num_examples": 4000, "max_clauses": 1},
          "eval_data": {"num_examples": 200, "max_clauses": 1}, "report": _demo_report},
    tiny={
        "overrides": {"units": 32, "embedding_dim": 16},
        "data": {"num_examples": 32, "max_clauses": 1},
    },
)
def build_translation(
    *,
    attention: str,
    source_vocabulary,
    target_vocabulary,
    source_vocab_size: int | None,
    target_vocab_size: int | None,
    embedding_dim: int,
    max_output_length: int,
    learning_rate: float,
    **recurrent,
) -> Seq2Seq:
    """Builds the compiled translation model.

    Without vocabularies the built-in English -> French vocabularies are used.
    Loss: sparse cross-entropy with padding ignored; metric: next-token accuracy
    on non-padding positions.

    Args:
        attention, source_vocabulary, target_vocabulary, source_vocab_size,
            target_vocab_size, embedding_dim, max_output_length: see the task's options.
        learning_rate: Adam's learning rate.
        **recurrent: ``cell``, ``units``, ``depth``, ``bidirectional`` and
            ``dropout``, passed to :class:`Seq2Seq`.

    Example:

    >>> src = rnnzoo.text.build_vocabulary(english_sentences, level="word")
    >>> tgt = rnnzoo.text.build_vocabulary(german_sentences, level="word")
    >>> model = rnnzoo.build("translation", source_vocabulary=src, target_vocabulary=tgt)
    """
    if source_vocabulary is None or target_vocabulary is None:
        builtin_src, builtin_tgt = data.builtin_vocabularies()
        source_vocabulary = source_vocabulary or builtin_src
        target_vocabulary = target_vocabulary or builtin_tgt
    model = Seq2Seq(
        source_vocabulary, target_vocabulary, **recurrent, attention=attention,
        embedding_dim=embedding_dim, source_vocab_size=source_vocab_size,
        target_vocab_size=target_vocab_size, max_output_length=max_output_length,
    )
    return compile_model(model, learning_rate=learning_rate, loss=masked_loss(),
                         metrics=[token_accuracy()])
