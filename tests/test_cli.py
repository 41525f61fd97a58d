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


# --------------------------------------------------------------------------- issue 16: fast, quiet


def _run_cli(*argv, env=None, timeout=300):
    """``python -m rnnzoo.cli ARGV`` in a fresh interpreter; also reports what it imported."""
    probe = (
        "import sys\n"
        "from rnnzoo.cli import main\n"
        "try:\n"
        "    code = main(sys.argv[1:])\n"
        "except SystemExit as exc:\n"
        "    code = exc.code\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'tensorflow', 'keras', 'jax'})\n"
        "print('HEAVY=' + ','.join(heavy))\n"
        "sys.exit(code or 0)\n"
    )
    full_env = {k: val for k, val in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True,
                          timeout=timeout, env=full_env)


@pytest.mark.parametrize("argv", [["--help"], ["list"], ["list", "--json"]])
def test_help_and_list_import_no_tensorflow_keras_or_jax(argv):
    result = _run_cli(*argv)
    assert result.returncode == 0, result.stderr
    assert "HEAVY=\n" in result.stdout or result.stdout.rstrip().endswith("HEAVY=")
    assert result.stderr == ""  # no TensorFlow, absl, oneDNN or CUDA line


def test_import_rnnzoo_is_lazy_and_every_entry_point_still_works():
    code = (
        "import sys\n"
        "import rnnzoo\n"
        "assert 'keras' not in sys.modules and 'tensorflow' not in sys.modules, 'eager import'\n"
        "import rnnzoo.data\n"
        "ds = rnnzoo.data.load('classification', 'train', 8, num_examples=8)\n"
        "from rnnzoo import export, weights\n"
        "assert callable(export.to_tflite) and callable(weights.fetch)\n"
        "model = rnnzoo.build('classification', units=4, embedding_dim=4)\n"
        "assert rnnzoo.describe('classification')['name'] == 'classification'\n"
        "assert 'classification' in rnnzoo.list_models()\n"
        "assert {'build', 'data', 'weights'} <= set(dir(rnnzoo))\n"
        "print(model.count_params() > 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("True")
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        rnnzoo.nope  # noqa: B018


def test_task_index_equals_the_live_registry():
    from rnnzoo.cli.task_index import TASKS

    live = [{"name": s.name, "pattern": s.pattern, "outputs": s.outputs}
            for s in (rnnzoo.registry.get(n) for n in rnnzoo.list_models())]
    assert TASKS == live, "the index is stale: run python tools/make_task_index.py"


def test_list_prints_the_registry_through_the_index(capsys):
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[0] for line in lines] == rnnzoo.list_models()
    for line, name in zip(lines, rnnzoo.list_models()):
        assert line.rstrip().endswith(rnnzoo.registry.get(name).outputs)
    # the outputs column starts at the same place on every line
    starts = {line.index(rnnzoo.registry.get(n).outputs)
              for line, n in zip(lines, rnnzoo.list_models())}
    assert len(starts) == 1


def test_info_prints_no_tensorflow_start_up_lines():
    result = _run_cli("info", "classification")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "HEAVY=" in result.stdout and "keras" in result.stdout  # it did load Keras


