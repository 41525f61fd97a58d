"""Training on more than one device or machine with ``tf.distribute``.

rnnzoo does not invent its own distribution: models are built inside a
``tf.distribute.Strategy`` scope (``rnnzoo.build(..., strategy=strategy)``) and
trained by Keras' own ``train_step``.

- One machine, several GPUs (or logical CPUs): ``MirroredStrategy`` and plain
  ``model.fit`` work; :func:`fit` simply calls ``model.fit`` for them.
- Several machines: ``MultiWorkerMirroredStrategy``, configured by
  ``TF_CONFIG``. Keras 3's ``model.fit`` fails under it (keras-team/keras#20585,
  tensorflow/tensorflow#72388) in two places: before training it all-reduces
  a *data batch* with ``strategy.reduce("MEAN", ...)`` only to learn its
  shapes (``ValueError: Attempt to convert a value (PerReplica:{...})``), and
  after every step it reduces the scalar metric results with
  ``reduce("MEAN", axis=0)``, which cross-worker collectives reject. For
  multi-worker strategies :func:`fit` therefore drives training with a small
  loop of its own: it builds the model's state from a local batch, runs Keras'
  own ``model.train_step`` / ``model.test_step`` with ``strategy.run`` on
  ``strategy.experimental_distribute_dataset(...)`` batches, and reads the
  metrics with ``model.get_metrics_result()`` in cross-replica context (Keras
  metric variables are sync-on-read sums, so that read all-reduces them over
  every replica of every worker and all workers log the same values).
  Callbacks (``History``, progress bar, ``EarlyStopping``,
  :class:`BackupAndRestore`, ...) are driven through a
  ``keras.callbacks.CallbackList`` as ``model.fit`` does, and a ``History`` is
  returned. On one device the loop reproduces ``model.fit`` exactly (tested).
  The one private Keras API it uses is ``Model._symbolic_build``, the method
  ``fit`` itself uses to create metric and optimizer state before tracing.
- TPUs: ``get_strategy("tpu")`` returns a ``TPUStrategy``; ``model.fit`` is used.

Example (run the same script on every worker, each with its ``TF_CONFIG``):

```python
strategy = rnnzoo.distribute.get_strategy("multiworker")   # first, before other TF work
model = rnnzoo.build("classification", strategy=strategy)
train = rnnzoo.data.load("classification", "train", batch_size=128)   # the global batch
history = rnnzoo.distribute.fit(
    model, train, epochs=3, strategy=strategy,
    callbacks=[rnnzoo.distribute.BackupAndRestore("/shared/backup")])
```
"""

from __future__ import annotations

import json
import os
from typing import Any

import keras

__all__ = [
    "STRATEGIES",
    "get_strategy",
    "split_cpu",
    "cluster_spec",
    "is_chief",
    "is_multi_worker",
    "fit",
    "evaluate",
    "BackupAndRestore",
]

#: The strategy names :func:`get_strategy` and ``rnnzoo train --strategy`` accept.
STRATEGIES = ("default", "mirrored", "multiworker", "tpu")

ENGINES = ("auto", "keras", "loop")


def _tf_config() -> dict:
    text = os.environ.get("TF_CONFIG", "")
    if not text:
        return {}
    try:
        config = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"`TF_CONFIG` must be JSON. Received: TF_CONFIG={text!r} ({exc})")
    if not isinstance(config, dict):
        raise ValueError(f"`TF_CONFIG` must be a JSON object. Received: TF_CONFIG={text!r}")
    return config


def cluster_spec() -> dict:
    """This process's place in the cluster, read from ``TF_CONFIG``.

    Returns:
        ``{"task_type": str | None, "task_id": int, "num_workers": int}``;
        without ``TF_CONFIG``: ``{"task_type": None, "task_id": 0, "num_workers": 1}``.
    """
    config = _tf_config()
    cluster = config.get("cluster", {})
    task = config.get("task", {})
    num = len(cluster.get("chief", [])) + len(cluster.get("worker", []))
    return {
        "task_type": task.get("type"),
        "task_id": int(task.get("index", 0)),
        "num_workers": max(num, 1),
    }


