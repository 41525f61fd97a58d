"""The translation data: generated English -> French pairs and the TED loader."""

import functools

import keras
import numpy as np
import pytest

import rnnzoo
from rnnzoo.data import translation as data
from rnnzoo.text import END_ID, START_ID, UNK_ID


def test_pairs_are_deterministic_and_seeds_differ():
    assert data.generate_pairs(20, seed=5) == data.generate_pairs(20, seed=5)
    assert data.generate_pairs(20, seed=5) != data.generate_pairs(20, seed=6)


def test_the_docstring_example_is_what_the_generator_writes():
    assert data.generate_pairs(1, seed=1) == [
        ("the red mouse sees a goat", "la souris rouge voit une chèvre")
    ]


@functools.lru_cache(maxsize=1)
def _many_pairs():
    return data.generate_pairs(30000, seed=0, max_clauses=1)


@pytest.mark.parametrize("english, french", [
    # reordering: the colour follows the noun; agreement in gender and number
    ("the small red cat", "le petit chat rouge"),
    ("the white cow", "la vache blanche"),
    ("my white dogs", "mes chiens blancs"),
    ("these young green goats", "ces jeunes chèvres vertes"),
    ("a big grey mouse", "une grande souris grise"),
])
def test_noun_phrases_agree_and_reorder(english, french):
    # every generated pair containing the English phrase as its subject has the French one
    pairs = _many_pairs()
    found = [(e, f) for e, f in pairs if e.startswith(english + " ")]
    assert found, english
    for e, f in found:
        assert f.startswith(french + " "), (e, f)


def test_verbs_agree_and_negation_wraps_the_verb():
    pairs = data.generate_pairs(3000, seed=1, min_clauses=1, max_clauses=1)
    verbs = {en_pl: (fr_sg, fr_pl) for _, en_pl, fr_sg, fr_pl in data._VERBS}
    checked = 0
    for en, fr in pairs:
        e, f = en.split(), fr.split()
        if "not" in e:
            i = e.index("not")
            fr_sg, fr_pl = verbs[e[i + 1]]
            j = f.index("ne")
            assert f[j + 2] == "pas", (en, fr)
            assert f[j + 1] == (fr_pl if e[i - 1] == "do" else fr_sg), (en, fr)
            # "pas de": an indefinite object loses its article after the negation
            obj = e[i + 2]
            numbers = {en_number for en_number, _ in data._NUMBERS}
            indefinite = obj == "a" or obj not in {"the", "my", "this", "these", *numbers}
            assert (f[j + 3] == "de") == indefinite, (en, fr)
            checked += 1
        else:
            assert "ne" not in f and "pas" not in f
    assert checked > 300


def test_long_inputs_come_from_more_clauses():
    short = data.generate_pairs(200, seed=2, max_clauses=1)
    long = data.generate_pairs(200, seed=2, min_clauses=3, max_clauses=3)
    assert np.mean([len(e.split()) for e, _ in long]) > 2.5 * np.mean(
        [len(e.split()) for e, _ in short])
    assert all(sum(w in ("and", "but") for w in e.split()) == 2 for e, _ in long)


def test_vocabularies_cover_every_generated_word():
    src, tgt = data.builtin_vocabularies()
    assert src == data.builtin_vocabularies()[0]  # fixed, not data dependent
    pairs = data.generate_pairs(2000, seed=3, max_clauses=3)
    inputs, targets = data.encode_pairs(pairs, src, tgt)
    assert UNK_ID not in inputs["source"] and UNK_ID not in targets
    assert "chèvre" in tgt.tokens and "garçons" in tgt.tokens  # unicode survives


