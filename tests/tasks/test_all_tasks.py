"""Every registered task: builds with every cell and variant, learns, saves and loads.

Parametrized over ``rnnzoo.list_models()``: a new task is tested here without
new test code, using the small configuration it declares in ``tiny``.
"""

import numpy as np
import pytest

import keras
import rnnzoo
from rnnzoo.layers.recurrent import available_cells, get_cell, make_rnn_layer
from rnnzoo.layers.walk import iter_layers

from tests.conftest import TASKS, tiny_data, tiny_overrides

# Each task's recurrent stacks of `depth` layers: (stacks that `bidirectional` wraps, stacks
# that always run one way). A new task declares its layout here (one line).
STACKS = {
    "classification": (1, 0),
    "regression": (1, 0),
    "video_classification": (1, 0),
    "translation": (1, 1),  # the encoder may be bidirectional, the decoder runs left to right
    "captioning": (0, 1),
    "text_prediction": (0, 1),
}


def _cell_classes():
    """``{cell: the layer class the cell table builds for it}``, from reference layers."""
    return {cell: type(make_rnn_layer(cell, 4, name=f"reference_{cell}"))
            for cell in available_cells()}


def _recurrent_units(model):
    """Every layer of the model that some cell of the table builds (Bidirectional halves too)."""
    classes = tuple(set(_cell_classes().values()))
    return [layer for layer in iter_layers(model, include_self=False)
            if isinstance(layer, classes)]


def _assert_structure(task, model, cell, depth, bidirectional):
    """The model's recurrent layers are of ``cell``'s kind, ``depth`` deep, wrapped as asked."""
    assert task in STACKS, f"declare the recurrent stacks of task {task!r} in STACKS"
    classes = _cell_classes()
    wanted = classes[cell]
    units = _recurrent_units(model)
    for layer in units:
        # "is a GRU" accepts subclasses of the table's class, but not a layer of another
        # cell's kind (unless the requested class itself derives from that kind)
        kinds = {c for c, k in classes.items() if isinstance(layer, k)}
        assert cell in kinds, (layer.name, type(layer).__name__, wanted.__name__)
        assert all(issubclass(wanted, classes[c]) for c in kinds), (layer.name, kinds)
    wrapped = bidirectional and get_cell(cell).recurrent
    two_way, one_way = STACKS[task]
    expected = depth * (two_way * (2 if wrapped else 1) + one_way)
    assert len(units) == expected, [layer.name for layer in units]
    bidis = [layer for layer in iter_layers(model, include_self=False)
             if isinstance(layer, keras.layers.Bidirectional)]
    assert len(bidis) == (depth * two_way if wrapped else 0), [b.name for b in bidis]
    for b in bidis:
        assert isinstance(b.forward_layer, wanted) and isinstance(b.backward_layer, wanted)


def _assert_output_fits_target(out, y):
    """Integer targets get a probability per class; real targets the same shape."""
    y = np.asarray(y)
    if y.dtype.kind in "iu":
        assert out.shape[:-1] == y.shape and out.shape[-1] > int(y.max()), (out.shape, y.shape)
        np.testing.assert_allclose(out.sum(-1), 1.0, atol=1e-4)
    else:
        assert out.shape == y.shape, (out.shape, y.shape)


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
    _assert_structure(task, model, cell, depth=1, bidirectional=False)
    x, y = _first_batch(task)
    outputs = _predict(model, x)
    for out in outputs:
        assert np.all(np.isfinite(out))
    assert len(outputs) == 1
    _assert_output_fits_target(outputs[0], y)
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
    # a cell other than every task's default, so a task that ignores `cell` here fails too
    base = rnnzoo.build(task, **tiny_overrides(task, cell="gru"))
    model = rnnzoo.build(task, **tiny_overrides(task, cell="gru", depth=depth,
                                                bidirectional=bidirectional))
    _assert_structure(task, model, "gru", depth=depth, bidirectional=bidirectional)
    # a deeper or bidirectional model has strictly more weights than the base one
    assert model.count_params() > base.count_params()
    x, y = _first_batch(task)
    for out in _predict(model, x):
        assert np.all(np.isfinite(out))
        _assert_output_fits_target(out, y)


@pytest.mark.parametrize("task", TASKS)
def test_training_lowers_the_loss(task):
    model = rnnzoo.build(task, **tiny_overrides(task, learning_rate=1e-2))
    x, y = _first_batch(task)
    before = model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    model.fit(x, y, epochs=15, batch_size=8, verbose=0)
    after = model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    assert after < 0.8 * before, (before, after)


def _reverse_valid_steps(x):
    """``x`` with its time axis reversed; token ids keep their padding (0) at the end."""
    x = np.asarray(x)
    if x.dtype.kind not in "iu":
        return x[:, ::-1]
    out = np.zeros_like(x)
    for i, row in enumerate(x):
        n = int(np.nonzero(row)[0][-1]) + 1 if row.any() else 0
        out[i, :n] = row[:n][::-1]
    return out


def _order_dependent_batch(task, steps=6):
    """A batch only a model that reads order can fit; a model without recurrence cannot.

    Many-to-one tasks: the tiny batch plus its time-reversed inputs paired with other
    examples' targets, so equal bags of steps carry different targets. Generative tasks
    (a target token per step): every condition (source, image) the same, and token
    sequences ``3 5 3 5 ...`` or ``4 5 4 5 ...``: after a 5 the next token is the one before
    it, which a model that sees only the current token (and the condition) cannot tell.
    """
    x, y = _first_batch(task)
    y = np.asarray(y)
    if y.dtype.kind in "iu" and y.ndim == 2:
        n = len(y)
        seqs = np.stack([np.resize([3 + i % 2, 5], steps + 1) for i in range(n)]).astype(y.dtype)
        tokens, y = seqs[:, :-1], seqs[:, 1:]
        if not isinstance(x, dict):
            return tokens, y
        token_inputs = [k for k, v in x.items() if np.asarray(v).shape == np.asarray(
            _first_batch(task)[1]).shape]
        assert len(token_inputs) == 1, (task, token_inputs)
        return {k: tokens if k in token_inputs else np.repeat(np.asarray(v)[:1], n, axis=0)
                for k, v in x.items()}, y
    assert not isinstance(x, dict), task
    x = np.asarray(x)
    return np.concatenate([x, _reverse_valid_steps(x)]), np.concatenate([y, np.roll(y, 1, 0)])


@pytest.mark.parametrize("task", TASKS)
def test_recurrence_beats_the_feedforward_baseline_where_order_matters(task):
    """The same training lowers the loss of a recurrent model far below the baseline's.

    ``simple`` is the recurrent cell that learns fastest at this tiny size; the
    baseline is the ``feedforward`` cell (no state), with the same options and steps.
    """
    x, y = _order_dependent_batch(task)
    losses = {}
    for cell in ("simple", "feedforward"):
        keras.utils.set_random_seed(0)
        model = rnnzoo.build(task, **tiny_overrides(task, cell=cell, learning_rate=1e-2))
        before = model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
        model.fit(x, y, epochs=40, batch_size=8, verbose=0)
        losses[cell] = (before, model.evaluate(x, y, verbose=0, return_dict=True)["loss"])
    (before, after), (_, baseline) = losses["simple"], losses["feedforward"]
    assert after < 0.5 * before, losses
    assert after < 0.8 * baseline, losses


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
