"""The translation task: options, the step model, raw-text API, decoding, round trips, quality."""

import numpy as np
import pytest

import keras
import rnnzoo
from rnnzoo.data import translation as data
from rnnzoo.tasks.translation import Seq2Seq, evaluate_generation
from rnnzoo.text import build_vocabulary

from tests.conftest import tiny_data, tiny_overrides

# A user's own parallel data: English -> German, with non-ASCII letters.
PAIRS = [
    ("the cat sleeps", "die Katze schläft"),
    ("the dog sleeps", "der Hund schläft"),
    ("the cat eats", "die Katze frisst"),
    ("the dog eats", "der Hund frisst"),
    ("a big dog runs", "ein großer Hund läuft"),
    ("a big cat runs", "eine große Katze läuft"),
]


def _tiny(**kw):
    return rnnzoo.build("translation", **tiny_overrides("translation", **kw))


def test_default_build_carries_the_builtin_vocabularies():
    model = rnnzoo.build("translation")
    src, tgt = data.builtin_vocabularies()
    assert isinstance(model, Seq2Seq)
    assert model.source_vocabulary == src and model.target_vocabulary == tgt
    assert model.output_shape == (None, None, len(tgt))
    assert model.get_layer("attention").__class__ is keras.layers.Attention  # luong default
    bahdanau = _tiny(attention="bahdanau")
    assert bahdanau.get_layer("attention").__class__ is keras.layers.AdditiveAttention
    with pytest.raises(ValueError):
        _tiny(attention="none").get_layer("attention")


@pytest.mark.parametrize("overrides, fragment", [
    ({"attention": "bahdanu"}, "Did you mean 'bahdanau'?"),
    ({"source_vocabulary": 42}, "`source_vocabulary` must be Vocabulary or a list or dict"),
    ({"source_vocabulary": ["<pad>"]}, "`source_vocabulary` must contain at least one token"),
    ({"target_vocab_size": 10}, "`target_vocab_size` must be at least the vocabulary size"),
    ({"embedding_dim": 0}, "Received: embedding_dim=0"),
])
def test_bad_options_fail_fast(overrides, fragment):
    with pytest.raises(ValueError, match=None) as err:
        _tiny(**overrides)
    assert fragment in str(err.value)


def test_vocab_sizes_can_reserve_room():
    model = _tiny(source_vocab_size=200, target_vocab_size=150)
    assert model.get_layer("encoder_embedding").input_dim == 200
    assert model.output_shape[-1] == 150


@pytest.mark.parametrize("overrides", [
    {"attention": "luong"},
    {"attention": "none", "cell": "gru"},
    {"attention": "bahdanau", "depth": 2, "bidirectional": True},
    {"cell": "feedforward", "attention": "none"},
    {"cell": "feedforward", "attention": "luong"},
])
def test_step_model_reproduces_the_training_model(overrides):
    """generate() runs the decoder one step at a time: it must match teacher forcing."""
    model = _tiny(**overrides)
    x, _ = next(iter(tiny_data("translation")))
    expected = model.predict(x, verbose=0)
    models = model.inference_models()
    assert models["start_id"] == 1 and models["end_id"] == 2
    states = models["encoder"].predict_on_batch(x["source"].numpy())
    states = states if isinstance(states, list) else [states]
    target_in = x["target_in"].numpy()
    for t in range(target_in.shape[1]):
        outs = models["decoder_step"].predict_on_batch([target_in[:, t:t + 1], *states])
        rows = target_in[:, t] != 0
        np.testing.assert_allclose(outs[0][rows], expected[rows, t], atol=2e-5)
        states = outs[1:]
        assert len(states) == len(models["decoder_step"].inputs) - 1
    # the step model shares the training model's weights
    shared = {id(w) for w in model.weights}
    assert all(id(w) in shared for w in models["decoder_step"].weights)


def test_padding_is_masked_in_loss_and_accuracy():
    model = _tiny()
    x, y = next(iter(tiny_data("translation")))
    result = model.evaluate(x, y, verbose=0, return_dict=True)
    probs = model.predict(x, verbose=0)
    y = y.numpy()
    mask = y != 0
    accuracy = ((probs.argmax(-1) == y) & mask).sum() / mask.sum()
    nll = -np.log(np.take_along_axis(probs, y[..., None], -1)[..., 0])
    np.testing.assert_allclose(result["token_accuracy"], accuracy, atol=1e-6)
    np.testing.assert_allclose(result["loss"], nll[mask].mean(), rtol=1e-4)


def _fine_tuned(epochs=60, **overrides):
    src = build_vocabulary([s for s, _ in PAIRS], level="word")
    tgt = build_vocabulary([t for _, t in PAIRS], level="word")
    model = rnnzoo.build("translation", source_vocabulary=src, target_vocabulary=tgt, units=32,
                         embedding_dim=16, learning_rate=2e-2, **overrides)
    model.fit(model.make_dataset(PAIRS * 4, batch_size=8), epochs=epochs, verbose=0)
    return model


