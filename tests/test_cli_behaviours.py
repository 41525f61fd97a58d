"""The `rnnzoo` command's behaviours, checked by their results: the demo trains, flags act.

Everything goes through ``rnnzoo.cli.main([...])`` (or a subprocess of the console
entry point), never through the command modules' internals. Where a test needs the
model a command built, it wraps the public ``rnnzoo.factory.build`` to keep a handle.
"""

import json
import os
import re

import keras
import numpy as np
import pytest

import rnnzoo
from rnnzoo import factory
from rnnzoo.cli import demo as cli_demo
from rnnzoo.cli import export as cli_export
from rnnzoo.cli import main
from rnnzoo.cli import train as cli_train
from rnnzoo.litert_runtime import LiteRTModel, list_ops


@pytest.fixture
def built(monkeypatch):
    """Every model the command builds through ``rnnzoo.factory.build``, in order."""
    models = []
    real = factory.build

    def build(*args, **kwargs):
        model = real(*args, **kwargs)
        models.append(model)
        return model

    for module in (factory, rnnzoo, cli_train, cli_export, cli_demo):
        monkeypatch.setattr(module, "build", build)  # every name the commands call it by
    return models


def _table(out: str) -> list[dict]:
    """The demo's printed table as dicts keyed by the header (two "value" columns)."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("task "))
    header = re.split(r"\s{2,}", lines[start].strip())
    assert header == ["task", "cell", "params", "epochs", "test metric", "value", "baseline",
                      "value", "seconds"], header
    assert set(lines[start + 1].replace(" ", "")) == {"-"}
    rows = []
    for line in lines[start + 2:]:
        if not line.strip():
            break
        cells = re.split(r"\s{2,}", line.strip())
        assert len(cells) == len(header), cells
        rows.append({"task": cells[0], "cell": cells[1], "params": int(cells[2].replace(",", "")),
                     "epochs": int(cells[3]), "metric": cells[4], "value": float(cells[5]),
                     "baseline": cells[6], "baseline_value": float(cells[7])})
    return rows


# --------------------------------------------------------------------------- demo


def test_demo_trains_and_its_table_is_a_real_evaluation(built, capsys):
    """The printed metric is the trained model's on the test split, and beats the baseline."""
    assert main(["demo", "--tasks", "classification", "--epochs", "1"]) == 0
    rows = _table(capsys.readouterr().out)
    assert [r["task"] for r in rows] == ["classification"]
    row = rows[0]
    assert len(built) == 1
    model = built[0]
    assert row["cell"] == "lstm" and row["epochs"] == 1 and row["metric"] == "accuracy"
    assert row["params"] == model.count_params()
    # re-evaluate the very model the demo trained, on the demo's own test split
    spec = rnnzoo.registry.get("classification")
    test = rnnzoo.data.load("classification", "test", spec.demo.get("batch_size", 64),
                            **spec.demo.get("eval_data", {}))
    accuracy = model.evaluate(test, verbose=0, return_dict=True)["accuracy"]
    assert row["value"] == pytest.approx(accuracy, abs=5e-5)  # printed with 4 decimals
    labels = np.concatenate([np.asarray(y) for _, y in test])
    majority = np.bincount(labels).max() / len(labels)
    assert row["baseline"] == "majority class"
    assert row["baseline_value"] == pytest.approx(majority, abs=5e-5)
    # an untrained model sits at chance (about the majority share): one epoch is far above
    assert row["value"] > row["baseline_value"] + 0.15, row


# --------------------------------------------------------------------------- bare command


def test_version_prints_the_package_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == rnnzoo.__version__


def test_bare_command_names_the_commands_and_exits_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("rnnzoo: error: a command is required")
    for command in ("list", "info", "train", "tune", "demo", "weights", "export"):
        assert repr(command) in err


def test_ctrl_c_exits_130_with_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    for module in (factory, rnnzoo, cli_train):
        monkeypatch.setattr(module, "build", interrupted)
    argv = ["train", "classification", "--epochs", "1", "--data", "num_examples=32",
            "--verbose", "0", "--out", "unused"]
    assert main(argv) == 130
    err = capsys.readouterr().err
    assert err.strip() == "interrupted"
    assert not os.path.exists("unused")


# --------------------------------------------------------------------------- train


def _train(tmp_path, seed, out=None):
    argv = ["train", "classification", "--epochs", "1", "--units", "8", "--set",
            "embedding_dim=8", "--data", "num_examples=64", "--verbose", "0"]
    argv += ["--seed", str(seed)] if seed is not None else []
    argv += ["--out", str(out)] if out is not None else []
    assert main(argv) == 0
    folder = out if out is not None else tmp_path / "runs" / "classification"
    return json.loads((folder / "classification_metrics.json").read_text())


