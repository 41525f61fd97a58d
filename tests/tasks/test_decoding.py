"""rnnzoo.tasks.decoding on hand-made step functions with known answers."""

import numpy as np
import pytest

from rnnzoo.tasks.decoding import decode

END, START = 2, 1
V = 6


def _log(p):
    p = np.asarray(p, dtype=np.float64)
    return np.log(p / p.sum(axis=-1, keepdims=True))


def _counter_step(tokens, state):
    """Deterministic: predicts token (prev + 1), then END after token 5."""
    (count,) = state
    probs = np.full((len(tokens), V), 0.01)
    nxt = np.where(tokens >= 5, END, np.maximum(tokens + 1, 3))
    probs[np.arange(len(tokens)), nxt] = 1.0
    return _log(probs), [count + 1]


# A tree where the greedy first choice (token 3, p=0.6) leads to a flat second step
# (best p=0.34) while token 4 (p=0.4) leads to a sure continuation (p=0.99):
#   P(3, x) <= 0.6 * 0.34 = 0.204   <   P(4, 5) = 0.4 * 0.99 = 0.396
def _trap_step(tokens, state):
    (prev,) = state
    rows = []
    for tok, p in zip(tokens, prev[:, 0]):
        if tok == START:
            rows.append([1e-6, 1e-6, 1e-6, 0.6, 0.4, 1e-6])
        elif tok == 3:
            rows.append([1e-6, 1e-6, 0.32, 0.34, 1e-6, 0.34])
        elif tok in (4, 5) and p != END:
            rows.append([1e-6, 1e-6, 0.005, 1e-6, 1e-6, 0.99] if tok == 4 else
                        [1e-6, 1e-6, 0.99, 1e-6, 1e-6, 0.005])
        else:
            rows.append([1e-6, 1e-6, 0.99, 1e-6, 1e-6, 1e-6])
    return _log(rows), [tokens[:, None].astype(np.float32)]


def _zeros(batch):
    return [np.zeros((batch, 1), np.float32)]


def test_greedy_follows_the_argmax_and_stops_at_end():
    out = decode(_counter_step, _zeros(2), batch_size=2, max_length=10)
    assert out == [[3, 4, 5], [3, 4, 5]]
    # max_length cuts the sequence
    assert decode(_counter_step, _zeros(1), batch_size=1, max_length=2) == [[3, 4]]


def test_greedy_equals_beam_of_width_one():
    for step in (_counter_step, _trap_step):
        greedy = decode(step, _zeros(3), batch_size=3, method="greedy", max_length=6)
        beam1 = decode(step, _zeros(3), batch_size=3, method="beam", beam_width=1, max_length=6)
        assert greedy == beam1


def test_beam_search_finds_the_more_likely_sequence_greedy_misses():
    greedy = decode(_trap_step, _zeros(1), batch_size=1, method="greedy", max_length=5)
    beam = decode(_trap_step, _zeros(1), batch_size=1, method="beam", beam_width=2, max_length=5)
    assert greedy[0][0] == 3
    assert beam == [[4, 5]]


TREE = {
    (): {3: 0.5, 4: 0.5},
    (3,): {5: 0.9, 2: 0.1},
    (4,): {3: 0.6, 5: 0.4},
    (4, 3): {4: 0.7, 2: 0.3},
}


def _tree_probs(history):
    row = np.full((V,), 1e-9)
    for tok, p in TREE.get(tuple(history), {END: 1.0}).items():
        row[tok] = p
    return row


def test_beam_gathers_states_per_hypothesis():
    """The state holds each row's history; every token fed must be possible under it."""
    checked = []

    def step(tokens, state):
        (hist,) = state
        hist = hist.copy()
        rows = []
        for r, tok in enumerate(tokens):
            h = [int(t) for t in hist[r] if t > 0]
            if tok not in (START, 0):  # 0: a dead (-inf) beam of the first step
                # the row's state must be its own parent's: tok is possible after h
                assert _tree_probs(h)[tok] > 1e-3, (h, tok)
                checked.append(tok)
                h.append(int(tok))
                hist[r, len(h) - 1] = tok
            rows.append(_log(_tree_probs(h)))
        return np.stack(rows), [hist]

    out = decode(step, [np.zeros((2, 8), np.int64)], batch_size=2,
                 method="beam", beam_width=3, max_length=6)
    # best: 3,5 (0.45) > 4,3,4 (0.21) > 4,5 (0.2)
    assert out == [[3, 5], [3, 5]]
    assert len(checked) > 6


def test_sampling_is_seeded_and_follows_temperature_and_top_k():
    def uniform_step(tokens, state):
        probs = np.array([[1e-9, 1e-9, 1e-9, 0.5, 0.3, 0.2]] * len(tokens))
        return _log(probs), state

    kw = dict(batch_size=64, method="sample", max_length=5)
    a = decode(uniform_step, [], seed=3, **kw)
    b = decode(uniform_step, [], seed=3, **kw)
    c = decode(uniform_step, [], seed=4, **kw)
    assert a == b and a != c
    tokens = np.array([t for seq in a for t in seq])
    assert set(tokens) == {3, 4, 5}
    assert (tokens == 3).mean() == pytest.approx(0.5, abs=0.08)
    top1 = decode(uniform_step, [], seed=3, top_k=1, **kw)
    assert all(seq == [3] * 5 for seq in top1)
    cold = np.array(decode(uniform_step, [], seed=3, temperature=0.05, **kw)).ravel()
    assert (cold == 3).mean() > 0.99


def test_prefix_is_fed_first_and_may_differ_in_length():
    fed = []

    def step(tokens, state):
        fed.append(tokens.tolist())
        return _counter_step(tokens, state)

    out = decode(step, _zeros(2), batch_size=2, prefix=[[4], [3, 4]], max_length=5)
    # both continue after their last prefix token 4 -> 5, then END
    assert out == [[5], [5]]
    assert [1] in fed and [1] in fed and [3] in fed


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"method": "topp"}, "`method`.*topp"),
        ({"beam_width": 0}, "`beam_width`.*0"),
        ({"temperature": 0.0}, "`temperature`.*0.0"),
        ({"top_k": 0}, "`top_k`.*0"),
        ({"max_length": 0}, "`max_length`.*0"),
        ({"batch_size": 3}, "`initial_state`"),
        ({"prefix": [[3]]}, "`prefix`"),
    ],
)
def test_bad_options_name_the_argument(kwargs, match):
    kw = {"batch_size": 2, **kwargs}
    with pytest.raises(ValueError, match=match):
        decode(_counter_step, _zeros(2), **kw)
