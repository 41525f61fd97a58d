"""The generative base shared by ``text_prediction``, ``translation`` and ``captioning``.

KerasHub's ``CausalLM`` / ``Seq2SeqLM`` are the model: a generative task is a
``keras.Model`` that carries its vocabulary, turns the user's raw examples into
training batches (``make_dataset``) and raw inputs into text (``generate``).
:class:`GenerativeMixin` owns what the three share:

- ``generate``: argument checks, batching, running the encoder, decoding with a
  strategy of :mod:`rnnzoo.tasks.decoding`, turning ids into text;
- ``inference_models``: the encoder and one-step decoder, built once per model
  and cached *outside* it (an attribute would be walked by Keras' saver and
  change the weight paths of the saved file);
- :func:`to_dataset`: encoded arrays as shuffled ``tf.data`` batches;
- BLEU scoring against references (:func:`bleu`, :func:`most_frequent_bleu`).

A task provides only what differs: its training graph, how raw inputs become
encoder inputs (:meth:`GenerativeMixin._generation_inputs`,
:meth:`GenerativeMixin._encoder_input`) and its inference models
(:meth:`GenerativeMixin._build_inference_models`).

Example:

```python
class MyGenerator(GenerativeMixin, keras.Model):
    def _build_inference_models(self):
        return encoder, decoder_step
```
"""

from __future__ import annotations

import collections
import collections.abc
import weakref
from typing import Any, Sequence

import keras
import numpy as np

from rnnzoo import _validation as v
from rnnzoo.data import check_batch_size
from rnnzoo.metrics import corpus_bleu
from rnnzoo.tasks import decoding
from rnnzoo.text import END_ID, START_ID, Vocabulary

__all__ = ["GenerativeMixin", "check_texts", "to_dataset", "bleu", "most_frequent_bleu"]

# model -> its inference models, built once; kept out of the model's attributes so that
# saving does not see them.
_INFERENCE_MODELS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def check_texts(name: str, value: Any, *, vocabulary: Vocabulary | None = None) -> list[str]:
    """A string or a non-empty sequence of strings, as a list of ``str`` (bytes decoded).

    Args:
        name: the argument's name, for the messages.
        value: what the user passed.
        vocabulary: if given, every text must hold at least one of its tokens
            (a zero-length sequence is refused).

    Returns:
        The texts.

    Raises:
        TypeError: if ``value`` is not a string or a sequence of strings.
        ValueError: if it is empty, or a text has no token.
    """
    if isinstance(value, (str, bytes)):
        items = [value]
    elif isinstance(value, collections.abc.Iterable) and not isinstance(
            value, collections.abc.Mapping):
        items = list(value)
    else:
        raise TypeError(f"`{name}` must be a string or a list of strings. "
                        f"Received: {name}={value!r:.200} of type {type(value).__name__}")
    if not items:
        raise ValueError(f"`{name}` must hold at least one string. Received: {name}={value!r}")
    texts = []
    for i, item in enumerate(items):
        if not isinstance(item, (str, bytes)):
            raise TypeError(f"`{name}` must contain strings. Received: {name}[{i}]={item!r:.200} "
                            f"of type {type(item).__name__}")
        text = item.decode("utf-8") if isinstance(item, bytes) else item
        if vocabulary is not None and not vocabulary.tokenize(text):
            raise ValueError(f"`{name}` must contain non-empty texts (at least one token). "
                             f"Received: {name}[{i}]={text!r}")
        texts.append(text)
    return texts


