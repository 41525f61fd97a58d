"""Training and evaluation under any ``tf.distribute`` strategy: :func:`fit` and :func:`evaluate`.

For ``MultiWorkerMirroredStrategy`` these drive Keras' own ``train_step`` /
``test_step`` with ``strategy.run`` (``model.fit`` fails there,
keras-team/keras#20585, see :mod:`rnnzoo.distribute`); for every other
strategy, and on every other backend (JAX: distributed by
``keras.distribution``, see :mod:`~rnnzoo.distribute.distribution`), they call
``model.fit`` / ``model.evaluate``. The loop builds the model's, metrics' and
optimizer's state from a local batch and reads the epoch a
``BackupAndRestore`` restored, both through :mod:`rnnzoo._compat` (Keras has
no public way for either).
"""

from __future__ import annotations

from typing import Any

import keras

from rnnzoo import _compat
from rnnzoo import _validation as v
from rnnzoo.distribute.cluster import is_multi_worker

__all__ = ["ENGINES", "evaluate", "fit"]

#: How :func:`fit` trains: ``"auto"`` (the loop for multi-worker strategies,
#: ``model.fit`` otherwise), ``"keras"`` (always ``model.fit``), ``"loop"``.
ENGINES = ("auto", "keras", "loop")


def _resolve(model, strategy, engine: str):
    v.check_choice("engine", engine, ENGINES)
    backend = keras.backend.backend()
    if backend != "tensorflow":
        # JAX and PyTorch: model.fit itself, distributed by keras.distribution if one is set.
        if strategy is not None or engine == "loop":
            raise ValueError(
                "`strategy` and engine='loop' are tf.distribute's, for the TensorFlow backend. "
                f"Received: strategy={strategy!r}, engine={engine!r} with "
                f"KERAS_BACKEND={backend!r}; on JAX use rnnzoo.distribute.set_distribution()."
            )
        return None, "keras"
    if strategy is None:
        strategy = model.distribute_strategy
    if engine == "auto":
        engine = "loop" if is_multi_worker(strategy) else "keras"
    return strategy, engine


def _as_dataset(x, y, batch_size, what: str):
    import tensorflow as tf

    if isinstance(x, tf.data.Dataset):
        if y is not None:
            raise ValueError(f"`y` must be None when `{what}` is a tf.data.Dataset.")
        return x
    if y is None:
        raise ValueError(
            f"`{what}` must be a batched tf.data.Dataset of (inputs, targets), or arrays with `y`. "
            f"Received: {type(x).__name__}"
        )
    if batch_size is None:
        batch_size = 32
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size)


def _build_state(model, strategy, dataset) -> None:
    """Creates the model's, metrics' and optimizer's variables under ``strategy``.

    ``model.fit`` does this from an all-reduced batch, which fails for
    multi-worker strategies; a local batch has the same shapes.
    """
    try:
        batch = next(iter(dataset))
    except StopIteration:
        raise ValueError("The data is empty: it yielded no batch.") from None
    with strategy.scope():
        _compat.build_training_state(model, batch)


def _step_function(model, strategy, step):
    import tensorflow as tf

    @tf.function(reduce_retracing=True)
    def run(data):
        strategy.run(step, args=(data,))
        # Keras metric variables are sync-on-read sums: read here, in cross-replica
        # context, they hold the totals of every replica of every worker.
        return model.get_metrics_result()

    return run


def _to_floats(logs: dict) -> dict:
    return {k: float(v) for k, v in logs.items()}


def _run_epoch(step_fn, iterator, callbacks, steps, *, train: bool, model) -> tuple[dict, int]:
    import tensorflow as tf

    logs: dict = {}
    step = 0
    while steps is None or step < steps:
        try:
            data = next(iterator)
        except (StopIteration, tf.errors.OutOfRangeError):
            break
        if train:
            callbacks.on_train_batch_begin(step)
        else:
            callbacks.on_test_batch_begin(step)
        logs = step_fn(data)
        if train:
            callbacks.on_train_batch_end(step, logs)
        else:
            callbacks.on_test_batch_end(step, logs)
        step += 1
        if train and model.stop_training:
            break
    return logs, step


