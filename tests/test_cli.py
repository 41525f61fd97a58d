"""The `rnnzoo` command: list, info, train, demo, and one-line errors for user mistakes."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import keras
import rnnzoo
from rnnzoo.cli import main


def test_list_prints_every_task(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in rnnzoo.list_models():
        assert name in out
    assert main(["list", "--json"]) == 0
    names = [row["name"] for row in json.loads(capsys.readouterr().out)]
    assert names == rnnzoo.list_models()


def test_info_shows_pattern_and_options(capsys):
    assert main(["info", "classification"]) == 0
    out = capsys.readouterr().out
    assert "many-to-one" in out and "num_classes" in out and "imdb_reviews" in out
    assert main(["info", "classification", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["name"] == "classification"


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["info", "clasification"], "Did you mean 'classification'?"),
        (["train", "classification", "--cell", "lsmt"], "Did you mean 'lstm'?"),
        (["train", "classification", "--units", "0"], "Received: units=0"),
        (["train", "classification", "--epochs", "0"], "--epochs must be a positive integer"),
        (["train", "classification", "--set", "num_classes"], "--set expects KEY=VALUE"),
    ],
)
def test_user_mistakes_are_one_line_and_exit_2(argv, fragment, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert fragment in err
    assert len(err.splitlines()) == 1 and "Traceback" not in err


def test_train_writes_model_and_metrics(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["train", "classification", "--epochs", "2", "--units", "8", "--cell", "gru",
            "--set", "embedding_dim=8", "--data", "num_examples=128", "--out", str(out),
            "--verbose", "0"]
    assert main(argv) == 0
    metrics = json.loads((out / "classification_metrics.json").read_text())
    assert metrics["options"]["cell"] == "gru" and metrics["options"]["units"] == 8
    assert len(metrics["history"]["loss"]) == 2
    assert 0.0 <= metrics["test"]["accuracy"] <= 1.0
    model = keras.saving.load_model(out / "classification.keras", safe_mode=True)
    assert isinstance(model.get_layer("rnn_1"), keras.layers.GRU)
    assert model.count_params() == metrics["params"]
    # the saved model reproduces the reported test accuracy
    test = rnnzoo.data.load("classification", "test", 64, num_examples=128)
    acc = model.evaluate(test, verbose=0, return_dict=True)["accuracy"]
    assert np.isclose(acc, metrics["test"]["accuracy"], atol=1e-6)
    # nothing half-written left: exactly the two files (rnnzoo._io's temporary files are
    # hidden ".<name>.*.part<suffix>" files, so compare the whole listing)
    assert sorted(os.listdir(out)) == ["classification.keras", "classification_metrics.json"]


def test_demo_runs_a_task_and_prints_a_table(capsys):
    assert main(["demo", "--tasks", "classification", "--epochs", "1"]) == 0
    out = capsys.readouterr().out
    assert "majority class" in out and "accuracy" in out and "demo finished" in out


def test_console_script_is_installed():
    exe = os.path.join(os.path.dirname(sys.executable), "rnnzoo")
    result = subprocess.run([exe, "info", "nope"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "Unknown task: 'nope'" in result.stderr and "Traceback" not in result.stderr
