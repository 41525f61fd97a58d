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
* ``cell="feedforward"`` (no recurrence anywhere): the encoder is a per-step
  ``Dense`` stack followed by masked average pooling (the "summary"); the
  decoder predicts each token from the previous token's embedding concatenated
  with that summary through a per-step ``Dense`` stack, i.e. a bigram model
  conditioned on a bag of source words (plus attention if asked for).
  ``bidirectional`` has no effect there (nothing runs in time), as in
  :func:`rnnzoo.layers.recurrent.recurrent_block`.

The model is a functional ``keras.Model`` subclass that carries both
vocabularies; :meth:`Seq2Seq.generate` turns raw sentences into translations
(greedy, beam search or sampling, see :mod:`rnnzoo.tasks.decoding`) and
:meth:`Seq2Seq.make_dataset` turns the user's ``(source, target)`` strings into
training batches.
"""

from __future__ import annotations

import weakref
from typing import Any, Sequence

import keras
import numpy as np

from rnnzoo import registry
from rnnzoo.data import translation as data
from rnnzoo.layers.recurrent import FEEDFORWARD, make_rnn_layer
from rnnzoo.registry import Option
from rnnzoo.tasks.common import compile_model, recurrent_options, recurrent_search_space

__all__ = ["Seq2Seq", "build_translation", "evaluate_generation", "ATTENTIONS", "METHODS"]

ATTENTIONS = ("none", "bahdanau", "luong")
METHODS = ("greedy", "beam", "sample")

# Inference models are cached outside the model object: an attribute would be
# walked by Keras' saver and change the weight paths of the saved file.
_INFERENCE_CACHE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


# --------------------------------------------------------------------------- shared pieces
# (also used by rnnzoo.tasks.captioning)


def state_sizes(layer) -> list[int]:
    """The sizes of a recurrent layer's states, in ``return_state`` order."""
    size = layer.cell.state_size
    if isinstance(size, (list, tuple)):
        return [int(s) for s in size]
    return [int(size)]


class DecoderStack:
    """The layers of a token decoder and the function that applies them.

    Not a layer itself: it creates named Keras layers that become part of the
    functional graphs (training model and step model) built from them.

    Args:
        vocab_size: softmax width.
        cell, width, depth, dropout: the recurrent decoder; ``cell="feedforward"``
            gives the per-step ``Dense`` decoder conditioned on ``states[0]``.
        embedding_dim: token embedding width.
        attention: ``"none"``, ``"bahdanau"`` or ``"luong"``.
    """

    def __init__(self, vocab_size: int, *, cell: str, width: int, depth: int, dropout: float,
                 embedding_dim: int, attention: str = "none", feed_condition: bool = False):
        self.cell = cell
        self.width = width
        # a feed-forward decoder always reads its condition (it has no state)
        self.feed_condition = feed_condition or cell == FEEDFORWARD
        self.embedding = keras.layers.Embedding(
            vocab_size, embedding_dim, mask_zero=True, name="decoder_embedding"
        )
        if cell == FEEDFORWARD:
            self.layers = [
                keras.layers.Dense(width, activation="tanh", name=f"decoder_dense_{i + 1}")
                for i in range(depth)
            ]
        else:
            self.layers = [
                make_rnn_layer(cell, width, return_sequences=True, return_state=True,
                               dropout=dropout, name=f"decoder_rnn_{i + 1}")
                for i in range(depth)
            ]
        self.dropout = (
            keras.layers.Dropout(dropout, name="decoder_dropout") if dropout else None
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
        self.output = keras.layers.Dense(vocab_size, activation="softmax", name="decoder_output")

    def num_states(self) -> list[int]:
        """How many recurrent state tensors each layer takes (none for a feed-forward decoder)."""
        if self.cell == FEEDFORWARD:
            return []
        return [len(state_sizes(layer)) for layer in self.layers]

    def __call__(self, tokens, states: list, memory=None, memory_mask=None):
        """Applies the decoder to ``tokens`` (B, T); returns ``(probs (B, T, V), new_states)``.

        ``states`` are the recurrent states (none for a feed-forward decoder),
        followed, when ``feed_condition``, by the condition (B, D) read at every
        step (the encoder summary or the image projection), which comes back
        unchanged at the end of ``new_states``.
        """
        condition = None
        if self.feed_condition:
            states, condition = list(states[:-1]), states[-1]
        y = self.embedding(tokens)
        if self.feed_condition:
            # broadcast the (B, D) condition over time: (B, 1, D) + (B, T, 1) zeros
            repeated = keras.ops.expand_dims(condition, 1) + keras.ops.zeros_like(y[:, :, :1])
            y = self.concat_condition([y, repeated])
        new_states = []
        if self.cell == FEEDFORWARD:
            for layer in self.layers:
                if self.dropout is not None:
                    y = self.dropout(y)
                y = layer(y)
        else:
            i = 0
            for layer, n in zip(self.layers, self.num_states()):
                out = layer(y, initial_state=list(states[i:i + n]))
                y, layer_states = out[0], list(out[1:])
                new_states += layer_states
                i += n
        if self.attention is not None:
            mask = keras.ops.cast(memory_mask, "bool")
            context = self.attention([y, memory], mask=[None, mask])
            y = self.combine(self.concat_context([y, context]))
        if self.dropout is not None:
            y = self.dropout(y)
        if condition is not None:
            new_states.append(condition)
        return self.output(y), new_states


def step_model(decoder: DecoderStack, initial_states: Sequence, *, with_memory: bool,
               name: str) -> keras.Model:
    """The one-step decoder: ``[token (B, 1), *states] -> [probs (B, V), *new_states]``.

    ``initial_states`` are the symbolic outputs of the encoder inference model
    (their shapes define the state inputs), in the order
    ``[*recurrent states, condition (if the decoder reads one), memory, memory
    mask (with attention)]``; the condition and memory are returned unchanged.
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


def make_step_fn(step: keras.Model):
    """Wraps a step model as ``decoding.decode``'s ``step_fn`` (log-probabilities, numpy)."""

    def step_fn(tokens, state):
        tokens = np.asarray(tokens, dtype=np.int32).reshape(-1, 1)
        # predict_on_batch runs a compiled function: ~20x faster than an eager call
        outs = step.predict_on_batch([tokens, *[np.asarray(s) for s in state]])
        outs = [np.asarray(o) for o in outs]
        # No token is masked out: the exported decoder (rnnzoo.litert_runtime) takes the
        # plain argmax, and a trained model gives <pad>/<start> (never targets) ~0 mass.
        log_probs = np.log(np.maximum(outs[0].astype(np.float64), 1e-12))
        return log_probs, outs[1:]

    return step_fn


def check_generate_args(method, beam_width, temperature, top_k, max_length, batch_size):
    """Fails fast on bad ``generate`` arguments, naming them."""
    from rnnzoo.tasks.decoding import check_decoding_args

    check_decoding_args(method, beam_width, temperature, top_k, max_length)
    if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) or (
        batch_size < 1
    ):
        raise ValueError(f"`batch_size` must be a positive integer. Received: batch_size={batch_size!r}")