def is_chief() -> bool:
    """Whether this process is the chief: the one that writes checkpoints and outputs.

    The chief is the ``"chief"`` task if the cluster has one, else worker 0,
    else (no ``TF_CONFIG``) this process.
    """
    config = _tf_config()
    task = config.get("task", {})
    if not task:
        return True
    if task.get("type") == "chief":
        return True
    has_chief = bool(config.get("cluster", {}).get("chief"))
    return not has_chief and task.get("type") == "worker" and int(task.get("index", 0)) == 0


def split_cpu(num_devices: int) -> None:
    """Splits the first physical CPU into ``num_devices`` logical devices.

    Lets ``MirroredStrategy`` run data-parallel over CPUs (for tests, or to try
    a multi-device setup without GPUs). Must be called before TensorFlow
    initialises its devices (before any tensor is created).

    Args:
        num_devices: the number of logical CPU devices, >= 1.

    Raises:
        ValueError: if ``num_devices`` is not a positive integer.
        RuntimeError: if TensorFlow's devices are already initialised.
    """
    if not isinstance(num_devices, int) or isinstance(num_devices, bool) or num_devices < 1:
        raise ValueError(
            f"`num_devices` must be a positive integer. Received: num_devices={num_devices!r}"
        )
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(num_devices)]
    )


def get_strategy(name: str | None = "default", *, devices: list[str] | None = None):
    """Returns a ``tf.distribute.Strategy`` by name.

    Create it at the start of the program, before other TensorFlow work:
    ``MultiWorkerMirroredStrategy`` starts this worker's gRPC server and
    connects to the others listed in ``TF_CONFIG``.

    Args:
        name: ``"default"`` (or ``None``: no distribution), ``"mirrored"``
            (every local GPU, or ``devices``), ``"multiworker"``
            (``MultiWorkerMirroredStrategy`` configured by ``TF_CONFIG``) or
            ``"tpu"`` (``TPUStrategy`` on the TPU found by
            ``TPUClusterResolver``).
        devices: for ``"mirrored"``, the devices to mirror over, for example
            ``["/cpu:0", "/cpu:1"]`` after :func:`split_cpu`.

    Returns:
        The strategy.

    Raises:
        ValueError: for an unknown name, or ``TF_CONFIG`` that is not JSON.

    Example:

    >>> strategy = rnnzoo.distribute.get_strategy("mirrored")
    >>> model = rnnzoo.build("classification", strategy=strategy)
    """
    from rnnzoo.registry import suggest

    if name is None:
        name = "default"
    if name not in STRATEGIES:
        raise ValueError(
            f"`strategy` must be one of {list(STRATEGIES)}. Received: strategy={name!r}."
            f"{suggest(name, STRATEGIES)}"
        )
    if devices is not None and name != "mirrored":
        raise ValueError(
            f"`devices` is only used with strategy='mirrored'. Received: strategy={name!r}, "
            f"devices={devices!r}"
        )
    import tensorflow as tf

    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy(devices=devices)
    if name == "multiworker":
        _tf_config()  # a malformed TF_CONFIG fails here with a clear message
        return tf.distribute.MultiWorkerMirroredStrategy()
    resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
    return tf.distribute.TPUStrategy(resolver)


