"""The only home of what Keras (or keras-tuner) does not offer publicly.

rnnzoo uses Keras' public API everywhere else. Each function here wraps one
use of a private name, says which versions were checked and why no public way
exists, and is pinned by a test in ``tests/test_compat.py`` that fails loudly
(naming this module) when a new Keras release changes it. Nothing else in the
package may touch a private Keras name; ``tests/test_layering.py`` checks that.

Checked with Keras 3.15.1 and keras-tuner 1.4.7 (the ranges ``pyproject.toml`` pins).
"""

from __future__ import annotations

import contextlib
import sys
from typing import Any, Callable, Iterable, Iterator

__all__ = [
    "build_training_state",
    "replaced_rnn_loops",
    "resume_epoch",
    "running_fit_arguments",
    "set_resume_epoch",
    "tensorboard_only_when_used",
]

# --------------------------------------------------------------------------- layers

# --------------------------------------------------------------------------- export

# --------------------------------------------------------------------------- callbacks


@contextlib.contextmanager
def replaced_rnn_loops(loops: Iterable[tuple[Any, Callable]]) -> Iterator[None]:
    """While active, each ``keras.layers.RNN`` runs its given loop instead of its own.

    ``keras.layers.RNN.call`` prepares the sequences, initial states and mask,
    then hands the whole time loop to ``self.inner_loop(sequences=...,
    initial_state=..., mask=..., training=...)`` and expects ``(last_output,
    outputs, states)`` back (``LSTM``, ``GRU`` and rnnzoo's layers override
    ``inner_loop`` with the same signature). An instance attribute named
    ``inner_loop`` shadows the class's method, for that layer only, wherever
    the layer is called from (a functional or subclassed model, a
    ``Bidirectional`` wrapper, a nested model). The gradient monitor needs this
    to add its probe ``eps_t`` to the state carried between steps.

    Why no public way: Keras has no hook into an RNN layer's time loop, and the
    alternatives change the model: assigning another ``cell`` to a built layer
    is refused (its tracker is locked) and re-tracks weights; rebuilding the
    model from its config does not reach subclassed models. Checked: Keras
    3.15.1, TensorFlow backend.

    Args:
        loops: ``(layer, loop)`` pairs; ``loop(sequences, initial_state, mask,
            training=False)`` returns ``(last_output, outputs, states)``.
    """
    installed = []
    try:
        for layer, loop in loops:
            object.__setattr__(layer, "inner_loop", loop)  # bypass Keras' attribute tracking
            installed.append(layer)
        yield
    finally:
        for layer in installed:
            if "inner_loop" in vars(layer):
                object.__delattr__(layer, "inner_loop")


def running_fit_arguments(model) -> dict | None:
    """``{"x", "y", "sample_weight"}`` of the ``model.fit`` call running below the caller.

    Keras hands a callback the model but not the training data. The running
    ``Model.fit`` frame (found on the call stack by its name and its ``self``)
    still holds its public arguments ``x``, ``y`` and ``sample_weight`` as
    local variables. Reading another function's frame needs ``sys._getframe``,
    and relies on ``fit`` keeping those names for its data while the
    callbacks run; no public API gives a callback the training data. Checked:
    Keras 3.15.1, TensorFlow backend.

    Returns:
        The arguments, or ``None`` when the caller does not run inside
        ``model.fit`` (e.g. inside a custom training loop).
    """
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "fit" and frame.f_locals.get("self") is model:
            local = frame.f_locals
            return {"x": local.get("x"), "y": local.get("y"),
                    "sample_weight": local.get("sample_weight")}
        frame = frame.f_back
    return None

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
