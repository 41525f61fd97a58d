"""rnnzoo.distribute and `rnnzoo train --strategy/--distribute/--backup-dir`: more than one device.

The multi-process tests start real TensorFlow or JAX workers as subprocesses on
free 127.0.0.1 ports (tests/_workers/processes.py); every one is stopped when
its ``with Processes(...)`` block exits, and every wait has a timeout.
"""

import json
import os
import time

import keras
import numpy as np
import pytest

import rnnzoo
from rnnzoo import distribute

from tests._workers.processes import (
    WORKERS, Processes, check_ok, clean_env, free_ports, tf_config,
)
from tests.conftest import tiny_data, tiny_overrides


# --------------------------------------------------------------------------- helpers


ON_TF = keras.backend.backend() == "tensorflow"
tf_only = pytest.mark.skipif(not ON_TF, reason="tf.distribute needs the TensorFlow backend")
jax_only = pytest.mark.skipif(keras.backend.backend() != "jax", reason="needs the JAX backend")


def _weights(path):
    return keras.saving.load_model(path, safe_mode=True).get_weights()


def _assert_same_weights(a, b, atol=0.0):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, rtol=0, atol=atol)


# --------------------------------------------------------------------------- in-process


@tf_only
def test_get_strategy_names_and_errors():
    import tensorflow as tf

    assert distribute.get_strategy(None) is tf.distribute.get_strategy()
    assert isinstance(distribute.get_strategy("mirrored"), tf.distribute.MirroredStrategy)
    with pytest.raises(ValueError, match=r"`strategy` must be one of .*Received: strategy='mirored'"
                                         r".*Did you mean 'mirrored'"):
        distribute.get_strategy("mirored")
    with pytest.raises(ValueError, match="`devices` is only used with strategy='mirrored'"):
        distribute.get_strategy("default", devices=["/cpu:0"])
    with pytest.raises(ValueError, match="num_devices"):
        distribute.split_cpu(0)