def _loop_evaluate(model, strategy, dist_ds, callbacks, steps) -> dict:
    test_fn = _step_function(model, strategy, model.test_step)
    model.reset_metrics()
    callbacks.on_test_begin()
    logs, seen = _run_epoch(test_fn, iter(dist_ds), callbacks, steps, train=False, model=model)
    if not seen:
        raise ValueError("The evaluation data is empty: it yielded no batch.")
    logs = _to_floats(logs)
    callbacks.on_test_end(logs)
    return logs


def _cardinality(dataset) -> int | None:
    n = int(dataset.cardinality())
    return n if n >= 0 else None


def fit(
    model,
    x=None,
    y=None,
    *,
    batch_size: int | None = None,
    epochs: int = 1,
    validation_data=None,
    callbacks: list | None = None,
    steps_per_epoch: int | None = None,
    validation_steps: int | None = None,
    initial_epoch: int = 0,
    verbose: int | str = "auto",
    strategy: Any = None,
    engine: str = "auto",
):
    """Trains ``model`` like ``model.fit``, under any ``tf.distribute`` strategy.

    Args:
        model: a compiled Keras model, built under ``strategy`` (for example
            by ``rnnzoo.build(..., strategy=strategy)``).
        x: a batched ``tf.data.Dataset`` of ``(inputs, targets)`` batches (the
            batch size is the *global* batch, split across all replicas of all
            workers), or input arrays with ``y``.
        y: target arrays when ``x`` holds arrays.
        batch_size: the global batch size for arrays (default 32).
        epochs: the epoch to stop after, as in ``model.fit``.
        validation_data: a dataset (or ``(x, y)`` arrays) evaluated after
            every epoch; its metrics are logged with a ``val_`` prefix.
        callbacks: Keras callbacks; use
            :class:`~rnnzoo.distribute.BackupAndRestore` to resume after a failure.
        steps_per_epoch: batches per epoch (default: until the data ends).
        validation_steps: batches per validation (default: all).
        initial_epoch: the epoch to start at.
        verbose: 0 silent, 1 progress bar, 2 one line per epoch, ``"auto"`` = 1.
        strategy: the ``tf.distribute.Strategy`` (default: the model's;
            TensorFlow only).
        engine: ``"auto"`` (the loop for ``MultiWorkerMirroredStrategy``,
            ``model.fit`` otherwise), ``"keras"`` (always ``model.fit``) or
            ``"loop"`` (always rnnzoo's loop around Keras' ``train_step``;
            TensorFlow only). On JAX and PyTorch :func:`fit` is ``model.fit``.

    Returns:
        The ``keras.callbacks.History`` of the run.

    Raises:
        ValueError: for bad arguments or empty data.

    Example:

    >>> history = rnnzoo.distribute.fit(model, train_ds, epochs=3, validation_data=val_ds)
    >>> history.history["loss"]
    """
    v.check_int("epochs", epochs, low=0)
    v.check_int("initial_epoch", initial_epoch, low=0)
    v.check_positive_int("steps_per_epoch", steps_per_epoch, allow_none=True)
    v.check_positive_int("validation_steps", validation_steps, allow_none=True)
    strategy, engine = _resolve(model, strategy, engine)
    if verbose == "auto":
        verbose = 1
    if engine == "keras":
        return model.fit(
            x, y, batch_size=batch_size, epochs=epochs, validation_data=validation_data,
            callbacks=callbacks, steps_per_epoch=steps_per_epoch,
            validation_steps=validation_steps, initial_epoch=initial_epoch, verbose=verbose,
            shuffle=y is not None,  # a dataset shuffles itself (Keras warns on shuffle=True)
        )
    if model.optimizer is None:
        raise ValueError("`model` must be compiled before fit: call model.compile(...) first.")
    dataset = _as_dataset(x, y, batch_size, "x")
    val_dataset = None
    if validation_data is not None:
        if isinstance(validation_data, (tuple, list)):
            val_dataset = _as_dataset(validation_data[0], validation_data[1], batch_size,
                                      "validation_data")
        else:
            val_dataset = _as_dataset(validation_data, None, batch_size, "validation_data")
    _build_state(model, strategy, dataset)
    dist_train = strategy.experimental_distribute_dataset(dataset)
    dist_val = (strategy.experimental_distribute_dataset(val_dataset)
                if val_dataset is not None else None)
    steps = steps_per_epoch or _cardinality(dataset)
    if not isinstance(callbacks, keras.callbacks.CallbackList):
        callbacks = keras.callbacks.CallbackList(
            callbacks, add_history=True, add_progbar=verbose != 0, verbose=verbose,
            epochs=epochs, steps=steps, model=model,
        )
    train_fn = _step_function(model, strategy, model.train_step)
    model.stop_training = False
    callbacks.on_train_begin()
    # BackupAndRestore reports the epoch to resume from here, as model.fit reads it.
    initial_epoch = _compat.resume_epoch(model) or initial_epoch
    iterator = None
    training_logs = None
    for epoch in range(initial_epoch, epochs):
        model.reset_metrics()
        callbacks.on_epoch_begin(epoch)
        if iterator is None or steps_per_epoch is None:
            iterator = iter(dist_train)
        logs, seen = _run_epoch(train_fn, iterator, callbacks, steps_per_epoch, train=True,
                                model=model)
        if steps_per_epoch is not None and seen < steps_per_epoch:
            iterator = None  # the data ran out: start it again next epoch
        if not seen:
            raise ValueError("The training data is empty: it yielded no batch this epoch.")
        epoch_logs = _to_floats(logs)
        if dist_val is not None:
            val_logs = _loop_evaluate(model, strategy, dist_val, callbacks, validation_steps)
            epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
        callbacks.on_epoch_end(epoch, epoch_logs)
        training_logs = epoch_logs
        if model.stop_training:
            break
    if epochs > initial_epoch and hasattr(model.optimizer, "finalize_variable_values"):
        model.optimizer.finalize_variable_values(model.trainable_weights)
    callbacks.on_train_end(logs=training_logs)
    for callback in callbacks.callbacks:
        if isinstance(callback, keras.callbacks.History):
            return callback
    return model.history


