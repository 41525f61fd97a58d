"""rnnzoo.text: vocabulary building, encoding, decoding, Unicode, serialisation."""

import json

import keras
import numpy as np
import pytest

import rnnzoo
from rnnzoo.text import (
    END_ID, PAD_ID, RESERVED_TOKENS, START_ID, UNK_ID, Vocabulary, as_vocabulary,
    build_vocabulary,
)


def test_reserved_ids_and_frequency_order():
    vocab = build_vocabulary(["abca", "cab", "a"], level="char")
    assert tuple(vocab.tokens[:4]) == RESERVED_TOKENS
    assert (PAD_ID, START_ID, END_ID, UNK_ID) == (0, 1, 2, 3)
    # a: 4 times, b: 2, c: 2 (b seen first)
    assert vocab.tokens[4:] == ["a", "b", "c"]
    assert len(vocab) == 7
    assert vocab.encode("abcz") == [4, 5, 6, UNK_ID]
    assert vocab.encode("ab", add_start=True, add_end=True) == [START_ID, 4, 5, END_ID]


def test_public_entry_point():
    assert rnnzoo.text.build_vocabulary is build_vocabulary


def test_unicode_any_script_round_trips():
    texts = ["Déjà vu, naïve café!", "Привет, мир", "東京は晴れ", "مرحبا بالعالم"]
    vocab = build_vocabulary(texts, level="char")
    for text in texts:
        assert vocab.decode(vocab.encode(text)) == text
    words = build_vocabulary(texts, level="word")
    assert words.tokenize("Привет, мир") == ["привет", ",", "мир"]
    assert words.decode(words.encode("déjà vu")) == "déjà vu"
    assert UNK_ID not in words.encode("naïve café")


def test_nfc_normalisation_makes_composed_and_decomposed_equal():
    composed = "caf\u00e9"
    decomposed = "cafe\u0301"
    vocab = build_vocabulary([composed], level="char")
    assert vocab.encode(decomposed) == vocab.encode(composed)
    assert UNK_ID not in vocab.encode(decomposed)


def test_word_level_splits_punctuation_and_lowercases_by_default():
    vocab = build_vocabulary(["The cat sat. The dog!"], level="word")
    assert vocab.lowercase is True
    assert vocab.tokenize("The cat, sat.") == ["the", "cat", ",", "sat", "."]
    assert vocab.tokens[4] == "the"
    assert vocab.decode(vocab.encode("the cat sat")) == "the cat sat"
    assert build_vocabulary(["Ab"], level="char").lowercase is False


def test_max_tokens_counts_reserved_and_keeps_most_frequent():
    vocab = build_vocabulary(["aaaabbbcd"], level="char", max_tokens=6)
    assert vocab.tokens == list(RESERVED_TOKENS) + ["a", "b"]
    assert vocab.encode("c") == [UNK_ID]
    assert build_vocabulary(["aab"], min_count=2).tokens[4:] == ["a"]


def test_encode_batch_pads_and_truncates():
    vocab = build_vocabulary(["abc"], level="char")
    arr = vocab.encode_batch(["ab", "abcabc"], max_length=4, add_start=True, add_end=True)
    assert arr.dtype == np.int32 and arr.shape == (2, 4)
    np.testing.assert_array_equal(arr[0], [START_ID, 4, 5, END_ID])
    np.testing.assert_array_equal(arr[1], [START_ID, 4, 5, 6])
    arr = vocab.encode_batch(["a"], max_length=4)
    np.testing.assert_array_equal(arr[0], [4, PAD_ID, PAD_ID, PAD_ID])


def test_decode_stops_at_end_and_strips_special():
    vocab = build_vocabulary(["ab"], level="char")
    ids = [START_ID, 4, UNK_ID, 5, END_ID, 4, 4]
    assert vocab.decode(ids) == "a<unk>b"
    assert vocab.decode(ids, strip_special=False) == "<start>a<unk>b<end>"
    assert vocab.decode(np.array([[4, 5, 0, 0]])) == "ab"


def test_config_is_json_and_keras_serialisable():
    vocab = build_vocabulary(["héllo wörld"], level="word")
    config = json.loads(json.dumps(vocab.get_config()))
    assert Vocabulary.from_config(config) == vocab
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(vocab))
    assert restored == vocab and restored.level == "word"


def test_as_vocabulary_accepts_lists_and_infers_level():
    assert as_vocabulary(["a", "b"]).level == "char"
    words = as_vocabulary(["hello", "world"])
    assert words.level == "word" and words.tokens[4:] == ["hello", "world"]
    vocab = build_vocabulary(["x"])
    assert as_vocabulary(vocab) is vocab
    assert as_vocabulary(vocab.get_config()) == vocab


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: build_vocabulary(["a"], level="sentence"), "`level`.*sentence"),
        (lambda: build_vocabulary(["a"], max_tokens=4), "`max_tokens`.*4"),
        (lambda: build_vocabulary([3]), "`text`.*3"),
        (lambda: Vocabulary(["a", "a"]), "`tokens`.*'a' twice"),
        (lambda: Vocabulary(["a", ""]), "`tokens`"),
        (lambda: as_vocabulary(42), "`vocabulary`.*42"),
        (lambda: build_vocabulary(["a"]).encode_batch(["a"], max_length=0), "`max_length`.*0"),
        (lambda: build_vocabulary(["a"]).id_to_token(99), "`token_id`.*99"),
    ],
)
def test_bad_input_names_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_vocabulary_behaves_like_the_sequence_of_its_tokens():
    vocab = build_vocabulary(["abca", "cab"], level="char")
    tokens = list(RESERVED_TOKENS) + ["a", "b", "c"]
    layer = keras.layers.TextVectorization(vocabulary=["a", "b", "c"], split="character",
                                           standardize=None)
    reference = layer.get_vocabulary()  # Keras' own: ['', '[UNK]', 'a', 'b', 'c']
    assert list(vocab) == tokens  # iteration
    assert len(vocab) == len(tokens) and len(reference) == 5
    assert vocab[0] == "<pad>" and vocab[4] == "a" and vocab[-1] == "c"  # indexing
    assert vocab[np.int64(5)] == "b"
    assert vocab[4:] == ["a", "b", "c"] and vocab[::-1] == tokens[::-1]  # slicing
    assert "a" in vocab and "<unk>" in vocab and "z" not in vocab and 4 not in vocab
    assert [t for t in vocab if t in reference] == ["a", "b", "c"]
    assert list(reversed(vocab)) == tokens[::-1]
    assert vocab.index("b") == 5 == vocab.token_to_id("b") and vocab.count("a") == 1
    with pytest.raises(IndexError):
        vocab[len(tokens)]
    with pytest.raises(TypeError, match="indices must be integers or slices"):
        vocab["a"]
    with pytest.raises(ValueError, match="'z' is not in the vocabulary"):
        vocab.index("z")
    # existing methods unchanged
    assert vocab.size == len(tokens) and vocab.id_to_token(4) == "a"
    assert Vocabulary.from_config(json.loads(json.dumps(vocab.get_config()))) == vocab