def test_fine_tune_on_raw_pairs_then_generate_and_round_trip(tmp_path):
    model = _fine_tuned()
    sources = [s for s, _ in PAIRS]
    greedy = model.generate(sources)
    assert greedy == [t.lower() for _, t in PAIRS]  # learned (word vocabularies lower-case)
    # greedy is beam search with one beam; beam search finds the same here
    assert model.generate(sources, method="beam", beam_width=1) == greedy
    assert model.generate(sources, method="beam", beam_width=3) == greedy
    # sampling: deterministic for a seed; a high temperature with top_k=None wanders
    a = model.generate(sources, method="sample", temperature=5.0, seed=1)
    assert a == model.generate(sources, method="sample", temperature=5.0, seed=1)
    assert a != greedy
    # top_k=1 sampling is greedy
    assert model.generate(sources, method="sample", top_k=1, seed=3) == greedy
    # so is nucleus sampling with a nucleus of one token
    assert model.generate(sources, method="sample", top_p=1e-6, seed=3) == greedy
    # max_length caps the words
    assert all(len(t.split()) <= 2 for t in model.generate(sources, max_length=2))
    # unknown words do not break generation
    assert isinstance(model.generate("the giraffe sleeps")[0], str)
    path = tmp_path / "translation.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert loaded.source_vocabulary == model.source_vocabulary
    assert loaded.target_vocabulary == model.target_vocabulary
    assert loaded.generate(sources) == greedy
    assert loaded.generate(sources, method="beam", beam_width=3) == greedy


@pytest.mark.parametrize("kwargs, fragment", [
    ({"method": "nucleus"}, "`method` must be one of"),
    ({"method": "beam", "beam_width": 0}, "beam_width"),
    ({"method": "sample", "temperature": 0.0}, "temperature"),
    ({"method": "sample", "top_k": 0}, "top_k"),
    ({"method": "sample", "top_p": 1.5}, "top_p"),
    ({"max_length": 0}, "max_length"),
    ({"batch_size": 0}, "batch_size"),
])
def test_generate_rejects_bad_arguments(kwargs, fragment):
    model = _tiny()
    with pytest.raises(ValueError, match=fragment):
        model.generate(["the cat sees a dog"], **kwargs)


def test_generate_returns_one_string_per_input_in_chunks():
    model = _tiny()
    sources = [s for s, _ in data.generate_pairs(5, seed=0)]
    out = model.generate(sources, batch_size=2, max_length=4)
    assert len(out) == 5 and all(isinstance(t, str) and len(t.split()) <= 4 for t in out)
    # a single string is one input; padding in a batch does not change a translation
    assert model.generate(sources[0], max_length=4) == out[:1]
    with pytest.raises(ValueError, match="`inputs` must hold at least one string"):
        model.generate([])  # an empty batch is a mistake, as for the other generators


def test_zero_length_sentences_are_refused():
    """Issue 16 item 8: a sentence without a token is not a translation input or example."""
    model = _tiny()
    for empty in ("", "   "):
        with pytest.raises(ValueError, match=r"`inputs` must contain non-empty texts.*inputs\[1\]"):
            model.generate(["the cat sees a dog", empty])
    with pytest.raises(ValueError, match=r"empty source in pairs\[1\]"):
        model.make_dataset([("the cat", "le chat"), ("", "le chien")])
    with pytest.raises(ValueError, match=r"empty target in pairs\[0\]"):
        model.make_dataset([("the cat", " "), ("the dog", "le chien")])
    with pytest.raises(ValueError, match="`pairs`"):
        model.make_dataset([])
    with pytest.raises(ValueError, match="`seed`.*-1"):
        model.make_dataset([("the cat", "le chat")], seed=-1)
    ds = model.make_dataset([("the cat", "le chat")] * 3, batch_size=np.int64(2), seed=np.int64(1))
    assert [int(y.shape[0]) for _, y in ds] == [2, 1]


def test_copying_the_source_scores_near_zero():
    """The built-in data has real structure: a model must translate, not copy."""
    from rnnzoo.metrics import corpus_bleu

    pairs = data.generate_pairs(300, seed=7)
    bleu = corpus_bleu([[t.split()] for _, t in pairs], [s.split() for s, _ in pairs])
    assert bleu < 0.02


@pytest.mark.slow
def test_default_training_translates_the_builtin_test_set():
    """The demo's training (4000 one-clause pairs, 8 epochs): BLEU and exact match."""
    spec = rnnzoo.registry.get("translation")
    keras.utils.set_random_seed(0)
    model = rnnzoo.build("translation")
    train = rnnzoo.data.load("translation", "train", 64, **spec.demo["data"])
    model.fit(train, epochs=spec.demo["epochs"], verbose=0)
    report = spec.demo["report"](model, None)
    assert report["baseline_value"] < 0.1
    assert report["bleu"] > 0.8, report
    assert report["exact_match"] > 0.6, report


@pytest.mark.slow
def test_attention_beats_no_attention_on_long_inputs():
    """Same budget (2000 pairs of 2-3 clauses, 12 epochs): on 3-clause sentences (~36
    words) Luong attention translates almost perfectly, the fixed-size state does not."""
    train = rnnzoo.data.load("translation", "train", 64, num_examples=2000, min_clauses=2,
                             max_clauses=3)
    pairs = data.generate_pairs(100, seed=99, min_clauses=3, max_clauses=3)
    ev_in, ev_out = data.encode_pairs(pairs, *data.builtin_vocabularies())
    scores = {}
    for attention in ("luong", "none"):
        keras.utils.set_random_seed(0)
        model = rnnzoo.build("translation", attention=attention, embedding_dim=32)
        model.fit(train, epochs=12, verbose=0)
        accuracy = model.evaluate(ev_in, ev_out, verbose=0, return_dict=True)["token_accuracy"]
        scores[attention] = (accuracy, evaluate_generation(model, pairs)["bleu"])
    # measured: luong (0.998, 0.995), none (0.217, 0.014)
    assert scores["luong"][0] > scores["none"][0] + 0.3, scores
    assert scores["luong"][1] > 0.7 and scores["none"][1] < 0.3, scores
