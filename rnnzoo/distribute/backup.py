"""``BackupAndRestore`` that is safe with several workers: only the chief writes, atomically."""

from __future__ import annotations

import json
import math
import os
import tempfile

import keras

from rnnzoo import _compat, _io
from rnnzoo.distribute.cluster import is_chief
from rnnzoo.distribute.distribution import process_info

__all__ = ["BackupAndRestore"]

WEIGHTS_FILE = "latest.weights.h5"
METADATA_FILE = "training_metadata.json"
PREVIOUS = ".bkp"  # suffix of the previous checkpoint (double_checkpoint=True)


class BackupAndRestore(keras.callbacks.BackupAndRestore):
    """``keras.callbacks.BackupAndRestore`` that is safe with several workers.

    Keras' callback makes every worker write the same files. Here only the
    chief (:func:`~rnnzoo.distribute.is_chief`) writes the checkpoint,
    atomically (through :mod:`rnnzoo._io`: a temporary file in the same
    folder, then a rename), and deletes it at the end; every worker restores
    from it, so after a failure all workers restart at the same epoch with the
    same weights and optimizer state. ``backup_dir`` must therefore be storage
    every worker can read (on one machine, any folder). The same holds for the
    processes of a multi-process JAX run (:func:`rnnzoo.distribute.initialize`):
    process 0 writes; the others take part in reading the weights (a collective
    there) and discard their copy. Without ``TF_CONFIG``
    it behaves like Keras' callback, with the same files
    (``latest.weights.h5``, ``training_metadata.json`` and, with
    ``double_checkpoint``, their ``.bkp`` copies), so either callback resumes
    the other's checkpoint.

    The checkpoint also keeps each finished epoch's logs, so a resumed run
    knows its whole history: :attr:`history` has every epoch of the run once,
    those before the interruption (:attr:`restored_history`) and this
    process's. (``fit``'s own ``History`` only has the epochs run since the
    resume.) A value that was NaN or infinite is kept as ``None``.

    Args:
        backup_dir: the folder for the checkpoint.
        save_freq: ``"epoch"`` or a number of batches.
        double_checkpoint: also keep the previous checkpoint, restored when
            the latest one cannot be read.
        delete_checkpoint: delete the checkpoint when training completes.

    Example:

    >>> rnnzoo.distribute.fit(model, ds, epochs=10, strategy=strategy,
    ...                       callbacks=[rnnzoo.distribute.BackupAndRestore("/shared/ckpt")])
    """

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False,
                 delete_checkpoint=True):
        if not backup_dir:
            raise ValueError(
                f"`backup_dir` must be a non-empty path. Received: backup_dir={backup_dir!r}"
            )
        super().__init__(
            os.fspath(backup_dir), save_freq=save_freq, double_checkpoint=double_checkpoint,
            delete_checkpoint=delete_checkpoint,
        )
        self.chief = is_chief()
        self.weights_path = os.path.join(self.backup_dir, WEIGHTS_FILE)
        self.metadata_path = os.path.join(self.backup_dir, METADATA_FILE)
        self.epochs_done = 0  # epochs completed, as the checkpoint records them
        self.batch_in_epoch = 0  # the last batch seen in the current epoch
        self.batches_since_save = 0
        self.epoch_logs: list[dict] = []  # one dict of logs per finished epoch of the run
        self.restored_epochs = 0  # how many of them came from the checkpoint

    @property
    def history(self) -> dict[str, list]:
        """``{metric: [one value per epoch]}`` for every epoch of the run, resumed ones included.

        Like ``keras.callbacks.History.history``, with ``None`` where an epoch
        has no value (or a checkpoint written by Keras' own callback kept none).
        """
        return _as_history(self.epoch_logs)

    @property
    def restored_history(self) -> dict[str, list]:
        """The part of :attr:`history` read from the checkpoint (the epochs before the resume)."""
        return _as_history(self.epoch_logs[: self.restored_epochs])

    # ------------------------------------------------------------------ restore

    def on_train_begin(self, logs=None):
        try:
            self._restore(self.weights_path, self.metadata_path)
        except OSError:
            # The latest checkpoint cannot be read: fall back to the previous one.
            previous = self.weights_path + PREVIOUS
            if not os.path.exists(previous):
                raise
            metadata = self.metadata_path + PREVIOUS
            metadata = metadata if os.path.exists(metadata) else None
            if self.chief:  # repair the latest files, so the next backup copies sound ones
                _io.atomic_copy(previous, self.weights_path)
                if metadata is not None:
                    _io.atomic_copy(metadata, self.metadata_path)
                elif os.path.exists(self.metadata_path):
                    os.remove(self.metadata_path)
            # Keras loads weights only from a ".weights.h5" name: read a private copy (every
            # worker may, while only the chief writes the shared folder).
            with tempfile.TemporaryDirectory() as folder:
                self._restore(_io.atomic_copy(previous, os.path.join(folder, WEIGHTS_FILE)),
                              metadata)

    def _restore(self, weights_path: str, metadata_path: str | None) -> None:
        model = self.model
        if not model.built:
            raise ValueError(  # Keras' own message
                "To use the BackupAndRestore callback, you model must be built before you call "
                f"`fit()`. Model {model} is unbuilt. You can build it beforehand by calling it on "
                "a batch of data."
            )
        if os.path.exists(weights_path):
            if model.optimizer is not None and not model.optimizer.built:
                model.optimizer.build(model.trainable_variables)  # so its state loads too
            model.load_weights(weights_path)
        self.epoch_logs, self.restored_epochs = [], 0
        if metadata_path is not None and os.path.exists(metadata_path):
            with open(metadata_path, encoding="utf-8") as f:
                metadata = json.load(f)
            epoch = metadata["epoch"]
            self.epochs_done = epoch
            logs = list(metadata.get("logs") or [])[:epoch]
            self.epoch_logs = logs + [{} for _ in range(epoch - len(logs))]
            self.restored_epochs = epoch
            _compat.set_resume_epoch(model, epoch)

    # ------------------------------------------------------------------ backup

    def on_epoch_end(self, epoch, logs=None):
        del self.epoch_logs[epoch:]  # the epoch runs once in the history, whatever came before
        self.epoch_logs.extend({} for _ in range(epoch - len(self.epoch_logs)))
        self.epoch_logs.append({k: _plain(value) for k, value in (logs or {}).items()})
        self.epochs_done = epoch + 1
        self.batch_in_epoch = 0
        if self.save_freq == "epoch":
            self._backup()

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        # batches are zero-indexed; a batch index that does not grow starts a new epoch
        seen = batch + 1 if batch <= self.batch_in_epoch else batch - self.batch_in_epoch
        self.batches_since_save += seen
        self.batch_in_epoch = batch
        if self.batches_since_save >= self.save_freq:
            self.batches_since_save = 0
            self._backup()

    def _backup(self) -> None:
        if not self.chief:
            if process_info()["num_processes"] > 1:
                # On multi-process JAX, reading sharded/replicated weights to the host is a
                # collective: every process must take part, so the others save a private copy.
                with tempfile.TemporaryDirectory() as folder:
                    self.model.save_weights(os.path.join(folder, WEIGHTS_FILE))
            return
        if self.double_checkpoint:
            for path in (self.weights_path, self.metadata_path):
                if os.path.exists(path):
                    _io.atomic_copy(path, path + PREVIOUS)
        with _io.atomic_path(self.weights_path) as tmp:
            self.model.save_weights(tmp, overwrite=True)
        metadata = {"epoch": self.epochs_done, "batch": self.batch_in_epoch,
                    "logs": self.epoch_logs[: self.epochs_done]}
        _io.atomic_write_json(self.metadata_path, metadata, indent=None)

    def on_train_end(self, logs=None):
        if self.chief:  # Keras' own: deletes the checkpoint if delete_checkpoint
            super().on_train_end(logs)


def _plain(value):
    """A log value as strict JSON holds it: a finite float, else ``None`` (or its text)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return number if math.isfinite(number) else None


def _as_history(epoch_logs: list[dict]) -> dict[str, list]:
    keys: dict[str, None] = {}
    for logs in epoch_logs:
        keys.update(dict.fromkeys(logs))
    return {k: [logs.get(k) for logs in epoch_logs] for k in keys}
