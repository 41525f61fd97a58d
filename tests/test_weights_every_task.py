"""Published weights of every task: trained (beats a baseline computed here), new heads, freezing.

``test_weights.py`` checks the registry, the cards and the download path, and the
transfer-learning paths on classification. Here every task's published model is
evaluated on its own test data against a baseline recomputed in the test from the
data alone (not read from the record), and loads into a new head, frozen or not.
No network: the package's committed weight files are used.
"""

import collections

import keras
import numpy as np
import pytest

import rnnzoo
from rnnzoo import weights
from rnnzoo.text import build_vocabulary
from tests.conftest import TASKS

RECORDS = weights.records()


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNZOO_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("RNNZOO_WEIGHTS_MIRROR", raising=False)
    monkeypatch.setenv("RNNZOO_OFFLINE", "1")  # the committed files, never the network
    monkeypatch.delenv("RNNZOO_BUNDLED_WEIGHTS", raising=False)


def _batches(task, split, n_batches=1, batch_size=64):
    record = RECORDS[task]
    ds = rnnzoo.data.load(task, split, batch_size, **record["dataset"]["loader"]["eval"])
    out = []
    for i, batch in enumerate(ds):
        if i == n_batches:
            break
        out.append(keras.tree.map_structure(np.asarray, batch))
    return out


def _token_accuracy(probs, y):
    keep = y != 0
    return float(np.mean(np.argmax(probs, -1)[keep] == y[keep]))


def _score(task, model, batches):
    """``(model metric, baseline metric, higher_is_better)`` on ``batches``, here with numpy."""
    x, y = batches[0]
    probs = np.asarray(model.predict_on_batch(x))
    train_y = _batches(task, "train", n_batches=1)[0][1]
    x = keras.tree.flatten(x)
    if task in ("classification", "video_classification"):
        majority = np.bincount(train_y).argmax()
        return (float(np.mean(np.argmax(probs, -1) == y)), float(np.mean(y == majority)), True)
    if task == "regression":
        rmse = float(np.sqrt(np.mean((probs - y) ** 2)))
        persistence = x[0][:, -1, :y.shape[-1]]  # the last observed value, carried forward
        return rmse, float(np.sqrt(np.mean((persistence - y) ** 2))), False
    if task == "text_prediction":
        counts = np.bincount(train_y.ravel(), minlength=probs.shape[-1]) + 1.0  # add-one
        unigram = counts / counts.sum()
        keep = y != 0
        nll = -np.log(np.take_along_axis(probs, y[..., None], -1)[..., 0][keep] + 1e-12)
        return float(np.exp(nll.mean())), float(np.exp(-np.log(unigram[y[keep]]).mean())), False
    # translation, captioning: token accuracy against the most frequent token per position
    positions = collections.defaultdict(collections.Counter)
    for row in train_y:
        for t, token in enumerate(row):
            if token:
                positions[t][int(token)] += 1
    guess = np.array([[positions[t].most_common(1)[0][0] if positions[t] else 0
                       for t in range(y.shape[1])]] * len(y))
    keep = y != 0
    return _token_accuracy(probs, y), float(np.mean(guess[keep] == y[keep])), True


@pytest.mark.parametrize("task", TASKS)
def test_pretrained_model_beats_a_baseline_recomputed_from_the_data(task):
    model = rnnzoo.build(task, weights="pretrained")
    assert model.rnnzoo_weights_report.complete
    fresh = rnnzoo.build(task, **RECORDS[task]["options"])
    value, baseline, higher = _score(task, model, _batches(task, "test"))
    untrained, _, _ = _score(task, fresh, _batches(task, "test"))
    if higher:
        assert value > baseline + 0.2 and value > untrained + 0.2, (value, baseline, untrained)
    else:
        assert value < 0.6 * baseline and value < 0.6 * untrained, (value, baseline, untrained)


def test_the_published_baselines_are_those_of_the_data():
    """The records' (and cards') baselines recomputed: majority class, persistence RMSE."""
    test = rnnzoo.data.load("classification", "test", 500)
    labels = np.concatenate([np.asarray(y) for _, y in test])
    share = np.bincount(labels).max() / len(labels)
    assert RECORDS["classification"]["metrics"]["baseline"]["value"] == pytest.approx(share)
    sq, n = 0.0, 0
    for x, y in rnnzoo.data.load("regression", "test", 500):
        x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
        sq += float(np.sum((x[:, -1, :y.shape[-1]] - y) ** 2))
        n += y.size
    assert RECORDS["regression"]["metrics"]["baseline"]["value"] == pytest.approx(
        np.sqrt(sq / n), rel=1e-6)


