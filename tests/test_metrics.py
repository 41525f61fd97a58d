"""rnnzoo.metrics against published values (Papineni et al. 2002, NLTK's documented examples)."""

import math

import keras
import numpy as np
import pytest

from rnnzoo.metrics import MaskedAccuracy, Perplexity, corpus_bleu, perplexity

# The example in NLTK's bleu_score documentation (from Papineni et al.).
HYP1 = ("It is a guide to action which ensures that the military always obeys the commands "
        "of the party").split()
REF1A = "It is a guide to action that ensures that the military will forever heed Party commands".split()
REF1B = ("It is the guiding principle which guarantees the military forces always being under "
         "the command of the Party").split()
REF1C = "It is the practical guide for the army always to heed the directions of the party".split()
HYP2 = "he read the book because he was interested in world history".split()
REF2A = "he was interested in world history because he read the book".split()


def test_corpus_bleu_matches_nltk_documented_values():
    # nltk.translate.bleu_score.corpus_bleu docs: 0.5920...
    assert corpus_bleu([[REF1A, REF1B, REF1C], [REF2A]], [HYP1, HYP2]) == pytest.approx(
        0.5920, abs=1e-4)
    # nltk sentence_bleu docs: 0.5045...
    assert corpus_bleu([[REF1A, REF1B, REF1C]], [HYP1]) == pytest.approx(0.5045, abs=1e-4)


def test_modified_unigram_precision_of_papineni():
    # "the the the the the the the": clipped unigram precision 2/7, lengths 7 vs closest 7
    refs = [["the", "cat", "is", "on", "the", "mat"], ["there", "is", "a", "cat", "on", "the", "mat"]]
    assert corpus_bleu([refs], [["the"] * 7], max_order=1) == pytest.approx(2 / 7)


def test_brevity_penalty_and_perfect_match():
    ref = "a b c d e f g h".split()
    assert corpus_bleu([[ref]], [ref]) == pytest.approx(1.0)
    short = ref[:4]  # all n-grams match, but 4 tokens vs 8: BP = exp(1 - 8/4)
    assert corpus_bleu([[ref]], [short]) == pytest.approx(math.exp(-1.0))


def test_no_4gram_match_scores_zero_unless_smoothed():
    hyp, ref = "a b c x".split(), "a b c d".split()
    assert corpus_bleu([[ref]], [hyp]) == 0.0
    # Lin & Och: (3+1)/(4+1), (2+1)/(3+1), (1+1)/(2+1), (0+1)/(1+1)
    expected = math.exp(sum(math.log(p) for p in (4 / 5, 3 / 4, 2 / 3, 1 / 2)) / 4)
    assert corpus_bleu([[ref]], [hyp], smooth=True) == pytest.approx(expected)


def test_bleu_bad_input():
    with pytest.raises(ValueError, match="same length"):
        corpus_bleu([[["a"]]], [["a"], ["b"]])
    with pytest.raises(ValueError, match="`max_order`"):
        corpus_bleu([[["a"]]], [["a"]], max_order=0)
    with pytest.raises(ValueError, match="tokenise"):
        corpus_bleu([["a b"]], ["a b"])


def test_perplexity_function():
    assert perplexity(math.log(10.0)) == pytest.approx(10.0)
    assert perplexity(0.0) == 1.0
    with pytest.raises(ValueError, match="mean_cross_entropy_nats"):
        perplexity(-1.0)


def test_perplexity_metric_skips_padding_and_matches_the_formula():
    probs = np.array([[[0.5, 0.25, 0.25], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6]]], np.float32)
    targets = np.array([[1, 2, 0]])  # the last target is padding
    metric = Perplexity()
    metric.update_state(targets, probs)
    expected = math.exp(-(math.log(0.25) + math.log(0.1)) / 2)
    assert float(metric.result()) == pytest.approx(expected, rel=1e-5)
    acc = MaskedAccuracy()
    acc.update_state(targets, probs)
    assert float(acc.result()) == pytest.approx(0.0)  # argmax 0 and 1 vs targets 1 and 2
    acc.update_state(np.array([[1, 1, 0]]), probs)
    assert float(acc.result()) == pytest.approx(1 / 4)
    restored = Perplexity.from_config(metric.get_config())
    assert restored.ignore_class == 0 and restored.name == "perplexity"


def test_perplexity_metric_from_logits():
    logits = np.array([[[2.0, 0.0, -1.0]]], np.float32)
    metric = Perplexity(from_logits=True, ignore_class=None)
    metric.update_state(np.array([[0]]), logits)
    p = np.exp(2.0) / np.exp([2.0, 0.0, -1.0]).sum()
    assert float(metric.result()) == pytest.approx(1 / p, rel=1e-5)
    assert keras.saving.get_registered_object("rnnzoo>Perplexity") is Perplexity
