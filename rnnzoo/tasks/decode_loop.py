"""The compiled decoding loop: a whole generation is one ``keras.ops.while_loop``.

:class:`DecodeLoop` is a small ``keras.Model`` whose ``call`` runs the loop:
at every iteration it feeds one token per sequence to the step function,
carries the recurrent state, forces the prompt tokens of the sequences still
reading their prompt (``while t < len(prompt_i): feed prompt_i[t]``) and lets
the strategy (:mod:`rnnzoo.tasks.decoding`) pick the next token of the others.
It stops when every sequence has ended. ``predict_on_batch`` compiles it the
way Keras compiles any model on the current backend (``tf.function`` + XLA on
TensorFlow, ``jax.jit`` on JAX), once per input shape; :func:`loop_for` keeps one
loop per (step function, strategy kind, beam width) in a cache the caller owns,
outside any saved model.

Sampling draws its uniform numbers from :func:`uniforms`, a counter-based hash
of ``(seed, example index, step)`` in int32 arithmetic: the draw of example
``i`` at generated step ``t`` does not depend on the batch it runs in, and
TensorFlow and JAX draw the same numbers.

Example:

```python
loop = loop_for(step_fn, Greedy(), cache={})
ids = run_loop(loop, Greedy(), states, first, prompts, max_length=20, stop=StopTokens(2))
```
"""

from __future__ import annotations

import collections
from typing import Any, Callable, Sequence

import keras
import numpy as np
from keras import ops

__all__ = ["DecodeLoop", "loop_for", "run_loop", "uniforms", "numpy_uniforms"]

# `decode()` on a step function the caller does not cache: the last few loops are kept.
_SHARED_CACHE: "collections.OrderedDict" = collections.OrderedDict()
_SHARED_CACHE_SIZE = 8


# --------------------------------------------------------------------------- the random draws


def _int32(value: int) -> int:
    """A uint32 constant as the int32 with the same bits."""
    return int(np.array(value & 0xFFFFFFFF, np.uint32).view(np.int32))


_MUL1, _MUL2 = _int32(0x7FEB352D), _int32(0x846CA68B)  # "lowbias32" (C. Wellons)
_SALT = _int32(0x9E3779B9)


def _shift_right(x, bits: int):
    """Logical right shift of int32 bits (an arithmetic shift, then the sign bits masked)."""
    return ops.bitwise_and(ops.right_shift(x, bits), (1 << (32 - bits)) - 1)


def _mix(x):
    x = ops.bitwise_xor(x, _shift_right(x, 16))
    x = ops.multiply(x, _MUL1)  # int32 products wrap around, as uint32 ones do
    x = ops.bitwise_xor(x, _shift_right(x, 15))
    x = ops.multiply(x, _MUL2)
    return ops.bitwise_xor(x, _shift_right(x, 16))


def uniforms(seed, index, step):
    """Uniform floats in ``[0, 1)``: a hash of ``(seed, index, step)`` (keras.ops, int32).

    Args:
        seed: int32 bits of the seed (a scalar tensor or array).
        index: int32 example indices (any shape).
        step: int32 step numbers (broadcast with ``index``).

    Returns:
        float32 numbers, multiples of ``2**-24``, one per ``(index, step)``.
    """
    h = _mix(ops.bitwise_xor(ops.cast(seed, "int32"), _SALT))
    h = _mix(ops.bitwise_xor(h, ops.cast(index, "int32")))
    h = _mix(ops.bitwise_xor(h, ops.cast(step, "int32")))
    return ops.cast(_shift_right(h, 8), "float32") * (1.0 / (1 << 24))


def numpy_uniforms(seed: int, index, step) -> np.ndarray:
    """:func:`uniforms` written in numpy uint32 arithmetic (the reference of its tests)."""

    def mix(x):
        x = x ^ (x >> np.uint32(16))
        x = x * np.uint32(0x7FEB352D)
        x = x ^ (x >> np.uint32(15))
        x = x * np.uint32(0x846CA68B)
        return x ^ (x >> np.uint32(16))

    with np.errstate(over="ignore"):
        h = mix(np.uint32(seed & 0xFFFFFFFF) ^ np.uint32(0x9E3779B9))
        h = mix(h ^ np.asarray(index).astype(np.int64).astype(np.uint32))
        h = mix(h ^ np.asarray(step).astype(np.int64).astype(np.uint32))
    return (h >> np.uint32(8)).astype(np.float32) * np.float32(1.0 / (1 << 24))


