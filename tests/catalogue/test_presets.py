"""The presets catalogue: listing, building by name, preset folders (sha256-checked), the CLI."""

import json
import os

import numpy as np
import pytest

import keras
import rnnzoo
from rnnzoo import catalogue, cli, weights
from rnnzoo.catalogue.folder import PresetError
from tests.conftest import TASKS


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNZOO_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("RNNZOO_WEIGHTS_MIRROR", raising=False)
    monkeypatch.setenv("RNNZOO_OFFLINE", "1")  # the bundled copies are enough


def _test_batch(task="classification"):
    x, _ = next(iter(rnnzoo.data.load(task, "test", 8)))
    return x


def test_every_task_has_a_tutorial_preset_with_its_measured_metric():
    rows = {row["name"]: row for row in rnnzoo.presets()}
    for task in TASKS:
        row = rows[f"{task}_tutorial"]
        record = weights.get_record(task)
        assert row["task"] == task and row["published"]
        assert row["metric"]["value"] == record["metrics"]["test"][record["primary_metric"]]
        assert row["size"] == record["size"] and row["weights"] == record["file_name"]
        assert row["baselines"] and row["baselines"][0]["value"] is not None
    only = rnnzoo.presets("regression")
    assert only and {row["task"] for row in only} == {"regression"}
    with pytest.raises(ValueError, match="Did you mean 'regression'"):
        rnnzoo.presets("regresion")


def test_a_preset_by_name_is_the_published_model():
    x = _test_batch()
    by_preset = rnnzoo.build(preset="classification_tutorial")
    by_weights = rnnzoo.build("classification", weights="classification_tutorial")
    pretrained = rnnzoo.build("classification", weights="pretrained")
    assert by_preset.rnnzoo_weights_report.complete
    expected = pretrained.predict(x, verbose=0)
    np.testing.assert_array_equal(by_preset.predict(x, verbose=0), expected)
    np.testing.assert_array_equal(by_weights.predict(x, verbose=0), expected)
    # an override of the head keeps the encoder (transfer learning from a preset)
    head = rnnzoo.build(preset="classification_tutorial", num_classes=7, freeze_encoder=True)
    assert head.output_shape == (None, 7)
    assert set(head.rnnzoo_weights_report.skipped) == {"classifier/kernel", "classifier/bias"}


@pytest.mark.parametrize("kwargs, match", [
    ({"preset": "clasification_tutorial"}, "Did you mean 'classification_tutorial'"),
    ({"preset": "classification_tutorial", "weights": "pretrained"}, "either `preset` or"),
    ({"name": "regression", "preset": "classification_tutorial"}, "not a 'regression'"),
    ({"preset": 3}, "preset"),
    ({"preset": "hf://only-owner"}, "hf://owner/repo"),
    ({}, "`name` must be a registered task"),
    ({"name": "regression", "weights": "classification_tutorial"}, "published for task"),
])
def test_bad_presets_fail_fast(kwargs, match):
    with pytest.raises(ValueError, match=match):
        rnnzoo.build(**kwargs)


def _assert_same_model(a, b, x):
    np.testing.assert_allclose(a.predict(x, verbose=0), b.predict(x, verbose=0), atol=1e-6)


