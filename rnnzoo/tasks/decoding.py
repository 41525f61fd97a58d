"""Decoding strategies shared by the generative tasks: greedy, beam search, sampling.

Every generator (``text_prediction``, ``translation``, ``captioning``) exposes
its decoder as a one-step function ``step_fn(tokens, states) -> (log_probs,
new_states)`` written with ``keras.ops`` (:func:`model_step` turns a step model
into one):

- ``tokens``: int32 ``(B,)``, the previous token of each sequence;
- ``states``: a list of tensors whose first axis is the batch (recurrent
  states, and any memory such as encoder outputs, which simply travels along);
- ``log_probs``: float ``(B, V)`` log-probabilities of the next token
  (:func:`log_probabilities` turns probabilities into them with the one
  :data:`LOG_PROB_FLOOR` every generator uses).

A whole generation is one compiled ``keras.ops.while_loop``
(:mod:`rnnzoo.tasks.decode_loop`) on TensorFlow and on JAX; a strategy is the
small object that says what the loop does at each step (KerasHub's
``Sampler`` objects are the model):

| strategy | picks | options |
|---|---|---|
| :class:`Greedy` | the most likely token | |
| :class:`Sampling` | a draw from the softmax | ``temperature``, ``top_k``, ``top_p``, ``seed`` |
| :class:`BeamSearch` | the most likely sequence kept among ``beam_width`` | ``length_penalty`` |

:class:`StopTokens` says which tokens end a sequence (one or several).
:func:`decode` is the one-call front door: it validates the options, builds the
strategy and runs the loop, prompts (``prefix``) of any lengths included.

Example:

```python
ids = decode(model_step(step_model), [h0, c0], batch_size=2, method="beam", beam_width=4,
             max_length=30)
texts = [vocab.decode(seq) for seq in ids]
ids = BeamSearch(4, length_penalty=0.6).run(step_fn, [h0, c0], first_tokens, max_length=30,
                                            stop=StopTokens(END_ID))
```
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import keras
import numpy as np
from keras import ops

from rnnzoo import _validation as v
from rnnzoo.tasks import decode_loop
from rnnzoo.text import END_ID, START_ID

__all__ = [
    "decode", "model_step", "METHODS", "LOG_PROB_FLOOR", "log_probabilities",
    "check_decoding_args", "make_strategy", "Strategy", "Greedy", "Sampling", "BeamSearch",
    "StopTokens",
]

METHODS = ("greedy", "beam", "sample")

# Probabilities below this count as this when turned into log-probabilities, so that a
# token the model gives (float32) zero mass still has a finite score.
LOG_PROB_FLOOR = 1e-12

StepFn = Callable[[Any, list], tuple[Any, list]]


def log_probabilities(probs: Any) -> Any:
    """``log(max(probs, LOG_PROB_FLOOR))`` in float32 (``keras.ops``): what a step function
    returns."""
    return ops.log(ops.maximum(ops.cast(probs, "float32"), LOG_PROB_FLOOR))


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

    def trim(self, row: Sequence[int]) -> list[int]:
        """``row`` up to (without) its first stop token."""
        ids = [int(t) for t in row]
        for i, token in enumerate(ids):
            if token in self.ids:
                return ids[:i]
        return ids


# --------------------------------------------------------------------------- strategies


class Strategy:
    """A decoding strategy: what the compiled loop does at each step.

    A subclass names its ``kind`` (one compiled loop per kind and ``width``),
    its runtime ``arguments()`` (inputs of the loop, so that new values do not
    recompile it) and the ``keras.ops`` function the loop calls:
    ``select(log_probs, index, step, args) -> tokens`` for one hypothesis per
    sequence, ``extend(...)`` for beam search.
    """

    kind = "greedy"
    width = 1

    def arguments(self) -> dict:
        """The loop's runtime inputs (scalars), by name."""
        return {}

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
        loop = decode_loop.loop_for(step_fn, self, _loop_cache(step_fn))
        first = np.asarray(tokens, np.int32).reshape(-1)
        return decode_loop.run_loop(loop, self, [np.asarray(s) for s in state], first, None,
                                    max_length=int(max_length), stop=stop)


