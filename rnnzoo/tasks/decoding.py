"""Decoding shared by the generative tasks: greedy, beam search and sampling.

Every generator (``text_prediction``, ``translation``, ``captioning``) exposes a
one-step function ``step_fn(tokens, state) -> (log_probs, new_state)`` and lets
:func:`decode` run the loop:

- ``tokens``: int32 numpy array ``(B,)``, the previous token of each sequence;
- ``state``: a list of numpy arrays whose first axis is the batch (recurrent
  states, and any memory such as encoder outputs, which simply travels along);
- ``log_probs``: float ``(B, V)`` log-probabilities of the next token.

Beam search repeats and gathers the state rows, so a step function never has to
know which method is running.

Example:

```python
ids = decode(step_fn, [h0, c0], batch_size=2, method="beam", beam_width=4, max_length=30)
texts = [vocab.decode(seq) for seq in ids]
```
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from rnnzoo.text import END_ID, START_ID

__all__ = ["decode", "METHODS", "check_decoding_args"]

METHODS = ("greedy", "beam", "sample")

StepFn = Callable[[np.ndarray, list], tuple[Any, list]]


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def check_decoding_args(
    method: str,
    beam_width: int,
    temperature: float,
    top_k: int | None,
    max_length: int,
) -> None:
    """Validates the decoding options; raises ``ValueError`` naming the bad one."""
    if method not in METHODS:
        from rnnzoo.registry import suggest

        raise ValueError(
            f"`method` must be one of {list(METHODS)}. Received: method={method!r}."
            f"{suggest(method, METHODS)}"
        )
    if not _is_int(beam_width) or beam_width < 1:
        raise ValueError(
            f"`beam_width` must be an integer >= 1. Received: beam_width={beam_width!r}"
        )
    if (
        isinstance(temperature, bool)
        or not isinstance(temperature, (int, float, np.floating, np.integer))
        or not np.isfinite(temperature)
        or temperature <= 0
    ):
        raise ValueError(
            f"`temperature` must be a number > 0. Received: temperature={temperature!r}"
        )
    if top_k is not None and (not _is_int(top_k) or top_k < 1):
        raise ValueError(f"`top_k` must be an integer >= 1 or None. Received: top_k={top_k!r}")
    if not _is_int(max_length) or max_length < 1:
        raise ValueError(
            f"`max_length` must be an integer >= 1. Received: max_length={max_length!r}"
        )


def _call(step_fn: StepFn, tokens: np.ndarray, state: list) -> tuple[np.ndarray, list]:
    log_probs, new_state = step_fn(np.asarray(tokens, dtype=np.int32), state)
    log_probs = np.asarray(log_probs, dtype=np.float64)
    return log_probs, [np.asarray(s) for s in new_state]


def _take(state: list, index: np.ndarray) -> list:
    return [np.asarray(s)[index] for s in state]


def decode(
    step_fn: StepFn,
    initial_state: Sequence[Any],
    *,
    batch_size: int,
    start_id: int = START_ID,
    end_id: int = END_ID,
    method: str = "greedy",
    beam_width: int = 4,
    temperature: float = 1.0,
    top_k: int | None = None,
    max_length: int = 20,
    seed: int | None = None,
    prefix: Sequence[Sequence[int]] | None = None,
    length_penalty: float = 0.0,
) -> list[list[int]]:
    """Generates token ids one step at a time.

    Args:
        step_fn: ``step_fn(tokens (B,) int32, state list) -> (log_probs (B, V), new_state)``.
        initial_state: the list of state arrays, first axis ``batch_size``
            (may be empty for a model without state).
        batch_size: number of sequences generated.
        start_id: the token fed first.
        end_id: the token that ends a sequence (not included in the result).
        method: ``"greedy"`` (argmax), ``"beam"`` (beam search keeping
            ``beam_width`` hypotheses by total log-probability) or
            ``"sample"`` (draw from the softmax at ``temperature``, restricted
            to the ``top_k`` most likely tokens if given).
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

    Returns:
        For each sequence, the generated ids without start and end tokens.

    Raises:
        ValueError: for a bad option, naming it.
    """
    check_decoding_args(method, beam_width, temperature, top_k, max_length)
    if not _is_int(batch_size) or batch_size < 1:
        raise ValueError(f"`batch_size` must be a positive integer. Received: batch_size={batch_size!r}")
    state = [np.asarray(s) for s in initial_state]
    for i, s in enumerate(state):
        if s.ndim == 0 or s.shape[0] != batch_size:
            raise ValueError(
                f"`initial_state` arrays must have batch_size={batch_size} rows. "
                f"Received: initial_state[{i}] of shape {s.shape}"
            )
    options = dict(
        start_id=int(start_id), end_id=int(end_id), method=method, beam_width=int(beam_width),
        temperature=float(temperature), top_k=top_k, max_length=int(max_length),
        length_penalty=float(length_penalty),
    )
    rng = np.random.default_rng(seed)
    if prefix is None:
        first = np.full((batch_size,), start_id, dtype=np.int32)
        return _decode_group(step_fn, state, first, rng=rng, **options)
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
        outputs = _decode_group(step_fn, group_state, fed[:, -1], rng=rng, **options)
        for i, out in zip(index, outputs):
            results[int(i)] = out
    return results  # type: ignore[return-value]


def _decode_group(step_fn, state, first, *, rng, method, beam_width, **options):
    if method == "beam":
        return _beam(step_fn, state, first, beam_width=beam_width, **options)
    options.pop("length_penalty")
    if method == "sample":
        return _sample(step_fn, state, first, rng=rng, **options)
    return _sample(step_fn, state, first, rng=None, **options)


def _sample(step_fn, state, tokens, *, rng, start_id, end_id, temperature, top_k, max_length):
    """Greedy (``rng=None``) or sampled decoding."""
    batch = tokens.shape[0]
    out = np.zeros((batch, max_length), dtype=np.int64)
    done = np.zeros((batch,), dtype=bool)
    steps = 0
    for t in range(max_length):
        log_probs, state = _call(step_fn, tokens, state)
        if rng is None:
            nxt = np.argmax(log_probs, axis=-1)
        else:
            nxt = _draw(log_probs, rng, temperature, top_k)
        nxt = np.where(done, end_id, nxt)
        out[:, t] = nxt
        steps = t + 1
        done |= nxt == end_id
        if done.all():
            break
        tokens = nxt.astype(np.int32)
    return [_until_end(row[:steps], end_id) for row in out]


def _draw(log_probs, rng, temperature, top_k):
    logits = log_probs / temperature
    if top_k is not None and top_k < logits.shape[-1]:
        kth = np.partition(logits, -top_k, axis=-1)[:, -top_k][:, None]
        logits = np.where(logits >= kth, logits, -np.inf)
    logits = logits - logits.max(axis=-1, keepdims=True)
    probs = np.exp(logits)
    probs /= probs.sum(axis=-1, keepdims=True)
    cumulative = np.cumsum(probs, axis=-1)
    u = rng.random((probs.shape[0], 1))
    return np.minimum((cumulative < u).sum(axis=-1), probs.shape[-1] - 1)


def _until_end(row, end_id) -> list[int]:
    ids = [int(t) for t in row]
    return ids[: ids.index(end_id)] if end_id in ids else ids


def _beam(step_fn, state, tokens, *, beam_width, start_id, end_id, temperature, top_k,
          max_length, length_penalty):
    del start_id, temperature, top_k  # beam search ranks by the model's log-probabilities
    batch = tokens.shape[0]
    width = beam_width
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
        # a finished hypothesis only extends with end_id, at no cost
        frozen = np.full((vocab,), -np.inf)
        frozen[end_id] = 0.0
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
            [np.take_along_axis(history, beam_index[:, :, None], axis=1), token_index[:, :, None]],
            axis=-1,
        )
        was_finished = np.take_along_axis(finished, beam_index, axis=1)
        lengths = np.take_along_axis(lengths, beam_index, axis=1) + (~was_finished)
        finished = was_finished | (token_index == end_id)
        rows = (np.arange(batch)[:, None] * width + beam_index).reshape(-1)
        state = _take(state, rows)
        tokens = token_index.reshape(-1).astype(np.int32)
        if finished.all():
            break
    if length_penalty:
        ranked = scores / (((5.0 + lengths) / 6.0) ** length_penalty)
    else:
        ranked = scores
    best = np.argmax(ranked, axis=-1)
    return [_until_end(history[b, best[b]], end_id) for b in range(batch)]
