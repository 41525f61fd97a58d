"""rnnzoo.tasks.decoding on hand-made keras.ops step functions with known answers, and the
compiled loop against the numpy loop rnnzoo ran before (tests/tasks/numpy_decoding.py)."""

import numpy as np
import pytest
from keras import ops

from rnnzoo.tasks import decode_loop
from rnnzoo.tasks.decoding import decode

from tests.tasks import numpy_decoding as reference

END, START = 2, 1
V = 6


def _log(p):
    p = np.asarray(p, dtype=np.float64)
    return np.log(p / p.sum(axis=-1, keepdims=True)).astype(np.float32)


def _rows(row, tokens):
    """``row (V,)`` repeated for every token of the batch."""
    return ops.zeros_like(ops.cast(tokens, "float32"))[:, None] + ops.convert_to_tensor(row)


def _counter_step(tokens, state):
    """Deterministic: predicts token (prev + 1), then END after token 5."""
    (count,) = state
    nxt = ops.where(tokens >= 5, END, ops.maximum(tokens + 1, 3))
    probs = 0.01 + 0.99 * ops.one_hot(nxt, V)
    return ops.log(probs / ops.sum(probs, axis=-1, keepdims=True)), [count + 1]


# A tree where the greedy first choice (token 3, p=0.6) leads to a flat second step
# (best p=0.34) while token 4 (p=0.4) leads to a sure continuation (p=0.99):
#   P(3, x) <= 0.6 * 0.34 = 0.204   <   P(4, 5) = 0.4 * 0.99 = 0.396
_TRAP = np.tile([1e-6, 1e-6, 0.99, 1e-6, 1e-6, 1e-6], (V, 1))  # anything else: END
_TRAP[START] = [1e-6, 1e-6, 1e-6, 0.6, 0.4, 1e-6]
_TRAP[3] = [1e-6, 1e-6, 0.32, 0.34, 1e-6, 0.34]
_TRAP[4] = [1e-6, 1e-6, 0.005, 1e-6, 1e-6, 0.99]
_TRAP[5] = [1e-6, 1e-6, 0.99, 1e-6, 1e-6, 0.005]
_TRAP_LOG, _END_ROW = _log(_TRAP), _log(_TRAP[0])


def _trap_step(tokens, state):
    (prev,) = state  # the token fed before
    rows = ops.take(_TRAP_LOG, tokens, axis=0)
    after_end = ops.logical_and(ops.logical_or(tokens == 4, tokens == 5), prev[:, 0] == END)
    rows = ops.where(after_end[:, None], _END_ROW, rows)
    return rows, [ops.cast(tokens[:, None], "float32")]


def _zeros(batch):
    return [np.zeros((batch, 1), np.float32)]


def _trie_step(tree):
    """A step function whose state is the node of the history in ``tree``
    (``{history: {token: p}}``; unknown histories end). Feeding a token the history
    makes impossible (p < 1e-3) poisons the row: it then emits token 4 at log-prob +100
    forever, so a state gathered from the wrong hypothesis shows in the result."""
    histories = sorted(tree, key=len)
    nodes = {h: i for i, h in enumerate(histories)}
    leaf, poison = len(nodes), len(nodes) + 1
    probs = np.full((poison + 1, V), 1e-9)
    probs[leaf, END] = 1.0
    nxt = np.full((poison + 1, V), poison)
    for h, i in nodes.items():
        for tok, p in tree[h].items():
            probs[i, tok] = p
            nxt[i, tok] = nodes.get(h + (tok,), leaf)
    nxt[leaf, END] = leaf
    nxt[:, START] = nxt[:, 0] = np.arange(poison + 1)  # the start token (or 0) moves nowhere
    table = np.log(probs / probs.sum(-1, keepdims=True)).astype(np.float32)
    table[poison] = -1e4
    table[poison, 4] = 100.0

    def step(tokens, state):
        (node,) = state
        node = ops.take(ops.convert_to_tensor(nxt.reshape(-1).astype(np.int32)),
                        node[:, 0] * V + tokens)
        return ops.take(table, node, axis=0), [node[:, None]]

    return step


def _nodes(batch):
    return [np.zeros((batch, 1), np.int32)]


# A history-sensitive step: the state hashes every token fed, the log-probabilities are a
# fixed random table row of that hash, so the output depends on the whole fed sequence.
_FINGERPRINT = _log(np.exp(3.0 * np.random.default_rng(0).normal(size=(97, V))))


def _fingerprint_step(tokens, state):
    (h,) = state
    h = (h * 31 + tokens[:, None] + 1) % 97
    return ops.take(_FINGERPRINT, h[:, 0], axis=0), [h]


