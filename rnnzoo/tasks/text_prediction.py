"""The ``text_prediction`` task: a next-token language model (character or word level).

The model reads ``<start> t1 t2 ...`` and predicts ``t1 t2 ... <end>`` at every
step (teacher forcing, many-to-many). It carries its vocabulary, turns raw
strings into training batches (:meth:`TextPredictionModel.make_dataset`) and
continues prompts (:meth:`TextPredictionModel.generate`) with greedy, beam or
sampled decoding.

Example:

```python
vocab = rnnzoo.text.build_vocabulary(my_texts, level="char")
model = rnnzoo.build("text_prediction", vocabulary=vocab, cell="gru", units=256)
model.fit(model.make_dataset(my_texts, batch_size=32, sequence_length=100), epochs=10)
model.generate("Once upon a time", method="sample", temperature=0.8, max_length=200)
```
"""

from __future__ import annotations

from typing import Any, Sequence

import keras
import numpy as np

from rnnzoo import _validation as v, registry
from rnnzoo.data import shakespeare, text_prediction as data
from rnnzoo.metrics import MaskedAccuracy, Perplexity
from rnnzoo.registry import Option
from rnnzoo.tasks import decoding
from rnnzoo.tasks.common import compile_model, recurrent_options, recurrent_search_space
from rnnzoo.tasks.decoder import (
    DecoderNames,
    DecoderStack,
    state_specs,
    step_model,
    vocabulary_option,
)
from rnnzoo.tasks.generation import GenerativeMixin, check_texts, to_dataset
from rnnzoo.text import PAD_ID, Vocabulary, as_vocabulary

__all__ = ["TextPredictionModel", "build_text_prediction"]

# The layer names of the published weights (the attribute names matter too: `embedding`
# and `head` are saved under their own names, the recurrent layers under `layers`).
_NAMES = DecoderNames(embedding="embedding", rnn="rnn", output="next_token")


def _prompts(inputs) -> list[str]:
    """A prompt string or a non-empty list of them, as a list of ``str`` (``""`` allowed)."""
    return check_texts("inputs", inputs)


