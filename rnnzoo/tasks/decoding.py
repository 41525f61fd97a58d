"""Decoding strategies shared by the generative tasks: greedy, beam search, sampling.

A strategy is a small object with one method, ``run(step_fn, state, tokens, *,
max_length, stop) -> ids``: a step function in, token ids out (KerasHub's
``Sampler`` objects are the model). Every generator (``text_prediction``,
``translation``, ``captioning``) exposes its decoder as a one-step function
``step_fn(tokens, state) -> (log_probs, new_state)``:

- ``tokens``: int32 numpy array ``(B,)``, the previous token of each sequence;
- ``state``: a list of numpy arrays whose first axis is the batch (recurrent
  states, and any memory such as encoder outputs, which simply travels along);
- ``log_probs``: float ``(B, V)`` log-probabilities of the next token
  (:func:`log_probabilities` turns probabilities into them with the one
  :data:`LOG_PROB_FLOOR` every generator uses).

| strategy | picks | options |
|---|---|---|
| :class:`Greedy` | the most likely token | |
| :class:`Sampling` | a random draw from the softmax | ``temperature``, ``top_k``, ``top_p`` |
| :class:`BeamSearch` | the most likely sequence kept among ``beam_width`` | ``length_penalty`` |

:class:`StopTokens` says which tokens end a sequence (one or several).
:func:`decode` is the one-call front door: it validates the options, builds the
strategy, feeds an optional prompt (``prefix``) and runs it. The loops are numpy
for now; each strategy's ``run`` is the only place that would change to compile
them (for example into one ``keras.ops.while_loop``).

Example:

```python
ids = decode(step_fn, [h0, c0], batch_size=2, method="beam", beam_width=4, max_length=30)
texts = [vocab.decode(seq) for seq in ids]
ids = BeamSearch(4, length_penalty=0.6).run(step_fn, [h0, c0], first_tokens, max_length=30,
                                            stop=StopTokens(END_ID))
```
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from rnnzoo import _validation as v
from rnnzoo.text import END_ID, START_ID

__all__ = [
    "decode",
    "METHODS",
    "LOG_PROB_FLOOR",
    "log_probabilities",
    "check_decoding_args",
    "make_strategy",
    "Strategy",
    "Greedy",
    "Sampling",
    "BeamSearch",
    "StopTokens",
]

METHODS = ("greedy", "beam", "sample")

# Probabilities below this count as this when turned into log-probabilities, so that a
# token the model gives (float32) zero mass still has a finite score.
LOG_PROB_FLOOR = 1e-12

StepFn = Callable[[np.ndarray, list], tuple[Any, list]]


def log_probabilities(probs: Any) -> np.ndarray:
    """``log(max(probs, LOG_PROB_FLOOR))`` in float64: what a step function returns."""
    return np.log(np.maximum(np.asarray(probs, dtype=np.float64), LOG_PROB_FLOOR))


def check_decoding_args(
    method: Any,
    beam_width: int,
    temperature: float,
    top_k: int | None,
    max_length: int,
    *,
    top_p: float | None = None,
    length_penalty: float = 0.0,
) -> None:
    """Validates the decoding options; raises ``ValueError`` naming the bad one.

    Args:
        method: one of :data:`METHODS`, or a :class:`Strategy`.
        beam_width: an integer >= 1.
        temperature: a finite number > 0.
        top_k: an integer >= 1, or ``None``.
        max_length: an integer >= 1.
        top_p: a number in ``(0, 1]``, or ``None``.
        length_penalty: a finite number.
    """
    if not isinstance(method, Strategy):
        v.check_choice("method", method, METHODS)
    v.check_int("beam_width", beam_width, low=1)
    v.check_float("temperature", temperature, low=0.0, low_inclusive=False)
    v.check_int("top_k", top_k, low=1, allow_none=True)
    v.check_float("top_p", top_p, low=0.0, high=1.0, low_inclusive=False, allow_none=True)
    v.check_float("length_penalty", length_penalty)
    v.check_int("max_length", max_length, low=1)


# --------------------------------------------------------------------------- stop tokens


class StopTokens:
    """The tokens that end a sequence.

    A finished sequence keeps emitting the first of them (which the results
    never show: each sequence is cut at its first stop token).

    Args:
        ids: one token id or several.

    Example:

    >>> StopTokens([2, 7]).trim([5, 6, 7, 2])
    [5, 6]
    """

    def __init__(self, ids: int | Sequence[int]):
        listed = [ids] if v.is_int(ids) else list(ids) if isinstance(ids, (list, tuple)) else None
        if not listed or not all(v.is_int(i) and i >= 0 for i in listed):
            raise ValueError(
                "`end_id` must be a token id (an integer >= 0) or a non-empty list of them. "
                f"{v.received('end_id', ids)}"
            )
        self.ids = tuple(int(i) for i in listed)
        self.pad = self.ids[0]

    def hit(self, tokens: np.ndarray) -> np.ndarray:
        """Which of ``tokens`` end their sequence (a boolean array of the same shape)."""
        return np.isin(tokens, self.ids)

    def trim(self, row: Sequence[int]) -> list[int]:
        """``row`` up to (without) its first stop token."""
        ids = [int(t) for t in row]
        for i, token in enumerate(ids):
            if token in self.ids:
                return ids[:i]
        return ids


# --------------------------------------------------------------------------- strategies


def _call(step_fn: StepFn, tokens: np.ndarray, state: list) -> tuple[np.ndarray, list]:
    log_probs, new_state = step_fn(np.asarray(tokens, dtype=np.int32), state)
    log_probs = np.asarray(log_probs, dtype=np.float64)
    return log_probs, [np.asarray(s) for s in new_state]


def _take(state: list, index: np.ndarray) -> list:
    return [np.asarray(s)[index] for s in state]


class Strategy:
    """A decoding strategy: a step function in, token ids out.

    Subclasses implement :meth:`run`.
    """

    def run(self, step_fn: StepFn, state: list, tokens: np.ndarray, *, max_length: int,
            stop: StopTokens) -> list[list[int]]:
        """Decodes from ``tokens`` (the last token fed, ``(B,)``) and ``state``.

        Args:
            step_fn: see the module docstring.
            state: the state arrays, first axis ``B``.
            tokens: the token each sequence continues from.
            max_length: the most tokens generated per sequence (a stop token included).
            stop: the tokens that end a sequence.

        Returns:
            For each sequence, the generated ids without its stop token.
        """
        raise NotImplementedError


class _OneHypothesis(Strategy):
    """One hypothesis per sequence, extended by :meth:`select` at every step."""

    def select(self, log_probs: np.ndarray) -> np.ndarray:
        """The next token of each row of ``log_probs (B, V)``."""
        raise NotImplementedError

    def run(self, step_fn, state, tokens, *, max_length, stop):
        batch = tokens.shape[0]
        out = np.zeros((batch, max_length), dtype=np.int64)
        done = np.zeros((batch,), dtype=bool)
        steps = 0
        for t in range(max_length):
            log_probs, state = _call(step_fn, tokens, state)
            nxt = np.where(done, stop.pad, self.select(log_probs))
            out[:, t] = nxt
            steps = t + 1
            done |= stop.hit(nxt)
            if done.all():
                break
            tokens = nxt.astype(np.int32)
        return [stop.trim(row[:steps]) for row in out]


class Greedy(_OneHypothesis):
    """Takes the most likely token at every step (beam search with one beam).

    Example:

    >>> Greedy().run(step_fn, state, first_tokens, max_length=20, stop=StopTokens(2))
    """

    def select(self, log_probs):
        return np.argmax(log_probs, axis=-1)


class Sampling(_OneHypothesis):
    """Draws every token from the model's softmax.

    Args:
        temperature: divides the log-probabilities (> 0); lower is more conservative.
        top_k: draw only among the ``top_k`` most likely tokens (``None``: all).
        top_p: nucleus sampling: draw only among the most likely tokens whose
            probabilities (after ``temperature`` and ``top_k``) first add up to
            at least ``top_p`` (``None``: all).
        seed: the seed of the draws; one object is one stream of draws.

    Example:

    >>> Sampling(temperature=0.8, top_p=0.9, seed=0).run(step_fn, state, first, max_length=50,
    ...                                                  stop=StopTokens(2))
    """

    def __init__(self, temperature: float = 1.0, top_k: int | None = None,
                 top_p: float | None = None, seed: int | None = None):
        self.temperature = v.check_float("temperature", temperature, low=0.0,
                                         low_inclusive=False)
        self.top_k = v.check_int("top_k", top_k, low=1, allow_none=True)
        self.top_p = v.check_float("top_p", top_p, low=0.0, high=1.0, low_inclusive=False,
                                   allow_none=True)
        self.seed = seed
        self._rng = np.random.default_rng(seed)

    def distribution(self, log_probs: np.ndarray) -> np.ndarray:
        """The probabilities ``(B, V)`` the next tokens are drawn from."""
        logits = log_probs / self.temperature
        if self.top_k is not None and self.top_k < logits.shape[-1]:
            kth = np.partition(logits, -self.top_k, axis=-1)[:, -self.top_k][:, None]
            logits = np.where(logits >= kth, logits, -np.inf)
        logits = logits - logits.max(axis=-1, keepdims=True)
        probs = np.exp(logits)
        probs /= probs.sum(axis=-1, keepdims=True)
        if self.top_p is not None and self.top_p < 1.0:
            order = np.argsort(-probs, axis=-1, kind="stable")
            ranked = np.take_along_axis(probs, order, axis=-1)
            # keep a token while the more likely ones hold less than top_p (the first always)
            keep_ranked = (np.cumsum(ranked, axis=-1) - ranked) < self.top_p
            keep = np.zeros_like(keep_ranked)
            np.put_along_axis(keep, order, keep_ranked, axis=-1)
            probs = np.where(keep, probs, 0.0)
            probs /= probs.sum(axis=-1, keepdims=True)
        return probs

    def select(self, log_probs):
        probs = self.distribution(log_probs)
        cumulative = np.cumsum(probs, axis=-1)
        u = self._rng.random((probs.shape[0], 1))
        # never past the last token with mass (rounding can leave cumulative[-1] < u)
        last = probs.shape[-1] - 1 - np.argmax(probs[:, ::-1] > 0, axis=-1)
        return np.minimum((cumulative < u).sum(axis=-1), last)


class BeamSearch(Strategy):
    """Keeps the ``beam_width`` most likely hypotheses of every sequence.

    Hypotheses are ranked by total log-probability; a finished hypothesis only
    extends with the stop token, at no cost. The state rows are repeated and
    gathered per hypothesis, so a step function never knows a beam is running.

    Args:
        beam_width: hypotheses kept (1 is greedy).
        length_penalty: the final hypotheses are ranked by
            ``log_prob / ((5 + length) / 6) ** length_penalty`` (Wu et al.,
            2016); 0 ranks by total log-probability.

    Example:

    >>> BeamSearch(4).run(step_fn, state, first_tokens, max_length=30, stop=StopTokens(2))
    """

    def __init__(self, beam_width: int = 4, length_penalty: float = 0.0):
        self.beam_width = v.check_int("beam_width", beam_width, low=1)
        self.length_penalty = v.check_float("length_penalty", length_penalty)

    def run(self, step_fn, state, tokens, *, max_length, stop):
        batch = tokens.shape[0]
        width = self.beam_width
        flat = np.repeat(np.arange(batch), width)  # row b*W + w comes from example b
        state = _take(state, flat)
        tokens = np.repeat(tokens, width)
        scores = np.full((batch, width), -np.inf)
        scores[:, 0] = 0.0  # one live hypothesis at first, so beams do not duplicate
        history = np.zeros((batch, width, 0), dtype=np.int64)
        finished = np.zeros((batch, width), dtype=bool)
        lengths = np.zeros((batch, width), dtype=np.int64)
        for _ in range(max_length):
            log_probs, state = _call(step_fn, tokens, state)
            vocab = log_probs.shape[-1]
            log_probs = log_probs.reshape(batch, width, vocab)
            candidates = scores[:, :, None] + log_probs
            frozen = np.full((vocab,), -np.inf)
            frozen[stop.pad] = 0.0
            candidates = np.where(
                finished[:, :, None], scores[:, :, None] + frozen[None, None, :], candidates
            )
            flat_scores = candidates.reshape(batch, width * vocab)
            # stable top-k: highest score first, ties by lower index
            order = np.argsort(-flat_scores, axis=-1, kind="stable")[:, :width]
            beam_index = order // vocab
            token_index = order % vocab
            scores = np.take_along_axis(flat_scores, order, axis=-1)
            history = np.concatenate(
                [np.take_along_axis(history, beam_index[:, :, None], axis=1),
                 token_index[:, :, None]],
                axis=-1,
            )
            was_finished = np.take_along_axis(finished, beam_index, axis=1)
            lengths = np.take_along_axis(lengths, beam_index, axis=1) + (~was_finished)
            finished = was_finished | stop.hit(token_index)
            rows = (np.arange(batch)[:, None] * width + beam_index).reshape(-1)
            state = _take(state, rows)
            tokens = token_index.reshape(-1).astype(np.int32)
            if finished.all():
                break
        ranked = scores
        if self.length_penalty:
            ranked = scores / (((5.0 + lengths) / 6.0) ** self.length_penalty)
        best = np.argmax(ranked, axis=-1)
        return [stop.trim(history[b, best[b]]) for b in range(batch)]


def make_strategy(method: str | Strategy = "greedy", *, beam_width: int = 4,
                  temperature: float = 1.0, top_k: int | None = None,
                  top_p: float | None = None, length_penalty: float = 0.0,
                  seed: int | None = None) -> Strategy:
    """The strategy a ``method`` name stands for (a :class:`Strategy` is returned as is).

    Args:
        method: ``"greedy"``, ``"beam"`` or ``"sample"``, or a :class:`Strategy`.
        beam_width, length_penalty: of ``"beam"``.
        temperature, top_k, top_p, seed: of ``"sample"``.

    Returns:
        A :class:`Strategy`.
    """
    if isinstance(method, Strategy):
        return method
    v.check_choice("method", method, METHODS)
    if method == "beam":
        return BeamSearch(beam_width, length_penalty=length_penalty)
    if method == "sample":
        return Sampling(temperature, top_k=top_k, top_p=top_p, seed=seed)
    return Greedy()


# --------------------------------------------------------------------------- the front door


def decode(
    step_fn: StepFn,
    initial_state: Sequence[Any],
    *,
    batch_size: int,
    start_id: int = START_ID,
    end_id: int | Sequence[int] = END_ID,
    method: str | Strategy = "greedy",
    beam_width: int = 4,
    temperature: float = 1.0,
    top_k: int | None = None,
    max_length: int = 20,
    seed: int | None = None,
    prefix: Sequence[Sequence[int]] | None = None,
    length_penalty: float = 0.0,
    top_p: float | None = None,
) -> list[list[int]]:
    """Generates token ids one step at a time.

    Args:
        step_fn: ``step_fn(tokens (B,) int32, state list) -> (log_probs (B, V), new_state)``.
        initial_state: the list of state arrays, first axis ``batch_size``
            (may be empty for a model without state).
        batch_size: number of sequences generated.
        start_id: the token fed first.
        end_id: the token that ends a sequence (not included in the result),
            or a list of such tokens.
        method: ``"greedy"`` (argmax), ``"beam"`` (beam search keeping
            ``beam_width`` hypotheses by total log-probability) or
            ``"sample"`` (draw from the softmax at ``temperature``, restricted
            to the ``top_k`` most likely tokens and to the ``top_p`` nucleus if
            given), or a :class:`Strategy` (the options below are then its own).
        beam_width: hypotheses kept by beam search (1 is greedy).
        temperature: sampling temperature (> 0); lower is more conservative.
        top_k: sample only among the ``top_k`` most likely tokens; ``None``: all.
        max_length: the most tokens generated per sequence (the end token
            included).
        seed: the sampling seed; equal seeds give equal samples.
        prefix: optional forced tokens per sequence (for example a prompt): they
            are fed after ``start_id`` before decoding starts and are not part
            of the result. Sequences may have prefixes of different lengths.
        length_penalty: beam search only: final hypotheses are ranked by
            ``log_prob / ((5 + length) / 6) ** length_penalty`` (Wu et al.,
            2016); 0 ranks by total log-probability.
        top_p: sampling only: draw among the most likely tokens whose
            probabilities first add up to ``top_p`` (in ``(0, 1]``); ``None``: all.

    Returns:
        For each sequence, the generated ids without start and end tokens.

    Raises:
        ValueError: for a bad option, naming it.
    """
    check_decoding_args(method, beam_width, temperature, top_k, max_length, top_p=top_p,
                        length_penalty=length_penalty)
    v.check_positive_int("batch_size", batch_size)
    stop = StopTokens(end_id)
    state = [np.asarray(s) for s in initial_state]
    for i, s in enumerate(state):
        if s.ndim == 0 or s.shape[0] != batch_size:
            raise ValueError(
                f"`initial_state` arrays must have batch_size={batch_size} rows. "
                f"Received: initial_state[{i}] of shape {s.shape}"
            )
    strategy = make_strategy(method, beam_width=beam_width, temperature=temperature,
                             top_k=top_k, top_p=top_p, length_penalty=length_penalty, seed=seed)
    run = dict(max_length=int(max_length), stop=stop)
    if prefix is None:
        first = np.full((batch_size,), start_id, dtype=np.int32)
        return strategy.run(step_fn, state, first, **run)
    if len(prefix) != batch_size:
        raise ValueError(
            f"`prefix` must have one sequence per example (batch_size={batch_size}). "
            f"Received {len(prefix)} sequences."
        )
    prefix = [[int(t) for t in np.asarray(p).reshape(-1)] for p in prefix]
    results: list[list[int] | None] = [None] * batch_size
    # Sequences with prefixes of equal length run together.
    for length in sorted({len(p) for p in prefix}):
        index = np.array([i for i, p in enumerate(prefix) if len(p) == length])
        group_state = _take(state, index)
        fed = np.array([[start_id] + prefix[i] for i in index], dtype=np.int32)  # (G, length+1)
        for t in range(length):
            _, group_state = _call(step_fn, fed[:, t], group_state)
        for i, out in zip(index, strategy.run(step_fn, group_state, fed[:, -1], **run)):
            results[int(i)] = out
    return results  # type: ignore[return-value]