def is_multi_worker(strategy: Any) -> bool:
    """Whether ``strategy`` is a ``MultiWorkerMirroredStrategy`` (any number of workers)."""
    import tensorflow as tf

    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def _resolve(model, strategy, engine: str):
    if engine not in ENGINES:
        raise ValueError(f"`engine` must be one of {list(ENGINES)}. Received: engine={engine!r}")
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
    build = getattr(model, "_symbolic_build", None)
    if build is None:  # pragma: no cover - guards a future Keras
        raise RuntimeError(
            f"rnnzoo.distribute.fit needs keras.Model._symbolic_build (Keras 3.x), which keras "
            f"{keras.__version__} lacks."
        )
    with strategy.scope():
        build(data_batch=batch)


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
        callbacks: Keras callbacks; use :class:`BackupAndRestore` to resume
            after a failure.
        steps_per_epoch: batches per epoch (default: until the data ends).
        validation_steps: batches per validation (default: all).
        initial_epoch: the epoch to start at.
        verbose: 0 silent, 1 progress bar, 2 one line per epoch, ``"auto"`` = 1.
        strategy: the ``tf.distribute.Strategy`` (default: the model's).
        engine: ``"auto"`` (the loop for ``MultiWorkerMirroredStrategy``,
            ``model.fit`` otherwise), ``"keras"`` (always ``model.fit``) or
            ``"loop"`` (always rnnzoo's loop around Keras' ``train_step``).

    Returns:
        The ``keras.callbacks.History`` of the run.

    Raises:
        ValueError: for bad arguments or empty data.

    Example:

    >>> history = rnnzoo.distribute.fit(model, train_ds, epochs=3, validation_data=val_ds)
    >>> history.history["loss"]
    """
    for name, value, low in (("epochs", epochs, 0), ("initial_epoch", initial_epoch, 0)):
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise ValueError(f"`{name}` must be an integer >= {low}. Received: {name}={value!r}")
    for name, value in (("steps_per_epoch", steps_per_epoch), ("validation_steps",
                                                               validation_steps)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                  or value < 1):
            raise ValueError(
                f"`{name}` must be a positive integer or None. Received: {name}={value!r}"
            )
    strategy, engine = _resolve(model, strategy, engine)
    if verbose == "auto":
        verbose = 1
    if engine == "keras":
        return model.fit(
            x, y, batch_size=batch_size, epochs=epochs, validation_data=validation_data,
            callbacks=callbacks, steps_per_epoch=steps_per_epoch,
            validation_steps=validation_steps, initial_epoch=initial_epoch, verbose=verbose,
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
    initial_epoch = getattr(model, "_initial_epoch", None) or initial_epoch
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


class BackupAndRestore(keras.callbacks.BackupAndRestore):
    """``keras.callbacks.BackupAndRestore`` that is safe with several workers.

    Keras' callback makes every worker write the same files. Here only the
    chief (:func:`is_chief`) writes the checkpoint, atomically (a temporary
    file in the same folder, then ``os.replace``), and deletes it at the end;
    every worker restores from it, so after a failure all workers restart at
    the same epoch with the same weights and optimizer state. ``backup_dir``
    must therefore be storage every worker can read (on one machine, any
    folder). Without ``TF_CONFIG`` it behaves like Keras' callback.

    Args:
        backup_dir: the folder for the checkpoint.
        save_freq: ``"epoch"`` or a number of batches.
        double_checkpoint: also keep the previous checkpoint.
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

    def _save_model(self):
        if not self.chief:
            return
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint:
            for path, prev in ((self._weights_path, self._prev_weights_path),
                               (self._training_metadata_path, self._prev_training_metadata_path)):
                if os.path.exists(path):
                    _atomic_copy(path, prev)
        tmp = os.path.join(self.backup_dir, f".tmp-{os.getpid()}.weights.h5")
        try:
            self.model.save_weights(tmp, overwrite=True)
            os.replace(tmp, self._weights_path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
        metadata = {"epoch": self._current_epoch, "batch": self._last_batch_seen}
        _atomic_write(self._training_metadata_path, json.dumps(metadata))

    def on_train_end(self, logs=None):
        if self.chief:
            super().on_train_end(logs)


def _atomic_write(path: str, text: str) -> None:
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def _atomic_copy(src: str, dst: str) -> None:
    import shutil

    tmp = f"{dst}.tmp-{os.getpid()}"
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)