# --------------------------------------------------------------------------- greedy and beam


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


def test_beam_gathers_states_per_hypothesis():
    """Each row's state is its history; a row fed a token its history does not allow
    (a state gathered from another hypothesis) would poison the result."""
    out = decode(_trie_step(TREE), _nodes(2), batch_size=2, method="beam", beam_width=3,
                 max_length=6)
    # best: 3,5 (0.45) > 4,3,4 (0.21) > 4,5 (0.2)
    assert out == [[3, 5], [3, 5]]
    # the poison shows: feed a token the history does not allow
    assert decode(_trie_step(TREE), _nodes(1), batch_size=1, method="beam", beam_width=3,
                  max_length=4, prefix=[[5]]) == [[4, 4, 4, 4]]


def test_prefix_is_fed_first_and_may_differ_in_length():
    out = decode(_counter_step, _zeros(2), batch_size=2, prefix=[[4], [3, 4]], max_length=5)
    # both continue after their last prefix token 4 -> 5, then END
    assert out == [[5], [5]]
    # the output depends on every token fed, in order: equal to feeding start + prefix
    # one group of equal lengths at a time, as the numpy loop did
    prefix = [[4], [3, 4, 5, 3], [], [5, 5], [3]]
    for kwargs in ({}, {"method": "beam", "beam_width": 3}):
        got = decode(_fingerprint_step, _nodes(5), batch_size=5, prefix=prefix, max_length=7,
                     end_id=5, **kwargs)
        want = reference.decode(reference.eager_step(_fingerprint_step), _nodes(5),
                                batch_size=5, prefix=prefix, max_length=7, end_id=5, **kwargs)
        assert got == want
        assert len({tuple(g) for g in got}) > 2  # the prompts do lead to different outputs


@pytest.mark.parametrize("method, width", [("greedy", 1), ("beam", 1), ("beam", 2), ("beam", 4),
                                           ("beam", 8)])
def test_compiled_loop_gives_the_numpy_loops_tokens(method, width):
    """Random history-sensitive distributions, several stop tokens, prompts of any length."""
    rng = np.random.default_rng(width)
    prefix = [list(rng.integers(3, V, size=rng.integers(0, 5))) for _ in range(9)]
    for end_id, lp in ((END, 0.0), ([END, 5], 0.7)):
        kwargs = dict(batch_size=9, prefix=prefix, max_length=9, end_id=end_id, method=method,
                      beam_width=width, length_penalty=lp)
        got = decode(_fingerprint_step, _nodes(9), **kwargs)
        want = reference.decode(reference.eager_step(_fingerprint_step), _nodes(9), **kwargs)
        assert got == want, (got, want)


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


def test_length_penalty_favours_longer_hypotheses():
    kw = dict(batch_size=1, method="beam", beam_width=2, max_length=6)
    step = _trie_step(PENALTY_TREE)
    assert decode(step, _nodes(1), **kw) == [[]]
    assert decode(step, _nodes(1), length_penalty=1.0, **kw) == [[3, 4]]


# --------------------------------------------------------------------------- sampling


def _uniform_step(tokens, state):
    return _rows(_log([1e-9, 1e-9, 1e-9, 0.5, 0.3, 0.2]), tokens), state


def test_sampling_is_seeded_and_follows_temperature_and_top_k():
    kw = dict(batch_size=64, method="sample", max_length=5)
    a = decode(_uniform_step, [], seed=3, **kw)
    b = decode(_uniform_step, [], seed=3, **kw)
    c = decode(_uniform_step, [], seed=4, **kw)
    assert a == b and a != c
    tokens = np.array([t for seq in a for t in seq])
    assert set(tokens) == {3, 4, 5}
    assert (tokens == 3).mean() == pytest.approx(0.5, abs=0.08)
    top1 = decode(_uniform_step, [], seed=3, top_k=1, **kw)
    assert all(seq == [3] * 5 for seq in top1)
    cold = np.array(decode(_uniform_step, [], seed=3, temperature=0.05, **kw)).ravel()
    assert (cold == 3).mean() > 0.99


def test_sampling_does_not_depend_on_the_batch():
    """Example i's draws depend on (seed, i, step) only: chunks give the same samples."""
    kw = dict(method="sample", max_length=8, seed=12, temperature=1.3)
    prefix = [[3], [4, 4], [], [5], [3, 3, 3], [4]]
    whole = decode(_fingerprint_step, _nodes(6), batch_size=6, prefix=prefix, **kw)
    parts = []
    for start, stop in ((0, 1), (1, 4), (4, 6)):
        parts += decode(_fingerprint_step, _nodes(stop - start), batch_size=stop - start,
                        prefix=prefix[start:stop], index=range(start, stop), **kw)
    assert parts == whole
    # a sequence's draws do not depend on another one's prompt length either
    moved = decode(_fingerprint_step, _nodes(2), batch_size=2, prefix=[[3], [4, 5, 3, 5, 4]],
                   **kw)
    assert moved[0] == whole[0]
    assert len({tuple(w) for w in whole}) > 3


