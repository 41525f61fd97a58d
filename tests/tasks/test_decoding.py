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
    fed = {}

    def step(tokens, state):
        (rows,) = state  # the state carries each sequence's row number, so the tokens fed
        for row, token in zip(rows[:, 0], tokens):  # are told apart however rows are batched
            fed.setdefault(int(row), []).append(int(token))
        return _counter_step(tokens, [rows])[0], [rows]

    rows = np.arange(2, dtype=np.float32)[:, None]
    out = decode(step, [rows], batch_size=2, prefix=[[4], [3, 4]], max_length=5)
    # both continue after their last prefix token 4 -> 5, then END
    assert out == [[5], [5]]
    # exactly: the start token, the prefix, then each generated token up to the end
    assert fed == {0: [1, 4, 5], 1: [1, 3, 4, 5]}


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


# --------------------------------------------------------------------------- strategy objects

from rnnzoo.tasks.decoding import (  # noqa: E402
    LOG_PROB_FLOOR,
    BeamSearch,
    Greedy,
    Sampling,
    StopTokens,
    log_probabilities,
)

NUCLEUS_ROW = [1e-9, 1e-9, 1e-9, 0.5, 0.3, 0.2]


def _nucleus_step(tokens, state):
    return _log(np.array([NUCLEUS_ROW] * len(tokens))), state


@pytest.mark.parametrize("top_p, nucleus, share_of_3", [
    (0.45, {3}, 1.0),          # the most likely token alone holds >= 0.45
    (0.7, {3, 4}, 0.5 / 0.8),  # 0.5 < 0.7 <= 0.5 + 0.3
    (0.85, {3, 4, 5}, 0.5),    # 0.8 < 0.85: all three likely tokens
])
def test_top_p_samples_only_the_nucleus(top_p, nucleus, share_of_3):
    dist = Sampling(top_p=top_p).distribution(_log([NUCLEUS_ROW]))[0]
    assert set(np.nonzero(dist)[0]) == nucleus
    np.testing.assert_allclose(dist.sum(), 1.0)
    np.testing.assert_allclose(dist[3], share_of_3, rtol=1e-6)
    out = decode(_nucleus_step, [], batch_size=400, method="sample", top_p=top_p, seed=0,
                 max_length=5)
    drawn = np.array([t for seq in out for t in seq])
    assert len(drawn) == 400 * 5  # the end token (outside every nucleus) never comes
    assert set(drawn) == nucleus
    assert (drawn == 3).mean() == pytest.approx(share_of_3, abs=0.03)


def test_top_p_one_is_plain_sampling_and_combines_with_top_k():
    kw = dict(batch_size=64, method="sample", max_length=5, seed=11)
    assert decode(_nucleus_step, [], top_p=1.0, **kw) == decode(_nucleus_step, [], **kw)
    # top_k=2 first keeps {3, 4} (renormalised 0.625 / 0.375); top_p=0.6 then keeps {3}
    dist = Sampling(top_k=2, top_p=0.6).distribution(_log([NUCLEUS_ROW]))[0]
    assert set(np.nonzero(dist)[0]) == {3}


def test_strategy_objects_are_what_the_method_names_run():
    kw = dict(batch_size=2, max_length=6)
    assert decode(_trap_step, _zeros(2), method=Greedy(), **kw) == decode(
        _trap_step, _zeros(2), **kw)
    assert decode(_trap_step, _zeros(2), method=BeamSearch(2), **kw) == [[4, 5], [4, 5]]
    first = np.full((2,), START, np.int32)
    assert BeamSearch(2).run(_trap_step, _zeros(2), first, max_length=6,
                             stop=StopTokens(END)) == [[4, 5], [4, 5]]
    a = Sampling(seed=5).run(_nucleus_step, [], first, max_length=5, stop=StopTokens(END))
    assert a == decode(_nucleus_step, [], batch_size=2, method="sample", seed=5, max_length=5)


def test_several_stop_tokens_end_a_sequence():
    assert decode(_counter_step, _zeros(2), batch_size=2, end_id=[4, END],
                  max_length=10) == [[3], [3]]
    assert decode(_counter_step, _zeros(1), batch_size=1, end_id=(5, END), method="beam",
                  beam_width=2, max_length=10) == [[3, 4]]
    assert StopTokens([2, 7]).trim([5, 6, 7, 2]) == [5, 6]
    assert StopTokens(2).ids == (2,)


# After START: END (p=0.45) or 3 (p=0.55); after 3: 4 (0.8); after 3, 4: END (0.9).
#   total log-prob: [] = log 0.45 = -0.80  >  [3, 4] = log 0.396 = -0.93
#   with length_penalty=1: -0.80 / 1  <  -0.93 / ((5 + 3) / 6) = -0.69
PENALTY_TREE = {(): {END: 0.45, 3: 0.55}, (3,): {4: 0.8, 5: 0.2}, (3, 4): {END: 0.9, 5: 0.1}}


def _penalty_step(tokens, state):
    (hist,) = state
    hist = hist.copy()
    rows = []
    for r, tok in enumerate(tokens):
        h = [int(t) for t in hist[r] if t > 0]
        if tok not in (START, 0):
            h.append(int(tok))
            hist[r, len(h) - 1] = tok
        row = np.full((V,), 1e-9)
        for t, p in PENALTY_TREE.get(tuple(h), {END: 1.0}).items():
            row[t] = p
        rows.append(_log(row))
    return np.stack(rows), [hist]


def test_length_penalty_favours_longer_hypotheses():
    kw = dict(batch_size=1, method="beam", beam_width=2, max_length=6)
    state = [np.zeros((1, 8), np.int64)]
    assert decode(_penalty_step, state, **kw) == [[]]
    assert decode(_penalty_step, state, length_penalty=1.0, **kw) == [[3, 4]]


def test_one_log_probability_floor():
    assert LOG_PROB_FLOOR == 1e-12
    np.testing.assert_allclose(log_probabilities([0.0, 0.5]), [np.log(1e-12), np.log(0.5)])


@pytest.mark.parametrize("kwargs, match", [
    ({"method": "sample", "top_p": 0.0}, "`top_p`.*0.0"),
    ({"method": "sample", "top_p": 1.5}, "`top_p`.*1.5"),
    ({"method": "beam", "length_penalty": float("nan")}, "`length_penalty`"),
    ({"end_id": []}, "`end_id`"),
    ({"end_id": [2, -1]}, "`end_id`"),
])
def test_bad_new_options_name_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        decode(_counter_step, _zeros(2), batch_size=2, **kwargs)
    if "top_p" in kwargs:
        with pytest.raises(ValueError, match=match):
            Sampling(top_p=kwargs["top_p"])