def evaluate(
    model,
    x=None,
    y=None,
    *,
    batch_size: int | None = None,
    steps: int | None = None,
    verbose: int | str = 0,
    strategy: Any = None,
    engine: str = "auto",
) -> dict:
    """Evaluates ``model`` like ``model.evaluate(..., return_dict=True)``, under any strategy.

    Args:
        model: a compiled Keras model.
        x, y, batch_size: the data, as in :func:`fit`.
        steps: batches to evaluate (default: all).
        verbose: 0 silent, 1 progress bar.
        strategy: the ``tf.distribute.Strategy`` (default: the model's).
        engine: as in :func:`fit`.

    Returns:
        ``{metric name: float}``, the same on every worker.
    """
    strategy, engine = _resolve(model, strategy, engine)
    if verbose == "auto":
        verbose = 1
    if engine == "keras":
        return model.evaluate(x, y, batch_size=batch_size, steps=steps, verbose=verbose,
                              return_dict=True)
    dataset = _as_dataset(x, y, batch_size, "x")
    _build_state(model, strategy, dataset)
    callbacks = keras.callbacks.CallbackList(
        None, add_progbar=verbose != 0, verbose=verbose, epochs=1,
        steps=steps or _cardinality(dataset), model=model,
    )
    return _loop_evaluate(model, strategy, strategy.experimental_distribute_dataset(dataset),
                          callbacks, steps)
