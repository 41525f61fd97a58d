"""Training on more than one device or machine, on engines that exist.

rnnzoo does not invent its own distribution. On JAX it uses Keras' own
engine, ``keras.distribution`` (:mod:`~rnnzoo.distribute.distribution`):

- :func:`initialize` joins the processes of a multi-host run
  (``jax.distributed``; coordinator, process count and id from arguments or
  ``KERAS_DISTRIBUTION_*`` variables), :func:`set_distribution` picks
  ``"data-parallel"`` (``keras.distribution.DataParallel``) or
  ``"model-parallel"`` (``ModelParallel`` with a ``LayoutMap``), and plain
  ``model.fit`` trains: every process passes the same global-batch data and
  Keras keeps its share. ``rnnzoo train TASK --distribute data-parallel``
  does all three.

On TensorFlow, models are built inside a ``tf.distribute.Strategy`` scope
(``rnnzoo.build(..., strategy=strategy)``) and trained by Keras' own
``train_step``:

- One machine, several GPUs (or logical CPUs): ``MirroredStrategy`` and plain
  ``model.fit`` work; :func:`fit` simply calls ``model.fit`` for them.
- Several machines: ``MultiWorkerMirroredStrategy``, configured by
  ``TF_CONFIG``. Keras 3's ``model.fit`` fails under it (keras-team/keras#20585,
  tensorflow/tensorflow#72388) in two places: before training it all-reduces
  a *data batch* with ``strategy.reduce("MEAN", ...)`` only to learn its
  shapes (``ValueError: Attempt to convert a value (PerReplica:{...})``), and
  after every step it reduces the scalar metric results with
  ``reduce("MEAN", axis=0)``, which cross-worker collectives reject (checked
  again with Keras 3.15.1 and TensorFlow 2.21: still so). For
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

Modules: :mod:`~rnnzoo.distribute.distribution` (``keras.distribution`` on
JAX), :mod:`~rnnzoo.distribute.cluster` (``TF_CONFIG``, the chief,
strategies by name), :mod:`~rnnzoo.distribute.loop` (:func:`fit`,
:func:`evaluate`; on JAX simply ``model.fit``), :mod:`~rnnzoo.distribute.backup`
(:class:`BackupAndRestore`, written by the chief only, on either engine).

Example on JAX (the same script on every process, each with its id):

```python
rnnzoo.distribute.initialize("10.0.0.1:1234", num_processes=2, process_id=0)
rnnzoo.distribute.set_distribution("data-parallel")       # before building the model
model = rnnzoo.build("classification")
model.fit(rnnzoo.data.load("classification", "train", batch_size=128), epochs=3,
          callbacks=[rnnzoo.distribute.BackupAndRestore("/shared/backup")])
```

Example on TensorFlow (the same script on every worker, each with its ``TF_CONFIG``):

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
from rnnzoo.distribute.distribution import (
    DISTRIBUTIONS, get_distribution, initialize, layout_map, process_info, set_distribution,
    setup,
)
from rnnzoo.distribute.loop import ENGINES, evaluate, fit

__all__ = [
    "DISTRIBUTIONS",
    "initialize",
    "get_distribution",
    "set_distribution",
    "layout_map",
    "process_info",
    "setup",
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
