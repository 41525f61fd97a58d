"""The baselines beside the presets: published figures read as published, computed ones right."""

import numpy as np
import pytest

from rnnzoo.catalogue import baselines, ngram
from rnnzoo.text import Vocabulary

pytest.importorskip("aeon")
pytest.importorskip("statsmodels")

VOCAB = Vocabulary(["<pad>", "<unk>", "<start>", "<end>", *"abcdr "], level="char")
TRAIN = ["abracadabra", "a bad cab", "abba"]


@pytest.mark.parametrize("order", [1, 2, 3, 5])
@pytest.mark.parametrize("context", ["", "a", "ab", "zz", "abra"])
def test_kneser_ney_is_a_distribution_after_every_context(order, context):
    model = ngram.kneser_ney_model(VOCAB, TRAIN, order=order)
    start = VOCAB.encode("", add_start=True, add_end=False)
    prefix = list(start) + list(VOCAB.encode(context, add_start=False, add_end=False))
    total = sum(model(np.asarray(prefix + [token]))[-1] for token in range(len(VOCAB)))
    assert total == pytest.approx(1.0, abs=1e-9)


def test_longer_contexts_predict_a_repetitive_text_better():
    text = ["abcd" * 200]
    scores = [ngram.kneser_ney_perplexity(VOCAB, text, text, order=o) for o in (1, 2, 4)]
    assert scores[0] > scores[1] > scores[2] and scores[2] < 1.3
    unigram = ngram.unigram_perplexity(VOCAB, text, text)
    assert 4.0 < unigram < 4.2  # four equally frequent characters, add-one smoothing


def test_ucr_figures_are_aeons_resample_zero():
    rows = {r["name"]: r["value"] for r in baselines.ucr_published("ArrowHead")}
    assert rows == {"InceptionTime": 0.8629, "HC2": 0.8686, "WEASEL-2.0": 0.8629,
                    "FreshPRINCE": 0.6286}
    with pytest.raises(ValueError, match="no row"):
        baselines.ucr_published("NotADataSet")


def test_forecasting_baselines_score_the_test_part_one_step_ahead():
    from rnnzoo.data import series

    rows = baselines.forecasting("nile")
    parts = series.raw_splits("nile")
    last = np.concatenate([parts["validation"][-1:], parts["test"][:-1]])
    naive = np.sqrt(np.mean((last - parts["test"]) ** 2))
    assert rows[0]["name"] == "naive (last value)"
    assert rows[0]["value"] == pytest.approx(naive, abs=1e-3)
    assert [r["name"][:3] for r in rows[1:]] == ["ARI", "ETS"]
    assert all(0 < r["value"] < 2 * naive for r in rows[1:])
