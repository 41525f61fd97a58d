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
  The Keras internals it needs (``fit``'s own way of creating metric and
  optimizer state before tracing, and the epoch a ``BackupAndRestore``
  restored) go through :mod:`rnnzoo._compat`.
- TPUs: ``get_strategy("tpu")`` returns a ``TPUStrategy``; ``model.fit`` is used.

Modules: :mod:`~rnnzoo.distribute.cluster` (``TF_CONFIG``, the chief,
strategies by name), :mod:`~rnnzoo.distribute.loop` (:func:`fit`,
:func:`evaluate`), :mod:`~rnnzoo.distribute.backup` (:class:`BackupAndRestore`).

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

from rnnzoo.distribute.backup import BackupAndRestore
from rnnzoo.distribute.cluster import (
    STRATEGIES, cluster_spec, get_strategy, is_chief, is_multi_worker, split_cpu,
)
from rnnzoo.distribute.loop import ENGINES, evaluate, fit

__all__ = [
    "STRATEGIES",
    "ENGINES",
    "get_strategy",
    "split_cpu",
    "cluster_spec",
    "is_chief",
    "is_multi_worker",
    "fit",
    "evaluate",
    "BackupAndRestore",
]