def test_save_preset_round_trips_a_feature_model_with_its_normalization(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(50.0, 10.0, size=(16, 7, 3)).astype("float32")
    x[:4, 5:] = 0.0  # padded
    model = rnnzoo.build("classification", num_features=3, num_classes=3, units=4,
                         adapt_data=x)
    model.fit(x, np.arange(16) % 3, epochs=1, verbose=0)
    folder = rnnzoo.save_preset(model, tmp_path / "vowels", metrics={"accuracy": 0.5},
                                dataset={"source": "random"}, license="CC0-1.0")
    names = sorted(os.listdir(folder))
    assert names == ["README.md", "config.json", "metadata.json", "model.weights.h5"]
    metadata = json.loads((folder / "metadata.json").read_text())
    assert metadata["task"] == "classification" and metadata["metrics"] == {"accuracy": 0.5}
    assert set(metadata["files"]) == set(names) - {"metadata.json"}
    config = json.loads((folder / "config.json").read_text())
    assert config["options"]["normalize"] is True and config["options"]["adapt_data"] is None
    again = rnnzoo.build(preset=str(folder))
    _assert_same_model(model, again, x)
    np.testing.assert_allclose(np.ravel(again.get_layer("input_normalization").mean),
                               np.ravel(model.get_layer("input_normalization").mean))
    assert "rnnzoo.build(preset=" in (folder / "README.md").read_text()


def test_save_preset_round_trips_a_raw_text_model_with_its_vocabulary(tmp_path):
    import tensorflow as tf

    texts = ["good film", "bad film", "great acting", "awful plot"]
    model = rnnzoo.build("classification", adapt_data=texts, num_classes=2, units=4)
    folder = rnnzoo.save_preset(model, tmp_path / "reviews")
    vocabulary = json.loads((folder / "vocabulary.json").read_text())["vocabulary"]
    assert "awful" in vocabulary
    again = rnnzoo.build(preset=str(folder))
    queries = tf.constant(["good plot", "awful film", "unknown words"])
    _assert_same_model(model, again, queries)


def test_save_preset_of_a_generative_model_keeps_its_vocabulary(tmp_path):
    model = rnnzoo.build(preset="text_prediction_tutorial")
    folder = rnnzoo.save_preset(model, tmp_path / "tiny_lm")
    again = rnnzoo.build(preset=str(folder))
    assert again.vocabulary.tokens == model.vocabulary.tokens
    x = _test_batch("text_prediction")
    _assert_same_model(model, again, x)


def test_an_altered_or_incomplete_preset_is_refused_before_anything_is_built(tmp_path):
    model = rnnzoo.build("classification", num_features=2, num_classes=2, units=4)
    folder = rnnzoo.save_preset(model, tmp_path / "p")
    weights_file = folder / "model.weights.h5"
    data = bytearray(weights_file.read_bytes())
    data[-1] ^= 0xFF
    weights_file.write_bytes(bytes(data))
    with pytest.raises(PresetError, match="sha256 mismatch"):
        rnnzoo.build(preset=str(folder))
    folder = rnnzoo.save_preset(model, tmp_path / "q")
    (folder / "config.json").write_text(json.dumps(
        {"task": "classification", "options": {"units": 4, "activation": "os.system"}}))
    with pytest.raises(PresetError, match="sha256 mismatch"):
        rnnzoo.build(preset=str(folder))
    os.remove(folder / "model.weights.h5")
    with pytest.raises(PresetError, match="missing|sha256"):
        rnnzoo.build(preset=str(folder))
    with pytest.raises(ValueError, match="preset folder"):
        rnnzoo.build(preset=str(tmp_path))  # a folder, but no metadata.json


def test_a_config_that_is_not_plain_options_cannot_run_code(tmp_path):
    """Even with matching hashes (a hostile author), config.json is only option values."""
    from rnnzoo.weights import sha256_of

    model = rnnzoo.build("classification", num_features=2, num_classes=2, units=4)
    folder = rnnzoo.save_preset(model, tmp_path / "p")
    config = {"task": "classification",
              "options": {"units": 4, "cell": {"class_name": "Lambda", "config": {}}}}
    (folder / "config.json").write_text(json.dumps(config))
    metadata = json.loads((folder / "metadata.json").read_text())
    metadata["files"]["config.json"] = {"sha256": sha256_of(folder / "config.json"),
                                        "size": (folder / "config.json").stat().st_size}
    (folder / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(ValueError, match="`cell` must be one of"):
        rnnzoo.build(preset=str(folder))


def test_save_preset_refuses_to_overwrite_unless_asked(tmp_path):
    model = rnnzoo.build("regression", units=4)
    rnnzoo.save_preset(model, tmp_path / "r")
    with pytest.raises(ValueError, match="overwrite=True"):
        rnnzoo.save_preset(model, tmp_path / "r")
    other = rnnzoo.build("regression", units=5)
    rnnzoo.save_preset(other, tmp_path / "r", overwrite=True)
    assert rnnzoo.build(preset=str(tmp_path / "r")).get_layer("rnn_1").units == 5
    assert sorted(os.listdir(tmp_path)) == ["home", "r"] or sorted(os.listdir(tmp_path)) == ["r"]


def test_save_preset_of_a_loaded_keras_file_needs_its_options(tmp_path):
    model = rnnzoo.build("regression", units=4)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    with pytest.raises(ValueError, match="options"):
        rnnzoo.save_preset(loaded, tmp_path / "p")
    folder = rnnzoo.save_preset(loaded, tmp_path / "p", options={"units": 4})
    assert catalogue.resolve(str(folder)).task == "regression"


def test_cli_lists_the_presets(capsys):
    assert cli.main(["presets", "--task", "classification"]) == 0
    out = capsys.readouterr().out
    assert "classification_tutorial" in out and "majority class" in out
    assert "regression_tutorial" not in out
    assert cli.main(["presets", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["name"] for r in rows} >= {f"{t}_tutorial" for t in TASKS}


def test_save_preset_checks_that_the_options_rebuild_the_model(tmp_path):
    model = rnnzoo.build("regression", units=4)
    with pytest.raises(ValueError, match="rebuild the model's architecture"):
        rnnzoo.save_preset(model, tmp_path / "p", options={"units": 5})
    assert not (tmp_path / "p").exists()
