"""Metrics practitioners report for generated text: corpus BLEU and perplexity.

- :func:`corpus_bleu`: corpus-level BLEU (Papineni et al., 2002): clipped
  n-gram precisions up to ``max_order`` pooled over the whole corpus, their
  geometric mean, and the brevity penalty against the closest reference length.
  It gives the same numbers as ``nltk.translate.bleu_score.corpus_bleu`` (no
  smoothing); ``smooth=True`` adds one to every n-gram count (Lin & Och, 2004),
  as the TensorFlow NMT ``compute_bleu`` does.
- :func:`perplexity`: ``exp`` of a mean cross-entropy in nats.
- :class:`Perplexity` and :class:`MaskedAccuracy`: Keras metrics for
  ``model.compile`` that skip padding targets (``PAD_ID``).

Example:

```python
rnnzoo.metrics.corpus_bleu([[["a", "cat", "sat"]]], [["a", "cat", "sat"]], max_order=3)  # 1.0
model.compile(..., metrics=[rnnzoo.metrics.Perplexity()])
```
"""

from __future__ import annotations

import collections
import math
from typing import Sequence

import keras
from keras import ops

from rnnzoo.text import PAD_ID

__all__ = ["corpus_bleu", "perplexity", "Perplexity", "MaskedAccuracy"]


def _ngrams(tokens: Sequence[str], order: int) -> collections.Counter:
    return collections.Counter(
        tuple(tokens[i : i + order]) for i in range(len(tokens) - order + 1)
    )


def corpus_bleu(
    references: Sequence[Sequence[Sequence[str]]],
    hypotheses: Sequence[Sequence[str]],
    max_order: int = 4,
    smooth: bool = False,
) -> float:
    """Corpus-level BLEU of tokenised hypotheses against one or more references each.

    Args:
        references: for each hypothesis, a list of reference token lists.
        hypotheses: the token lists to score.
        max_order: the longest n-gram (uniform weights ``1 / max_order``).
        smooth: add one to the matches and totals of every order (Lin & Och,
            2004), so a short corpus with no 4-gram match does not score 0.

    Returns:
        BLEU in ``[0, 1]``.

    Raises:
        ValueError: if the two lists differ in length, a hypothesis has no
            reference, or ``max_order`` is not a positive integer.

    Example:

    >>> corpus_bleu([[["the", "cat", "is", "on", "the", "mat"]]],
    ...             [["the", "cat", "is", "on", "the", "mat"]])
    1.0
    """
    if not isinstance(max_order, int) or isinstance(max_order, bool) or max_order < 1:
        raise ValueError(f"`max_order` must be a positive integer. Received: max_order={max_order!r}")
    if len(references) != len(hypotheses):
        raise ValueError(
            "`references` and `hypotheses` must have the same length (one list of references "
            f"per hypothesis). Received: {len(references)} references and {len(hypotheses)} "
            "hypotheses."
        )
    for i, (refs, hyp) in enumerate(zip(references, hypotheses)):
        if isinstance(hyp, str) or (refs and isinstance(refs[0], str)):
            raise ValueError(
                "`hypotheses` must be token lists and `references` lists of token lists "
                f"(tokenise first). Received at index {i}: references={refs!r}, "
                f"hypothesis={hyp!r}"
            )
        if len(refs) == 0:
            raise ValueError(f"`references` must give at least one reference per hypothesis. "
                             f"Received none at index {i}.")
    matches = [0] * max_order
    possible = [0] * max_order
    hyp_length = 0
    ref_length = 0
    for refs, hyp in zip(references, hypotheses):
        hyp = list(hyp)
        hyp_length += len(hyp)
        # the reference length closest to the hypothesis length (ties: the shorter one)
        ref_length += min((abs(len(r) - len(hyp)), len(r)) for r in refs)[1]
        for n in range(1, max_order + 1):
            counts = _ngrams(hyp, n)
            max_ref = collections.Counter()
            for ref in refs:
                for gram, count in _ngrams(list(ref), n).items():
                    max_ref[gram] = max(max_ref[gram], count)
            matches[n - 1] += sum(min(count, max_ref[gram]) for gram, count in counts.items())
            possible[n - 1] += max(len(hyp) - n + 1, 0)
    if smooth:
        precisions = [(m + 1.0) / (p + 1.0) for m, p in zip(matches, possible)]
    else:
        if min(matches) == 0:
            return 0.0
        precisions = [m / p for m, p in zip(matches, possible)]
    log_mean = sum(math.log(p) for p in precisions) / max_order
    if hyp_length == 0:
        return 0.0
    brevity = 1.0 if hyp_length > ref_length else math.exp(1.0 - ref_length / hyp_length)
    return float(brevity * math.exp(log_mean))