@keras.saving.register_keras_serializable(package="rnnzoo")
class TextPredictionModel(GenerativeMixin, keras.Model):
    """A recurrent language model that carries its vocabulary.

    ``Embedding -> depth x recurrent layer (return sequences) -> Dense softmax``
    over the vocabulary at every step: the shared
    :class:`rnnzoo.tasks.decoder.DecoderStack` without condition. With a
    non-recurrent cell (``cell="feedforward"``) the model sees only the current
    token: a bigram model (the no-recurrence baseline).

    Args:
        vocabulary: a :class:`rnnzoo.text.Vocabulary` (or its config, or a token list).
        cell: a cell of :func:`rnnzoo.layers.recurrent.available_cells`.
        units: hidden units per layer.
        depth: stacked layers.
        dropout: input dropout of every layer.
        embedding_dim: token embedding width.
        **kwargs: ``keras.Model`` arguments (``name``, ...).

    Inputs: int token ids ``(batch, time)``; 0 is padding (only at the end).
    Outputs: next-token probabilities ``(batch, time, vocab_size)``.

    Example:

    >>> model = TextPredictionModel(rnnzoo.text.build_vocabulary(["abc"]), cell="gru", units=16)
    >>> model.generate("ab", max_length=5)
    """

    def __init__(
        self,
        vocabulary: Vocabulary | dict | Sequence[str],
        cell: str = "lstm",
        units: int = 256,
        depth: int = 1,
        dropout: float = 0.0,
        embedding_dim: int = 64,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.vocabulary = as_vocabulary(vocabulary)
        self.cell = cell
        self.units = units
        self.depth = depth
        self.dropout = dropout
        self.embedding_dim = embedding_dim
        self.rnnzoo_cell = cell
        stack = DecoderStack(len(self.vocabulary), cell=cell, width=units, depth=depth,
                             dropout=dropout, embedding_dim=embedding_dim, condition=None,
                             mask_zero=False, output_dropout=False, names=_NAMES)
        # tracked in this order, under these attribute names (see _NAMES)
        self.embedding = stack.embedding
        self.recurrent_layers = stack.layers
        self.head = stack.output
        self._stack = stack
        self.build((None, None))

    def build(self, input_shape=None):
        # Build every layer by one symbolic pass, so the weights exist at once
        # (count_params, summary, and loading a .keras file).
        self.call(keras.KerasTensor((None, None), dtype="int32"))

    def call(self, inputs, training=None):
        probs, _ = self._stack(inputs, training=training)
        return probs

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "vocabulary": self.vocabulary.get_config(),
            "cell": self.cell,
            "units": self.units,
            "depth": self.depth,
            "dropout": self.dropout,
            "embedding_dim": self.embedding_dim,
        }

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    # --------------------------------------------------------------- data
    def make_dataset(
        self,
        texts: str | Sequence[str],
        *,
        batch_size: int = 32,
        sequence_length: int = 64,
        shuffle: bool = True,
        seed: int | None = None,
    ):
        """Turns raw strings into the ``(inputs, targets)`` batches ``fit`` needs.

        Each string becomes ``<start> tokens <end>`` encoded with the model's
        vocabulary (unknown tokens: ``<unk>``) and long strings are cut into
        windows of ``sequence_length``; see
        :func:`rnnzoo.data.text_prediction.make_windows`.

        Args:
            texts: a string (one long document) or a list of strings.
            batch_size: examples per batch.
            sequence_length: steps per example.
            shuffle: shuffle every epoch (turn off for evaluation).
            seed: the shuffle seed.

        Returns:
            A ``tf.data.Dataset`` of int32 ``(inputs, targets)``.

        Raises:
            TypeError: if ``texts`` is not a string or a list of strings.
            ValueError: for an empty list or a bad ``batch_size``,
                ``sequence_length`` or ``seed``.

        Example:

        >>> ds = model.make_dataset(["first text", "second one"], batch_size=16)
        >>> model.fit(ds, epochs=5)
        """
        texts = check_texts("texts", texts)
        sequence_length = v.check_positive_int("sequence_length", sequence_length)
        inputs, targets = data.make_windows(self.vocabulary, texts, sequence_length)
        return to_dataset(inputs, targets, batch_size=batch_size, shuffle=shuffle, seed=seed)

    # ---------------------------------------------------------- generation
    def _build_inference_models(self):
        # no encoder: the step model's state inputs are the layers' own (zero) states
        step = step_model(self._stack, state_specs(self._stack), with_memory=False,
                          name=f"{self.name}_decoder_step")
        return None, step

    def _generation_inputs(self, inputs):
        return _prompts(inputs)

    def _initial_state(self, models, prompts):
        states = [np.zeros((len(prompts), int(t.shape[-1])), np.float32)
                  for t in models["decoder_step"].inputs[1:]]
        return states, [self.vocabulary.encode(p) for p in prompts]

    def generate(
        self,
        inputs: str | Sequence[str] = "",
        method: str | decoding.Strategy = "greedy",
        *,
        beam_width: int = 4,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        length_penalty: float = 0.0,
        max_length: int = 100,
        seed: int | None = None,
        batch_size: int | None = None,
        include_prompt: bool = True,
    ) -> list[str]:
        """Continues prompts.

        Args:
            inputs: a prompt string or a list of them (``""`` generates from scratch).
            method: ``"greedy"``, ``"beam"`` or ``"sample"``, or a strategy (see
                :mod:`rnnzoo.tasks.decoding`).
            beam_width: hypotheses kept by beam search.
            temperature: sampling temperature (> 0).
            top_k: sample among the ``top_k`` most likely tokens (``None``: all).
            top_p: sample among the most likely tokens holding ``top_p`` of the
                probability (``None``: all).
            length_penalty: beam search's length normalisation (0: none).
            max_length: the most tokens generated after the prompt; generation
                also stops at ``<end>``.
            seed: the sampling seed (an integer in ``[0, 2**32)``): prompt ``i``'s
                draws depend only on ``(seed, i, step)``, so the same prompts and
                seed give the same text whatever ``batch_size``; ``None``: random.
            batch_size: prompts decoded together (``None``: all at once).
            include_prompt: return ``prompt + continuation`` (default) or only
                the continuation.

        Returns:
            One string per prompt.

        Raises:
            TypeError: if ``inputs`` is not a string or a list of strings.
            ValueError: for an empty list or a bad option, naming it.

        Example:

        >>> model.generate(["The cat", "Many"], method="beam", beam_width=4)
        """
        continuations = super().generate(
            inputs, method, beam_width=beam_width, temperature=temperature, top_k=top_k,
            top_p=top_p, length_penalty=length_penalty, max_length=max_length, seed=seed,
            batch_size=batch_size,
        )
        if not include_prompt:
            return continuations
        joiner = "" if self.vocabulary.level == "char" else " "
        texts = []
        for prompt, continuation in zip(_prompts(inputs), continuations):
            if prompt and continuation:
                texts.append(prompt + joiner + continuation if joiner and not prompt.endswith(
                    " ") else prompt + continuation)
            else:
                texts.append(prompt or continuation)
        return texts

    def perplexity(self, dataset) -> float:
        """Perplexity of the model on a dataset of ``(inputs, targets)`` (padding skipped).

        Raises:
            ValueError: when ``dataset`` yields no batch.
        """
        results = self.evaluate(dataset, verbose=0, return_dict=True)
        if "perplexity" not in results:  # Keras evaluated nothing
            raise ValueError("`dataset` must yield at least one batch of (inputs, targets). "
                             "Received an empty dataset.")
        return float(results["perplexity"])


