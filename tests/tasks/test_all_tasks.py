"""Every registered task: builds with every cell and variant, learns, saves and loads.

Parametrized over ``rnnzoo.list_models()``: a new task is tested here without
new test code, using the small configuration it declares in ``tiny``.
"""

import numpy as np
import pytest

import keras
import rnnzoo
from rnnzoo.layers.recurrent import available_cells

from tests.conftest import TASKS, tiny_data, tiny_overrides


def _first_batch(task, **data):
    x, y = next(iter(tiny_data(task, **data)))
    return x, y


def _predict(model, x):
    out = model.predict(x, verbose=0)
    return [np.asarray(o) for o in out] if isinstance(out, (list, tuple)) else [np.asarray(out)]


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("cell", available_cells())
def test_builds_and_runs_with_every_cell(task, cell):
    model = rnnzoo.build(task, **tiny_overrides(task, cell=cell))
    x, y = _first_batch(task)
    for out in _predict(model, x):
        assert np.all(np.isfinite(out))
    # the loss is computable on real batches: the model and its data agree
    loss = model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    assert np.isfinite(loss)


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("depth, bidirectional", [(2, False), (2, True), (1, True)])
def test_depth_and_bidirectional_variants(task, depth, bidirectional):
    spec = rnnzoo.registry.get(task)
    if bidirectional and not spec.allows_bidirectional:
        with pytest.raises(ValueError, match="bidirectional"):
            rnnzoo.build(task, **tiny_overrides(task, bidirectional=True))
        return
    base = rnnzoo.build(task, **tiny_overrides(task))
    model = rnnzoo.build(task, **tiny_overrides(task, depth=depth, bidirectional=bidirectional))
    # a deeper or bidirectional model has strictly more weights than the base one
    assert model.count_params() > base.count_params()
    x, _ = _first_batch(task)
    for out in _predict(model, x):
        assert np.all(np.isfinite(out))


@pytest.mark.parametrize("task", TASKS)
def test_training_lowers_the_loss(task):
    model = rnnzoo.build(task, **tiny_overrides(task, learning_rate=1e-2))
    x, y = _first_batch(task)
    before = model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    model.fit(x, y, epochs=15, batch_size=8, verbose=0)
    after = model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    assert after < 0.8 * before, (before, after)


@pytest.mark.parametrize("task", TASKS)
def test_keras_round_trip_is_identical_in_safe_mode(task, tmp_path):
    model = rnnzoo.build(task, **tiny_overrides(task, depth=2))
    x, y = _first_batch(task)
    model.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / f"{task}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    for a, b in zip(_predict(model, x), _predict(loaded, x)):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)
    # still compiled: it can keep training
    assert np.isfinite(loaded.evaluate(x, y, verbose=0, return_dict=True)["loss"])


@pytest.mark.parametrize("task", TASKS)
def test_data_batches_fit_the_default_model(task):
    spec = rnnzoo.registry.get(task)
    # the built-in data is deterministic and the splits differ
    flat = {}
    for split in ("validation", "test"):
        first = keras.tree.flatten(next(iter(tiny_data(task, split=split))))
        again = keras.tree.flatten(next(iter(tiny_data(task, split=split))))
        for a, b in zip(first, again):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
        flat[split] = first
    assert any(
        np.asarray(a).shape != np.asarray(b).shape or not np.array_equal(a, b)
        for a, b in zip(flat["validation"], flat["test"])
    )
    model = rnnzoo.build(task, **tiny_overrides(task))
    history = model.fit(tiny_data(task), validation_data=tiny_data(task, "validation"),
                        epochs=1, verbose=0)
    for metric in spec.metrics:
        assert any(metric in key for key in history.history), (metric, history.history)