def to_dataset(inputs: Any, targets: np.ndarray, *, batch_size: int, shuffle: bool,
               seed: int | None = 0):
    """Wraps encoded arrays in a batched, optionally shuffled ``tf.data.Dataset``.

    Args:
        inputs: an array or a dict of arrays (first axis: examples).
        targets: the target array.
        batch_size: examples per batch.
        shuffle: shuffle every epoch.
        seed: the shuffle seed.

    Returns:
        A ``tf.data.Dataset`` of ``(inputs, targets)`` batches.
    """
    import tensorflow as tf  # tf.data only; the rest of the package runs on any backend

    batch_size = check_batch_size(v.check_positive_int("batch_size", batch_size))
    seed = v.check_seed("seed", seed)
    ds = tf.data.Dataset.from_tensor_slices((inputs, targets))
    if shuffle:
        ds = ds.shuffle(max(len(targets), 1), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def bleu(vocabulary: Vocabulary, references: Sequence[Sequence[str]],
         hypotheses: Sequence[str]) -> float:
    """Corpus BLEU-4 of ``hypotheses`` against several references each, in ``vocabulary``'s tokens.

    Args:
        vocabulary: tokenises the texts.
        references: per hypothesis, a list of reference strings.
        hypotheses: the generated strings.

    Returns:
        BLEU in ``[0, 1]``.
    """
    tok = vocabulary.tokenize
    return float(corpus_bleu([[tok(r) for r in refs] for refs in references],
                             [tok(h) for h in hypotheses]))


def most_frequent_bleu(vocabulary: Vocabulary, references: Sequence[Sequence[str]],
                       train_references: Sequence[Sequence[str]]) -> tuple[str, float]:
    """BLEU-4 of always answering the most frequent training text (a blind baseline).

    Returns:
        ``(that text, its BLEU against references)``.
    """
    common = collections.Counter(t for refs in train_references for t in refs).most_common(1)
    text = common[0][0]
    return text, bleu(vocabulary, references, [text] * len(references))


class GenerativeMixin:
    """What every generative task model shares; mix it in before ``keras.Model``.

    ``class Seq2Seq(GenerativeMixin, keras.Model)``. A subclass implements
    :meth:`_build_inference_models` and :meth:`_generation_inputs`, and
    overrides the other hooks where it differs: :meth:`_encoder_input` (raw
    chunk to encoder input), :meth:`_initial_state` (a model without encoder),
    :meth:`_output_vocabulary` (default ``self.vocabulary``) and
    :meth:`_default_max_length` (default ``self.max_output_length``).

    A functional subclass keeps its constructor arguments with
    :meth:`_keep_config` after ``keras.Model.__init__``; :meth:`get_config` and
    :meth:`from_config` then serialise it.
    """

    # ------------------------------------------------------------------ config
    def _keep_config(self, **arguments: Any) -> None:
        """Stores constructor arguments as attributes of the same names, for :meth:`get_config`."""
        for key, value in arguments.items():
            setattr(self, key, value)
        self._config_keys = tuple(arguments)

    def get_config(self) -> dict:
        """``name``, ``trainable`` and the kept arguments.

        Vocabularies are given as their configs, tuples as lists. A model that
        kept none (it serialises itself) gets ``keras.Model``'s config.
        """
        if not hasattr(self, "_config_keys"):
            return super().get_config()
        config = {"name": self.name, "trainable": self.trainable}
        for key in self._config_keys:
            value = getattr(self, key)
            if isinstance(value, Vocabulary):
                value = value.get_config()
            elif isinstance(value, tuple):
                value = list(value)
            config[key] = value
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**config)

    # ------------------------------------------------------------------ hooks
    def _build_inference_models(self) -> tuple[keras.Model | None, keras.Model]:
        """``(encoder or None, decoder_step)`` sharing this model's layers."""
        raise NotImplementedError

    def _generation_inputs(self, inputs: Any) -> Sequence:
        """The user's raw ``inputs`` as a sequence of examples (sliceable)."""
        raise NotImplementedError

    def _encoder_input(self, chunk: Sequence) -> Any:
        """The encoder's input for a chunk of examples."""
        return np.asarray(chunk)

    def _initial_state(self, models: dict, chunk: Sequence) -> tuple[list, list | None]:
        """``(decoder states, prompt prefix or None)`` for a chunk: the encoder's outputs."""
        # One eager call per batch: input lengths vary between batches, and an eager call
        # neither retraces nor needs every layer to support an unknown time dimension.
        states = models["encoder"](self._encoder_input(chunk), training=False)
        if not isinstance(states, (list, tuple)):  # a one-output model returns a tensor
            states = [states]
        return [keras.ops.convert_to_numpy(s) for s in states], None

    def _output_vocabulary(self) -> Vocabulary:
        return self.vocabulary

    def _default_max_length(self) -> int:
        return self.max_output_length

    # ------------------------------------------------------------------ shared
    def inference_models(self) -> dict:
        """The encoder and one-step decoder used by ``generate`` and for export.

        Returns:
            ``{"encoder": Model(raw-input encoding -> [*states]) or None,
            "decoder_step": Model([token (B, 1) int32, *states] -> [probs (B, V),
            *new_states]), "start_id": int, "end_id": int}``. Without encoder the
            initial states are zeros of the step model's state input shapes. Both
            models share their layers (weights) with this model; they are built
            once per model.
        """
        cached = _INFERENCE_MODELS.get(self)
        if cached is None:
            encoder, step = self._build_inference_models()
            cached = {"encoder": encoder, "decoder_step": step, "start_id": START_ID,
                      "end_id": END_ID}
            _INFERENCE_MODELS[self] = cached
        return {k: val for k, val in cached.items() if k != "step_fn"}

    def _step_fn(self):
        """The step model as a ``keras.ops`` step function, with its compiled loops (cached)."""
        self.inference_models()
        cached = _INFERENCE_MODELS[self]
        if "step_fn" not in cached:
            cached["step_fn"] = decoding.model_step(cached["decoder_step"])
        return cached["step_fn"]

    def generate(self, inputs, method: str | decoding.Strategy = "greedy", *,
                 beam_width: int = 4, temperature: float = 1.0, top_k: int | None = None,
                 top_p: float | None = None, length_penalty: float = 0.0,
                 max_length: int | None = None, seed: int | None = None,
                 batch_size: int | None = 64) -> list[str]:
        """Generates text for raw inputs.

        The whole batch is decoded by one compiled loop
        (:mod:`rnnzoo.tasks.decode_loop`): compiled once per model, method kind
        and shape bucket, then reused.

        Args:
            inputs: the raw inputs (see the task's model class).
            method: ``"greedy"``, ``"beam"`` (beam search) or ``"sample"``, or a
                :class:`rnnzoo.tasks.decoding.Strategy`.
            beam_width: beams kept by beam search.
            temperature: softmax temperature for sampling (> 0).
            top_k: sample only among the ``top_k`` most likely tokens.
            top_p: sample only among the most likely tokens holding ``top_p`` of
                the probability (nucleus sampling).
            length_penalty: beam search: rank finished hypotheses by
                ``log_prob / ((5 + length) / 6) ** length_penalty``.
            max_length: the most tokens generated (default: the model's).
            seed: sampling seed, an integer in ``[0, 2**32)``. The draws of the
                ``i``-th input at its ``t``-th generated token depend only on
                ``(seed, i, t)``: the same inputs and seed give the same text
                whatever ``batch_size``, on TensorFlow and on JAX. ``None``: a
                random seed.
            batch_size: inputs decoded together (``None``: all at once).

        Returns:
            A list of strings, one per input.

        Raises:
            TypeError: if ``inputs`` is not of a kind the task reads.
            ValueError: for a bad option or empty or invalid inputs, naming it.
        """
        max_length = self._default_max_length() if max_length is None else max_length
        decoding.check_decoding_args(method, beam_width, temperature, top_k, max_length,
                                     top_p=top_p, length_penalty=length_penalty)
        batch_size = v.check_positive_int("batch_size", batch_size, allow_none=True)
        v.check_seed("seed", seed)
        items = self._generation_inputs(inputs)
        models = self.inference_models()
        step_fn = self._step_fn()
        vocabulary = self._output_vocabulary()
        size = len(items) if batch_size is None else batch_size
        results = []
        for start in range(0, len(items), size):
            chunk = items[start:start + size]
            states, prefix = self._initial_state(models, chunk)
            sequences = decoding.decode(
                step_fn, states, batch_size=len(chunk), start_id=models["start_id"],
                end_id=models["end_id"], method=method, beam_width=beam_width,
                temperature=temperature, top_k=top_k, top_p=top_p,
                length_penalty=length_penalty, max_length=max_length, seed=seed, prefix=prefix,
                index=range(start, start + len(chunk)),
            )
            results += [vocabulary.decode(seq) for seq in sequences]
        return results
