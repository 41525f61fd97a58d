"""A run resumed by distribute.BackupAndRestore knows every epoch once (issue 16, item 12)."""

import json

import keras
import pytest

import rnnzoo
from rnnzoo import distribute
from tests.conftest import tiny_data, tiny_overrides


class _Failure(Exception):
    pass


class _FailAfter(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise _Failure


def _model():
    return rnnzoo.build("classification", **tiny_overrides("classification"))


@pytest.mark.parametrize("engine", ["keras", "loop"])
def test_history_after_a_resume_has_every_epoch_once(tmp_path, monkeypatch, engine):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    backup, data = tmp_path / "backup", tiny_data("classification")
    first = distribute.BackupAndRestore(backup)
    with pytest.raises(_Failure):
        distribute.fit(_model(), data, epochs=4, verbose=0, engine=engine,
                       callbacks=[first, _FailAfter(1)])
    before = first.history
    assert len(before["loss"]) == 2
    resumed = distribute.BackupAndRestore(backup)
    history = distribute.fit(_model(), data, epochs=4, verbose=0, engine=engine,
                             callbacks=[resumed])
    assert history.epoch == [2, 3]  # fit's own History: this process only
    assert resumed.restored_epochs == 2
    assert resumed.restored_history == before
    full = resumed.history
    assert set(full) == set(history.history)
    for key, values in full.items():
        assert len(values) == 4
        assert values[:2] == before[key]
        assert values[2:] == pytest.approx(history.history[key])


def test_keras_own_callback_resumes_from_the_checkpoint_with_logs(tmp_path, monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    backup, data = tmp_path / "backup", tiny_data("classification")
    with pytest.raises(_Failure):
        distribute.fit(_model(), data, epochs=3, verbose=0, engine="keras",
                       callbacks=[distribute.BackupAndRestore(backup), _FailAfter(0)])
    assert "logs" in json.loads((backup / "training_metadata.json").read_text())
    history = _model().fit(data, epochs=3, verbose=0, shuffle=False,
                           callbacks=[keras.callbacks.BackupAndRestore(str(backup))])
    assert history.epoch == [1, 2]


def test_non_finite_logs_are_kept_as_null_and_the_checkpoint_stays_strict_json(tmp_path,
                                                                             monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    backup = tmp_path / "backup"
    callback = distribute.BackupAndRestore(backup, delete_checkpoint=False)
    callback.set_model(_model())
    callback.on_epoch_end(0, {"loss": float("nan"), "accuracy": 0.5})
    meta = json.loads((backup / "training_metadata.json").read_text(),
                      parse_constant=lambda name: pytest.fail(f"non-JSON {name}"))
    assert meta["logs"] == [{"loss": None, "accuracy": 0.5}]
    assert callback.history == {"loss": [None], "accuracy": [0.5]}
