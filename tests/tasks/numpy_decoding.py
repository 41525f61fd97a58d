"""The numpy decoding loops rnnzoo used before the compiled loop: the tests' reference.

Greedy and beam search exactly as ``rnnzoo.tasks.decoding`` ran them (a Python
loop calling the step function once per token, float64 scores, prompts grouped
by length). The compiled loop must give the same tokens; nothing in the package
imports this file.
"""

from __future__ import annotations

import keras
import numpy as np

from rnnzoo.tasks.decoding import LOG_PROB_FLOOR


def predict_step(step_model):
    """A step model as a numpy step function, as ``generate`` called it (predict_on_batch)."""

    def step_fn(tokens, state):
        outs = step_model.predict_on_batch([np.asarray(tokens, np.int32).reshape(-1, 1),
                                            *[np.asarray(s) for s in state]])
        outs = [np.asarray(o) for o in (outs if isinstance(outs, (list, tuple)) else [outs])]
        probs = np.asarray(outs[0], dtype=np.float64)
        return np.log(np.maximum(probs, LOG_PROB_FLOOR)), outs[1:]

    return step_fn


def eager_step(step_fn):
    """A ``keras.ops`` step function called eagerly on numpy arrays."""

    def numpy_step(tokens, state):
        log_probs, new_state = step_fn(np.asarray(tokens, np.int32), list(state))
        return (keras.ops.convert_to_numpy(log_probs),
                [keras.ops.convert_to_numpy(s) for s in new_state])

    return numpy_step


def _call(step_fn, tokens, state):
    log_probs, new_state = step_fn(np.asarray(tokens, dtype=np.int32), state)
    return np.asarray(log_probs, dtype=np.float64), [np.asarray(s) for s in new_state]


def _take(state, index):
    return [np.asarray(s)[index] for s in state]


def _trim(row, stop_ids):
    ids = [int(t) for t in row]
    for i, token in enumerate(ids):
        if token in stop_ids:
            return ids[:i]
    return ids


def _gap(scores, k):
    """Per row, how far the k-th best score is from the (k+1)-th (inf without one)."""
    if scores.shape[-1] <= k:
        return np.full(scores.shape[:-1], np.inf)
    top = -np.sort(-scores, axis=-1)
    gap = top[..., k - 1] - top[..., k]
    return np.where(np.isfinite(top[..., k]), gap, np.inf)


def greedy(step_fn, state, tokens, *, max_length, stop_ids, gaps=None):
    batch = tokens.shape[0]
    out = np.zeros((batch, max_length), dtype=np.int64)
    done = np.zeros((batch,), dtype=bool)
    steps = 0
    for t in range(max_length):
        log_probs, state = _call(step_fn, tokens, state)
        if gaps is not None:
            gaps[:] = np.minimum(gaps, np.where(done, np.inf, _gap(log_probs, 1)))
        nxt = np.where(done, stop_ids[0], np.argmax(log_probs, axis=-1))
        out[:, t] = nxt
        steps = t + 1
        done |= np.isin(nxt, stop_ids)
        if done.all():
            break
        tokens = nxt.astype(np.int32)
    return [_trim(row[:steps], stop_ids) for row in out]


def beam(step_fn, state, tokens, *, max_length, stop_ids, width, length_penalty=0.0,
         gaps=None):
    batch = tokens.shape[0]
    flat = np.repeat(np.arange(batch), width)
    state = _take(state, flat)
    tokens = np.repeat(tokens, width)
    scores = np.full((batch, width), -np.inf)
    scores[:, 0] = 0.0
    history = np.zeros((batch, width, 0), dtype=np.int64)
    finished = np.zeros((batch, width), dtype=bool)
    lengths = np.zeros((batch, width), dtype=np.int64)
    for _ in range(max_length):
        log_probs, state = _call(step_fn, tokens, state)
        vocab = log_probs.shape[-1]
        log_probs = log_probs.reshape(batch, width, vocab)
        candidates = scores[:, :, None] + log_probs
        frozen = np.full((vocab,), -np.inf)
        frozen[stop_ids[0]] = 0.0
        candidates = np.where(finished[:, :, None], scores[:, :, None] + frozen[None, None, :],
                              candidates)
        flat_scores = candidates.reshape(batch, width * vocab)
        if gaps is not None:  # a near tie at the cut decides which hypotheses survive
            gaps[:] = np.minimum(gaps, np.where(finished.all(1), np.inf,
                                                _gap(flat_scores, width)))
        order = np.argsort(-flat_scores, axis=-1, kind="stable")[:, :width]
        beam_index, token_index = order // vocab, order % vocab
        scores = np.take_along_axis(flat_scores, order, axis=-1)
        history = np.concatenate([np.take_along_axis(history, beam_index[:, :, None], axis=1),
                                  token_index[:, :, None]], axis=-1)
        was_finished = np.take_along_axis(finished, beam_index, axis=1)
        lengths = np.take_along_axis(lengths, beam_index, axis=1) + (~was_finished)
        finished = was_finished | np.isin(token_index, stop_ids)
        rows = (np.arange(batch)[:, None] * width + beam_index).reshape(-1)
        state = _take(state, rows)
        tokens = token_index.reshape(-1).astype(np.int32)
        if finished.all():
            break
    ranked = scores
    if length_penalty:
        ranked = scores / (((5.0 + lengths) / 6.0) ** length_penalty)
    if gaps is not None:
        gaps[:] = np.minimum(gaps, _gap(ranked, 1))
    best = np.argmax(ranked, axis=-1)
    return [_trim(history[b, best[b]], stop_ids) for b in range(batch)]


def decode(step_fn, initial_state, *, batch_size, start_id=1, end_id=2, method="greedy",
           beam_width=4, max_length=20, prefix=None, length_penalty=0.0, gaps=None):
    """Today's ``decode`` for greedy and beam: prompts of equal length run together.

    ``gaps``: an optional float array ``(batch_size,)`` that receives, per sequence, the
    smallest score margin of any decision taken (greedy: best vs second token; beam: the
    last kept vs the first dropped candidate, and the final ranking). Below float32
    resolution, another implementation may decide the other way.
    """
    stop_ids = [end_id] if np.isscalar(end_id) else list(end_id)
    state = [np.asarray(s) for s in initial_state]
    if gaps is not None:
        gaps[:] = np.inf

    def run(group_state, tokens, index):
        group_gaps = None if gaps is None else np.full((len(index),), np.inf)
        if method == "beam":
            out = beam(step_fn, group_state, tokens, max_length=max_length, stop_ids=stop_ids,
                       width=beam_width, length_penalty=length_penalty, gaps=group_gaps)
        else:
            out = greedy(step_fn, group_state, tokens, max_length=max_length,
                         stop_ids=stop_ids, gaps=group_gaps)
        if gaps is not None:
            gaps[index] = group_gaps
        return out

    if prefix is None:
        return run(state, np.full((batch_size,), start_id, dtype=np.int32),
                   np.arange(batch_size))
    prefix = [[int(t) for t in np.asarray(p).reshape(-1)] for p in prefix]
    results = [None] * batch_size
    for length in sorted({len(p) for p in prefix}):
        index = np.array([i for i, p in enumerate(prefix) if len(p) == length])
        group_state = _take(state, index)
        fed = np.array([[start_id] + prefix[i] for i in index], dtype=np.int32)
        for t in range(length):
            _, group_state = _call(step_fn, fed[:, t], group_state)
        for i, out in zip(index, run(group_state, fed[:, -1], index)):
            results[int(i)] = out
    return results