def _demo_report(model, test_ds) -> dict:
    """Unigram perplexity on the test split and a few generated continuations."""
    targets = np.concatenate([np.asarray(y).reshape(-1) for _, y in test_ds])
    prompts = ["The", "Many dogs", "A small"] if model.vocabulary.level == "char" else [
        "the", "many dogs", "a small"]
    examples = model.generate(prompts, method="greedy", max_length=80)
    examples += model.generate(["Some"], method="sample", temperature=0.7, seed=0, max_length=80)
    return {
        "baseline": "unigram perplexity",
        "baseline_value": data.unigram_perplexity(targets),
        "examples": [repr(e) for e in examples],
    }


@registry.register(
    "text_prediction",
    pattern="many-to-many",
    description=(
        "Next-token language model at character or word level: an Embedding, the recurrent "
        "block returning sequences and a softmax over the vocabulary at every step, trained "
        "with teacher forcing (padding skipped in the loss). The model carries its vocabulary; "
        "model.make_dataset(texts) turns raw strings into batches and model.generate(prompt, "
        "method='greedy'|'beam'|'sample') continues prompts. cell='feedforward' is a bigram model."
    ),
    inputs="int token ids (batch, time): <start> t1 t2 ..., 0 = padding at the end",
    outputs="next-token probabilities (batch, time, vocab_size)",
    options=[
        *recurrent_options(cell="lstm", units=256),
        vocabulary_option("vocabulary",
                          "an rnnzoo.text.Vocabulary (rnnzoo.text.build_vocabulary(texts)) or a "
                          "token list; default: the built-in data's vocabulary at `level`",
                          types=(Vocabulary, list, tuple, dict)),
        Option("level", data.BUILTIN["level"], str, choices=("char", "word"),
               help="token level of the default vocabulary (ignored when `vocabulary` is given)"),
        Option("embedding_dim", 64, int, low=1, help="token embedding width"),
    ],
    metrics=["perplexity", "accuracy"],
    datasets={"builtin": data.load_builtin, "tfds": data.load_tfds,
              "shakespeare": shakespeare.load},
    tfds_name="tiny_shakespeare",
    search_space=recurrent_search_space(units=(64, 512, 64), bidirectional=False),
    objective=("val_perplexity", "min"),
    allows_bidirectional=False,
    demo={
        "epochs": 5,
        "batch_size": 64,
        "overrides": {"cell": "gru", "units": 128, "embedding_dim": 32, "learning_rate": 1e-2},
        "data": {"num_examples": 2000},
        "eval_data": {"num_examples": 300},
        "report": _demo_report,
    },
    tiny={
        "overrides": {"units": 16, "embedding_dim": 16},
        "data": {"num_examples": 16, "sequence_length": 16},
    },
)
def build_text_prediction(
    *,
    vocabulary: Vocabulary | None,
    level: str,
    embedding_dim: int,
    bidirectional: bool,
    learning_rate: float,
    **recurrent,
) -> TextPredictionModel:
    """Builds the compiled language model.

    Loss: sparse categorical cross-entropy ignoring padding targets (so
    ``exp(loss)`` is the perplexity); metrics: perplexity and next-token accuracy.

    Args:
        vocabulary, level, embedding_dim: see the task's options.
        bidirectional: always False (the model generates left to right).
        learning_rate: Adam's learning rate.
        **recurrent: ``cell``, ``units``, ``depth`` and ``dropout``, passed to
            :class:`TextPredictionModel`.

    Example:

    >>> vocab = rnnzoo.text.build_vocabulary(texts, level="word", max_tokens=20000)
    >>> model = rnnzoo.build("text_prediction", vocabulary=vocab, cell="gru", depth=2)
    """
    del bidirectional  # always False here: registry.resolve rejects True
    vocab = vocabulary if vocabulary is not None else data.default_vocabulary(level)
    model = TextPredictionModel(
        vocab, **recurrent, embedding_dim=embedding_dim, name="rnnzoo_text_prediction",
    )
    return compile_model(
        model,
        learning_rate=learning_rate,
        loss=keras.losses.SparseCategoricalCrossentropy(ignore_class=PAD_ID),
        metrics=[Perplexity(), MaskedAccuracy()],
    )