# --------------------------------------------------------------------------- the loop model


class DecodeLoop(keras.Model):
    """One generation as one ``while_loop``; ``predict_on_batch`` compiles it.

    Not saved or registered: it is built per step function and strategy kind
    and kept in a cache outside the task model (:func:`loop_for`).

    Args:
        step_fn: ``step_fn(tokens (B,) int32, states) -> (log_probs (B, V), new_states)``
            in ``keras.ops``; a ``keras.Model`` step function is tracked so its
            weights reach the compiled function.
        strategy: the :class:`rnnzoo.tasks.decoding.Strategy` whose kind this loop runs.
    """

    def __init__(self, step_fn: Callable, strategy: Any, **kwargs):
        super().__init__(**kwargs)
        self.step_fn = step_fn
        self.step_model = getattr(step_fn, "model", None)  # tracked: its weights are read
        self.kind = strategy.kind
        self.width = strategy.width
        self.body = strategy

    def call(self, inputs):
        states = list(inputs["states"])
        if self.kind == "beam":
            return _beam_loop(self.step_fn, self.body, inputs, states, self.width)
        return _one_hypothesis_loop(self.step_fn, self.body, inputs, states)


def _prompt_token(prompt, t):
    """``prompt[:, t]`` for a scalar ``t`` (clipped to the last column)."""
    column = ops.minimum(t, ops.shape(prompt)[1] - 1)
    return ops.take(prompt, column, axis=1)


def _write_column(buffer, t, values):
    """``buffer[:, t] = values`` (``buffer (B, T)``; ``values (B,)``)."""
    return ops.slice_update(buffer, [0, t], ops.expand_dims(values, 1))


def _one_hypothesis_loop(step_fn, strategy, inputs, states):
    """Greedy and sampling: one token per sequence and step, written at column ``t``."""
    prompt, plen, index = inputs["prompt"], inputs["prompt_length"], inputs["index"]
    stop_ids, pad = inputs["stop_ids"], inputs["stop_ids"][0]
    limit = inputs["max_length"][0]
    args = {k: val for k, val in inputs.items() if k.startswith("arg_")}
    buffer = inputs["buffer"]
    done = ops.logical_not(inputs["live"])  # the rows that only fill the bucket

    def cond(t, tokens, states, buffer, done):
        return ops.logical_not(ops.all(done))

    def body(t, tokens, states, buffer, done):
        log_probs, new_states = step_fn(tokens, states)
        generated = t - plen  # the generated step of each sequence (< 0: in its prompt)
        picked = ops.cast(strategy.select(log_probs, index, generated, args), "int32")
        picked = ops.where(done, pad, picked)
        forcing = generated < 0
        nxt = ops.where(forcing, _prompt_token(prompt, t), picked)
        ended = ops.any(ops.equal(ops.expand_dims(picked, 1), stop_ids), axis=1)
        ended = ops.logical_or(ended, generated + 1 >= limit)
        done = ops.logical_or(done, ops.logical_and(ops.logical_not(forcing), ended))
        buffer = _write_column(buffer, t, picked)
        return t + 1, nxt, list(new_states), buffer, done

    t, _, _, buffer, _ = ops.while_loop(
        cond, body, (ops.convert_to_tensor(0, "int32"), inputs["first"], states, buffer, done))
    return {"tokens": buffer, "steps": ops.expand_dims(t, 0)}