class Greedy(Strategy):
    """Takes the most likely token at every step (beam search with one beam).

    Example:

    >>> Greedy().run(step_fn, state, first_tokens, max_length=20, stop=StopTokens(2))
    """

    def select(self, log_probs, index, step, args):
        """The most likely token of each row of ``log_probs (B, V)``."""
        return ops.argmax(log_probs, axis=-1)


class Sampling(Strategy):
    """Draws every token from the model's softmax.

    The draw of the sequence at position ``i`` of the caller's inputs at its
    ``t``-th generated token is a hash of ``(seed, i, t)``
    (:func:`rnnzoo.tasks.decode_loop.uniforms`): the same seed gives the same
    text whatever the batch size, on TensorFlow and on JAX.

    Args:
        temperature: divides the log-probabilities (> 0); lower is more conservative.
        top_k: draw only among the ``top_k`` most likely tokens (``None``: all).
        top_p: nucleus sampling: draw only among the most likely tokens whose
            probabilities (after ``temperature`` and ``top_k``) first add up to
            at least ``top_p`` (``None``: all).
        seed: the seed of the draws, an integer in ``[0, 2**32)``; ``None``: a
            new random seed at every run.

    Example:

    >>> Sampling(temperature=0.8, top_p=0.9, seed=0).run(step_fn, state, first, max_length=50,
    ...                                                  stop=StopTokens(2))
    """

    kind = "sample"

    def __init__(self, temperature: float = 1.0, top_k: int | None = None,
                 top_p: float | None = None, seed: int | None = None):
        self.temperature = v.check_float("temperature", temperature, low=0.0,
                                         low_inclusive=False)
        self.top_k = v.check_int("top_k", top_k, low=1, allow_none=True)
        self.top_p = v.check_float("top_p", top_p, low=0.0, high=1.0, low_inclusive=False,
                                   allow_none=True)
        self.seed = v.check_seed("seed", seed)

    def arguments(self) -> dict:
        seed = self.seed if self.seed is not None else int(np.random.default_rng().integers(2**32))
        return {
            "temperature": np.float32(self.temperature),
            "top_k": np.int32(self.top_k or 0),  # 0: every token
            "top_p": np.float32(2.0 if self.top_p is None or self.top_p >= 1.0 else self.top_p),
            "seed": np.array(seed, np.uint32).view(np.int32),
        }

    def _args(self) -> dict:
        return {f"arg_{k}": np.reshape(val, (1,)) for k, val in self.arguments().items()}

    def ranked(self, log_probs, args: dict):
        """``(probs, order)``: the probabilities ``(B, V)`` of the tokens ``order (B, V)``,
        most likely first, after ``temperature``, ``top_k`` and ``top_p`` (``keras.ops``)."""
        logits = ops.cast(log_probs, "float32") / args["arg_temperature"][0]
        vocab = logits.shape[-1]
        ranked, order = ops.top_k(logits, vocab)  # most likely first, ties by lower id
        k = args["arg_top_k"][0]
        k = ops.where(ops.logical_and(k > 0, k < vocab), k, vocab)
        kth = ops.take(ranked, k - 1, axis=1)
        ranked = ops.where(ranked >= ops.expand_dims(kth, 1), ranked, -np.inf)
        probs = ops.softmax(ranked, axis=-1)
        # keep a token while the more likely ones hold less than top_p (the first always)
        keep = (ops.cumsum(probs, axis=-1) - probs) < args["arg_top_p"][0]
        probs = ops.where(keep, probs, 0.0)
        return probs / ops.sum(probs, axis=-1, keepdims=True), order

    def distribution(self, log_probs) -> np.ndarray:
        """The probabilities ``(B, V)`` the next tokens are drawn from (numpy, by token id)."""
        probs, order = self.ranked(ops.convert_to_tensor(np.asarray(log_probs, np.float32)),
                                   self._args())
        probs, order = ops.convert_to_numpy(probs), ops.convert_to_numpy(order)
        out = np.zeros_like(probs)
        np.put_along_axis(out, order, probs, axis=-1)
        return out

    def select(self, log_probs, index, step, args):
        """A draw per row from :meth:`ranked`, with the uniforms of ``(seed, index, step)``."""
        probs, order = self.ranked(log_probs, args)
        cumulative = ops.cumsum(probs, axis=-1)
        u = decode_loop.uniforms(args["arg_seed"][0], index, step)
        picked = ops.sum(ops.cast(cumulative < ops.expand_dims(u, 1), "int32"), axis=-1)
        # never past the last token with mass (rounding can leave cumulative[-1] < u)
        last = ops.sum(ops.cast(probs > 0, "int32"), axis=-1) - 1
        picked = ops.minimum(picked, last)
        return ops.take_along_axis(order, ops.expand_dims(picked, 1), axis=1)[:, 0]


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

    kind = "beam"

    def __init__(self, beam_width: int = 4, length_penalty: float = 0.0):
        self.beam_width = v.check_int("beam_width", beam_width, low=1)
        self.length_penalty = v.check_float("length_penalty", length_penalty)
        self.width = self.beam_width

    def extend(self, log_probs, scores, finished, lengths, stop_ids, width: int):
        """One beam step: ``(beam, token, scores, finished, lengths)``, each ``(B, width)``.

        ``log_probs`` is ``(B * width, V)``, row ``b * width + w`` hypothesis
        ``w`` of example ``b``; ``beam`` says which hypothesis each new one extends.
        """
        vocab = log_probs.shape[-1]
        log_probs = ops.reshape(ops.cast(log_probs, "float32"), (-1, width, vocab))
        frozen = ops.where(ops.equal(ops.arange(vocab, dtype="int32"), stop_ids[0]), 0.0, -np.inf)
        base = ops.expand_dims(scores, 2)
        candidates = ops.where(ops.expand_dims(finished, 2), base + frozen, base + log_probs)
        # top-k keeps ties in index order: highest score first, then the lower index
        scores, flat = ops.top_k(ops.reshape(candidates, (-1, width * vocab)), width)
        beam, token = flat // vocab, flat % vocab
        was_finished = ops.take_along_axis(finished, beam, axis=1)
        lengths = ops.take_along_axis(lengths, beam, axis=1) + ops.cast(
            ops.logical_not(was_finished), "int32")
        hit = ops.any(ops.equal(ops.expand_dims(token, 2), stop_ids), axis=2)
        return beam, token, scores, ops.logical_or(was_finished, hit), lengths

    def rank(self, scores: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """What the final hypotheses are ranked by (the best is the first maximum)."""
        if not self.length_penalty:
            return scores
        return scores / (((5.0 + lengths) / 6.0) ** self.length_penalty)


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


def _loop_cache(step_fn) -> dict | None:
    """The loop cache a step function carries (:func:`model_step`), else the shared one."""
    return getattr(step_fn, "loops", None)


def _vocabulary_size(step_fn) -> int | None:
    """The width of a step model's probabilities (``None`` for a hand-built function)."""
    model = getattr(step_fn, "model", None)
    return None if model is None else int(model.outputs[0].shape[-1])


def _check_ids(name: str, ids: Any, top: int | None) -> list[int]:
    """Token ids as ints: integers in ``[0, top]`` (``top=None``: no upper bound)."""
    array = np.asarray(ids).reshape(-1)
    what = f"in [0, {top}]" if top is not None else ">= 0"
    if array.size and (not np.issubdtype(array.dtype, np.integer) or array.min() < 0 or (
            top is not None and array.max() > top)):
        raise ValueError(f"`{name}` must hold integer token ids {what}. "
                         f"Received: {name}={ids!r:.200}")
    return [int(t) for t in array]


def model_step(step: keras.Model) -> StepFn:
    """A one-step decoder model as a ``keras.ops`` step function (log-probabilities).

    ``step``: ``[token (B, 1) int32, *states] -> [probs (B, V), *new_states]``
    (``inference_models()["decoder_step"]``). The function carries the model
    (``.model``, whose weights the compiled loop reads) and its own cache of
    compiled loops (``.loops``).
    """

    def step_fn(tokens, states):
        outs = step([ops.expand_dims(tokens, 1), *states], training=False)
        outs = list(outs) if isinstance(outs, (list, tuple)) else [outs]
        # No token is masked out: the exported decoder (rnnzoo.litert_runtime) takes the
        # plain argmax, and a trained model gives <pad>/<start> (never targets) ~0 mass.
        return log_probabilities(outs[0]), outs[1:]

    step_fn.model = step
    step_fn.loops = {}
    return step_fn


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
    index: Sequence[int] | None = None,
) -> list[list[int]]:
    """Generates token ids: one compiled loop for the whole batch.

    Args:
        step_fn: ``step_fn(tokens (B,) int32, states list) -> (log_probs (B, V),
            new_states)`` written with ``keras.ops`` (it runs inside the
            compiled loop), such as :func:`model_step` of a step model.
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
        seed: the sampling seed: sequence ``i``'s draws depend only on
            ``(seed, index[i], step)``, so equal seeds give equal samples
            whatever the batch; ``None``: a random seed.
        prefix: optional forced tokens per sequence (for example a prompt): they
            are fed after ``start_id`` before decoding starts and are not part
            of the result. Sequences may have prefixes of different lengths
            (they are fed inside the same loop).
        length_penalty: beam search only: final hypotheses are ranked by
            ``log_prob / ((5 + length) / 6) ** length_penalty`` (Wu et al.,
            2016); 0 ranks by total log-probability.
        top_p: sampling only: draw among the most likely tokens whose
            probabilities first add up to ``top_p`` (in ``(0, 1]``); ``None``: all.
        index: each sequence's position in the caller's inputs (default
            ``0..batch_size - 1``); sampling draws depend on it.

    Returns:
        For each sequence, the generated ids without start and end tokens.

    Raises:
        ValueError: for a bad option, naming it.
    """
    check_decoding_args(method, beam_width, temperature, top_k, max_length, top_p=top_p,
                        length_penalty=length_penalty)
    v.check_seed("seed", seed)
    batch_size = v.check_positive_int("batch_size", batch_size)
    stop = StopTokens(end_id)
    state = [np.asarray(s) for s in initial_state]
    for i, s in enumerate(state):
        if s.ndim == 0 or s.shape[0] != batch_size:
            raise ValueError(
                f"`initial_state` arrays must have batch_size={batch_size} rows. "
                f"Received: initial_state[{i}] of shape {s.shape}"
            )
    vocab = _vocabulary_size(step_fn)
    top = None if vocab is None else vocab - 1
    start_id = v.check_int("start_id", start_id, low=0, high=top)
    _check_ids("end_id", list(stop.ids), top)
    if prefix is not None:
        if len(prefix) != batch_size:
            raise ValueError(
                f"`prefix` must have one sequence per example (batch_size={batch_size}). "
                f"Received {len(prefix)} sequences."
            )
        prefix = [_check_ids(f"prefix[{i}]", p, top) for i, p in enumerate(prefix)]
    if index is not None and len(index) != batch_size:
        raise ValueError(f"`index` must have batch_size={batch_size} entries. "
                         f"Received {len(index)}.")
    strategy = make_strategy(method, beam_width=beam_width, temperature=temperature,
                             top_k=top_k, top_p=top_p, length_penalty=length_penalty, seed=seed)
    loop = decode_loop.loop_for(step_fn, strategy, _loop_cache(step_fn))
    first = np.full((batch_size,), start_id, dtype=np.int32)
    return decode_loop.run_loop(
        loop, strategy, state, first, prefix, max_length=int(max_length), stop=stop,
        index=None if index is None else np.asarray(index))