# --------------------------------------------------------------------------- new heads


def _new_head(task):
    """Options that give ``task`` a head (or vocabulary) of another size."""
    vocabulary = build_vocabulary(["a small new vocabulary of other words"], level="word")
    chars = build_vocabulary(["zyxw vu"], level="char")
    return {
        "classification": {"num_classes": 6},
        "video_classification": {"num_classes": 6},
        "regression": {"num_outputs": 2},
        "translation": {"target_vocabulary": vocabulary},
        "captioning": {"vocabulary": vocabulary},
        "text_prediction": {"vocabulary": chars},
    }[task]


def _random_batch(model, n=4, steps=5, seed=0):
    """Inputs and targets shaped like the model's, ids in 1..3 (valid in any vocabulary)."""
    rng = np.random.default_rng(seed)

    def like(t, integer):
        shape = [n] + [steps if d is None else d for d in t.shape[1:]]
        return rng.integers(1, 4, size=shape).astype("int32") if integer else \
            rng.normal(size=shape).astype("float32")

    if not hasattr(model, "inputs"):  # a subclassed language model: token ids in and out
        tokens = keras.KerasTensor((None, None), dtype="int32")
        return like(tokens, True), like(tokens, True)
    xs = {t.name: like(t, "int" in str(t.dtype)) for t in model.inputs}
    x = xs if len(xs) > 1 else next(iter(xs.values()))
    out = model.outputs[0]
    sparse = not isinstance(model.loss, keras.losses.MeanSquaredError)
    y = like(keras.KerasTensor(out.shape[:-1]), True) if sparse else like(out, False)
    if isinstance(x, dict) and sparse:  # teacher forcing: targets as long as the token input
        y = rng.integers(1, 4, size=next(a for a in xs.values() if a.ndim == 2).shape)
    return x, y.astype("int32") if sparse else y


@pytest.mark.parametrize("freeze", [False, True])
@pytest.mark.parametrize("task", TASKS)
def test_pretrained_weights_load_into_a_new_head(task, freeze):
    reference = rnnzoo.build(task, weights="pretrained")
    model = rnnzoo.build(task, weights="pretrained", freeze_encoder=freeze, **_new_head(task))
    report = model.rnnzoo_weights_report
    assert report.skipped and report.loaded and not report.complete
    owners = {v.path: layer for layer in model.layers for v in layer.weights}
    assert len(reference.weights) == len(model.weights)
    for ref, var in zip(reference.weights, model.weights):  # the loader matches in order
        if var.path in report.loaded:  # what is loaded is the published value
            np.testing.assert_array_equal(np.asarray(var), np.asarray(ref))
        else:  # only heads, embeddings and output scaling start afresh
            layer = owners[var.path]
            assert isinstance(layer, (keras.layers.Embedding, keras.layers.Dense,
                                      keras.layers.Normalization)), (var.path, type(layer))
    # the recurrent layers are all loaded
    for layer in rnnzoo.layers.walk.recurrent_layers(model):
        assert all(v.path in report.loaded for v in layer.weights), layer.name
    if not freeze:
        assert report.frozen == ()
        return
    layers = [layer for layer in model.layers if layer.weights]
    head = layers[-1]
    assert head.name not in report.frozen and report.frozen
    assert any(rnnzoo.layers.walk.recurrent_layers(model.get_layer(name))
               or isinstance(model.get_layer(name), keras.layers.RNN)
               or isinstance(model.get_layer(name), keras.layers.Bidirectional)
               for name in report.frozen)
    before = {v.path: np.asarray(v).copy() for v in model.weights}
    x, y = _random_batch(model)
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    frozen = set(report.frozen)
    for var in model.weights:
        if not var.trainable and owners[var.path].name not in frozen:
            continue  # non-trainable state (normalization statistics, counters)
        changed = not np.array_equal(np.asarray(var), before[var.path])
        assert changed == (owners[var.path].name not in frozen), (var.path, changed)