def test_cluster_spec_and_chief_followtf_config(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert distribute.cluster_spec() == {"task_type": None, "task_id": 0, "num_workers": 1}
    assert distribute.is_chief()
    monkeypatch.setenv("TF_CONFIG", tf_config([1, 2, 3], 2))
    assert distribute.cluster_spec() == {"task_type": "worker", "task_id": 2, "num_workers": 3}
    assert not distribute.is_chief()
    monkeypatch.setenv("TF_CONFIG", tf_config([1, 2, 3], 0))
    assert distribute.is_chief()
    monkeypatch.setenv("TF_CONFIG", json.dumps({
        "cluster": {"chief": ["127.0.0.1:1"], "worker": ["127.0.0.1:2"]},
        "task": {"type": "worker", "index": 0}}))
    assert not distribute.is_chief()  # a cluster with a chief task: worker 0 is not it
    assert distribute.cluster_spec()["num_workers"] == 2
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(ValueError, match="`TF_CONFIG` must be JSON"):
        distribute.cluster_spec()


def _train(engine, **fit_kwargs):
    keras.utils.set_random_seed(0)
    model = rnnzoo.build("classification", **tiny_overrides("classification",
                                                            learning_rate=1e-2))
    train = tiny_data("classification", shuffle=False)
    val = tiny_data("classification", "validation")
    history = distribute.fit(model, train, validation_data=val, verbose=0, engine=engine,
                             **fit_kwargs)
    return model, history, distribute.evaluate(model, val, engine=engine)


@tf_only
def test_loop_engine_reproduces_model_fit_exactly():
    # The multi-worker engine is Keras' own train_step driven by tf.distribute: on one
    # device it must give model.fit's losses, metrics and weights.
    ref_model, ref, ref_eval = _train("keras", epochs=3)
    model, history, evaluation = _train("loop", epochs=3)
    assert history.epoch == [0, 1, 2]
    assert set(history.history) == set(ref.history) == {"loss", "accuracy", "val_loss",
                                                          "val_accuracy"}
    for key in ref.history:
        np.testing.assert_allclose(history.history[key], ref.history[key], rtol=1e-6)
    assert history.history["loss"][-1] < history.history["loss"][0]
    _assert_same_weights(model.get_weights(), ref_model.get_weights(), atol=1e-6)
    assert evaluation.keys() == ref_eval.keys()
    for key in ref_eval:
        assert evaluation[key] == pytest.approx(ref_eval[key], rel=1e-6)


@tf_only
def test_loop_engine_honours_initial_epoch_steps_and_early_stopping():
    _, history, _ = _train("loop", epochs=4, initial_epoch=2, steps_per_epoch=2)
    assert history.epoch == [2, 3]

    class StopAfterSecondEpoch(keras.callbacks.Callback):  # what EarlyStopping does
        def on_epoch_end(self, epoch, logs=None):
            self.model.stop_training = epoch == 1

    _, history, _ = _train("loop", epochs=5, callbacks=[StopAfterSecondEpoch()])
    assert history.epoch == [0, 1]


@tf_only
def test_fit_rejects_bad_arguments():
    model = rnnzoo.build("classification", **tiny_overrides("classification"))
    data = tiny_data("classification")
    with pytest.raises(ValueError, match="`engine` must be one of"):
        distribute.fit(model, data, engine="fast")
    with pytest.raises(ValueError, match=r"`epochs` must be an integer >= 0. Received: epochs=-1"):
        distribute.fit(model, data, epochs=-1)
    with pytest.raises(ValueError, match="`steps_per_epoch` must be a positive integer"):
        distribute.fit(model, data, steps_per_epoch=0, engine="loop")
    with pytest.raises(ValueError, match="`y` must be None"):
        distribute.fit(model, data, np.zeros(3), engine="loop")
    with pytest.raises(ValueError, match="data is empty"):
        distribute.fit(model, data.take(0), engine="loop", verbose=0)
    with pytest.raises(ValueError, match="backup_dir"):
        distribute.BackupAndRestore("")


@tf_only
def test_backup_and_restore_resumes_and_only_the_chief_writes(tmp_path, monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    backup = tmp_path / "backup"

    class Failure(Exception):
        pass

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise Failure("simulated failure")

    model = rnnzoo.build("classification", **tiny_overrides("classification"))
    data = tiny_data("classification")
    callback = distribute.BackupAndRestore(backup, delete_checkpoint=True)
    with pytest.raises(Failure):
        distribute.fit(model, data, epochs=4, verbose=0, engine="loop",
                       callbacks=[callback, Interrupt()])
    meta = json.loads((backup / "training_metadata.json").read_text())
    assert meta["epoch"] == 2
    assert sorted(os.listdir(backup)) == ["latest.weights.h5", "training_metadata.json"]
    saved = model.get_weights()
    # A fresh process would rebuild the model: restore starts at epoch 2 with the saved weights.
    fresh = rnnzoo.build("classification", **tiny_overrides("classification"))
    seen = []

    class Record(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            seen.append([w.copy() for w in self.model.get_weights()])

    history = distribute.fit(fresh, data, epochs=4, verbose=0, engine="loop",
                             callbacks=[distribute.BackupAndRestore(backup), Record()])
    assert history.epoch == [2, 3]
    _assert_same_weights(seen[0], saved)
    assert not backup.exists()  # completed: the chief deletes its checkpoint
    # A worker that is not the chief restores but never writes.
    monkeypatch.setenv("TF_CONFIG", tf_config([1, 2], 1))
    worker_cb = distribute.BackupAndRestore(backup)
    assert not worker_cb.chief
    distribute.fit(rnnzoo.build("classification", **tiny_overrides("classification")), data,
                   epochs=1, verbose=0, engine="loop", callbacks=[worker_cb])
    assert not backup.exists()


@tf_only
def test_backup_every_n_batches_writes_what_keras_writes_and_falls_back(tmp_path, monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    data = tiny_data("classification")
    kwargs = dict(save_freq=2, double_checkpoint=True, delete_checkpoint=False)
    folders = {"keras": tmp_path / "keras", "rnnzoo": tmp_path / "rnnzoo"}
    for name, callback in (("keras", keras.callbacks.BackupAndRestore(folders["keras"], **kwargs)),
                           ("rnnzoo", distribute.BackupAndRestore(folders["rnnzoo"], **kwargs))):
        model = rnnzoo.build("classification", **tiny_overrides("classification"))
        distribute.fit(model, data, epochs=2, verbose=0, engine="keras", callbacks=[callback])
    listing = ["latest.weights.h5", "latest.weights.h5.bkp", "training_metadata.json",
               "training_metadata.json.bkp"]
    for name in ("training_metadata.json", "training_metadata.json.bkp"):
        ours, theirs = (json.loads((folders[k] / name).read_text()) for k in ("rnnzoo", "keras"))
        # same epoch and batch as Keras' own callback, plus each finished epoch's logs (which
        # a resumed run reports; Keras' callback reads only epoch and batch)
        assert {k: ours[k] for k in theirs} == theirs, name
        assert set(ours) - set(theirs) == {"logs"} and len(ours["logs"]) == ours["epoch"]
    assert sorted(os.listdir(folders["rnnzoo"])) == sorted(os.listdir(folders["keras"])) == listing
    # An unreadable latest checkpoint: every worker restores the previous one, the chief
    # repairs the latest files from it.
    backup = folders["rnnzoo"]
    previous_epoch = json.loads((backup / "training_metadata.json.bkp").read_text())["epoch"]
    expected = _weights_of(backup / "latest.weights.h5.bkp")
    (backup / "latest.weights.h5").write_bytes(b"not an HDF5 file")
    seen = []

    class Record(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            seen.append([w.copy() for w in self.model.get_weights()])

    fresh = rnnzoo.build("classification", **tiny_overrides("classification"))
    callback = distribute.BackupAndRestore(backup, **kwargs)
    history = distribute.fit(fresh, data, epochs=2, verbose=0, engine="loop",
                             callbacks=[callback, Record()])
    assert history.epoch == list(range(previous_epoch, 2))
    _assert_same_weights(seen[0], expected)


def _weights_of(path):
    import shutil
    import tempfile

    model = rnnzoo.build("classification", **tiny_overrides("classification"))
    model.optimizer.build(model.trainable_variables)
    with tempfile.TemporaryDirectory() as folder:  # Keras reads only *.weights.h5 names
        shutil.copyfile(path, os.path.join(folder, "w.weights.h5"))
        model.load_weights(os.path.join(folder, "w.weights.h5"))
    return model.get_weights()


@tf_only
def test_cli_train_with_strategy_and_backup_dir_resumes(tmp_path, capsys):
    from rnnzoo.cli import main

    backup = tmp_path / "backup"
    # A checkpoint as an interrupted run leaves it: weights after epoch 1, "epoch": 1.
    model = rnnzoo.build("classification", units=8, embedding_dim=8)
    model.fit(tiny_data("classification"), epochs=1, verbose=0)
    backup.mkdir()
    model.save_weights(backup / "latest.weights.h5")
    (backup / "training_metadata.json").write_text(json.dumps({"epoch": 1, "batch": 0}))
    out = tmp_path / "out"
    args = ["train", "classification", "--strategy", "mirrored", "--backup-dir", str(backup),
            "--epochs", "2", "--batch-size", "8", "--units", "8", "--set", "embedding_dim=8",
            "--data", "num_examples=32", "sequence_length=12", "min_length=6",
            "--out", str(out), "--verbose", "0"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "strategy: mirrored, 1 replica(s), worker 0 of 1" in printed
    record = json.loads((out / "classification_metrics.json").read_text())
    assert record["strategy"] == "mirrored"
    # resumed at epoch 1 of 2: each epoch once; this checkpoint (written as Keras' callback
    # writes it) kept no logs of epoch 0, so that value is null
    assert record["resumed_at_epoch"] == 1
    assert len(record["history"]["loss"]) == 2 and record["history"]["loss"][0] is None
    assert isinstance(record["history"]["loss"][1], float)
    assert not backup.exists()


def test_cli_train_rejects_an_unknown_strategy(capsys):
    from rnnzoo.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["train", "classification", "--strategy", "mirorred"])
    assert exc.value.code == 2
    assert "invalid choice: 'mirorred'" in capsys.readouterr().err


# --------------------------------------------------------------------------- multi-process


@pytest.mark.slow
@tf_only
def test_mirrored_two_cpu_devices_match_one_device(tmp_path):
    with Processes(tmp_path) as procs:
        procs.start("mirrored", [WORKERS / "mirrored_check.py"], clean_env())
        check_ok(procs, "mirrored")
        line = [ln for ln in procs.log("mirrored").splitlines() if ln.startswith("{")][-1]
    result = json.loads(line)
    assert result["replicas"] == 2
    one = np.array(result["one_device"])
    assert one[-1] < 0.9 * one[0]  # it learns
    # same initial weights and batches: the same loss trajectory within float tolerance
    np.testing.assert_allclose(result["mirrored"], one, rtol=1e-4)
    np.testing.assert_allclose(result["mirrored_loop"], one, rtol=1e-4)


MW_TRAIN = ["train", "classification", "--strategy", "multiworker", "--epochs", "3",
            "--batch-size", "16", "--units", "8", "--learning-rate", "0.01",
            "--set", "embedding_dim=8",
            "--data", "num_examples=64", "sequence_length=12", "min_length=6", "shuffle=False",
            "--verbose", "2"]


def _start_workers(procs, tag, ports, outs, backup, crash=None):
    for i, port in enumerate(ports):
        extra = {"TF_CONFIG": tf_config(ports, i)}
        if crash is not None and crash[0] == i:
            extra["RNNZOO_TEST_CRASH_AFTER_EPOCH"] = crash[1]
        procs.start(f"{tag}{i}", [WORKERS / "cli_worker.py", *MW_TRAIN, "--out", outs[i],
                                  "--backup-dir", backup], clean_env(**extra))


@pytest.fixture(scope="module")
def multiworker_run(tmp_path_factory):
    """An uninterrupted 2-worker training through `rnnzoo train --strategy multiworker`."""
    folder = tmp_path_factory.mktemp("multiworker")
    outs = [folder / "w0", folder / "w1"]
    with Processes(folder) as procs:
        _start_workers(procs, "worker", free_ports(2), outs, folder / "backup")
        for i in range(2):
            check_ok(procs, f"worker{i}")
        logs = [procs.log(f"worker{i}") for i in range(2)]
    return {"outs": outs, "logs": logs, "backup": folder / "backup"}


@pytest.mark.slow
@tf_only
def test_multiworker_training_two_workers_agree(multiworker_run):
    outs, logs = multiworker_run["outs"], multiworker_run["logs"]
    for log in logs:
        assert "strategy: multiworker, 2 replica(s)" in log
    records = [json.loads((o / "classification_metrics.json").read_text()) for o in outs]
    # every worker logs the global metrics, so both histories are identical
    assert records[0]["history"] == records[1]["history"]
    assert records[0]["test"] == records[1]["test"]
    loss = records[0]["history"]["loss"]
    assert len(loss) == 3 and loss[-1] < loss[0]
    w0, w1 = (_weights(o / "classification.keras") for o in outs)
    _assert_same_weights(w0, w1)  # synchronous data parallelism: identical replicas
    assert not multiworker_run["backup"].exists()  # finished: the chief removed the checkpoint


@pytest.mark.slow
@tf_only
def test_killed_worker_resumes_from_the_last_checkpoint(multiworker_run, tmp_path):
    def start(procs, tag, outs, backup, crash=None):
        _start_workers(procs, tag, free_ports(2), outs, backup, crash=crash)

    _kill_one_then_resume(start, multiworker_run["outs"][0], tmp_path)


def _kill_one_then_resume(start, reference, tmp_path):
    """Process 1 of 2 dies after epoch index 1; the restarted job resumes from the backup.

    ``start(procs, tag, outs, backup, crash=None)`` launches both processes;
    ``reference`` is the output folder of the same training never interrupted.
    """
    outs = [tmp_path / "p0", tmp_path / "p1"]
    backup = tmp_path / "backup"
    meta = backup / "training_metadata.json"
    with Processes(tmp_path) as procs:
        # process 1 dies (os._exit, like a lost machine) right after epoch index 1 ended
        start(procs, "crash", outs, backup, crash=(1, 1))
        assert procs.wait("crash1") == 17, procs.log("crash1")[-3000:]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if meta.exists() and json.loads(meta.read_text())["epoch"] == 2:
                break
            time.sleep(0.5)
        assert json.loads(meta.read_text())["epoch"] == 2, procs.log("crash0")[-3000:]
        procs.stop("crash0")  # the survivor cannot go on alone: the job is restarted
        assert not (outs[0] / "classification.keras").exists()

        start(procs, "resume", outs, backup)
        for i in range(2):
            check_ok(procs, f"resume{i}")
        logs = [procs.log(f"resume{i}") for i in range(2)]
    for log in logs:
        assert "Epoch 3/3" in log and "Epoch 1/3" not in log and "Epoch 2/3" not in log
    records = [json.loads((o / "classification_metrics.json").read_text()) for o in outs]
    # item 12: every epoch of the run once, the two before the crash read from the backup
    assert records[0]["resumed_at_epoch"] == 2
    reference_record = json.loads((reference / "classification_metrics.json").read_text())
    np.testing.assert_allclose(records[0]["history"]["loss"],
                               reference_record["history"]["loss"], rtol=1e-4)
    w0, w1 = (_weights(o / "classification.keras") for o in outs)
    _assert_same_weights(w0, w1)
    # weights and optimizer state restored: the same model as the uninterrupted run
    _assert_same_weights(w0, _weights(reference / "classification.keras"), atol=1e-5)
    assert not backup.exists()


# ------------------------------------------------------------------ keras.distribution (JAX)


def test_distribution_arguments_are_checked(monkeypatch):
    for name in distribute.distribution.ENV.values():
        monkeypatch.delenv(name, raising=False)
    assert distribute.initialize() == {"process_id": 0, "num_processes": 1}  # alone: nothing
    assert distribute.initialize(num_processes=1) == {"process_id": 0, "num_processes": 1}
    with pytest.raises(ValueError, match=r"`num_processes` must be a positive integer.*"
                                         r"Received: num_processes=0"):
        distribute.initialize(num_processes=0)
    monkeypatch.setenv("KERAS_DISTRIBUTION_NUM_PROCESSES", "two")
    with pytest.raises(ValueError, match="KERAS_DISTRIBUTION_NUM_PROCESSES.*'two'"):
        distribute.initialize()
    with pytest.raises(ValueError, match=r"`distribute` must be one of .*Received: "
                                         r"distribute='data_parallel'.*Did you mean"):
        distribute.get_distribution("data_parallel")


@tf_only
def test_keras_distribution_is_refused_on_tensorflow_with_the_fix():
    with pytest.raises(ValueError, match=r"JAX backend.*KERAS_BACKEND='tensorflow'.*"
                                         r"tf.distribute strategy"):
        distribute.get_distribution("data-parallel")
    with pytest.raises(ValueError, match="KERAS_BACKEND='tensorflow'"):
        distribute.initialize("127.0.0.1:1234", num_processes=2, process_id=0)


def test_cli_distribute_flags_are_checked(capsys):
    from rnnzoo.cli import main

    assert main(["train", "classification", "--strategy", "mirrored",
                 "--distribute", "data-parallel"]) == 2
    assert "exclude each other" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["train", "classification", "--distribute", "pipeline"])
    assert exc.value.code == 2 and "invalid choice: 'pipeline'" in capsys.readouterr().err
    if ON_TF:
        assert main(["train", "classification", "--distribute", "data-parallel"]) == 2
        assert "KERAS_BACKEND=jax" in capsys.readouterr().err


@jax_only
def test_on_jax_fit_is_model_fit_and_initialize_checks_the_cluster(monkeypatch):
    for name in distribute.distribution.ENV.values():
        monkeypatch.delenv(name, raising=False)
    model = rnnzoo.build("classification", **tiny_overrides("classification"))
    data = tiny_data("classification")
    with pytest.raises(ValueError, match="engine='loop'"):
        distribute.fit(model, data, engine="loop")
    keras.utils.set_random_seed(0)
    history = distribute.fit(model, data, epochs=2, verbose=0)
    assert history.epoch == [0, 1] and history.history["loss"][1] < history.history["loss"][0]
    with pytest.raises(ValueError, match=r"`coordinator` must be the 'host:port' of process 0"):
        distribute.initialize(num_processes=2, process_id=0)
    with pytest.raises(ValueError, match=r"`process_id` must be below num_processes=2"):
        distribute.initialize("127.0.0.1:1", num_processes=2, process_id=2)
    distribution = distribute.get_distribution("data-parallel")
    assert isinstance(distribution, keras.distribution.DataParallel)
    with pytest.raises(ValueError, match="`model_devices` must divide"):
        distribute.get_distribution("model-parallel", model_devices=len(jax_devices()) + 1)


def jax_devices():
    import jax

    return jax.devices()


def _jax_env(**extra):
    return clean_env(KERAS_BACKEND="jax", **extra)


@pytest.mark.slow
def test_jax_data_and_model_parallel_on_two_devices_match_one_device(tmp_path):
    with Processes(tmp_path) as procs:
        procs.start("mesh", [WORKERS / "jax_mesh_check.py"],
                    _jax_env(XLA_FLAGS="--xla_force_host_platform_device_count=2"))
        check_ok(procs, "mesh")
        line = [ln for ln in procs.log("mesh").splitlines() if ln.startswith("{")][-1]
    result = json.loads(line)
    assert result["devices"] == 2
    one = np.array(result["losses"]["one"])
    assert one[-1] < one[0]  # it learns
    for engine in ("data-parallel", "model-parallel"):
        np.testing.assert_allclose(result["losses"][engine], one, rtol=1e-5)
        assert result["max_weight_diff"][engine] <= 1e-5, result
    # model parallelism really splits the embedding and every kernel over both devices
    assert result["sharded"]["data-parallel"] == []
    assert sorted(result["sharded"]["model-parallel"]) == [
        "classifier/kernel", "embedding/embeddings", "rnn_1/lstm_cell/kernel",
        "rnn_1/lstm_cell/recurrent_kernel"]


JAX_TRAIN = ["train", "classification", "--epochs", "3", "--batch-size", "16", "--units", "8",
             "--learning-rate", "0.01", "--set", "embedding_dim=8",
             "--data", "num_examples=64", "sequence_length=12", "min_length=6", "shuffle=False",
             "--verbose", "2"]


def _start_jax(procs, tag, port, outs, backup, crash=None):
    for i, out in enumerate(outs):
        extra = {}
        if crash is not None and crash[0] == i:
            extra["RNNZOO_TEST_CRASH_AFTER_EPOCH"] = crash[1]
        procs.start(f"{tag}{i}", [WORKERS / "cli_worker.py", *JAX_TRAIN, "--out", out,
                                  "--backup-dir", backup, "--distribute", "data-parallel",
                                  "--coordinator", f"127.0.0.1:{port}", "--num-processes", "2",
                                  "--process-id", str(i)], _jax_env(**extra))


@pytest.fixture(scope="module")
def jax_run(tmp_path_factory):
    """Two JAX processes training one model (data parallel), and one process alone."""
    folder = tmp_path_factory.mktemp("jax")
    outs = [folder / "p0", folder / "p1"]
    with Processes(folder) as procs:
        _start_jax(procs, "proc", free_ports(1)[0], outs, folder / "backup")
        procs.start("alone", [WORKERS / "cli_worker.py", *JAX_TRAIN, "--out", folder / "alone"],
                    _jax_env())
        for name in ("proc0", "proc1", "alone"):
            check_ok(procs, name)
        logs = [procs.log(f"proc{i}") for i in range(2)]
    return {"outs": outs, "alone": folder / "alone", "logs": logs, "backup": folder / "backup"}


@pytest.mark.slow
def test_jax_two_processes_train_one_model_like_one_process(jax_run):
    for i, log in enumerate(jax_run["logs"]):
        assert f"distribute: data-parallel over 2 device(s), process {i} of 2" in log
    records = [json.loads((o / "classification_metrics.json").read_text())
               for o in jax_run["outs"]]
    assert records[0]["history"] == records[1]["history"]
    assert records[0]["distribute"] == "data-parallel"
    loss = records[0]["history"]["loss"]
    assert len(loss) == 3 and loss[-1] < loss[0]
    w0, w1 = (_weights(o / "classification.keras") for o in jax_run["outs"])
    _assert_same_weights(w0, w1)  # one model: identical on both processes
    alone = _weights(jax_run["alone"] / "classification.keras")
    _assert_same_weights(w0, alone, atol=1e-5)  # the same global batches as one process
    alone_record = json.loads((jax_run["alone"] / "classification_metrics.json").read_text())
    np.testing.assert_allclose(loss, alone_record["history"]["loss"], rtol=1e-5)
    assert not jax_run["backup"].exists()  # finished: the chief removed the checkpoint


@pytest.mark.slow
def test_jax_killed_process_resumes_from_backup_and_restore(jax_run, tmp_path):
    def start(procs, tag, outs, backup, crash=None):
        _start_jax(procs, tag, free_ports(1)[0], outs, backup, crash=crash)

    _kill_one_then_resume(start, jax_run["outs"][0], tmp_path)