def test_the_draws_are_a_hash_of_seed_index_and_step():
    index, step = np.meshgrid(np.arange(50), np.arange(-3, 200), indexing="ij")
    for seed in (0, 1, 2**32 - 1):
        bits = np.array(seed, np.uint32).view(np.int32)
        got = ops.convert_to_numpy(decode_loop.uniforms(bits, index, step))
        np.testing.assert_array_equal(got, decode_loop.numpy_uniforms(seed, index, step))
        assert got.min() >= 0.0 and got.max() < 1.0
        # uniform: mean 1/2, variance 1/12, every tenth holds ~10% of 10,150 draws
        assert got.mean() == pytest.approx(0.5, abs=0.01)
        assert got.var() == pytest.approx(1 / 12, abs=0.003)
        counts = np.histogram(got, bins=10, range=(0, 1))[0] / got.size
        np.testing.assert_allclose(counts, 0.1, atol=0.012)
    # neighbours are not correlated
    a = decode_loop.numpy_uniforms(7, np.arange(5000), 0)
    b = decode_loop.numpy_uniforms(7, np.arange(5000), 1)
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.05


# --------------------------------------------------------------------------- options

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
        ({"seed": -1}, "`seed`.*-1"),
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
    return _rows(_log(NUCLEUS_ROW), tokens), state


@pytest.mark.parametrize("top_p, nucleus, share_of_3", [
    (0.45, {3}, 1.0),          # the most likely token alone holds >= 0.45
    (0.7, {3, 4}, 0.5 / 0.8),  # 0.5 < 0.7 <= 0.5 + 0.3
    (0.85, {3, 4, 5}, 0.5),    # 0.8 < 0.85: all three likely tokens
])
def test_top_p_samples_only_the_nucleus(top_p, nucleus, share_of_3):
    dist = Sampling(top_p=top_p).distribution(_log([NUCLEUS_ROW]))[0]
    assert set(np.nonzero(dist)[0]) == nucleus
    np.testing.assert_allclose(dist.sum(), 1.0, rtol=1e-6)
    np.testing.assert_allclose(dist[3], share_of_3, rtol=1e-5)
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


def test_one_log_probability_floor():
    assert LOG_PROB_FLOOR == 1e-12
    np.testing.assert_allclose(ops.convert_to_numpy(log_probabilities([0.0, 0.5])),
                               [np.log(1e-12), np.log(0.5)], rtol=1e-6)


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


def test_token_ids_must_be_in_the_vocabulary():
    with pytest.raises(ValueError, match=r"`prefix\[1\]` must hold integer token ids >= 0"):
        decode(_counter_step, _zeros(2), batch_size=2, prefix=[[3], [4, -1]])
    with pytest.raises(ValueError, match=r"`prefix\[0\]`.*integer"):
        decode(_counter_step, _zeros(2), batch_size=2, prefix=[[3.5], [4]])
    with pytest.raises(ValueError, match="`start_id`"):
        decode(_counter_step, _zeros(1), batch_size=1, start_id=-2)
    with pytest.raises(ValueError, match="`batch_size`"):
        decode(_counter_step, [], batch_size=0)
    # numpy integers are integers
    assert decode(_counter_step, _zeros(2), batch_size=np.int64(2), max_length=np.int32(2)) == [
        [3, 4], [3, 4]]


def test_a_step_models_vocabulary_bounds_the_ids():
    import rnnzoo
    from rnnzoo.tasks.decoding import model_step

    model = rnnzoo.build("text_prediction", units=4, embedding_dim=2)
    step_model = model.inference_models()["decoder_step"]
    step = model_step(step_model)
    states = [np.zeros((1, int(t.shape[-1])), np.float32) for t in step_model.inputs[1:]]
    size = len(model.vocabulary)
    with pytest.raises(ValueError, match=rf"`prefix\[0\]` must hold integer token ids in \[0, "
                                         rf"{size - 1}\]"):
        decode(step, states, batch_size=1, prefix=[[5, size]])
    with pytest.raises(ValueError, match="`end_id`"):
        decode(step, states, batch_size=1, end_id=[2, size + 3])
    assert len(decode(step, states, batch_size=1, prefix=[[5, size - 1]], max_length=3)[0]) <= 3