def run_decode(encoder: keras.Model, step: keras.Model, encoder_input: np.ndarray, *,
               method, beam_width, temperature, top_k, max_length, seed) -> list[list[int]]:
    """Encodes one batch and decodes it with :func:`rnnzoo.tasks.decoding.decode`."""
    from rnnzoo.tasks import decoding
    from rnnzoo.text import END_ID, START_ID

    # One eager call per batch: source lengths vary between batches, and an eager call
    # neither retraces nor needs every layer to support an unknown time dimension.
    states = encoder(encoder_input, training=False)
    if not isinstance(states, (list, tuple)):  # a one-output model returns a tensor
        states = [states]
    states = [keras.ops.convert_to_numpy(s) for s in states]
    return decoding.decode(
        make_step_fn(step), states, batch_size=len(encoder_input), start_id=START_ID,
        end_id=END_ID, method=method, beam_width=beam_width, temperature=temperature,
        top_k=top_k, max_length=max_length, seed=seed,
    )


def vocabulary_option(name: str, help: str) -> Option:
    """An option holding a :class:`rnnzoo.text.Vocabulary` (or a token list / config dict)."""

    from rnnzoo.text import Vocabulary, as_vocabulary

    return Option(name, None, (Vocabulary, list, dict), allow_none=True,
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


def token_accuracy() -> keras.metrics.Metric:
    """Next-token accuracy on non-padding targets."""
    from rnnzoo.metrics import MaskedAccuracy

    return MaskedAccuracy(name="token_accuracy")


def masked_loss() -> keras.losses.Loss:
    """Sparse cross-entropy that ignores padding targets (id 0)."""
    return keras.losses.SparseCategoricalCrossentropy(ignore_class=0, name="masked_crossentropy")


# --------------------------------------------------------------------------- the model


@keras.saving.register_keras_serializable(package="rnnzoo")
class Seq2Seq(keras.Model):
    """Encoder-decoder translation model that carries its vocabularies.

    Training inputs are ``{"source": (B, S) ids, "target_in": (B, T) ids}``
    (``target_in`` starts with ``<start>``); the output is the next-token
    distribution ``(B, T, target_vocab_size)``.

    Args:
        source_vocabulary, target_vocabulary: :class:`rnnzoo.text.Vocabulary`.
        cell: a registered cell or ``"feedforward"``.
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
        from rnnzoo.text import as_vocabulary

        source_vocabulary = as_vocabulary(source_vocabulary, "source_vocabulary")
        target_vocabulary = as_vocabulary(target_vocabulary, "target_vocabulary")
        if attention not in ATTENTIONS:
            raise ValueError(
                f"`attention` must be one of {list(ATTENTIONS)}. Received: attention={attention!r}"
            )
        src_size = resolve_vocab_size(source_vocabulary, source_vocab_size, "source_vocab_size")
        tgt_size = resolve_vocab_size(target_vocabulary, target_vocab_size, "target_vocab_size")
        feedforward = cell == FEEDFORWARD
        width = units * (2 if bidirectional and not feedforward else 1)

        # ---- layers
        src_embedding = keras.layers.Embedding(src_size, embedding_dim, mask_zero=True,
                                               name="encoder_embedding")
        if feedforward:
            enc_layers = [keras.layers.Dense(units, activation="tanh", name=f"encoder_dense_{i + 1}")
                          for i in range(depth)]
            pool = keras.layers.GlobalAveragePooling1D(name="encoder_pool")
        else:
            enc_layers = []
            for i in range(depth):
                layer = make_rnn_layer(cell, units, return_sequences=True, return_state=True,
                                       dropout=dropout, name=f"encoder_rnn_{i + 1}"
                                       if not bidirectional else f"encoder_rnn_{i + 1}_{cell}")
                if bidirectional:
                    layer = keras.layers.Bidirectional(layer, name=f"encoder_rnn_{i + 1}")
                enc_layers.append(layer)
            pool = None
        decoder = DecoderStack(tgt_size, cell=cell, width=width, depth=depth, dropout=dropout,
                               embedding_dim=embedding_dim, attention=attention)

        def encode(source):
            x = src_embedding(source)
            states = []
            if feedforward:
                for layer in enc_layers:
                    x = layer(x)
                states = [pool(x)]  # the condition of the feed-forward decoder
            else:
                for i, layer in enumerate(enc_layers):
                    out = layer(x)
                    x, layer_states = out[0], list(out[1:])
                    if bidirectional:
                        inner = layer.forward_layer
                        sizes = state_sizes(inner)
                        n = len(sizes)
                        fw, bw = layer_states[:n], layer_states[n:]
                        layer_states = [
                            keras.layers.Concatenate(name=f"encoder_state_{i + 1}_{k}")([f, b])
                            if size == units else f
                            for k, (f, b, size) in enumerate(zip(fw, bw, sizes))
                        ]
                    states += layer_states
            mask = keras.ops.cast(keras.ops.not_equal(source, 0), "float32")
            return states, x, mask

        # ---- the training graph
        source = keras.Input((None,), dtype="int32", name="source")
        target_in = keras.Input((None,), dtype="int32", name="target_in")
        states, memory, memory_mask = encode(source)
        probs, _ = decoder(target_in, states, memory, memory_mask)
        super().__init__({"source": source, "target_in": target_in}, probs, name=name, **kwargs)

        # ---- config and helpers (after super().__init__, as KerasHub does)
        self.source_vocabulary = source_vocabulary
        self.target_vocabulary = target_vocabulary
        self.cell = cell
        self.rnnzoo_cell = cell
        self.units = units
        self.depth = depth
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.attention = attention
        self.embedding_dim = embedding_dim
        self.source_vocab_size = source_vocab_size
        self.target_vocab_size = target_vocab_size
        self.max_output_length = max_output_length
        self._encode_fn = encode
        self._decoder_stack = decoder

    def get_config(self) -> dict:
        return {
            "name": self.name,
            "trainable": self.trainable,
            "source_vocabulary": self.source_vocabulary.get_config(),
            "target_vocabulary": self.target_vocabulary.get_config(),
            "cell": self.cell,
            "units": self.units,
            "depth": self.depth,
            "bidirectional": self.bidirectional,
            "dropout": self.dropout,
            "attention": self.attention,
            "embedding_dim": self.embedding_dim,
            "source_vocab_size": self.source_vocab_size,
            "target_vocab_size": self.target_vocab_size,
            "max_output_length": self.max_output_length,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**config)

    # ------------------------------------------------------------------ inference
    def inference_models(self) -> dict:
        """The encoder and one-step decoder models used by :meth:`generate` and for export.

        Returns:
            ``{"encoder": Model(source ids (B, S) int32 -> [*states]),
            "decoder_step": Model([token (B, 1) int32, *states] -> [probs (B, V), *states]),
            "start_id": int, "end_id": int}``. With attention the last two states
            are the encoder outputs (B, S, width) and the float source mask (B, S).
            They share their layers (weights) with this model.
        """
        from rnnzoo.text import END_ID, START_ID

        cached = _INFERENCE_CACHE.get(self)
        if cached is not None:
            return dict(cached)
        source = keras.Input((None,), dtype="int32", name="source")
        states, memory, memory_mask = self._encode_fn(source)
        with_memory = self.attention != "none"
        outputs = list(states) + ([memory, memory_mask] if with_memory else [])
        encoder = keras.Model(source, outputs, name=f"{self.name}_encoder")
        step = step_model(self._decoder_stack, outputs, with_memory=with_memory,
                          name=f"{self.name}_decoder_step")
        cached = {"encoder": encoder, "decoder_step": step, "start_id": START_ID,
                  "end_id": END_ID}
        _INFERENCE_CACHE[self] = cached
        return dict(cached)

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

        Example:

        >>> ds = model.make_dataset([("hello", "bonjour"), ("cat", "chat")], batch_size=2)
        """
        inputs, targets = data.encode_pairs(
            pairs, self.source_vocabulary, self.target_vocabulary,
            max_source_length=max_source_length, max_target_length=max_target_length,
        )
        return data.to_dataset(inputs, targets, batch_size=batch_size, shuffle=shuffle, seed=seed)

    def generate(self, inputs, method: str = "greedy", *, beam_width: int = 4,
                 temperature: float = 1.0, top_k: int | None = None,
                 max_length: int | None = None, seed: int | None = None,
                 batch_size: int = 64) -> list[str]:
        """Translates raw source sentences.

        Args:
            inputs: a string or a list of strings in the source language.
            method: ``"greedy"``, ``"beam"`` (beam search) or ``"sample"``.
            beam_width: beams kept by beam search.
            temperature: softmax temperature for sampling (> 0).
            top_k: sample only among the ``top_k`` most likely tokens.
            max_length: the most tokens generated (default ``max_output_length``).
            seed: sampling seed (same seed, same text).
            batch_size: sentences decoded together.

        Returns:
            A list of strings, one per input.

        Example:

        >>> model.generate(["the small red cat sees a dog"], method="beam")
        ['le petit chat rouge voit un chien']
        """
        max_length = self.max_output_length if max_length is None else max_length
        check_generate_args(method, beam_width, temperature, top_k, max_length, batch_size)
        texts = [inputs] if isinstance(inputs, (str, bytes)) else list(inputs)
        if not texts:
            return []
        models = self.inference_models()
        results = []
        for start in range(0, len(texts), batch_size):
            chunk = texts[start:start + batch_size]
            length = max(1, max(len(self.source_vocabulary.tokenize(t)) for t in chunk))
            ids = self.source_vocabulary.encode_batch(chunk, max_length=length)
            sequences = run_decode(
                models["encoder"], models["decoder_step"], ids, method=method,
                beam_width=beam_width, temperature=temperature, top_k=top_k,
                max_length=max_length, seed=seed,
            )
            results += [self.target_vocabulary.decode(seq) for seq in sequences]
        return results


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
    """
    from rnnzoo.metrics import corpus_bleu

    sources = [s for s, _ in pairs]
    hyps = model.generate(sources, method=method, beam_width=beam_width, max_length=max_length)
    tok = model.target_vocabulary.tokenize
    references = [[tok(t)] for _, t in pairs]
    hyp_tokens = [tok(h) for h in hyps]
    exact = float(np.mean([h == r[0] for h, r in zip(hyp_tokens, references)]))
    return {"bleu": float(corpus_bleu(references, hyp_tokens)), "exact_match": exact,
            "hypotheses": hyps}


def _demo_report(model, test_ds) -> dict:
    """BLEU and exact match of greedy translations vs. the most frequent target sentence."""
    from rnnzoo.metrics import corpus_bleu

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
    import collections

    common = collections.Counter(t for _, t in train).most_common(1)[0][0]
    tok = model.target_vocabulary.tokenize
    baseline = corpus_bleu([[tok(t)] for _, t in pairs], [tok(common)] * len(pairs))
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
    cell: str,
    units: int,
    depth: int,
    bidirectional: bool,
    dropout: float,
    learning_rate: float,
    attention: str,
    source_vocabulary,
    target_vocabulary,
    source_vocab_size: int | None,
    target_vocab_size: int | None,
    embedding_dim: int,
    max_output_length: int,
) -> Seq2Seq:
    """Builds the compiled translation model.

    Without vocabularies the built-in English -> French vocabularies are used.
    Loss: sparse cross-entropy with padding ignored; metric: next-token accuracy
    on non-padding positions.

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
        source_vocabulary, target_vocabulary, cell=cell, units=units, depth=depth,
        bidirectional=bidirectional, dropout=dropout, attention=attention,
        embedding_dim=embedding_dim, source_vocab_size=source_vocab_size,
        target_vocab_size=target_vocab_size, max_output_length=max_output_length,
    )
    return compile_model(model, learning_rate=learning_rate, loss=masked_loss(),
                         metrics=[token_accuracy()])
