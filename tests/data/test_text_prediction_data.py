"""rnnzoo.data.text_prediction: windowing, the built-in corpus, and the tiny_shakespeare loader."""

import numpy as np
import pytest

import rnnzoo
from rnnzoo.data import text_prediction as data
from rnnzoo.text import END_ID, PAD_ID, START_ID, UNK_ID, build_vocabulary


def test_windows_overlap_by_one_so_every_token_is_a_target_once():
    vocab = build_vocabulary(["ab"], level="char")
    a, b = vocab.encode("ab")
    x, y = data.make_windows(vocab, "abab", sequence_length=3)
    # <start> a b a b <end>  ->  [S a b a] [a b E pad]
    np.testing.assert_array_equal(x, [[START_ID, a, b], [a, b, END_ID]])
    np.testing.assert_array_equal(y, [[a, b, a], [b, END_ID, PAD_ID]])
    assert x.dtype == np.int32 and y.dtype == np.int32
    # several short texts: one padded row each
    x, y = data.make_windows(vocab, ["a", "ba"], sequence_length=5)
    np.testing.assert_array_equal(y, [[a, END_ID, 0, 0, 0], [b, a, END_ID, 0, 0]])
    with pytest.raises(ValueError, match="`sequence_length`"):
        data.make_windows(vocab, "ab", sequence_length=0)
    with pytest.raises(ValueError, match="`texts`"):
        data.make_windows(vocab, [], sequence_length=4)


def test_grammar_is_deterministic_and_covered_by_the_default_vocabularies():
    first = data.generate_sentences(300, seed=5)
    assert first == data.generate_sentences(300, seed=5)
    assert first != data.generate_sentences(300, seed=6)
    for level in ("char", "word"):
        vocab = data.default_vocabulary(level)
        assert all(UNK_ID not in vocab.encode(s) for s in first), level
    assert all(s[0].isupper() and s.endswith(".") for s in first)
    # agreement: a plural determiner directly before a plural noun, never a singular one
    words = " ".join(first).lower().split()
    singular = {s for s, _ in data._NOUNS}
    for det, noun in zip(words, words[1:]):
        if det in ("these", "many", "some"):
            assert noun not in singular, (det, noun)


def test_subject_verb_agreement_survives_relative_clauses():
    # "The dogs that the fox follows run." : the main verb agrees with the head noun.
    verbs = {v: n for pair in data._INTRANSITIVE for v, n in zip(pair, ("sg", "pl"))}
    plural_nouns = {p for _, p in data._NOUNS}
    checked = 0
    for sentence in data.generate_sentences(2000, seed=1):
        words = sentence.rstrip(".").lower().split()
        if "that" not in words or words[-1] not in verbs:
            continue
        head = next(w for w in words if w in plural_nouns or w in {s for s, _ in data._NOUNS})
        expected = "pl" if head in plural_nouns else "sg"
        assert verbs[words[-1]] == expected, sentence
        checked += 1
    assert checked > 20


def test_builtin_loader_shapes_splits_and_vocabulary():
    ds = rnnzoo.data.load("text_prediction", "validation", 8, num_examples=20, sequence_length=16)
    x, y = next(iter(ds))
    assert x.shape == (8, 16) and y.shape == (8, 16)
    np.testing.assert_array_equal(x.numpy()[:, 1:], y.numpy()[:, :-1])
    assert (x.numpy()[:, 0] == START_ID).any()
    test = next(iter(rnnzoo.data.load("text_prediction", "test", 8, num_examples=20,
                                      sequence_length=16)))[0]
    assert not np.array_equal(x.numpy(), test.numpy())
    words = next(iter(data.load_builtin("validation", 4, num_examples=4, level="word")))[0]
    assert int(words.numpy().max()) < len(data.default_vocabulary("word"))
    custom = build_vocabulary(data.generate_sentences(50), level="char")
    ids = next(iter(data.load_builtin("validation", 4, num_examples=4, vocabulary=custom)))[0]
    assert int(ids.numpy().max()) < len(custom)
    with pytest.raises(ValueError, match="`level`"):
        data.load_builtin("train", 4, level="byte")


def test_unigram_perplexity_known_values():
    assert data.unigram_perplexity(np.array([[4, 4, 5, 5, 0, 0]])) == pytest.approx(2.0)
    assert data.unigram_perplexity([np.array([7, 7, 7])]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="`targets`"):
        data.unigram_perplexity(np.zeros((2, 3), np.int32))


_TEXTS = {
    "train": "First Citizen:\nBefore we proceed any further, hear me speak.",
    "validation": "All:\nSpeak, speak.",
    "test": "You are all resolved rather to die than to famish?",
}


def _fake_as_dataset(builder, *args, **kwargs):
    import tensorflow as tf

    split = str(kwargs.get("split", args[0] if args else ""))
    return tf.data.Dataset.from_tensor_slices({"text": [_TEXTS[split]]})


@pytest.mark.parametrize("split", ["train", "validation", "test"])
def test_tfds_loader_reads_tiny_shakespeare(split):
    import tensorflow_datasets as tfds  # a hard dependency: a broken install fails here
    with tfds.testing.mock_data(as_dataset_fn=_fake_as_dataset):
        ds = rnnzoo.data.load("text_prediction", split, 4, source="tfds", sequence_length=8,
                              shuffle=False)
        rows = [(x, y) for xs, ys in ds for x, y in zip(xs.numpy(), ys.numpy())]
    vocab = data.default_vocabulary("char")
    # the windows put back together are the split's text
    ids = [rows[0][0][0]] + [t for _, y in rows for t in y if t != PAD_ID]
    assert vocab.decode(ids) == _TEXTS[split]
    assert all(x.shape == (8,) for x, _ in rows)


def test_tfds_word_level_vocabulary_comes_from_the_train_split():
    import tensorflow_datasets as tfds  # a hard dependency: a broken install fails here
    data._TFDS_VOCAB_CACHE.clear()
    with tfds.testing.mock_data(as_dataset_fn=_fake_as_dataset):
        vocab = data.tfds_vocabulary("word", max_tokens=None)
        ds = data.load_tfds("validation", 2, sequence_length=6, level="word", max_tokens=None)
        x, y = next(iter(ds))
    data._TFDS_VOCAB_CACHE.clear()
    assert vocab.level == "word" and "citizen" in vocab.tokens and "famish" not in vocab.tokens
    # "all : speak , speak ." : "all" is not in the train split -> <unk>
    assert vocab.decode(x.numpy()[0]) == "<unk> : speak , speak"