def perplexity(mean_cross_entropy_nats: float) -> float:
    """Perplexity from a mean per-token cross-entropy in nats: ``exp(ce)``.

    Args:
        mean_cross_entropy_nats: the mean negative log-likelihood per token.

    Returns:
        The perplexity (``inf`` on overflow).

    Raises:
        ValueError: for a negative or non-finite-and-not-inf value.

    Example:

    >>> perplexity(math.log(10.0))
    10.000000000000002
    """
    value = float(mean_cross_entropy_nats)
    if math.isnan(value) or value < 0:
        raise ValueError(
            "`mean_cross_entropy_nats` must be a number >= 0. "
            f"Received: mean_cross_entropy_nats={mean_cross_entropy_nats!r}"
        )
    try:
        return math.exp(value)
    except OverflowError:
        return math.inf


def _masked_terms(y_true, y_pred, sample_weight, ignore_class):
    y_true = ops.cast(y_true, "int32")
    if len(y_true.shape) == len(y_pred.shape):  # targets given with a trailing axis of 1
        y_true = ops.squeeze(y_true, axis=-1)
    weight = ops.ones_like(y_true, dtype="float32")
    if ignore_class is not None:
        weight = weight * ops.cast(ops.not_equal(y_true, ignore_class), "float32")
        y_true = ops.where(ops.equal(y_true, ignore_class), ops.zeros_like(y_true), y_true)
    if sample_weight is not None:
        sample_weight = ops.cast(sample_weight, "float32")
        while len(sample_weight.shape) < len(weight.shape):
            sample_weight = ops.expand_dims(sample_weight, -1)
        weight = weight * sample_weight
    return y_true, weight


@keras.saving.register_keras_serializable(package="rnnzoo")
class Perplexity(keras.metrics.Metric):
    """Perplexity: ``exp`` of the mean sparse categorical cross-entropy, padding skipped.

    Args:
        from_logits: whether predictions are logits (else probabilities).
        ignore_class: the target id that is not scored (``PAD_ID``); ``None``
            scores every target.
        name: the metric name.

    Example:

    >>> model.compile(optimizer="adam", loss=..., metrics=[Perplexity()])
    """

    def __init__(self, from_logits: bool = False, ignore_class: int | None = PAD_ID,
                 name: str = "perplexity", **kwargs):
        super().__init__(name=name, **kwargs)
        self.from_logits = from_logits
        self.ignore_class = ignore_class
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = ops.convert_to_tensor(y_pred)
        y_true, weight = _masked_terms(
            ops.convert_to_tensor(y_true), y_pred, sample_weight, self.ignore_class
        )
        nll = ops.sparse_categorical_crossentropy(
            y_true, ops.cast(y_pred, "float32"), from_logits=self.from_logits
        )
        self.total.assign_add(ops.sum(ops.cast(nll, "float32") * weight))
        self.count.assign_add(ops.sum(weight))

    def result(self):
        return ops.exp(ops.divide_no_nan(self.total, self.count))

    def reset_state(self):
        self.total.assign(0.0)
        self.count.assign(0.0)

    def get_config(self):
        return {
            **super().get_config(),
            "from_logits": self.from_logits,
            "ignore_class": self.ignore_class,
        }


@keras.saving.register_keras_serializable(package="rnnzoo")
class MaskedAccuracy(keras.metrics.Metric):
    """Next-token accuracy (argmax equals target), padding targets skipped.

    Args:
        ignore_class: the target id that is not scored (``PAD_ID``).
        name: the metric name.
    """

    def __init__(self, ignore_class: int | None = PAD_ID, name: str = "accuracy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.ignore_class = ignore_class
        self.correct = self.add_variable(shape=(), initializer="zeros", name="correct")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = ops.convert_to_tensor(y_pred)
        y_true, weight = _masked_terms(
            ops.convert_to_tensor(y_true), y_pred, sample_weight, self.ignore_class
        )
        hit = ops.cast(ops.equal(ops.cast(ops.argmax(y_pred, axis=-1), "int32"), y_true), "float32")
        self.correct.assign_add(ops.sum(hit * weight))
        self.count.assign_add(ops.sum(weight))

    def result(self):
        return ops.divide_no_nan(self.correct, self.count)

    def reset_state(self):
        self.correct.assign(0.0)
        self.count.assign(0.0)

    def get_config(self):
        return {**super().get_config(), "ignore_class": self.ignore_class}