def test_train_seed_makes_runs_repeatable_and_the_default_folder_is_runs_task(
        tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    default = _train(tmp_path, None)  # no --out: runs/<task> under the working directory
    assert sorted(os.listdir(tmp_path / "runs" / "classification")) == [
        "classification.keras", "classification_metrics.json"]
    assert default["seed"] == 0
    again = _train(tmp_path, 0, out=tmp_path / "again")
    other = _train(tmp_path, 7, out=tmp_path / "other")
    assert again["seed"] == 0 and other["seed"] == 7
    # the same seed trains the same weights: identical losses; another seed does not
    assert again["history"]["loss"] == default["history"]["loss"]
    assert again["test"] == default["test"]
    assert other["history"]["loss"] != default["history"]["loss"]
    assert "wrote" in capsys.readouterr().out


# --------------------------------------------------------------------------- tune


def test_tune_resumes_the_search_in_its_folder(tmp_path, capsys):
    out = tmp_path / "tune"
    argv = ["tune", "classification", "--epochs", "1", "--units", "8", "--depth", "1",
            "--set", "embedding_dim=8", "--data", "num_examples=32", "--out", str(out),
            "--verbose", "0"]
    assert main(argv + ["--max-trials", "1"]) == 0
    first = json.loads((out / "classification_best.json").read_text())
    assert len(first["trials"]) == 1
    assert main(argv + ["--max-trials", "2"]) == 0
    second = json.loads((out / "classification_best.json").read_text())
    # the trial of the first run is kept (same id, score, hyperparameters); one more ran
    assert len(second["trials"]) == 2
    assert first["trials"][0] in second["trials"]
    assert main(argv + ["--max-trials", "1", "--overwrite"]) == 0
    fresh = json.loads((out / "classification_best.json").read_text())
    assert len(fresh["trials"]) == 1
    capsys.readouterr()


# --------------------------------------------------------------------------- export


def test_export_task_with_streaming_weights_and_verification(built, tmp_path, capsys):
    out = tmp_path / "stream.tflite"
    argv = ["export", "classification", "--weights", "pretrained", "--streaming",
            "--out", str(out), "--json", "--verify-examples"]
    assert main(argv + ["0"]) == 2  # the flag reaches the exporter, which checks it
    assert "verify_examples" in capsys.readouterr().err and not out.exists()
    built.clear()
    assert main(argv + ["16"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["verified"] and report["kind"] == "streaming"
    assert set(report["signatures"]) >= {"step"}
    model = built[0]
    pretrained = rnnzoo.build("classification", weights="pretrained")
    for a, b in zip(model.weights, pretrained.weights):  # --weights reached the build
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    # the file streams: one token per call gives the Keras output of the whole sequence
    tokens = np.array([[3, 7, 1, 9, 12, 5]], np.int32)
    stream = LiteRTModel(str(out)).streamer()
    for t in range(tokens.shape[1]):
        got = stream.step(tokens=tokens[:, t:t + 1])
    name = report["signatures"]["step"]["outputs"][0]
    np.testing.assert_allclose(got[name], np.asarray(model(tokens)), atol=1e-5)


def test_export_task_fused_lstm_fixed_length_without_verification(built, tmp_path, capsys):
    out = tmp_path / "fused.tflite"
    assert main(["export", "classification", "--fused-lstm", "--sequence-length", "12",
                 "--no-verify", "--units", "8", "--set", "embedding_dim=8",
                 "--out", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["verified"] is False and report["sequence_length"] == 12
    ops = list_ops(str(out))
    assert ops.get("UNIDIRECTIONAL_SEQUENCE_LSTM") == 1 and "WHILE" not in ops
    runtime = LiteRTModel(str(out))
    shape = runtime.runner("serving_default").get_input_details()["tokens"]["shape"]
    assert list(shape) == [1, 12]
    assert built[0].get_layer("rnn_1").units == 8  # the model options reached the build
    tokens = np.array([[3, 7, 1, 9, 12, 5, 4, 8, 2, 6, 10, 11]], np.int32)
    np.testing.assert_allclose(runtime.predict(tokens=tokens)["classifier"],
                               np.asarray(built[0](tokens)), atol=1e-4)


@keras.saving.register_keras_serializable(package="rnnzoo_cli_tests")
class InverseErf(keras.layers.Layer):
    """Uses Erfinv, which has no TFLite built-in kernel."""

    def call(self, x):
        return keras.ops.erfinv(keras.ops.tanh(x) * 0.5)


def test_export_error_exits_1_with_the_reason_and_writes_nothing(tmp_path, capsys):
    inputs = keras.Input((None,), dtype="int32", name="tokens")
    x = keras.layers.Embedding(20, 4)(inputs)
    x = InverseErf(name="inverse_erf")(x)
    model = keras.Model(inputs, keras.layers.LSTM(4)(x))
    model.save(tmp_path / "bad.keras")
    out = tmp_path / "bad.tflite"
    assert main(["export", str(tmp_path / "bad.keras"), "--out", str(out), "--no-verify"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("rnnzoo export: error:") and "Erfinv" in err
    assert "Traceback" not in err
    assert sorted(os.listdir(tmp_path)) == ["bad.keras"]