def test_encode_pairs_shifts_the_target_for_teacher_forcing():
    src, tgt = data.builtin_vocabularies()
    inputs, out = data.encode_pairs([("the cat sees a dog", "le chat voit un chien"),
                                     ("cats eat", "des chats mangent")], src, tgt)
    t_in = inputs["target_in"]
    assert inputs["source"].shape == (2, 5) and t_in.shape == out.shape == (2, 6)
    assert list(t_in[:, 0]) == [START_ID, START_ID]
    np.testing.assert_array_equal(t_in[0, 1:], out[0, :-1])  # out is in shifted by one
    assert out[0, -1] == END_ID and out[1, 3] == END_ID and out[1, 4] == 0
    assert tgt.decode(out[0]) == "le chat voit un chien"
    # truncation
    inputs, out = data.encode_pairs([("the cat sees a dog", "le chat voit un chien")], src, tgt,
                                    max_source_length=2, max_target_length=3)
    assert inputs["source"].shape == (1, 2) and out.shape == (1, 3)


@pytest.mark.parametrize("pairs", [[], "the cat", [("only one",)], [("a", 3)]])
def test_encode_pairs_rejects_bad_pairs(pairs):
    src, tgt = data.builtin_vocabularies()
    with pytest.raises(ValueError, match="`pairs` must be"):
        data.encode_pairs(pairs, src, tgt)


def test_generator_rejects_bad_settings():
    with pytest.raises(ValueError, match="`max_clauses` must be >= min_clauses=3"):
        data.generate_pairs(5, min_clauses=3, max_clauses=2)
    with pytest.raises(ValueError, match="num_examples"):
        data.generate_pairs(0)


def test_builtin_loader_batches():
    ds = rnnzoo.data.load("translation", "test", batch_size=16, num_examples=40)
    batches = list(ds)
    assert [int(y.shape[0]) for _, y in batches] == [16, 16, 8]
    x, y = batches[0]
    assert set(x) == {"source", "target_in"}
    assert x["source"].dtype == "int32" and y.dtype == "int32"
    # the batches hold the generated test pairs (seed * 10 + 2)
    src, tgt = data.builtin_vocabularies()
    first = data.generate_pairs(40, seed=data.BUILTIN["seed"] * 10 + 2)[0]
    assert src.decode(x["source"][0].numpy()) == first[0]
    assert tgt.decode(y[0].numpy()) == first[1]


def test_ted_loader_with_mock_data():
    import tensorflow_datasets as tfds  # a hard dependency: a broken install fails here
    with tfds.testing.mock_data(num_examples=24):
        src, tgt = data.tfds_vocabularies(max_tokens=40)
        ds = rnnzoo.data.load("translation", "train", batch_size=8, source="tfds",
                              max_tokens=40, max_source_length=6, max_target_length=5)
        x, y = next(iter(ds))
    assert x["source"].shape[0] == 8 and x["source"].shape[1] <= 6 and y.shape[1] <= 5
    assert int(np.max(x["source"])) < len(src) and int(np.max(y)) < len(tgt)
    assert np.all(x["target_in"].numpy()[:, 0] == START_ID)
    assert ds.rnnzoo_build_options == {"source_vocabulary": src, "target_vocabulary": tgt}
    model = rnnzoo.build("translation", **ds.rnnzoo_build_options, units=4, embedding_dim=4)
    assert np.isfinite(model.evaluate(x, y, verbose=0, return_dict=True)["loss"])


def test_cli_trains_on_ted_with_the_dataset_vocabularies(tmp_path, capsys):
    import tensorflow_datasets as tfds  # a hard dependency: a broken install fails here
    import json

    from rnnzoo.cli import main

    with tfds.testing.mock_data(num_examples=16):
        status = main(["train", "translation", "--source", "tfds", "--epochs", "1",
                       "--batch-size", "8", "--units", "4", "--set", "embedding_dim=4",
                       "--data", "max_tokens=30", "--out", str(tmp_path), "--verbose", "0"])
    assert status == 0, capsys.readouterr().err
    record = json.loads((tmp_path / "translation_metrics.json").read_text())
    assert np.isfinite(record["test"]["loss"])
    loaded = keras.saving.load_model(tmp_path / "translation.keras", safe_mode=True)
    assert loaded.target_vocabulary == data.tfds_vocabularies(max_tokens=30)[1]