def _beam_loop(step_fn, strategy, inputs, states, width):
    """Beam search over ``B * width`` rows; back-pointers and tokens written at column ``t``."""
    prompt, plen = inputs["prompt"], inputs["prompt_length"]
    stop_ids = inputs["stop_ids"]
    pad = stop_ids[0]
    limit = inputs["max_length"][0]
    batch = ops.shape(plen)[0]
    rows = ops.reshape(ops.arange(batch, dtype="int32"), (-1, 1)) * width  # (B, 1)
    identity = ops.broadcast_to(ops.arange(width, dtype="int32"), (batch, width))
    zero = ops.zeros((batch, width), dtype="float32")
    first_live = ops.cast(ops.equal(identity, 0), "float32")
    scores = ops.where(first_live > 0, zero, zero - np.inf)  # one live hypothesis at first
    finished = ops.zeros((batch, width), dtype="bool")
    lengths = ops.zeros((batch, width), dtype="int32")
    # beam steps taken per example (the rows that only fill the bucket: all of them)
    counts = ops.where(inputs["live"], 0, limit)
    tokens = ops.reshape(ops.repeat(ops.expand_dims(inputs["first"], 1), width, axis=1), (-1,))
    states = [ops.repeat(s, width, axis=0) for s in states]

    def cond(t, tokens, states, scores, finished, lengths, counts, parents, chosen):
        over = ops.logical_or(counts >= limit, ops.all(finished, axis=1))
        return ops.logical_not(ops.all(over))

    def body(t, tokens, states, scores, finished, lengths, counts, parents, chosen):
        log_probs, new_states = step_fn(tokens, states)
        active = ops.logical_and(
            t >= plen, ops.logical_and(counts < limit,
                                       ops.logical_not(ops.all(finished, axis=1))))
        beam, token, new_scores, new_finished, new_lengths = strategy.extend(
            log_probs, scores, finished, lengths, stop_ids, width)
        act = ops.expand_dims(active, 1)
        beam = ops.where(act, beam, identity)
        token = ops.where(act, token, pad)
        scores = ops.where(act, new_scores, scores)
        finished = ops.where(act, new_finished, finished)
        lengths = ops.where(act, new_lengths, lengths)
        counts = counts + ops.cast(active, "int32")
        gather = ops.reshape(rows + beam, (-1,))
        new_states = [ops.take(s, gather, axis=0) for s in new_states]
        forced = ops.expand_dims(_prompt_token(prompt, t), 1)
        nxt = ops.where(ops.expand_dims(t < plen, 1), forced, token)
        parents = ops.slice_update(parents, [0, 0, t], ops.expand_dims(beam, 2))
        chosen = ops.slice_update(chosen, [0, 0, t], ops.expand_dims(token, 2))
        return (t + 1, ops.reshape(nxt, (-1,)), new_states, scores, finished, lengths, counts,
                parents, chosen)

    loop_vars = (ops.convert_to_tensor(0, "int32"), tokens, states, scores, finished, lengths,
                 counts, inputs["parents"], inputs["chosen"])
    out = ops.while_loop(cond, body, loop_vars)
    t, _, _, scores, _, lengths, counts, parents, chosen = out
    return {"parents": parents, "chosen": chosen, "scores": scores, "lengths": lengths,
            "counts": counts, "steps": ops.expand_dims(t, 0)}


# --------------------------------------------------------------------------- running it


def loop_for(step_fn: Callable, strategy: Any, cache: dict | None = None) -> DecodeLoop:
    """The loop of ``step_fn`` for ``strategy``'s kind, built once per cache.

    Args:
        step_fn: the step function (see :class:`DecodeLoop`).
        strategy: a :class:`rnnzoo.tasks.decoding.Strategy`.
        cache: a dict owned by the caller (for example next to a model's
            inference models); ``None``: a small shared cache of recent loops.

    Returns:
        The :class:`DecodeLoop`.
    """
    key = (strategy.kind, strategy.width)
    if cache is None:
        shared_key = (id(step_fn), *key)
        entry = _SHARED_CACHE.get(shared_key)
        if entry is None or entry.step_fn is not step_fn:
            entry = _build_loop(step_fn, strategy)
            _SHARED_CACHE[shared_key] = entry
            while len(_SHARED_CACHE) > _SHARED_CACHE_SIZE:
                _SHARED_CACHE.popitem(last=False)
        _SHARED_CACHE.move_to_end(shared_key)
        return entry
    if key not in cache:
        cache[key] = _build_loop(step_fn, strategy)
    return cache[key]


def _build_loop(step_fn, strategy) -> DecodeLoop:
    loop = DecodeLoop(step_fn, strategy, name=f"decode_loop_{strategy.kind}")
    if keras.backend.backend() in ("tensorflow", "jax"):
        loop.jit_compile = True  # XLA: the loop's many small ops become one program
    return loop


