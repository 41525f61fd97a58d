"""Where this process runs: ``TF_CONFIG``, the chief, and the ``tf.distribute`` strategies by name.

On JAX, a multi-process run (:func:`rnnzoo.distribute.initialize`) has no
``TF_CONFIG``: its chief is process 0 and its size is ``jax.process_count()``.
"""

from __future__ import annotations

import json
import os
from typing import Any

from rnnzoo import _validation as v
from rnnzoo.distribute.distribution import process_info

__all__ = ["STRATEGIES", "cluster_spec", "get_strategy", "is_chief", "is_multi_worker",
           "split_cpu"]

#: The strategy names :func:`get_strategy` and ``rnnzoo train --strategy`` accept.
STRATEGIES = ("default", "mirrored", "multiworker", "tpu")


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
        without ``TF_CONFIG``: ``{"task_type": None, "task_id": 0, "num_workers": 1}``,
        or on JAX after :func:`rnnzoo.distribute.initialize`
        ``{"task_type": "process", "task_id": process id, "num_workers": processes}``.
    """
    config = _tf_config()
    if not config:
        info = process_info()
        if info["num_processes"] > 1:
            return {"task_type": "process", "task_id": info["process_id"],
                    "num_workers": info["num_processes"]}
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
    else (no ``TF_CONFIG``) process 0 of a multi-process JAX run, else this process.
    """
    config = _tf_config()
    task = config.get("task", {})
    if not task:
        return process_info()["process_id"] == 0
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
    v.check_positive_int("num_devices", num_devices)
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
    name = v.check_choice("strategy", "default" if name is None else name, STRATEGIES)
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
