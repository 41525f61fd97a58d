"""Scale-out on Keras' own engine: ``keras.distribution`` on JAX, with plain ``model.fit``.

Keras 3 distributes a model on the JAX backend by itself: set a
``keras.distribution.Distribution`` *before* building the model, then call
``model.fit`` as usual. Variables are laid out on the devices as the
distribution says, every batch is split along its first axis, and XLA inserts
the collectives (an all-reduce of the gradients for data parallelism).
Several machines (or processes) join through ``jax.distributed``; each process
passes the *same global-batch* ``tf.data`` pipeline to ``fit`` and Keras keeps
that process's share of every batch (``auto_shard_dataset``).

- :func:`initialize` joins the processes of a multi-process run (coordinator
  address, process count and this process's id, from arguments or Keras'
  environment variables) and does nothing for a single process. On CPUs it
  selects gloo collectives, which JAX needs to all-reduce across processes.
- :func:`get_distribution` / :func:`set_distribution`: ``"data-parallel"``
  (``keras.distribution.DataParallel`` over every device of every process)
  or ``"model-parallel"`` (``keras.distribution.ModelParallel`` on a
  ``(batch, model)`` device mesh, variables sharded by :func:`layout_map`).
- :func:`process_info`: this process's index and the number of processes.

Example (the same script on every process, each with its ``--process-id``):

```python
rnnzoo.distribute.initialize("10.0.0.1:1234", num_processes=2, process_id=0)
rnnzoo.distribute.set_distribution("data-parallel")
model = rnnzoo.build("classification")          # after set_distribution
model.fit(rnnzoo.data.load("classification", "train", batch_size=128), epochs=3)
```
"""

from __future__ import annotations

import math
import os
from typing import Any

import keras

from rnnzoo import _validation as v

__all__ = [
    "DISTRIBUTIONS",
    "ENV",
    "get_distribution",
    "initialize",
    "layout_map",
    "process_info",
    "set_distribution",
    "setup",
]

#: The names :func:`get_distribution` and ``rnnzoo train --distribute`` accept.
DISTRIBUTIONS = ("data-parallel", "model-parallel")

#: The environment variables Keras reads in ``keras.distribution.initialize``.
ENV = {
    "coordinator": "KERAS_DISTRIBUTION_JOB_ADDRESSES",
    "num_processes": "KERAS_DISTRIBUTION_NUM_PROCESSES",
    "process_id": "KERAS_DISTRIBUTION_PROCESS_ID",
}

#: Variable-path patterns sharded along the ``model`` mesh axis by :func:`layout_map`:
#: the output (last) axis of embedding tables and of every kernel (Dense, and the
#: input and recurrent kernels of LSTM/GRU/SimpleRNN cells). Everything else is replicated.
MODEL_PARALLEL_RULES = {
    r".*embeddings$": (None, "model"),
    r".*kernel$": (None, "model"),
}


def _check_jax(what: str) -> None:
    backend = keras.backend.backend()
    if backend != "jax":
        raise ValueError(
            f"{what} runs on Keras' JAX backend (keras.distribution). Received: "
            f"KERAS_BACKEND={backend!r}; set KERAS_BACKEND=jax, or on TensorFlow use a "
            "tf.distribute strategy (rnnzoo.distribute.get_strategy)."
        )


def _env_int(name: str) -> int | None:
    text = os.environ.get(name)
    if text in (None, ""):
        return None
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"`{name}` must be an integer. Received: {name}={text!r}") from None


def initialize(coordinator: str | None = None, num_processes: int | None = None,
               process_id: int | None = None) -> dict:
    """Joins this process to a multi-process JAX run; a single process needs nothing.

    Call it first, before any other JAX work (before building a model). Each
    argument left ``None`` is read from Keras' environment variables
    (:data:`ENV`: ``KERAS_DISTRIBUTION_JOB_ADDRESSES``,
    ``KERAS_DISTRIBUTION_NUM_PROCESSES``, ``KERAS_DISTRIBUTION_PROCESS_ID``).
    With no process count, or a count of 1, nothing is initialized. On CPUs
    the cross-process collectives are gloo's (``JAX_CPU_COLLECTIVES_IMPLEMENTATION``
    overrides it); on GPUs JAX uses NCCL.

    Args:
        coordinator: ``"host:port"`` of process 0, which every process can
            reach (a comma-separated list of every process's address works too:
            the first is the coordinator).
        num_processes: the number of processes, >= 1.
        process_id: this process's index, ``0 .. num_processes - 1``.

    Returns:
        :func:`process_info` after joining.

    Raises:
        ValueError: for a backend other than JAX, a missing coordinator or
            process id, or ids out of range.

    Example:

    >>> rnnzoo.distribute.initialize("10.0.0.1:1234", num_processes=2, process_id=1)
    {'process_id': 1, 'num_processes': 2}
    """
    coordinator = coordinator or os.environ.get(ENV["coordinator"]) or None
    if num_processes is None:
        num_processes = _env_int(ENV["num_processes"])
    if process_id is None:
        process_id = _env_int(ENV["process_id"])
    v.check_positive_int("num_processes", num_processes, allow_none=True)
    if num_processes is None or num_processes == 1:
        return process_info()
    _check_jax("rnnzoo.distribute.initialize")
    if not coordinator:
        raise ValueError(
            "`coordinator` must be the 'host:port' of process 0 for a run of "
            f"{num_processes} processes. Received: coordinator={coordinator!r} "
            f"(nor was {ENV['coordinator']} set)"
        )
    v.check_int("process_id", process_id, low=0)
    if process_id >= num_processes:
        raise ValueError(
            f"`process_id` must be below num_processes={num_processes}. "
            f"Received: process_id={process_id}"
        )
    import jax

    if not jax.distributed.is_initialized():
        if not os.environ.get("JAX_CPU_COLLECTIVES_IMPLEMENTATION"):
            jax.config.update("jax_cpu_collectives_implementation", "gloo")
        keras.distribution.initialize(coordinator, num_processes, process_id)
    return process_info()


