"""Decoding strategies: argument checks, defaults and the edges mutation testing found untested.

Each test here kills mutants of ``rnnzoo/tasks/decoding.py`` that survived
``tests/tasks/test_decoding.py`` (see TESTING.md): the argument a message names,
the bounds of ``top_p``, the default ``max_length``, a scalar state, the
softmax at a very low temperature, the length-penalty formula and a finished
beam that must not pay for steps after its end.
"""

import inspect

import numpy as np
import pytest
from keras import ops

from rnnzoo.tasks import decoding
from rnnzoo.tasks.decoding import BeamSearch, Sampling, StopTokens, decode, make_strategy

END = 2
V = 6


def _per_token(table, tokens):
    """``table[token]`` for each token of the batch (step functions are compiled:
    ``keras.ops`` only)."""
    return ops.take(ops.convert_to_tensor(np.asarray(table, np.float32)), tokens, axis=0)


_ENDLESS = np.full((V, V), -10.0)
_ENDLESS[:, 3] = 0.0


def _endless(tokens, state):
    """Always predicts token 3: a sequence that never ends."""
    return _per_token(_ENDLESS, tokens), state


@pytest.mark.parametrize("call, match", [
    (lambda: decode(_endless, [], batch_size=0), r"`batch_size`.*Received: batch_size=0"),
    (lambda: make_strategy("topp"), r"`method`.*Received: method='topp'"),
    (lambda: BeamSearch(beam_width=0), r"`beam_width`.*Received: beam_width=0"),
    (lambda: BeamSearch(length_penalty="x"), r"`length_penalty`.*Received: length_penalty='x'"),
    (lambda: Sampling(temperature=0.0), r"`temperature`.*Received: temperature=0.0"),
    (lambda: Sampling(top_k=0), r"`top_k`.*Received: top_k=0"),
    (lambda: Sampling(top_p=0.0), r"`top_p`.*Received: top_p=0.0"),
    (lambda: Sampling(top_p=1.5), r"`top_p`.*Received: top_p=1.5"),
    (lambda: decode(_endless, [], batch_size=1, method="sample", top_p=0.0), r"`top_p`"),
    (lambda: decode(_endless, [], batch_size=1, method="sample", top_p=1.01), r"`top_p`"),
    (lambda: StopTokens(-1), r"^`end_id` must be a token id.*Received: end_id=-1$"),
    (lambda: StopTokens([]), r"`end_id`.*Received: end_id=\[\]"),
    (lambda: StopTokens("2"), r"`end_id`.*Received: end_id='2'"),
])
def test_bad_arguments_name_the_argument_and_the_value(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_the_edges_of_the_allowed_ranges_are_accepted():
    assert decode(_endless, [], batch_size=1, max_length=1) == [[3]]
    assert decode(_endless, [], batch_size=1, method="sample", top_p=1.0, seed=0,
                  max_length=2) == [[3, 3]]
    assert decode(_endless, [], batch_size=1, method="sample", top_k=1, seed=0,
                  max_length=2) == [[3, 3]]
    assert StopTokens(0).ids == (0,)  # id 0 may end a sequence
    # ... and start one: the first step is fed id 0 (it answers 4, every other id 3)
    from_zero = _ENDLESS.copy()
    from_zero[0] = -10.0
    from_zero[0, 4] = 0.0
    assert decode(lambda tokens, state: (_per_token(from_zero, tokens), state), [],
                  batch_size=1, start_id=0, max_length=2) == [[4, 3]]


def test_default_max_length_is_20():
    assert decode(_endless, [], batch_size=2) == [[3] * 20, [3] * 20]
    assert decode(_endless, [], batch_size=1, method="beam") == [[3] * 20]


def test_public_defaults_are_the_documented_ones():
    expected = {"method": "greedy", "beam_width": 4, "temperature": 1.0, "top_k": None,
                "top_p": None, "length_penalty": 0.0}
    for fn in (decode, make_strategy):
        params = inspect.signature(fn).parameters
        assert {k: params[k].default for k in expected} == expected, fn.__name__
    assert inspect.signature(decode).parameters["max_length"].default == 20
    assert (BeamSearch().beam_width, BeamSearch().length_penalty) == (4, 0.0)
    sampler = Sampling(seed=7)
    assert (sampler.temperature, sampler.top_k, sampler.top_p, sampler.seed) == (
        1.0, None, None, 7)


def test_greedy_takes_each_rows_own_best_token():
    wants = np.full((2, V), -10.0, np.float32)
    wants[0, 4] = wants[1, 5] = 0.0  # row 0 wants 4, row 1 wants 5, then END

    def step(tokens, state):
        (row,) = state  # each sequence's row number, carried in its state
        log_probs = ops.take(ops.convert_to_tensor(wants), ops.cast(row[:, 0], "int32"), axis=0)
        ended = ops.logical_and(ops.expand_dims(tokens >= 4, 1),
                                ops.arange(V, dtype="int32") == END)
        return ops.where(ended, 1.0, log_probs), state

    rows = [np.arange(2, dtype=np.float32)[:, None]]
    assert decode(step, rows, batch_size=2, max_length=5) == [[4], [5]]


def test_top_k_keeps_exactly_the_k_most_likely_tokens():
    rng = np.random.default_rng(0)
    log_probs = np.log(rng.dirichlet(np.ones(8), size=5))
    for k in (1, 3, 6):
        probs = Sampling(top_k=k).distribution(log_probs)
        top = np.argsort(-log_probs, axis=-1)[:, :k]
        for row, keep in zip(probs, top):
            assert set(np.nonzero(row)[0]) == set(keep.tolist())
        np.testing.assert_allclose(probs.sum(-1), 1.0, rtol=1e-6)  # float32


def test_top_p_stops_once_the_more_likely_tokens_hold_top_p():
    # 0.5 alone already holds top_p = 0.5: the nucleus is that one token
    log_probs = np.log(np.array([[0.5, 0.25, 0.25]]))
    np.testing.assert_allclose(Sampling(top_p=0.5).distribution(log_probs), [[1, 0, 0]])
    np.testing.assert_allclose(Sampling(top_p=0.75).distribution(log_probs),
                               [[2 / 3, 1 / 3, 0]])


def test_states_need_a_batch_axis():
    with pytest.raises(ValueError, match=r"`initial_state` arrays must have batch_size=2 rows"):
        decode(_endless, [np.float32(0.0)], batch_size=2)
    # a (batch,) vector is a state with a batch axis
    assert decode(_endless, [np.zeros(2, np.float32)], batch_size=2, max_length=2) == [[3, 3]] * 2


def test_sampling_at_a_very_low_temperature_stays_a_distribution_per_row():
    # the softmax is shifted by each row's own maximum: a row far below another's maximum
    # must not underflow to zeros (0/0) when the logits are divided by a tiny temperature
    log_probs = np.log(np.array([[0.9, 0.1, 1e-9], [0.5, 0.5, 1e-9]]))
    probs = Sampling(temperature=1e-4).distribution(log_probs)
    assert np.all(np.isfinite(probs))
    np.testing.assert_allclose(probs, [[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]], atol=1e-12)


@pytest.mark.parametrize("u, token", [(1.0, 9), (0.55, 5)])
def test_sampling_never_draws_a_token_without_mass(monkeypatch, u, token):
    # ten tokens of 0.1 and two masked by top_k: a draw at (or, through rounding of the
    # cumulative sum, above) the top of the mass must take the last token with mass, not
    # a masked one past it; a draw inside it takes the token whose interval holds it
    log_probs = np.log(np.array([[0.1] * 10 + [1e-6, 1e-6]], np.float32))
    sampler = Sampling(top_k=10, seed=0)
    monkeypatch.setattr(decoding.decode_loop, "uniforms",
                        lambda seed, index, step: ops.full((1,), u, "float32"))
    index = ops.zeros((1,), "int32")
    picked = sampler.select(ops.convert_to_tensor(log_probs), index, 0, sampler._args())
    assert ops.convert_to_numpy(picked).tolist() == [token]


def _tree(tokens, state):
    """start -> 3 (p=0.5) -> END, or start -> 4 (log p = 1.29 log 0.5) -> 5 -> END.

    After END every token, END included, costs 3 nats: a finished hypothesis that paid
    for steps after its end would lose to the longer one.
    """
    return _per_token(_TREE, tokens), [ops.cast(tokens, "float32")[:, None]]


_TREE = np.full((V, V), -50.0)
_TREE[1, 3], _TREE[1, 4] = np.log(0.5), 1.29 * np.log(0.5)  # the start token
_TREE[3, END] = _TREE[5, END] = 0.0
_TREE[4, 5] = 0.0
_TREE[[0, END]] = -3.0  # after END


def test_length_penalty_follows_wu_et_al():
    """Ranks by log p / ((5 + length) / 6) ** alpha, the stop token counted in the length.

    [3, END]: -0.693 / (7/6)^2 = -0.509; [4, 5, END]: -0.894 / (8/6)^2 = -0.503: the longer
    one wins at alpha = 2 (not with 6 for 5, or a product for the power), the shorter at 0.
    """
    state = [np.zeros((1, 1), np.float32)]
    kw = dict(batch_size=1, method="beam", beam_width=2, max_length=6)
    assert decode(_tree, state, length_penalty=0.0, **kw) == [[3]]
    assert decode(_tree, state, length_penalty=2.0, **kw) == [[4, 5]]


def test_a_finished_beam_pays_nothing_for_later_steps():
    """[3, END] ends first with the better score; steps after its end must not lower it."""
    state = [np.zeros((1, 1), np.float32)]
    assert decode(_tree, state, method="beam", beam_width=2, batch_size=1,
                  max_length=6) == [[3]]
