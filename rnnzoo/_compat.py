"""The only home of what Keras (or keras-tuner) does not offer publicly.

rnnzoo uses Keras' public API everywhere else. Each function here wraps one
use of a private name, says which versions were checked and why no public way
exists, and is pinned by a test in ``tests/test_compat.py`` that fails loudly
(naming this module) when a new Keras release changes it. Nothing else in the
package may touch a private Keras name; ``tests/test_layering.py`` checks that.

Checked with Keras 3.15.1 and keras-tuner 1.4.7 (the ranges ``pyproject.toml`` pins).
"""

from __future__ import annotations

__all__ = [
    "build_training_state",
    "resume_epoch",
    "set_resume_epoch",
    "tensorboard_only_when_used",
]

# --------------------------------------------------------------------------- layers

# --------------------------------------------------------------------------- export

# --------------------------------------------------------------------------- callbacks

# --------------------------------------------------------------------------- distribute


def build_training_state(model, data_batch) -> None:
    """Creates a compiled model's layer, metric, loss and optimizer variables from a batch.

    ``model.fit`` does this itself (``Trainer._symbolic_build``) from a batch it
    first all-reduces across workers, which ``MultiWorkerMirroredStrategy``
    rejects; ``rnnzoo.distribute.fit``'s loop calls the same method with a
    local batch (same shapes) inside ``strategy.scope()``. There is no public
    equivalent: ``model.build`` creates no metric or optimizer state, and
    running ``compute_metrics`` eagerly would update sync-on-read metric
    variables in cross-replica context, which tf.distribute forbids.
    Checked: Keras 3.15.1 (``_symbolic_build(iterator=None, data_batch=None)``).
    """
    build = getattr(model, "_symbolic_build", None)
    if build is None:
        raise RuntimeError(
            "rnnzoo.distribute.fit needs keras.Model._symbolic_build (Keras 3.x), which this "
            "Keras lacks; see rnnzoo/_compat.py."
        )
    build(data_batch=data_batch)


def resume_epoch(model) -> int | None:
    """The epoch a ``BackupAndRestore`` callback told ``model.fit`` to resume from (or None).

    Keras' callbacks hand it to ``fit`` through the model attribute
    ``_initial_epoch`` (set in ``on_train_begin``, read by ``fit`` right after);
    rnnzoo's training loop reads it the same way, so Keras' own callback and
    rnnzoo's both resume it. No public API carries it. Checked: Keras 3.15.1.
    """
    return getattr(model, "_initial_epoch", None)


def set_resume_epoch(model, epoch: int) -> None:
    """Tells ``model.fit`` (and rnnzoo's loop) to start at ``epoch``: see :func:`resume_epoch`."""
    model._initial_epoch = epoch


# --------------------------------------------------------------------------- tuning


def tensorboard_only_when_used(tuner_class):
    """A subclass of a keras-tuner tuner class that imports TensorBoard only when it is used.

    keras-tuner 1.4.7 calls ``Tuner._configure_tensorboard_dir`` for every trial,
    which imports ``tensorboard`` to patch a ``TensorBoard`` callback if there is
    one; TensorFlow 2.21 no longer installs tensorboard, so every trial would fail.
    keras-tuner has no public switch for this. Checked: keras-tuner 1.4.7.
    """

    class TensorBoardWhenUsed(tuner_class):
        def _configure_tensorboard_dir(self, callbacks, trial, execution=0):
            if any(type(c).__name__ == "TensorBoard" for c in callbacks):
                super()._configure_tensorboard_dir(callbacks, trial, execution)

    TensorBoardWhenUsed.__name__ = TensorBoardWhenUsed.__qualname__ = tuner_class.__name__
    return TensorBoardWhenUsed