def test_start_up_noise_is_dropped_and_other_stderr_lines_are_kept(tmp_path, monkeypatch,
                                                                    capfd):
    from rnnzoo import cli

    module = tmp_path / "noisy_module_for_test.py"
    module.write_text(
        "import os\n"
        "os.write(2, b'WARNING: All log messages before absl::InitializeLog() is called are "
        "written to STDERR\\n')\n"
        "os.write(2, b'I0000 00:00:1796293490.889640   18512 port.cc:153] oneDNN custom "
        "operations are on.\\n')\n"
        "os.write(2, b'I0000 00:00:1796293490.890126   18512 cudart_stub.cc:31] Could not find "
        "cuda drivers on your machine, GPU will not be used.\\n')\n"
        "os.write(2, b'a real problem\\n')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    cli._import_quietly("noisy_module_for_test")
    assert capfd.readouterr().err == "a real problem\n"


def test_info_aligns_long_option_names(capsys, monkeypatch):
    from rnnzoo.registry import Option

    spec = rnnzoo.registry.get("classification")
    long_name = "a_really_quite_long_option_name"
    monkeypatch.setitem(spec.options, long_name, Option(long_name, 1, int, help="long"))
    assert main(["info", "classification"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if "default=" in line]
    assert any(long_name in row for row in rows)
    # every option's "default=" column starts at the same place, past the longest name
    columns = {row.index("default=") for row in rows}
    assert len(columns) == 1 and columns.pop() > len(long_name) + 4


@pytest.mark.parametrize("argv", [
    ["train", "classification", "--epochs", "1", "--units", "4", "--set", "embedding_dim=4",
     "--data", "num_examples=16", "--verbose", "0"],
    ["demo", "--tasks", "classification", "--epochs", "1"],
])
def test_train_and_demo_trigger_no_warning_through_rnnzoo_calls(argv, tmp_path, recwarn):
    if argv[0] == "train":
        argv = argv + ["--out", str(tmp_path / "run")]
    assert main(argv) == 0
    shuffle = [w for w in recwarn if "shuffle" in str(w.message)]
    assert not shuffle, [str(w.message) for w in shuffle]


# --------------------------------------------------------------------------- issue 16: mistakes


def _one_line_error(capsys, argv, status=2):
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse
        code = exc.code
    err = capsys.readouterr().err.strip()
    assert code == status, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("argv, fragment", [
    (["train", "classification", "--units", "1e9"], "invalid int value: '1e9'"),
    (["list", "--bogus"], "unrecognized arguments: --bogus"),
    ([], "a command is required"),
    (["train", "classification", "--set", "bogus=1"], "Unknown option `bogus`"),
    (["train", "classification", "--data", "bogus=1"], "Unknown --data option `bogus`"),
    (["train", "classification", "--source", "nope"], "--source must be one of"),
    (["train", "classification", "--seed", "-1"], "Received: seed=-1"),
    (["demo", "--seed", "-1"], "Received: seed=-1"),
    (["train", "classification", "--learning-rate", "nan"], "Received: learning_rate=nan"),
    (["train", "classification", "--dropout", "inf"], "Received: dropout=inf"),
    (["export", "nope.keras", "--out", "x.tflite"], "no such file"),
])
def test_more_user_mistakes_are_one_line_and_exit_2(argv, fragment, capsys, tmp_path,
                                                     monkeypatch):
    monkeypatch.chdir(tmp_path)
    err = _one_line_error(capsys, argv)
    assert fragment in err
    assert os.listdir(tmp_path) == []  # nothing written, not even an empty folder


def test_paths_are_checked_before_any_training(tmp_path, capsys, monkeypatch):
    trained = []
    monkeypatch.setattr("rnnzoo.distribute.fit", lambda *a, **k: trained.append(1))
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    common = ["train", "classification", "--epochs", "1", "--units", "4", "--verbose", "0",
              "--data", "num_examples=16"]
    for argv, fragment in [
        (common + ["--out", str(a_file)], f"--out must be a folder: {a_file} is a file"),
        (common + ["--out", str(a_file / "sub")], "lies under"),
        (common + ["--out", str(tmp_path / "ok"), "--backup-dir", str(a_file)], "--backup-dir"),
        (["weights", "fetch", "classification", "--to", str(a_file)], "--to must be a folder"),
        (["export", "classification", "--out", str(tmp_path)], "is a folder"),
    ]:
        assert fragment in _one_line_error(capsys, argv)
    out = tmp_path / "taken"
    (out / "classification.keras").mkdir(parents=True)
    assert "already holds a folder" in _one_line_error(capsys, common + ["--out", str(out)])
    assert trained == []  # every mistake was found before fit


def test_rnnzoo_home_being_a_file_is_one_line(tmp_path, capsys, monkeypatch):
    home = tmp_path / "home"
    home.write_text("not a folder")
    monkeypatch.setenv("RNNZOO_HOME", str(home))
    monkeypatch.setenv("RNNZOO_BUNDLED_WEIGHTS", "0")
    err = _one_line_error(capsys, ["weights", "fetch", "classification"])
    assert "RNNZOO_HOME" in err and str(home) in err


def test_missing_tfds_data_is_one_line_before_training(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("rnnzoo.distribute.fit", lambda *a, **k: pytest.fail("trained"))
    err = _one_line_error(capsys, ["train", "classification", "--source", "tfds",
                                   "--data", f"data_dir={tmp_path}", "--out", str(tmp_path / "o")])
    assert "--source tfds" in err and "download=True" in err
    assert not (tmp_path / "o").exists()


def test_truncated_or_crafted_keras_files_are_one_line(tmp_path, capsys):
    model = rnnzoo.build("classification", units=4, embedding_dim=4)
    good = tmp_path / "good.keras"
    model.save(good)
    truncated = tmp_path / "truncated.keras"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    err = _one_line_error(capsys, ["export", str(truncated), "--out", str(tmp_path / "t.tflite")])
    assert "truncated" in err and "File not found" not in err
    # a crafted archive: a zip whose config names a class nobody registered
    import zipfile

    crafted = tmp_path / "crafted.keras"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(crafted, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "config.json":
                data = data.replace(b'"class_name": "Functional"', b'"class_name": "Evil"')
            dst.writestr(item, data)
    err = _one_line_error(capsys, ["export", str(crafted), "--out", str(tmp_path / "c.tflite")])
    assert str(crafted) in err
    assert not list(tmp_path.glob("*.tflite*"))


def test_out_of_memory_is_one_line(tmp_path, capsys, monkeypatch):
    def too_big(*args, **kwargs):
        raise MemoryError("Unable to allocate 3.7 EiB for an array")

    monkeypatch.setattr("rnnzoo.cli.train.build", too_big)
    err = _one_line_error(capsys, ["train", "classification", "--units", "1000000000",
                                   "--data", "num_examples=16", "--out", str(tmp_path / "o")])
    assert "out of memory" in err and "--units" in err


def test_learning_rate_nan_writes_nothing(tmp_path, capsys):
    out = tmp_path / "run"
    _one_line_error(capsys, ["train", "classification", "--learning-rate", "nan",
                             "--out", str(out)])
    assert not out.exists()


def test_diverged_training_still_writes_strict_json(tmp_path, capsys, monkeypatch):
    import rnnzoo.cli.train as train_cmd

    real_evaluate = train_cmd.distribute.evaluate
    monkeypatch.setattr(train_cmd.distribute, "evaluate",
                        lambda *a, **k: {**real_evaluate(*a, **k), "loss": float("nan")})
    out = tmp_path / "run"
    assert main(["train", "classification", "--epochs", "1", "--units", "4", "--set",
                 "embedding_dim=4", "--data", "num_examples=16", "--verbose", "0",
                 "--out", str(out)]) == 0
    text = (out / "classification_metrics.json").read_text()
    record = json.loads(text, parse_constant=lambda name: pytest.fail(f"non-JSON {name}"))
    assert record["test"]["loss"] is None


def test_resumed_run_reports_every_epoch_once(tmp_path, capsys, monkeypatch):
    from rnnzoo.distribute import backup as backup_module

    real_end = backup_module.BackupAndRestore.on_epoch_end

    def crash_after_first_epoch(self, epoch, logs=None):
        real_end(self, epoch, logs)
        if epoch == 0:
            raise KeyboardInterrupt

    argv = ["train", "classification", "--epochs", "3", "--units", "4", "--set",
            "embedding_dim=4", "--data", "num_examples=32", "--verbose", "0",
            "--backup-dir", str(tmp_path / "backup"), "--out", str(tmp_path / "run")]
    monkeypatch.setattr(backup_module.BackupAndRestore, "on_epoch_end", crash_after_first_epoch)
    assert main(argv) == 130
    meta = json.loads((tmp_path / "backup" / "training_metadata.json").read_text())
    assert meta["epoch"] == 1
    first_loss = meta["logs"][0]["loss"]
    monkeypatch.setattr(backup_module.BackupAndRestore, "on_epoch_end", real_end)
    assert main(argv) == 0
    record = json.loads((tmp_path / "run" / "classification_metrics.json").read_text())
    assert len(record["history"]["loss"]) == 3  # each epoch once, the resumed ones included
    assert record["history"]["loss"][0] == first_loss
    assert all(isinstance(x, float) for x in record["history"]["loss"])
    assert record["resumed_at_epoch"] == 1