def process_info() -> dict:
    """``{"process_id": int, "num_processes": int}`` of this process (0 and 1 when alone).

    Reads ``jax.distributed`` only once it has been initialized, so calling
    this never starts JAX's devices too early.
    """
    if keras.backend.backend() == "jax":
        import jax

        if jax.distributed.is_initialized():
            return {"process_id": jax.process_index(), "num_processes": jax.process_count()}
    return {"process_id": 0, "num_processes": 1}


def layout_map(mesh, rules: dict | None = None):
    """A ``keras.distribution.LayoutMap`` on ``mesh`` from variable-path ``rules``.

    Args:
        mesh: a ``keras.distribution.DeviceMesh`` with a ``"model"`` axis.
        rules: ``{regex on variable paths: axes}`` (default
            :data:`MODEL_PARALLEL_RULES`: shard the output axis of embedding
            tables and kernels; a dimension must divide by the ``model`` axis size).
    """
    layouts = keras.distribution.LayoutMap(mesh)
    for pattern, axes in (MODEL_PARALLEL_RULES if rules is None else rules).items():
        layouts[pattern] = axes
    return layouts


def get_distribution(name: str = "data-parallel", *, devices: list | None = None,
                     model_devices: int = 2, rules: dict | None = None):
    """A ``keras.distribution.Distribution`` by name (JAX backend).

    Args:
        name: ``"data-parallel"`` (every device holds the whole model, each
            batch is split over all of them) or ``"model-parallel"`` (a
            ``(batch, model)`` mesh: variables matching ``rules`` are split
            over ``model_devices`` devices, batches over the rest).
        devices: the devices (default: every device of every process).
        model_devices: for ``"model-parallel"``, the size of the ``model`` axis;
            it must divide the number of devices.
        rules: for ``"model-parallel"``, the layout rules (see :func:`layout_map`).

    Raises:
        ValueError: for an unknown name, another backend than JAX, or a
            ``model_devices`` that does not divide the devices.

    Example:

    >>> distribution = rnnzoo.distribute.get_distribution("data-parallel")
    >>> distribution.device_mesh.shape
    (2,)
    """
    name = v.check_choice("distribute", name, DISTRIBUTIONS)
    _check_jax(f"distribute={name!r}")
    devices = devices if devices is not None else keras.distribution.list_devices()
    if name == "data-parallel":
        return keras.distribution.DataParallel(devices=devices)
    v.check_positive_int("model_devices", model_devices)
    if len(devices) % model_devices:
        raise ValueError(
            f"`model_devices` must divide the number of devices ({len(devices)}). "
            f"Received: model_devices={model_devices}"
        )
    mesh = keras.distribution.DeviceMesh(
        (len(devices) // model_devices, model_devices), ("batch", "model"), devices)
    return keras.distribution.ModelParallel(layout_map=layout_map(mesh, rules),
                                            batch_dim_name="batch")


def set_distribution(name: str = "data-parallel", **kwargs) -> Any:
    """Makes :func:`get_distribution` ``(name, **kwargs)`` Keras' global distribution.

    Build the model afterwards: variables are laid out when they are created.

    Returns:
        The distribution.
    """
    distribution = get_distribution(name, **kwargs)
    keras.distribution.set_distribution(distribution)
    return distribution


def setup(name: str = "data-parallel", *, coordinator: str | None = None,
          num_processes: int | None = None, process_id: int | None = None) -> str:
    """:func:`initialize` then :func:`set_distribution`; returns a one-line description.

    What ``rnnzoo train --distribute NAME`` runs first, before any other JAX work.

    Example:

    >>> rnnzoo.distribute.setup("data-parallel")
    'distribute: data-parallel over 1 device(s), process 0 of 1'
    """
    name = v.check_choice("distribute", name, DISTRIBUTIONS)
    _check_jax(f"distribute={name!r}")
    info = initialize(coordinator, num_processes, process_id)
    distribution = set_distribution(name)
    devices = int(math.prod(distribution.device_mesh.shape))
    return (f"distribute: {name} over {devices} device(s), process {info['process_id']} "
            f"of {info['num_processes']}")