def run_loop(loop: DecodeLoop, strategy: Any, states: Sequence[np.ndarray], first: np.ndarray,
             prompts: Sequence[Sequence[int]] | None, *, max_length: int, stop: Any,
             index: np.ndarray | None = None) -> list[list[int]]:
    """Runs a compiled loop and turns its buffers into token lists.

    Args:
        loop: from :func:`loop_for`.
        strategy: the strategy (its runtime arguments are inputs of the loop).
        states: the initial state arrays, first axis ``B``.
        first: ``(B,)`` the token each sequence starts from.
        prompts: per sequence, tokens forced after ``first`` (or ``None``).
        max_length: the most tokens generated per sequence.
        stop: the :class:`rnnzoo.tasks.decoding.StopTokens`.
        index: ``(B,)`` each sequence's position in the caller's input list
            (the sampling draws depend on it, not on the batch); default ``0..B-1``.

    Returns:
        For each sequence, the generated ids without its stop token.
    """
    batch = int(first.shape[0])
    lengths = np.array([len(p) for p in prompts] if prompts is not None else [0] * batch,
                       np.int32)
    # Shapes come in buckets, so that a few compiled programs serve every batch size and
    # prompt length; the rows added are dead from the start.
    rows = _bucket(batch)
    width = 1 << (max(1, int(lengths.max(initial=0))) - 1).bit_length()
    columns = 1 << (width + int(max_length) - 1).bit_length()
    prompt = np.zeros((rows, width), np.int32)
    for i, p in enumerate(prompts or ()):
        prompt[i, :len(p)] = p
    index = np.arange(batch) if index is None else np.asarray(index)

    def padded(array, fill=0):
        array = np.asarray(array)
        extra = np.full((rows - batch, *array.shape[1:]), fill, array.dtype)
        return np.concatenate([array, extra])

    inputs = {
        "states": [padded(s) for s in states],
        "first": padded(np.asarray(first, np.int32)),
        "prompt": prompt,
        "prompt_length": padded(lengths),
        "index": padded(index.astype(np.int32)),
        "live": np.arange(rows) < batch,
        "stop_ids": np.asarray(stop.ids, np.int32),
        "max_length": np.array([max_length], np.int32),
        **{f"arg_{k}": np.asarray(val).reshape(1) for k, val in strategy.arguments().items()},
    }
    if strategy.kind == "beam":
        inputs["parents"] = np.zeros((rows, strategy.width, columns), np.int32)
        inputs["chosen"] = np.zeros((rows, strategy.width, columns), np.int32)
        out = loop.predict_on_batch(inputs)
        return _best_hypotheses(out, lengths, strategy, stop)
    inputs["buffer"] = np.zeros((rows, columns), np.int32)
    out = loop.predict_on_batch(inputs)
    tokens = np.asarray(out["tokens"])
    return [stop.trim(tokens[i, lengths[i]:lengths[i] + max_length]) for i in range(batch)]


def _bucket(batch: int) -> int:
    """The compiled batch size for ``batch`` rows: a power of two up to 8, then a multiple of 8."""
    return 1 << (batch - 1).bit_length() if batch <= 8 else -(-batch // 8) * 8


def _best_hypotheses(out: dict, lengths: np.ndarray, strategy: Any, stop: Any) -> list[list[int]]:
    """Follows the back-pointers of each example's best-ranked hypothesis."""
    parents, chosen = np.asarray(out["parents"]), np.asarray(out["chosen"])
    counts = np.asarray(out["counts"])
    ranked = strategy.rank(np.asarray(out["scores"], np.float64), np.asarray(out["lengths"]))
    batch = len(lengths)
    beam = np.argmax(ranked, axis=-1)[:batch]
    counts = counts[:batch]
    ids = np.zeros((batch, int(counts.max(initial=0))), np.int64)
    for k in range(ids.shape[1] - 1, -1, -1):  # the beam steps, last first
        rows = np.nonzero(k < counts)[0]
        column = lengths[rows] + k
        ids[rows, k] = chosen[rows, beam[rows], column]
        beam[rows] = parents[rows, beam[rows], column]
    return [stop.trim(ids[b, :int(counts[b])]) for b in range(batch)]
